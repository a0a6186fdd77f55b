#include "sentry/vfs/mutate.h"

#include <linux/capability.h>
#include <linux/fs.h>
#include <sys/stat.h>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/path_walk.h"
#include "sentry/vfs/permission.h"

namespace ward::vfs {
namespace {

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

// Walks to the parent of a name to create and checks the name; then write
// access to the mount.
Result<ParentWalk> walk_to_create(const Caller& caller, const VirtualDentry& start,
                                  std::string_view path, bool making_directory) {
  ParentWalk parent = TRY(walk_parent(caller, start, path));
  TRY(check_new_name(caller, parent, making_directory));
  TRY(mount_write_access(*parent.parent.mount));
  return parent;
}

// A child of `parent` as its dentry in `parent`'s filesystem, never the
// root of a mount on it, or ENOENT. The returned location pins it.
struct FoundChild {
  VirtualDentry location;  // as lookup_child returns it, across mounts
  std::shared_ptr<Dentry> dentry;
};

Result<FoundChild> find_child(const Caller& caller, const VirtualDentry& parent,
                              std::string_view name) {
  VirtualDentry location = TRY(lookup_child(caller, parent, name));
  std::shared_ptr<Dentry> dentry = location.dentry;
  if (location.mount != parent.mount) {
    dentry = parent.dentry->cached_child(name);  // the dentry the mount covers
  }
  return FoundChild{.location = std::move(location), .dentry = std::move(dentry)};
}

// Whether `ancestor` is `dentry` or one of its parents.
bool is_ancestor(const Dentry& ancestor, const Dentry* dentry) {
  for (; dentry != nullptr; dentry = dentry->parent().get()) {
    if (dentry == &ancestor) {
      return true;
    }
  }
  return false;
}

// The S_ISUID and S_ISGID bits a change of `st` by the caller must clear
// (Linux's setattr_should_drop_suidgid): setuid always, and setgid when the
// file is group-executable or the caller is outside its group without
// CAP_FSETID. Only regular files lose them.
mode_t privileges_to_drop(const Caller& caller, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) {
    return 0;
  }
  mode_t drop = st.st_mode & S_ISUID;
  if ((st.st_mode & S_ISGID) != 0 &&
      ((st.st_mode & S_IXGRP) != 0 || !in_group_or_capable(caller.creds, st.st_gid))) {
    drop |= S_ISGID;
  }
  return drop;
}

// The set-id bits a write or truncation by the caller clears (Linux's
// should_remove_suid): S_ISUID, and S_ISGID on a group-executable file,
// unless the caller has CAP_FSETID.
mode_t privileges_dropped_by_write(const Caller& caller, const struct stat& st) {
  if (!S_ISREG(st.st_mode) || caller.creds.has_capability(CAP_FSETID)) {
    return 0;
  }
  mode_t drop = st.st_mode & S_ISUID;
  if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) {
    drop |= S_ISGID;
  }
  return drop;
}

// Linux's inode_newsize_ok: EFBIG for growing a file past the RLIMIT_FSIZE
// limit `size_limit_bytes`.
Result<void> check_new_size(const struct stat& st, int64_t length, uint64_t size_limit_bytes) {
  if (length > st.st_size && static_cast<uint64_t>(length) > size_limit_bytes) {
    return Errno{EFBIG};
  }
  return ok();
}

// Applies `change` to the inode at `dentry` and reports it to its watches.
Result<void> apply_change(const Caller& caller, const Dentry& dentry,
                          const AttributeChange& change) {
  TRY(dentry.inode().set_attributes(caller, change));
  notify_attributes_changed(dentry, change);
  return ok();
}

Result<void> make_at(const Caller& caller, const VirtualDentry& start, std::string_view path,
                     mode_t mode, bool apply_umask, dev_t device, std::string_view link_target) {
  const bool making_directory = S_ISDIR(mode);
  const ParentWalk parent = TRY(walk_to_create(caller, start, path, making_directory));
  TRY(may_create(caller.creds, parent.parent));
  NewNode node = TRY(prepare_new_node(caller, parent.parent, mode, apply_umask));
  node.device = device;
  node.link_target = link_target;
  // A device node needs CAP_MKNOD, except the whiteout (char 0:0) that
  // overlay filesystems use.
  const bool whiteout = S_ISCHR(mode) && device == 0;
  if ((S_ISCHR(mode) || S_ISBLK(mode)) && !whiteout &&
      !caller.creds.has_capability(CAP_MKNOD)) {
    return Errno{EPERM};
  }
  TRY(create_child(caller, parent.parent, parent.last, node));
  return ok();
}

}  // namespace

