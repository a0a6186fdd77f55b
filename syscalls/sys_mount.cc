// mount(2), umount2(2) and chroot(2). Mounts change the caller's mount
// namespace in the sentry; the host's mount table is never touched.
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <optional>
#include <string>

#include "sentry/fs/mount_filesystems.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_mount.h"

namespace ward::syscalls {
namespace {

constexpr uint64_t kPropagationFlags = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;

// umount2's flags (linux/fs.h).
constexpr uint32_t kMntForce = 0x1;
constexpr uint32_t kMntDetach = 0x2;
constexpr uint32_t kMntExpire = 0x4;
constexpr uint32_t kUmountNoFollow = 0x8;

// Linux reads at most one page of mount(2)'s data.
constexpr size_t kMountDataMaxBytes = 4096;

// A string argument of mount(2), which may be null: EFAULT for a bad
// address, EINVAL past PATH_MAX bytes (strndup_user).
Result<std::optional<std::string>> copy_mount_string(kernel::Task& task, GuestAddr addr) {
  if (addr.value() == 0) {
    return std::optional<std::string>();
  }
  auto text = task.copy_in_string(addr, PATH_MAX);
  if (!text.ok() && text.error().value == ENAMETOOLONG) {
    return Errno{EINVAL};
  }
  return std::optional<std::string>(TRY(std::move(text)));
}

// mount(2)'s data, read as Linux's copy_mount_options does: up to a page,
// stopping quietly at an unreadable page after the first, EFAULT when not
// even the first byte can be read. Every type ward has takes a string, so
// the data ends at its first NUL.
Result<std::string> copy_mount_data(kernel::Task& task, GuestAddr addr) {
  std::string data;
  if (addr.value() == 0) {
    return data;
  }
  constexpr uint64_t kPageBytes = 4096;
  GuestAddr cursor = addr;
  while (data.size() < kMountDataMaxBytes) {
    const uint64_t to_page_end = kPageBytes - (cursor.value() & (kPageBytes - 1));
    const size_t chunk_bytes =
        static_cast<size_t>(std::min<uint64_t>(to_page_end, kMountDataMaxBytes - data.size()));
    std::string chunk(chunk_bytes, '\0');
    auto copied = task.copy_in(cursor, std::as_writable_bytes(std::span(chunk)));
    if (!copied.ok()) {
      if (data.empty()) {
        return Errno{EFAULT};
      }
      break;
    }
    const size_t nul = chunk.find('\0');
    if (nul != std::string::npos) {
      data += chunk.substr(0, nul);
      return data;
    }
    data += chunk;
    cursor += chunk_bytes;
  }
  // Linux ends the page with a NUL, so a longer string is cut short.
  if (data.size() >= kMountDataMaxBytes) {
    data.resize(kMountDataMaxBytes - 1);
  }
  return data;
}

// The per-mount flags of MS_* `flags`. The atime flags, MS_SYNCHRONOUS,
// MS_DIRSYNC and MS_LAZYTIME change nothing in ward's filesystems.
vfs::MountOptions options_from_flags(uint64_t flags) {
  return vfs::MountOptions{.read_only = (flags & MS_RDONLY) != 0,
                           .nodev = (flags & MS_NODEV) != 0,
                           .noexec = (flags & MS_NOEXEC) != 0,
                           .nosuid = (flags & MS_NOSUID) != 0};
}

// Records the gap of a failed filesystem request and returns its errno.
Errno fail_with(kernel::Task& task, const vfs::FilesystemFailure& failure) {
  if (!failure.gap.empty()) {
    record_gap(task, failure.gap);
  }
  return Errno{failure.error};
}

// True when `location` is the root of its mount (Linux's path_mounted).
bool is_mount_root(const vfs::VirtualDentry& location) {
  return location.dentry == location.mount->root();
}

// Checks that a new mount may go on `target`: ENOENT when the target's
// mount has been detached from every namespace (Linux's lock_mount), EINVAL
// when it is in another namespace than the caller's.
Result<void> check_mount_target(const vfs::MountNamespace& mounts,
                                const vfs::VirtualDentry& target) {
  if (target.mount->mount_namespace() == nullptr) {
    return Errno{ENOENT};
  }
  if (!mounts.contains(*target.mount)) {
    return Errno{EINVAL};
  }
  return ok();
}

// MS_REMOUNT|MS_BIND: new per-mount flags, the filesystem untouched.
// NOTE: Linux fails a change to read-only with EBUSY while a file on the
// mount is open for writing, but ward does not count writers per mount.
Result<int64_t> remount_bind(vfs::MountNamespace& mounts, const vfs::VirtualDentry& target,
                             const vfs::MountOptions& options) {
  if (!mounts.contains(*target.mount) || !is_mount_root(target)) {
    return Errno{EINVAL};
  }
  target.mount->set_options(options);
  return 0;
}

// MS_REMOUNT: new per-mount flags and new filesystem options. A read-only
// filesystem ("ro" or MS_RDONLY) becomes a read-only mount.
// NOTE: Linux makes the superblock read-only, which every bind mount of it
// shares; ward changes only this mount.
Result<int64_t> remount(kernel::Task& task, vfs::MountNamespace& mounts,
                        const vfs::VirtualDentry& target, vfs::MountOptions options,
                        const std::string& data) {
  if (!mounts.contains(*target.mount) || !is_mount_root(target)) {
    return Errno{EINVAL};
  }
  bool read_only = options.read_only;
  if (auto failure = vfs::reconfigure_filesystem(*target.mount, data, read_only)) {
    return fail_with(task, *failure);
  }
  options.read_only = read_only;
  target.mount->set_options(options);
  return 0;
}

// MS_BIND, with MS_REC for the mounts below the source too. The new mount
// keeps the source mount's flags: Linux ignores MS_RDONLY and the others
// here, and a later MS_REMOUNT|MS_BIND changes them.
Result<int64_t> bind(kernel::Task& task, vfs::MountNamespace& mounts,
                     const vfs::VirtualDentry& target, const std::optional<std::string>& source,
                     bool recursive) {
  if (!source || source->empty()) {
    return Errno{EINVAL};
  }
  const vfs::VirtualDentry old =
      TRY(vfs::lookup_at(task, AT_FDCWD, *source, vfs::WalkOptions{.follow_final = true}));
  TRY(check_mount_target(mounts, target));
  if (!mounts.contains(*old.mount)) {
    return Errno{EINVAL};
  }
  const vfs::MountTree tree = TRY(mounts.copy_for_bind(old, recursive));
  TRY(mounts.attach_tree(target, tree));
  return 0;
}

// MS_SHARED, MS_PRIVATE, MS_SLAVE or MS_UNBINDABLE, with MS_REC for the
// mounts below too. Exactly one of them, and nothing but MS_REC and
// MS_SILENT beside it (Linux's flags_to_propagation_type).
Result<int64_t> change_propagation(kernel::Task& task, vfs::MountNamespace& mounts,
                                   const vfs::VirtualDentry& target, uint64_t flags) {
  if (!is_mount_root(target) || !mounts.contains(*target.mount)) {
    return Errno{EINVAL};
  }
  const uint64_t type = flags & ~static_cast<uint64_t>(MS_REC | MS_SILENT);
  if ((type & ~kPropagationFlags) != 0 || (type & (type - 1)) != 0) {
    return Errno{EINVAL};
  }

  vfs::Propagation propagation = vfs::Propagation::kPrivate;
  switch (type) {
    case MS_SHARED:
      record_gap(task, "MS_SHARED (no mount events pass between peers)");
      propagation = vfs::Propagation::kShared;
      break;
    case MS_SLAVE:
      // A slave of no master, which is all ward has, acts as a private
      // mount.
      propagation = vfs::Propagation::kSlave;
      break;
    case MS_UNBINDABLE:
      propagation = vfs::Propagation::kUnbindable;
      break;
    default:
      break;
  }
  if ((flags & MS_REC) != 0) {
    for (const auto& mount : mounts.subtree(*target.mount)) {
      mount->set_propagation(propagation);
    }
  } else {
    target.mount->set_propagation(propagation);
  }
  return 0;
}

// MS_MOVE: the mount at `source`, with the mounts below it, moves onto
// `target`.
Result<int64_t> move(kernel::Task& task, vfs::MountNamespace& mounts,
                     const vfs::VirtualDentry& target, const std::optional<std::string>& source) {
  if (!source || source->empty()) {
    return Errno{EINVAL};
  }
  const vfs::VirtualDentry old =
      TRY(vfs::lookup_at(task, AT_FDCWD, *source, vfs::WalkOptions{.follow_final = true}));
  TRY(check_mount_target(mounts, target));
  if (!mounts.contains(*old.mount) || !is_mount_root(old)) {
    return Errno{EINVAL};
  }
  // Linux does not move a mount out of a shared parent.
  const auto parent = old.mount->parent();
  if (parent != nullptr && parent->propagation() == vfs::Propagation::kShared) {
    return Errno{EINVAL};
  }
  TRY(mounts.move_tree(old.mount, target));
  return 0;
}

// A filesystem type that reads a block device. ward has none to give, so
// the call fails as Linux does for the source it is given.
Result<int64_t> mount_block_device(kernel::Task& task, const std::string& type,
                                   const std::optional<std::string>& source) {
  record_gap(task, "filesystem type " + type + " (no block devices)");
  if (!source) {
    return Errno{EINVAL};  // Linux's get_tree_bdev: no source specified
  }
  if (source->empty()) {
    return Errno{ENOENT};
  }
  const vfs::VirtualDentry device =
      TRY(vfs::lookup_at(task, AT_FDCWD, *source, vfs::WalkOptions{.follow_final = true}));
  const struct stat st = TRY(device.dentry->inode().stat());
  if (!S_ISBLK(st.st_mode)) {
    return Errno{ENOTBLK};
  }
  // NOTE: a block device node can only come from a host bind, whose mount
  // is nodev; Linux would refuse to open it there with EACCES.
  return Errno{EACCES};
}

// A new filesystem of `type` on `target`.
Result<int64_t> new_mount(kernel::Task& task, vfs::MountNamespace& mounts,
                          const vfs::VirtualDentry& target, const std::optional<std::string>& type,
                          const std::optional<std::string>& source, vfs::MountOptions options,
                          const std::string& data) {
  if (!type) {
    return Errno{EINVAL};
  }
  if (vfs::is_block_device_filesystem(*type)) {
    return mount_block_device(task, *type, source);
  }

  const vfs::FilesystemRequest request{
      .type = *type, .data = data, .fs_uid = task.creds().fs_uid, .fs_gid = task.creds().fs_gid};
  vfs::NewFilesystem filesystem;
  if (auto failure = vfs::make_filesystem(mounts, request, filesystem)) {
    return fail_with(task, *failure);
  }

  TRY(check_mount_target(mounts, target));
  // Linux refuses to stack a superblock on its own root.
  if (&target.mount->root()->inode().filesystem() == &filesystem.root->inode().filesystem() &&
      is_mount_root(target)) {
    return Errno{EBUSY};
  }
  options.read_only = options.read_only || filesystem.read_only;
  // /proc/mounts names a mount without a source "none", as Linux does.
  const std::string mount_source = filesystem.source.value_or(source.value_or("none"));
  TRY(mounts.attach(target, std::make_shared<vfs::Mount>(filesystem.root, mount_source, options)));
  return 0;
}

}  // namespace

// mount(source, target, filesystemtype, mountflags, data). In Linux's
// order, the strings are copied in, the target is walked, and then MS_NOUSER
// and the capability are checked. The flags then select a remount, a bind,
// a propagation change, a move or a new mount.
Result<int64_t> sys_mount(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr source_addr = args.addr(0);
  const GuestAddr target_addr = args.addr(1);
  const GuestAddr type_addr = args.addr(2);
  uint64_t flags = args.u64(3);
  const GuestAddr data_addr = args.addr(4);

  const std::optional<std::string> type = TRY(copy_mount_string(task, type_addr));
  const std::optional<std::string> source = TRY(copy_mount_string(task, source_addr));
  const std::string data = TRY(copy_mount_data(task, data_addr));
  const std::string target_path = TRY(task.copy_in_path(target_addr));
  const vfs::VirtualDentry target =
      TRY(vfs::lookup_at(task, AT_FDCWD, target_path, vfs::WalkOptions{.follow_final = true}));

  // The old magic number in the high half of the flags is dropped.
  if ((flags & MS_MGC_MSK) == MS_MGC_VAL) {
    flags &= ~static_cast<uint64_t>(MS_MGC_MSK);
  }
  if ((flags & MS_NOUSER) != 0) {
    return Errno{EINVAL};
  }
  if (!task.creds().has_capability(CAP_SYS_ADMIN)) {
    return Errno{EPERM};
  }
  if ((flags & MS_NOSYMFOLLOW) != 0) {
    record_gap(task, "MS_NOSYMFOLLOW");
    return Errno{EINVAL};
  }

  const std::shared_ptr<vfs::MountNamespace> mounts = vfs::mount_namespace_of(task);
  if (mounts == nullptr) {
    return Errno{EINVAL};  // a task outside any namespace has no mount to change
  }
  const vfs::MountOptions options = options_from_flags(flags);
  if ((flags & (MS_REMOUNT | MS_BIND)) == (MS_REMOUNT | MS_BIND)) {
    return remount_bind(*mounts, target, options);
  }
  if ((flags & MS_REMOUNT) != 0) {
    return remount(task, *mounts, target, options, data);
  }
  if ((flags & MS_BIND) != 0) {
    return bind(task, *mounts, target, source, (flags & MS_REC) != 0);
  }
  if ((flags & kPropagationFlags) != 0) {
    return change_propagation(task, *mounts, target, flags);
  }
  if ((flags & MS_MOVE) != 0) {
    return move(task, *mounts, target, source);
  }
  return new_mount(task, *mounts, target, type, source, options, data);
}

// umount2(target, flags). Unknown flags are EINVAL before the walk. Then
// come EPERM without CAP_SYS_ADMIN, and EINVAL when the target is not the
// root of a mount in the caller's namespace. A mount in use (an open file,
// a working or root directory, a mount below it) is EBUSY unless
// MNT_DETACH detaches it lazily. MNT_FORCE changes nothing, because none of
// ward's filesystems has Linux's umount_begin.
Result<int64_t> sys_umount2(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path_addr = args.addr(0);
  const uint32_t flags = args.u32(1);

  if ((flags & ~(kMntForce | kMntDetach | kMntExpire | kUmountNoFollow)) != 0) {
    return Errno{EINVAL};
  }
  const std::string path = TRY(task.copy_in_path(path_addr));
  vfs::VirtualDentry target = TRY(vfs::lookup_at(
      task, AT_FDCWD, path, vfs::WalkOptions{.follow_final = (flags & kUmountNoFollow) == 0}));

  if (!task.creds().has_capability(CAP_SYS_ADMIN)) {
    return Errno{EPERM};
  }
  const std::shared_ptr<vfs::MountNamespace> mounts = vfs::mount_namespace_of(task);
  if (mounts == nullptr || !is_mount_root(target) || !mounts->contains(*target.mount)) {
    return Errno{EINVAL};
  }

  // The references a mount in use has beyond these three: the namespace's
  // list, its parent's child list and `target` here.
  constexpr long kIdleReferences = 3;
  const bool in_use = target.mount->has_children() || target.mount.use_count() > kIdleReferences;

  const bool is_caller_root = target.mount == task.fs().root().mount;
  if ((flags & kMntExpire) != 0) {
    if (is_caller_root || (flags & (kMntForce | kMntDetach)) != 0) {
      return Errno{EINVAL};
    }
    if (in_use) {
      return Errno{EBUSY};
    }
    // NOTE: Linux clears the mark whenever the mount is used in between;
    // ward clears it only by unmounting.
    if (!target.mount->expiry_mark()) {
      target.mount->set_expiry_mark(true);
      return Errno{EAGAIN};
    }
  }
  if (is_caller_root && (flags & kMntDetach) == 0) {
    record_gap(task, "umount2 of the caller's root (Linux remounts it read-only)");
    return Errno{EBUSY};
  }
  if (target.mount == mounts->root_mount()) {
    record_gap(task, "umount2 of the namespace's root mount");
    return Errno{EINVAL};
  }

  if ((flags & kMntDetach) == 0 && in_use) {
    return Errno{EBUSY};
  }
  mounts->detach_tree(target.mount);
  return 0;
}

// chroot(path): the walk's errors first, then EACCES without search
// permission on the directory, then EPERM without CAP_SYS_CHROOT, in
// Linux's order. The working directory stays where it is.
Result<int64_t> sys_chroot(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path_addr = args.addr(0);
  const std::string path = TRY(task.copy_in_path(path_addr));
  const vfs::VirtualDentry location = TRY(vfs::lookup_at(
      task, AT_FDCWD, path, vfs::WalkOptions{.follow_final = true, .require_directory = true}));
  TRY(vfs::check_permission(task.creds(), location, vfs::kMayExec));
  if (!task.creds().has_capability(CAP_SYS_CHROOT)) {
    return Errno{EPERM};
  }
  task.fs().set_root(location);
  return 0;
}

}  // namespace ward::syscalls
