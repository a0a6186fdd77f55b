#include "sentry/vfs/open.h"

#include <fcntl.h>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/mutate.h"
#include "sentry/vfs/open_flags.h"
#include "sentry/vfs/permission.h"

namespace ward::vfs {
namespace {

// An O_PATH file has no I/O of its own: read, write and the like fail with
// EBADF in the syscalls before reaching it.
class PathFile final : public FileDescription {
 public:
  using FileDescription::FileDescription;
};

}  // namespace

Result<void> may_open(const Caller& caller, const VirtualDentry& location, int may,
                      uint32_t flags) {
  Inode& inode = location.dentry->inode();
  const MountOptions& mount = location.mount->options();
  switch (inode.type()) {
    case S_IFLNK:
      return Errno{ELOOP};
    case S_IFDIR:
      if ((may & kMayWrite) != 0) {
        return Errno{EISDIR};
      }
      if ((may & kMayExec) != 0) {
        return Errno{EACCES};
      }
      break;
    case S_IFBLK:
    case S_IFCHR:
      if (mount.nodev) {
        return Errno{EACCES};
      }
      [[fallthrough]];
    case S_IFIFO:
    case S_IFSOCK:
      if ((may & kMayExec) != 0) {
        return Errno{EACCES};
      }
      break;
    case S_IFREG:
      if ((may & kMayExec) != 0 && mount.noexec) {
        return Errno{EACCES};
      }
      break;
    default:
      return Errno{EACCES};
  }

  TRY(check_permission(caller.creds, location, may));

  // Only the owner or root may stop atime updates.
  if ((flags & O_NOATIME) != 0) {
    const struct stat st = TRY(inode.stat());
    if (caller.creds.fs_uid != st.st_uid && caller.creds.fs_uid != 0) {
      return Errno{EPERM};
    }
  }
  return ok();
}

int open_access_mode(uint32_t flags) {
  int may = 0;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      may = kMayRead;
      break;
    case O_WRONLY:
      may = kMayWrite;
      break;
    default:  // O_RDWR, and 3, which Linux opens for ioctl only
      may = kMayRead | kMayWrite;
      break;
  }
  if ((flags & O_TRUNC) != 0) {
    may |= kMayWrite;
  }
  return may;
}

FileRef make_path_file(const VirtualDentry& location, uint32_t flags) {
  return std::make_shared<PathFile>(location, flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW));
}

Result<FileRef> open_location(const Caller& caller, const VirtualDentry& location, uint32_t flags) {
  Inode& inode = location.dentry->inode();
  if ((flags & O_CREAT) != 0 && inode.is_dir()) {
    return Errno{EISDIR};
  }
  if ((flags & O_DIRECTORY) != 0 && !inode.is_dir()) {
    return Errno{ENOTDIR};
  }
  // Truncation needs write access to the mount before any permission check.
  const bool truncate = inode.is_regular() && (flags & O_TRUNC) != 0;
  if (truncate) {
    TRY(mount_write_access(*location.mount));
  }
  TRY(may_open(caller, location, open_access_mode(flags), flags));
  FileRef file = TRY(inode.open(caller, location, flags));
  notify_opened(*file);
  if (truncate) {
    TRY(truncate_file(caller, *file, 0));
  }
  return file;
}

namespace {

// open(O_CREAT) of a name that does not exist: Linux's lookup_open. The
// creator opens the new file without a permission check.
Result<FileRef> create_and_open(const Caller& caller, const CreateWalk& walk,
                                const OpenRequest& request) {
  TRY(mount_write_access(*walk.parent.mount));
  TRY(may_create(caller.creds, walk.parent));
  const NewNode node = TRY(prepare_new_node(caller, walk.parent, S_IFREG | (request.mode & 07777),
                                            /*apply_umask=*/true));
  std::shared_ptr<Dentry> dentry = TRY(create_child(caller, walk.parent, walk.name, node));
  const VirtualDentry location{.mount = walk.parent.mount, .dentry = std::move(dentry)};
  const uint32_t flags = request.flags & ~static_cast<uint32_t>(O_TRUNC);
  TRY(may_open(caller, location, 0, flags));
  FileRef file = TRY(location.dentry->inode().open(caller, location, flags));
  notify_opened(*file);
  return file;
}

// open(O_TMPFILE): an unnamed regular file in `directory` (Linux's
// vfs_tmpfile), which linkat may name later unless O_EXCL was given.
Result<FileRef> open_tmpfile(const Caller& caller, const VirtualDentry& directory,
                             const OpenRequest& request) {
  TRY(mount_write_access(*directory.mount));
  TRY(check_permission(caller.creds, directory, kMayWrite | kMayExec));
  NewNode node = TRY(prepare_new_node(caller, directory, S_IFREG | (request.mode & 07777),
                                      /*apply_umask=*/true));
  node.linkable = (request.flags & O_EXCL) == 0;
  std::shared_ptr<Inode> inode = TRY(directory.dentry->inode().create_unnamed(caller, node));

  // The file's dentry sits under the directory without being one of its
  // entries, named "#ino" as Linux's d_tmpfile names it.
  const struct stat st = TRY(inode->stat());
  const std::string name = "#" + std::to_string(st.st_ino);
  std::shared_ptr<Dentry> dentry = directory.dentry->add_child(name, std::move(inode));
  directory.dentry->forget_child(name);
  const VirtualDentry location{.mount = directory.mount, .dentry = std::move(dentry)};
  TRY(may_open(caller, location, 0, request.flags));
  return location.dentry->inode().open(caller, location, request.flags);
}

}  // namespace

Result<FileRef> open_path(const Caller& caller, const VirtualDentry& start, std::string_view path,
                          const OpenRequest& request) {
  const uint32_t flags = request.flags;
  WalkOptions options = request.resolve;
  options.follow_final = (flags & O_NOFOLLOW) == 0;
  options.require_directory = (flags & O_DIRECTORY) != 0;

  if ((flags & O_PATH) != 0) {
    VirtualDentry location = TRY(walk_path(caller, start, path, options));
    return make_path_file(location, flags);
  }

  if ((flags & kOpenTmpfileBit) != 0) {
    options.follow_final = true;
    options.require_directory = true;
    VirtualDentry directory = TRY(walk_path(caller, start, path, options));
    return open_tmpfile(caller, directory, request);
  }

  if ((flags & O_CREAT) == 0) {
    VirtualDentry location = TRY(walk_path(caller, start, path, options));
    return open_location(caller, location, flags);
  }

  // O_CREAT | O_EXCL never follows a final symlink: it creates or fails.
  if ((flags & O_EXCL) != 0) {
    options.follow_final = false;
  }
  CreateWalk walk = TRY(walk_for_create(caller, start, path, options));
  if (!walk.existing) {
    return create_and_open(caller, walk, request);
  }
  if ((flags & O_EXCL) != 0) {
    return Errno{EEXIST};
  }
  return open_location(caller, *walk.existing, flags);
}

}  // namespace ward::vfs
