// The changes a writable hostfs (a read-write bind) makes to the host:
// create, link, unlink, rmdir, rename and attribute changes. Each host call
// names one component relative to the O_PATH fd of a directory the sentry
// holds, or the inode of an O_PATH fd itself, and none follows a host
// symlink, so no guest action reaches outside the bind.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "sentry/fs/hostfs.h"
#include "sentry/fs/hostfs_file.h"

namespace ward::vfs {
namespace {

Result<void> host_call(int result) {
  if (result != 0) {
    return Errno{errno};
  }
  return ok();
}

// Set-user-ID and set-group-ID bits on a host file would let any host user
// who reaches the bound directory run it as ward's host user, often root.
// The sandbox's mount is nosuid, but the host's is not, so hostfs rejects
// them on files with EPERM. On a directory, set-group-ID only makes new
// entries inherit its group, so it stays allowed.
// NOTE: so a guest cannot make a set-user-ID file in a read-write bind,
// which Linux would allow.
Result<void> check_no_host_privilege_bits(mode_t type, mode_t permissions) {
  if (!S_ISDIR(type) && (permissions & (S_ISUID | S_ISGID)) != 0) {
    return Errno{EPERM};
  }
  return ok();
}

const HostInode* as_host_inode(const Inode& inode, const Filesystem& filesystem) {
  const auto* host = dynamic_cast<const HostInode*>(&inode);
  if (host == nullptr || &host->filesystem() != &filesystem) {
    return nullptr;
  }
  return host;
}

}  // namespace

Result<void> HostInode::check_writable_directory() const {
  if (!host_filesystem().writable()) {
    return Errno{EROFS};
  }
  if (!is_dir()) {
    return Errno{ENOTDIR};
  }
  return ok();
}

Result<std::shared_ptr<Inode>> HostInode::open_child(const std::string& name) const {
  UniqueFd fd(::openat(path_fd_.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return Errno{errno};
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return Errno{errno};
  }
  auto filesystem = std::static_pointer_cast<HostFilesystem>(filesystem_ref());
  return std::shared_ptr<Inode>(std::make_shared<HostInode>(filesystem, std::move(fd), st));
}

Result<void> HostInode::check_still_named(const std::string& name, const Inode& child) const {
  const auto* host_child = dynamic_cast<const HostInode*>(&child);
  if (host_child == nullptr) {
    return Errno{ENOENT};
  }
  struct stat st {};
  TRY(host_call(fstatat(path_fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW)));
  if (st.st_dev != host_child->host_dev() || st.st_ino != host_child->host_ino()) {
    return Errno{ENOENT};
  }
  return ok();
}

Result<std::shared_ptr<Inode>> HostInode::create(const Caller&, std::string_view name,
                                                 const NewNode& node) {
  TRY(check_writable_directory());
  const std::string component(name);
  const mode_t permissions = node.mode & 07777;
  TRY(check_no_host_privilege_bits(node.mode & S_IFMT, permissions));

  switch (node.mode & S_IFMT) {
    case S_IFREG: {
      // O_EXCL: the name must be new, so no host symlink there is followed.
      UniqueFd fd(::openat(path_fd_.get(), component.c_str(),
                           O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, permissions));
      if (!fd.valid()) {
        return Errno{errno};
      }
      break;
    }
    case S_IFDIR:
      TRY(host_call(mkdirat(path_fd_.get(), component.c_str(), permissions)));
      break;
    case S_IFLNK: {
      // The host stores the target as text and never follows it: hostfs
      // opens every component with O_NOFOLLOW, and the sentry resolves the
      // link inside the sandbox.
      const std::string target(node.link_target);
      TRY(host_call(symlinkat(target.c_str(), path_fd_.get(), component.c_str())));
      break;
    }
    case S_IFIFO:
    case S_IFSOCK:
      TRY(host_call(
          mknodat(path_fd_.get(), component.c_str(), (node.mode & S_IFMT) | permissions, 0)));
      break;
    default:
      // Character and block devices: the sandbox never opens host devices,
      // and an unprivileged ward could not make them either.
      return Errno{EPERM};
  }

  std::shared_ptr<Inode> created = TRY(open_child(component));
  // The host applied ward's own umask, which may have cleared bits the
  // guest requested. The guest's umask is already applied to node.mode.
  if (!S_ISLNK(node.mode)) {
    const struct stat st = TRY(created->stat());
    if ((st.st_mode & 07777) != permissions) {
      const auto& host_inode = static_cast<const HostInode&>(*created);
      const std::string path = host_filesystem().inode_path(host_inode.path_fd());
      TRY(host_call(::chmod(path.c_str(), permissions)));
    }
  }
  return created;
}

Result<void> HostInode::link(const Caller&, std::string_view name,
                             const std::shared_ptr<Inode>& target) {
  TRY(check_writable_directory());
  const HostInode* host_target = as_host_inode(*target, filesystem());
  if (host_target == nullptr) {
    return Errno{EXDEV};
  }
  // AT_SYMLINK_FOLLOW on the magic link names the target's inode itself,
  // even a symlink, and needs no CAP_DAC_READ_SEARCH as AT_EMPTY_PATH does.
  const std::string source = host_filesystem().inode_path(host_target->path_fd());
  const std::string component(name);
  return host_call(
      linkat(AT_FDCWD, source.c_str(), path_fd_.get(), component.c_str(), AT_SYMLINK_FOLLOW));
}

Result<void> HostInode::unlink(const Caller&, std::string_view name, Inode& child) {
  TRY(check_writable_directory());
  const std::string component(name);
  TRY(check_still_named(component, child));
  return host_call(unlinkat(path_fd_.get(), component.c_str(), 0));
}

Result<void> HostInode::rmdir(const Caller&, std::string_view name, Inode& child) {
  TRY(check_writable_directory());
  const std::string component(name);
  TRY(check_still_named(component, child));
  return host_call(unlinkat(path_fd_.get(), component.c_str(), AT_REMOVEDIR));
}

Result<void> HostInode::rename(const Caller&, std::string_view old_name, Inode& new_parent,
                               std::string_view new_name, unsigned flags) {
  TRY(check_writable_directory());
  const HostInode* host_parent = as_host_inode(new_parent, filesystem());
  if (host_parent == nullptr) {
    return Errno{EXDEV};
  }
  if (!host_parent->is_dir()) {
    return Errno{ENOTDIR};
  }
  // renameat2 acts on the names themselves and never follows a symlink at
  // either end.
  const std::string old_component(old_name);
  const std::string new_component(new_name);
  return host_call(renameat2(path_fd_.get(), old_component.c_str(), host_parent->path_fd(),
                             new_component.c_str(), flags));
}

Result<void> HostInode::set_attributes(const Caller&, const AttributeChange& change) {
  if (!host_filesystem().writable()) {
    return Errno{EROFS};
  }
  HostFilesystem& host = host_filesystem();
  if (change.mode) {
    TRY(check_no_host_privilege_bits(type(), *change.mode));
  }

  if (change.size) {
    if (!is_regular()) {
      return Errno{is_dir() ? EISDIR : EINVAL};
    }
    UniqueFd fd = TRY(host.reopen(path_fd_.get(), O_WRONLY));
    TRY(drop_host_set_id_bits(fd.get()));
    TRY(host_call(ftruncate(fd.get(), *change.size)));
  }

  // A chown before the chmod, because the host's chown clears the
  // set-user-ID and set-group-ID bits that the chmod may set.
  if (change.uid || change.gid) {
    const uid_t uid = change.uid.value_or(static_cast<uid_t>(-1));
    const gid_t gid = change.gid.value_or(static_cast<gid_t>(-1));
    TRY(host_call(fchownat(path_fd_.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)));
  }

  if (change.mode) {
    // Linux cannot change a symlink's mode either.
    if (is_symlink()) {
      return Errno{EOPNOTSUPP};
    }
    const std::string path = host.inode_path(path_fd_.get());
    TRY(host_call(::chmod(path.c_str(), *change.mode & 07777)));
  }

  if (change.atime || change.mtime) {
    struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
                                {.tv_sec = 0, .tv_nsec = UTIME_OMIT}};
    if (change.atime) {
      times[0] = *change.atime;
    }
    if (change.mtime) {
      times[1] = *change.mtime;
    }
    TRY(host_call(utimensat(path_fd_.get(), "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)));
  }
  return ok();
}

}  // namespace ward::vfs