Result<void> mount_write_access(const Mount& mount) {
  if (mount.read_only()) {
    return Errno{EROFS};
  }
  return ok();
}

Result<NewNode> prepare_new_node(const Caller& caller, const VirtualDentry& parent, mode_t mode,
                                 bool apply_umask) {
  const struct stat parent_st = TRY(parent.dentry->inode().stat());
  const bool setgid_parent = (parent_st.st_mode & S_ISGID) != 0;

  mode_t bits = mode & 07777;
  if (!S_ISDIR(mode) && setgid_parent && (bits & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
      !in_group_or_capable(caller.creds, parent_st.st_gid)) {
    bits &= ~static_cast<mode_t>(S_ISGID);
  }
  if (apply_umask) {
    bits &= ~caller.fs.umask();
  }
  if (S_ISDIR(mode) && setgid_parent) {
    bits |= S_ISGID;
  }
  return NewNode{.mode = (mode & S_IFMT) | bits,
                 .uid = caller.creds.fs_uid,
                 .gid = setgid_parent ? parent_st.st_gid : caller.creds.fs_gid,
                 .device = 0,
                 .link_target = {}};
}

Result<std::shared_ptr<Dentry>> create_child(const Caller& caller, const VirtualDentry& parent,
                                             std::string_view name, const NewNode& node) {
  std::shared_ptr<Inode> inode = TRY(parent.dentry->inode().create(caller, name, node));
  std::shared_ptr<Dentry> child = parent.dentry->add_child(name, std::move(inode));
  notify_created(*parent.dentry, *child);
  return child;
}

Result<void> make_directory(const Caller& caller, const VirtualDentry& start, std::string_view path,
                            mode_t mode) {
  // mkdir keeps the permission and sticky bits of `mode`, never set-id bits.
  const mode_t bits = mode & (S_IRWXU | S_IRWXG | S_IRWXO | S_ISVTX);
  return make_at(caller, start, path, S_IFDIR | bits, /*apply_umask=*/true, 0, {});
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
                       mode_t mode, dev_t device) {
  TRY(check_node_type(mode));
  mode_t typed = mode & (S_IFMT | 07777);
  if ((typed & S_IFMT) == 0) {
    typed |= S_IFREG;
  }
  return make_at(caller, start, path, typed, /*apply_umask=*/true, device, {});
}

Result<void> make_symlink(const Caller& caller, std::string_view target, const VirtualDentry& start,
                          std::string_view path) {
  if (target.empty()) {
    return Errno{ENOENT};
  }
  return make_at(caller, start, path, S_IFLNK | 0777, /*apply_umask=*/false, 0, target);
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
  TRY(mount_write_access(*parent.parent.mount));
  const FoundChild child = TRY(find_child(caller, parent.parent, parent.last));
  TRY(may_delete(caller.creds, parent.parent, *child.dentry, /*want_directory=*/true));
  if (child.dentry->mount_count() > 0) {
    return Errno{EBUSY};
  }
  TRY(parent.parent.dentry->inode().rmdir(caller, parent.last, child.dentry->inode()));
  notify_removed(*parent.parent.dentry, *child.dentry);
  parent.parent.dentry->forget_child(parent.last);
  return ok();
}

Result<void> unlink_file(const Caller& caller, const VirtualDentry& start, std::string_view path) {
  const ParentWalk parent = TRY(walk_parent(caller, start, path));
  if (parent.last_type != LastComponent::kNormal) {
    return Errno{EISDIR};
  }
  TRY(mount_write_access(*parent.parent.mount));
  const FoundChild child = TRY(find_child(caller, parent.parent, parent.last));
  // "name/" names a directory: EISDIR when it is one, ENOTDIR otherwise.
  if (parent.trailing_slash) {
    return Errno{child.dentry->inode().is_dir() ? EISDIR : ENOTDIR};
  }
  TRY(may_delete(caller.creds, parent.parent, *child.dentry, /*want_directory=*/false));
  if (child.dentry->mount_count() > 0) {
    return Errno{EBUSY};
  }
  TRY(parent.parent.dentry->inode().unlink(caller, parent.last, child.dentry->inode()));
  notify_removed(*parent.parent.dentry, *child.dentry);
  parent.parent.dentry->forget_child(parent.last);
  return ok();
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
  TRY(mount_write_access(*from.parent.mount));
  const bool exchange = (flags & RENAME_EXCHANGE) != 0;

  // The checks of Linux's do_renameat2, in its order.
  const FoundChild source = TRY(find_child(caller, from.parent, from.last));
  std::optional<FoundChild> target;
  auto found = find_child(caller, to.parent, to.last);
  if (found.ok()) {
    target = std::move(*found);
  } else if (found.error().value != ENOENT) {
    return found.error();
  }
  if ((flags & RENAME_NOREPLACE) != 0 && target) {
    return Errno{EEXIST};
  }
  if (exchange) {
    if (!target) {
      return Errno{ENOENT};
    }
    if (!target->dentry->inode().is_dir() && to.trailing_slash) {
      return Errno{ENOTDIR};
    }
  }
  const bool source_is_dir = source.dentry->inode().is_dir();
  if (!source_is_dir) {
    if (from.trailing_slash || (!exchange && to.trailing_slash)) {
      return Errno{ENOTDIR};
    }
  }
  // A directory cannot move below itself, nor be replaced by one of its
  // own descendants.
  const Dentry& old_directory = *from.parent.dentry;
  const Dentry& new_directory = *to.parent.dentry;
  if (&old_directory != &new_directory) {
    if (is_ancestor(*source.dentry, &new_directory)) {
      return Errno{EINVAL};
    }
    if (target && is_ancestor(*target->dentry, &old_directory)) {
      return Errno{exchange ? EINVAL : ENOTEMPTY};
    }
  }

  // Linux's vfs_rename: two names of one inode are left alone.
  if (target && target->dentry->inode_ref() == source.dentry->inode_ref()) {
    return ok();
  }
  TRY(may_delete(caller.creds, from.parent, *source.dentry, source_is_dir));
  if (!target) {
    TRY(may_create(caller.creds, to.parent));
  } else {
    const bool target_is_dir = target->dentry->inode().is_dir();
    TRY(may_delete(caller.creds, to.parent, *target->dentry,
                   exchange ? target_is_dir : source_is_dir));
  }
  // A directory that moves to another parent has its ".." rewritten, which
  // needs write permission on it.
  if (&old_directory != &new_directory) {
    if (source_is_dir) {
      TRY(check_permission(caller.creds, source.location, kMayWrite));
    }
    if (exchange && target->dentry->inode().is_dir()) {
      TRY(check_permission(caller.creds, target->location, kMayWrite));
    }
  }
  if (source.dentry->mount_count() > 0 || (target && target->dentry->mount_count() > 0)) {
    return Errno{EBUSY};
  }

  TRY(from.parent.dentry->inode().rename(caller, from.last, to.parent.dentry->inode(), to.last,
                                         flags));
  if (exchange) {
    source.dentry->move_to(to.parent.dentry, to.last);
    target->dentry->move_to(from.parent.dentry, from.last);
  } else {
    source.dentry->move_to(to.parent.dentry, to.last);
  }
  notify_renamed(*from.parent.dentry, from.last, *source.dentry, target ? target->dentry.get() : nullptr, exchange);
  return ok();
}

Result<void> link_path(const Caller& caller, const VirtualDentry& old_location,
                       const VirtualDentry& new_start, std::string_view new_path) {
  // Linux checks the new name and the mount's write access before it
  // compares the mounts.
  const ParentWalk parent = TRY(walk_to_create(caller, new_start, new_path, false));
  if (parent.parent.mount != old_location.mount) {
    return Errno{EXDEV};
  }

  // protected_hardlinks, on in Linux distributions: only the owner, a
  // caller with CAP_FOWNER, or one who may read and write a regular file
  // that is not set-id, may link to it.
  const std::shared_ptr<Inode>& inode = old_location.dentry->inode_ref();
  const struct stat st = TRY(inode->stat());
  if (!owner_or_capable(caller.creds, st)) {
    const bool set_id = (st.st_mode & S_ISUID) != 0 ||
                        (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP);
    if (!S_ISREG(st.st_mode) || set_id ||
        !check_access(caller.creds, st, kMayRead | kMayWrite).ok()) {
      return Errno{EPERM};
    }
  }

  TRY(may_create(caller.creds, parent.parent));
  if (&inode->filesystem() != &parent.parent.dentry->inode().filesystem()) {
    return Errno{EXDEV};
  }
  if (inode->is_dir()) {
    return Errno{EPERM};
  }
  TRY(parent.parent.dentry->inode().link(caller, parent.last, inode));
  notify_linked(*parent.parent.dentry, *parent.parent.dentry->add_child(parent.last, inode));
  return ok();
}

Result<void> change_mode(const Caller& caller, const VirtualDentry& location, mode_t mode) {
  TRY(mount_write_access(*location.mount));
  Inode& inode = location.dentry->inode();
  // Linux 6.6 and later refuse a mode for a symlink (fchmodat2 with
  // AT_SYMLINK_NOFOLLOW).
  if (inode.is_symlink()) {
    return Errno{EOPNOTSUPP};
  }
  const struct stat st = TRY(inode.stat());
  if (!owner_or_capable(caller.creds, st)) {
    return Errno{EPERM};
  }
  mode_t bits = mode & 07777;
  // Only a member of the file's group, or CAP_FSETID, may set S_ISGID.
  if (!in_group_or_capable(caller.creds, st.st_gid)) {
    bits &= ~static_cast<mode_t>(S_ISGID);
  }
  AttributeChange change;
  change.mode = bits;
  return apply_change(caller, *location.dentry, change);
}

Result<void> change_owner(const Caller& caller, const VirtualDentry& location, uid_t uid,
                          gid_t gid) {
  TRY(mount_write_access(*location.mount));
  Inode& inode = location.dentry->inode();
  const struct stat st = TRY(inode.stat());
  const bool owner = caller.creds.fs_uid == st.st_uid;
  const bool can_chown = caller.creds.has_capability(CAP_CHOWN);

  AttributeChange change;
  // Changing the owner needs CAP_CHOWN unless it stays the same.
  if (uid != static_cast<uid_t>(-1)) {
    if (!(owner && uid == st.st_uid) && !can_chown) {
      return Errno{EPERM};
    }
    change.uid = uid;
  }
  // The owner may pick any group of its own; anyone else needs CAP_CHOWN.
  if (gid != static_cast<gid_t>(-1)) {
    const bool own_group = owner && (gid == st.st_gid || in_group(caller.creds, gid));
    if (!own_group && !can_chown) {
      return Errno{EPERM};
    }
    change.gid = gid;
  }
  if (!S_ISDIR(st.st_mode)) {
    const mode_t drop = privileges_to_drop(caller, st);
    if (drop != 0) {
      change.mode = st.st_mode & 07777 & ~drop;
    }
  }
  return apply_change(caller, *location.dentry, change);
}

Result<void> truncate_location(const Caller& caller, const VirtualDentry& location, int64_t length,
                               uint64_t size_limit_bytes) {
  Inode& inode = location.dentry->inode();
  if (inode.is_dir()) {
    return Errno{EISDIR};
  }
  if (!inode.is_regular()) {
    return Errno{EINVAL};
  }
  TRY(mount_write_access(*location.mount));
  TRY(check_permission(caller.creds, location, kMayWrite));

  const struct stat st = TRY(inode.stat());
  TRY(check_new_size(st, length, size_limit_bytes));
  AttributeChange change;
  change.size = length;
  const mode_t drop = privileges_dropped_by_write(caller, st);
  if (drop != 0) {
    change.mode = st.st_mode & 07777 & ~drop;
  }
  return apply_change(caller, *location.dentry, change);
}

Result<void> truncate_file(const Caller& caller, FileDescription& file, int64_t length,
                           uint64_t size_limit_bytes) {
  Inode& inode = file.inode();
  TRY(mount_write_access(*file.location().mount));
  const struct stat st = TRY(inode.stat());
  TRY(check_new_size(st, length, size_limit_bytes));
  TRY(file.truncate(length));
  notify_truncated(*file.location().dentry);
  const mode_t drop = privileges_dropped_by_write(caller, st);
  if (drop != 0) {
    AttributeChange change;
    change.mode = st.st_mode & 07777 & ~drop;
    TRY(inode.set_attributes(caller, change));
  }
  return ok();
}

Result<void> set_times(const Caller& caller, const VirtualDentry& location,
                       const std::optional<std::pair<timespec, timespec>>& times) {
  TRY(mount_write_access(*location.mount));
  Inode& inode = location.dentry->inode();
  const struct stat st = TRY(inode.stat());

  const bool both_now =
      !times || (times->first.tv_nsec == UTIME_NOW && times->second.tv_nsec == UTIME_NOW);
  if (both_now) {
    // Setting both times to now needs ownership or write permission.
    if (!owner_or_capable(caller.creds, st)) {
      TRY(check_permission(caller.creds, location, kMayWrite));
    }
  } else if (!owner_or_capable(caller.creds, st)) {
    // Any other request, even UTIME_NOW with UTIME_OMIT, needs ownership.
    return Errno{EPERM};
  }

  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  auto resolve = [&](const timespec& requested) -> std::optional<timespec> {
    if (requested.tv_nsec == UTIME_OMIT) {
      return std::nullopt;
    }
    if (requested.tv_nsec == UTIME_NOW) {
      return now;
    }
    return requested;
  };
  AttributeChange change;
  if (times) {
    change.atime = resolve(times->first);
    change.mtime = resolve(times->second);
  } else {
    change.atime = now;
    change.mtime = now;
  }
  return apply_change(caller, *location.dentry, change);
}

}  // namespace ward::vfs
