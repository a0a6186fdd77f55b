#include "sentry/fs/hostfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "sentry/fs/host_stream.h"
#include "sentry/fs/hostfs_file.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/xattr.h"

namespace ward::vfs {
namespace {

// Magic numbers of host kernel filesystems that <linux/magic.h> lacks.
constexpr uint64_t kConfigfsMagic = 0x62656570;
constexpr uint64_t kFusectlMagic = 0x65735543;
constexpr uint64_t kMqueueMagic = 0x19800202;

// Filesystems that expose or control the host kernel rather than store
// files. hostfs serves none of them, wherever the host mounted them.
constexpr std::array<uint64_t, 17> kHostKernelFilesystems = {
    PROC_SUPER_MAGIC, SYSFS_MAGIC,        DEVPTS_SUPER_MAGIC,  DEBUGFS_MAGIC, SECURITYFS_MAGIC,
    TRACEFS_MAGIC,    CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC,  PSTOREFS_MAGIC,
    EFIVARFS_MAGIC,   BINFMTFS_MAGIC,     NSFS_MAGIC,          SELINUX_MAGIC, kConfigfsMagic,
    kFusectlMagic,    kMqueueMagic,
};

// EACCES for a host kernel filesystem: the sandbox may not look there, as
// if a directory on the way denied search permission.
Result<void> refuse_host_kernel_filesystem(int fd) {
  struct statfs info {};
  if (fstatfs(fd, &info) != 0) {
    return Errno{errno};
  }
  for (uint64_t magic : kHostKernelFilesystems) {
    if (static_cast<uint64_t>(info.f_type) == magic) {
      return Errno{EACCES};
    }
  }
  return ok();
}

// The trusted.* attributes of host files, which Linux shows only to
// processes with CAP_SYS_ADMIN over the host. No guest has that capability.
constexpr std::string_view kTrustedXattrPrefix = "trusted.";

Result<struct stat> host_fstat(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return Errno{errno};
  }
  return st;
}

// Records that the guest tried to open a host FIFO, which ward rejects.
void record_host_fifo_rejection(kernel::Task& task) {
  constexpr std::string_view kDetail = "open of a host FIFO";
  if (task.kernel().gaps().record(compat::GapHit{.kind = compat::GapKind::kFileType,
                                                 .syscall = task.syscall_name(),
                                                 .detail = kDetail,
                                                 .program = task.thread_group().exe_path(),
                                                 .pid = task.pid(),
                                                 .tid = task.tid(),
                                                 .error = EACCES})) {
    task.log(spdlog::level::warn, "unsupported: {}", kDetail);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// HostFilesystem

HostFilesystem::HostFilesystem(UniqueFd proc_self_fd, bool writable)
    : Filesystem(kHostfsType, 0), proc_self_fd_(std::move(proc_self_fd)), writable_(writable) {}

Result<std::shared_ptr<Dentry>> HostFilesystem::create_root(const std::string& host_root_path) {
  UniqueFd root_fd(::open(host_root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    const int error = errno;
    spdlog::error("sentry: cannot open the sandbox root {}: {}", host_root_path, errno_name(error));
    return Errno{error};
  }
  return make_root(std::move(root_fd), false);
}

Result<std::shared_ptr<Dentry>> HostFilesystem::create_bind_root(const std::string& host_path,
                                                                 bool writable) {
  UniqueFd root_fd(::open(host_path.c_str(), O_PATH | O_CLOEXEC));
  if (!root_fd.valid()) {
    const int error = errno;
    spdlog::error("sentry: cannot open the bind source {}: {}", host_path, errno_name(error));
    return Errno{error};
  }
  return make_root(std::move(root_fd), writable);
}

Result<std::shared_ptr<Dentry>> HostFilesystem::make_root(UniqueFd root_fd, bool writable) {
  const struct stat root_stat = TRY(host_fstat(root_fd.get()));
  TRY(refuse_host_kernel_filesystem(root_fd.get()));

  // Reopening through /proc/self/fd needs the host's procfs, and a procfs
  // it really is: anything else there could redirect the reopen.
  UniqueFd proc_self_fd(::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!proc_self_fd.valid()) {
    const int error = errno;
    spdlog::error("sentry: cannot open /proc/self/fd, which hostfs needs: {}", errno_name(error));
    return Errno{error};
  }
  struct statfs proc_info {};
  if (fstatfs(proc_self_fd.get(), &proc_info) != 0 || proc_info.f_type != PROC_SUPER_MAGIC) {
    spdlog::error("sentry: /proc/self/fd is not on the host's procfs; hostfs needs it");
    return Errno{ENODEV};
  }

  auto filesystem =
      std::shared_ptr<HostFilesystem>(new HostFilesystem(std::move(proc_self_fd), writable));
  auto root = std::make_shared<HostInode>(filesystem, std::move(root_fd), root_stat);
  return Dentry::make_root(std::move(root));
}

Result<UniqueFd> HostFilesystem::reopen(int path_fd, int flags) const {
  const std::string name = std::to_string(path_fd);
  for (;;) {
    UniqueFd fd(::openat(proc_self_fd_.get(), name.c_str(), flags | O_CLOEXEC | O_NOCTTY));
    if (fd.valid()) {
      return fd;
    }
    if (errno != EINTR) {
      return Errno{errno};
    }
  }
}

std::string HostFilesystem::inode_path(int path_fd) const {
  return "/proc/self/fd/" + std::to_string(proc_self_fd_.get()) + "/" + std::to_string(path_fd);
}

// ---------------------------------------------------------------------------
// HostInode

HostInode::HostInode(std::shared_ptr<HostFilesystem> filesystem, UniqueFd path_fd,
                     const struct stat& host_stat)
    : Inode(std::move(filesystem), host_stat.st_mode),
      path_fd_(std::move(path_fd)),
      host_dev_(host_stat.st_dev),
      host_ino_(host_stat.st_ino) {}

HostFilesystem& HostInode::host_filesystem() const {
  return static_cast<HostFilesystem&>(filesystem());
}

Result<struct stat> HostInode::stat() { return host_fstat(path_fd_.get()); }

Result<struct statx> HostInode::statx(uint32_t mask) {
  struct statx result {};
  if (::statx(path_fd_.get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, mask, &result) != 0) {
    return Errno{errno};
  }
  // The host's mount ids and mount roots mean nothing in the sandbox's
  // mount tree, so they are not reported.
  constexpr uint32_t kMountIdBits = STATX_MNT_ID | 0x00004000U;  // STATX_MNT_ID_UNIQUE
  result.stx_mask &= ~kMountIdBits;
  result.stx_mnt_id = 0;
  result.stx_attributes &= ~static_cast<uint64_t>(STATX_ATTR_MOUNT_ROOT);
  result.stx_attributes_mask &= ~static_cast<uint64_t>(STATX_ATTR_MOUNT_ROOT);
  return result;
}

Result<struct statfs> HostInode::statfs() {
  struct statfs result {};
  if (fstatfs(path_fd_.get(), &result) != 0) {
    return Errno{errno};
  }
  return result;
}

Result<std::shared_ptr<Inode>> HostInode::lookup(const Caller&, std::string_view name) {
  if (!is_dir()) {
    return Errno{ENOTDIR};
  }
  // One component relative to a directory fd, without following a symlink:
  // the host never resolves a guest path.
  const std::string component(name);
  UniqueFd fd(::openat(path_fd_.get(), component.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return Errno{errno};
  }
  const struct stat st = TRY(host_fstat(fd.get()));
  // A new device number is a host mount point; only there can a host
  // kernel filesystem begin.
  if (st.st_dev != host_dev_) {
    TRY(refuse_host_kernel_filesystem(fd.get()));
  }
  auto filesystem = std::static_pointer_cast<HostFilesystem>(filesystem_ref());
  return std::shared_ptr<Inode>(std::make_shared<HostInode>(filesystem, std::move(fd), st));
}

bool HostInode::revalidate(const Caller&, std::string_view name, const Inode& child) {
  const auto* host_child = dynamic_cast<const HostInode*>(&child);
  if (host_child == nullptr) {
    return true;
  }
  const std::string component(name);
  struct stat st {};
  if (fstatat(path_fd_.get(), component.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return false;
  }
  return st.st_dev == host_child->host_dev_ && st.st_ino == host_child->host_ino_;
}

Result<LinkTarget> HostInode::follow_link(const Caller&) {
  if (!is_symlink()) {
    return Errno{EINVAL};
  }
  std::string target(kernel::kPathMax, '\0');
  const ssize_t length = readlinkat(path_fd_.get(), "", target.data(), target.size());
  if (length < 0) {
    return Errno{errno};
  }
  if (static_cast<size_t>(length) >= target.size()) {
    return Errno{ENAMETOOLONG};
  }
  target.resize(static_cast<size_t>(length));
  return LinkTarget{std::move(target)};
}

Result<FileRef> HostInode::open(const Caller& caller, const VirtualDentry& location,
                                uint32_t flags) {
  HostFilesystem& host = host_filesystem();
  switch (type()) {
    case S_IFREG: {
      // The VFS has checked the mount's write access. hostfs checks it
      // again, so that only a read-write bind is ever opened for writing.
      // O_APPEND stays the sentry's (HostRegularFile), because F_SETFL may
      // change it.
      int host_flags = O_RDONLY;
      if ((flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR ||
          (flags & O_TRUNC) != 0) {
        if (!host.writable() || location.mount->read_only()) {
          return Errno{EROFS};
        }
        host_flags = (flags & O_ACCMODE) == O_WRONLY ? O_WRONLY : O_RDWR;
        host_flags |= flags & O_TRUNC;
      }
      UniqueFd fd = TRY(host.reopen(path_fd_.get(), host_flags));
      return FileRef(
          std::make_shared<HostRegularFile>(location, flags, std::move(fd), host.writable()));
    }
    case S_IFDIR: {
      UniqueFd fd = TRY(host.reopen(path_fd_.get(), O_RDONLY | O_DIRECTORY));
      return FileRef(
          std::make_shared<HostDirectoryFile>(location, flags, std::move(fd), host.writable()));
    }
    case S_IFIFO:
      // A host FIFO connects to host processes outside the sandbox: opening
      // it would take data meant for them or release a writer waiting for
      // a reader. ward rejects the open and records it as a gap.
      if (caller.task != nullptr) {
        record_host_fifo_rejection(*caller.task);
      }
      return Errno{EACCES};
    case S_IFCHR:
    case S_IFBLK:
      // The hostfs mount is nodev, so may_open rejects devices first; this
      // check covers a caller that skipped it.
      return Errno{EACCES};
    case S_IFSOCK:
      return Errno{ENXIO};
    default:
      return Errno{ELOOP};
  }
}

Result<void> HostInode::sync_filesystem() {
  HostFilesystem& host = host_filesystem();
  if (!host.writable()) {
    return ok();
  }
  // syncfs needs an fd open for I/O, and reopening anything else (a FIFO)
  // could block or act on a device.
  int open_flags = 0;
  if (type() == S_IFDIR) {
    open_flags = O_RDONLY | O_DIRECTORY;
  } else if (type() == S_IFREG) {
    open_flags = O_RDONLY;
  } else {
    return ok();
  }
  const UniqueFd fd = TRY(host.reopen(path_fd_.get(), open_flags));
  if (syncfs(fd.get()) != 0) {
    return Errno{errno};
  }
  return ok();
}

bool HostInode::unlinked() {
  auto st = host_fstat(path_fd_.get());
  return st.ok() && st->st_nlink == 0;
}

// The host path of the O_PATH fd ends in the magic link /proc/self/fd/N,
// which getxattr and listxattr follow to the inode itself. For a symlink
// that is the symlink's own inode, because Linux ends the walk at the
// symlink a magic link names without following it (checked on 6.18 by the
// xattr unit tests), so the host never resolves the symlink's target.
Result<size_t> HostInode::get_xattr(const Caller&, std::string_view name,
                                    std::span<std::byte> value) {
  if (name.starts_with(kTrustedXattrPrefix)) {
    return Errno{ENODATA};
  }
  const std::string path = host_filesystem().inode_path(path_fd_.get());
  const std::string attribute(name);
  const ssize_t length = ::getxattr(path.c_str(), attribute.c_str(), value.data(), value.size());
  if (length < 0) {
    return Errno{errno};
  }
  return static_cast<size_t>(length);
}

Result<size_t> HostInode::list_xattr(const Caller&, std::span<char> list) {
  // The whole list, at the most Linux returns, so that it cannot grow
  // between asking for its length and reading it.
  std::vector<char> host_list(kXattrListMax);
  const std::string path = host_filesystem().inode_path(path_fd_.get());
  const ssize_t length = ::listxattr(path.c_str(), host_list.data(), host_list.size());
  if (length < 0) {
    return Errno{errno};
  }

  std::string names;
  size_t position = 0;
  while (position < static_cast<size_t>(length)) {
    const char* start = host_list.data() + position;
    const std::string_view name(start, strnlen(start, static_cast<size_t>(length) - position));
    position += name.size() + 1;
    if (!name.starts_with(kTrustedXattrPrefix)) {
      names.append(name);
      names.push_back('\0');
    }
  }

  if (list.empty()) {
    return names.size();
  }
  if (names.size() > list.size()) {
    return Errno{ERANGE};
  }
  std::memcpy(list.data(), names.data(), names.size());
  return names.size();
}

// Only a read-write bind changes host attributes, and only user.* ones:
// trusted.* and security.* ones (file capabilities, SELinux labels) would
// act on the host, and system.* ones are ACLs the host enforces.
// NOTE: a guest therefore cannot set ACLs or file capabilities on a
// read-write bind; it gets EPERM.
constexpr std::string_view kUserXattrPrefix = "user.";

Result<void> HostInode::set_xattr(const Caller&, std::string_view name,
                                  std::span<const std::byte> value, int flags) {
  if (!host_filesystem().writable()) {
    return Errno{EROFS};
  }
  if (!name.starts_with(kUserXattrPrefix)) {
    return Errno{EPERM};
  }
  const std::string path = host_filesystem().inode_path(path_fd_.get());
  const std::string attribute(name);
  if (::setxattr(path.c_str(), attribute.c_str(), value.data(), value.size(), flags) != 0) {
    return Errno{errno};
  }
  return ok();
}

Result<void> HostInode::remove_xattr(const Caller&, std::string_view name) {
  if (!host_filesystem().writable()) {
    return Errno{EROFS};
  }
  if (!name.starts_with(kUserXattrPrefix)) {
    return Errno{EPERM};
  }
  const std::string path = host_filesystem().inode_path(path_fd_.get());
  const std::string attribute(name);
  if (::removexattr(path.c_str(), attribute.c_str()) != 0) {
    return Errno{errno};
  }
  return ok();
}

}  // namespace ward::vfs
