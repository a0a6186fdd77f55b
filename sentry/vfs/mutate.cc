#include "sentry/vfs/mutate.h"

#include <linux/fs.h>
#include <sys/stat.h>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/path_walk.h"

namespace ward::vfs {
namespace {

// Finishes a mutation that passed Linux's checks: write access to the
// mount, then the filesystem's operation, which no filesystem of ward has
// yet (EPERM).
Result<void> mutate_on(const Mount& mount) {
  TRY(mount_write_access(mount));
  return Errno{EPERM};
}

// Linux's filename_create: the checks before a new name is made in the
// walked parent. EEXIST for "." or ".." or an existing name, ENOENT for a
// missing name with a trailing slash unless a directory is being made.
Result<void> check_new_name(const Caller& caller, const ParentWalk& parent, bool making_directory) {
  if (parent.last_type != LastComponent::kNormal) {
    return Errno{EEXIST};
  }
  auto existing = lookup_child(caller, parent.parent, parent.last);
  if (existing.ok()) {
    return Errno{EEXIST};
  }
  if (existing.error().value != ENOENT) {
    return existing.error();
  }
  if (parent.trailing_slash && !making_directory) {
    return Errno{ENOENT};
  }
  return ok();
}

Result<void> create_name(const Caller& caller, const VirtualDentry& start, std::string_view path,
                         bool making_directory) {
  const ParentWalk parent = TRY(walk_parent(caller, start, path));
  TRY(check_new_name(caller, parent, making_directory));
  return mutate_on(*parent.parent.mount);
}

}  // namespace

Result<void> mount_write_access(const Mount& mount) {
  if (mount.read_only()) {
    return Errno{EROFS};
  }
  return ok();
}

Result<void> make_directory(const Caller& caller, const VirtualDentry& start, std::string_view path,
                            mode_t) {
  return create_name(caller, start, path, /*making_directory=*/true);
}

Result<void> check_node_type(mode_t mode) {
  switch (mode & S_IFMT) {
    case 0:  // a regular file
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      break;
    case S_IFDIR:
      return Errno{EPERM};
    default:
      return Errno{EINVAL};
  }
  return ok();
}

Result<void> make_node(const Caller& caller, const VirtualDentry& start, std::string_view path,
                       mode_t mode, dev_t) {
  TRY(check_node_type(mode));
  return create_name(caller, start, path, /*making_directory=*/false);
}

Result<void> make_symlink(const Caller& caller, std::string_view target, const VirtualDentry& start,
                          std::string_view path) {
  if (target.empty()) {
    return Errno{ENOENT};
  }
  return create_name(caller, start, path, /*making_directory=*/false);
}

Result<void> remove_directory(const Caller& caller, const VirtualDentry& start,
                              std::string_view path) {
  const ParentWalk parent = TRY(walk_parent(caller, start, path));
  switch (parent.last_type) {
    case LastComponent::kDotDot:
      return Errno{ENOTEMPTY};
    case LastComponent::kDot:
      return Errno{EINVAL};
    case LastComponent::kRoot:
      return Errno{EBUSY};
    case LastComponent::kNormal:
      break;
  }
  return mutate_on(*parent.parent.mount);
}

Result<void> unlink_file(const Caller& caller, const VirtualDentry& start, std::string_view path) {
  const ParentWalk parent = TRY(walk_parent(caller, start, path));
  if (parent.last_type != LastComponent::kNormal) {
    return Errno{EISDIR};
  }
  return mutate_on(*parent.parent.mount);
}

Result<void> rename_path(const Caller& caller, const VirtualDentry& old_start,
                         std::string_view old_path, const VirtualDentry& new_start,
                         std::string_view new_path, unsigned flags) {
  const ParentWalk from = TRY(walk_parent(caller, old_start, old_path));
  const ParentWalk to = TRY(walk_parent(caller, new_start, new_path));
  if (from.parent.mount != to.parent.mount) {
    return Errno{EXDEV};
  }
  if (from.last_type != LastComponent::kNormal) {
    return Errno{EBUSY};
  }
  if (to.last_type != LastComponent::kNormal) {
    return Errno{(flags & RENAME_NOREPLACE) != 0 ? EEXIST : EBUSY};
  }
  return mutate_on(*from.parent.mount);
}

Result<void> link_path(const Caller& caller, const VirtualDentry& old_location,
                       const VirtualDentry& new_start, std::string_view new_path) {
  // Linux checks the new name and the mount's write access before it
  // compares the mounts.
  const ParentWalk parent = TRY(walk_parent(caller, new_start, new_path));
  TRY(check_new_name(caller, parent, /*making_directory=*/false));
  TRY(mount_write_access(*parent.parent.mount));
  if (parent.parent.mount != old_location.mount) {
    return Errno{EXDEV};
  }
  return Errno{EPERM};
}

Result<void> change_mode(const Caller&, const VirtualDentry& location, mode_t) {
  return mutate_on(*location.mount);
}

Result<void> change_owner(const Caller&, const VirtualDentry& location, uid_t, gid_t) {
  return mutate_on(*location.mount);
}

Result<void> truncate_location(const Caller&, const VirtualDentry& location, int64_t) {
  const Inode& inode = location.dentry->inode();
  if (inode.is_dir()) {
    return Errno{EISDIR};
  }
  if (!inode.is_regular()) {
    return Errno{EINVAL};
  }
  return mutate_on(*location.mount);
}

Result<void> set_times(const Caller&, const VirtualDentry& location,
                       const std::optional<std::pair<timespec, timespec>>&) {
  return mutate_on(*location.mount);
}

}  // namespace ward::vfs
