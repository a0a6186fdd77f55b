// Inodes and filesystems: the objects a path names. Every filesystem of the
// sentry (hostfs, devfs, procfs, sysfs, pipefs) derives its inodes from Inode
// and gives each inode a Filesystem, which supplies the device number and
// statfs. An inode's file type never changes during its life.
#pragma once

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <time.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

class FileDescription;
class FileLocks;
class InodeWatches;
struct Caller;

using FileRef = std::shared_ptr<FileDescription>;

// Linux's NAME_MAX: the longest path component, in bytes.
inline constexpr size_t kNameMax = 255;

// One directory entry as getdents64 reports it. next_offset is the d_off
// cookie: seeking the directory there resumes after this entry.
struct Dirent {
  uint64_t ino;
  int64_t next_offset;
  uint8_t type;  // DT_* value
  std::string_view name;
};

// Receives the entries of a directory listing. add() returns false when the
// entry does not fit; the producer then resumes at that entry next time.
class DirentSink {
 public:
  virtual ~DirentSink() = default;
  virtual bool add(const Dirent& entry) = 0;
};

// A mounted filesystem instance: its type name for /proc/mounts, its device
// number and its statfs. Inodes keep it alive.
class Filesystem {
 public:
  // `magic` is the f_type statfs reports (PROC_SUPER_MAGIC...).
  Filesystem(std::string type_name, uint64_t magic);
  virtual ~Filesystem() = default;
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  const std::string& type_name() const { return type_name_; }

  // The st_dev of this filesystem's inodes: an anonymous device number
  // (major 0), as Linux gives filesystems without a block device.
  dev_t dev() const { return dev_; }

  uint64_t allocate_ino() { return next_ino_++; }

  // Statistics for statfs and fstatfs, without f_flags, which come from
  // the mount (statfs_at). The default describes a filesystem that stores
  // nothing: zero blocks and files, 4 KiB blocks.
  virtual Result<struct statfs> statfs();

 private:
  std::string type_name_;
  uint64_t magic_;
  dev_t dev_;
  uint64_t next_ino_ = 1;
};

// A node for a directory to create, with its mode and owner already decided
// by the VFS: the umask applied, the group inherited from a setgid parent.
struct NewNode {
  mode_t mode = 0;  // the S_IFMT type and the permission bits (07777)
  uid_t uid = 0;
  gid_t gid = 0;
  dev_t device = 0;              // for S_IFCHR and S_IFBLK only
  std::string_view link_target;  // for S_IFLNK only, never empty
  // For create_unnamed: whether link() may name the file later, as for
  // O_TMPFILE without O_EXCL.
  bool linkable = false;
};

// The changes of chmod, chown, truncate and utimensat, already checked by the
// VFS against the caller's credentials (setattr_prepare). A filesystem
// applies every field that is set and moves ctime to now; timestamps are
// absolute (the VFS has resolved UTIME_NOW).
struct AttributeChange {
  std::optional<mode_t> mode;  // permission bits only (07777)
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<int64_t> size;  // regular files only
  std::optional<timespec> atime;
  std::optional<timespec> mtime;
};

// The target of a symlink: a path to walk, or, for a procfs magic link
// (/proc/self/fd/N, /proc/self/cwd), the location itself.
using LinkTarget = std::variant<std::string, VirtualDentry>;

class Inode : public std::enable_shared_from_this<Inode> {
 public:
  // `type` is the S_IFMT part of the mode.
  Inode(std::shared_ptr<Filesystem> filesystem, mode_t type);
  virtual ~Inode() = default;
  Inode(const Inode&) = delete;
  Inode& operator=(const Inode&) = delete;

  mode_t type() const { return type_; }
  bool is_dir() const { return S_ISDIR(type_); }
  bool is_symlink() const { return S_ISLNK(type_); }
  bool is_regular() const { return S_ISREG(type_); }

  Filesystem& filesystem() const { return *filesystem_; }
  const std::shared_ptr<Filesystem>& filesystem_ref() const { return filesystem_; }

  virtual Result<struct stat> stat() = 0;

  // statx(2) fields; the default fills the basic fields from stat().
  virtual Result<struct statx> statx(uint32_t mask);

  virtual Result<struct statfs> statfs() { return filesystem_->statfs(); }

  // Looks up one component (never "." or "..", never longer than NAME_MAX)
  // in this directory. ENOENT when absent; ENOTDIR for a non-directory.
  virtual Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name);

  // Tells whether a cached child named `name` with inode `child` still
  // matches this directory. Filesystems that change behind the sentry's
  // back (hostfs) and those whose contents depend on the caller (procfs)
  // check here.
  virtual bool revalidate(const Caller& caller, std::string_view name, const Inode& child);

  // The target of a symlink. EINVAL for any other inode, as readlink(2).
  virtual Result<LinkTarget> follow_link(const Caller& caller);

  // The text readlink(2) returns. The default renders follow_link().
  virtual Result<std::string> readlink(const Caller& caller);

  // Opens the inode found at `location`. `flags` are open(2) flags, already
  // checked against the inode's type and permissions by the caller.
  virtual Result<FileRef> open(const Caller& caller, const VirtualDentry& location, uint32_t flags);

  // True when the inode has no name left on its filesystem (unlinked while
  // open), which getcwd and /proc/pid/fd report.
  virtual bool unlinked() { return false; }

  // Flushes the filesystem holding this inode to storage, for syncfs(2)
  // and sync(2). 0 by default: memory filesystems have nothing to flush.
  virtual Result<void> sync_filesystem() { return ok(); }

  // The name of an inode that lives on no mounted filesystem (pipes, ward's
  // stdio), as /proc/pid/fd shows it: "pipe:[1234]". Empty for others.
  virtual std::string anonymous_name() const { return {}; }

  // Extended attributes, as a filesystem's xattr handlers serve them. The
  // VFS (xattr.h) has already checked the name, the caller's permission and
  // the mount. The defaults are Linux's for a filesystem without xattr
  // handlers, such as procfs, sysfs or pipefs.
  //
  // get_xattr copies the value of `name` into `value` and returns its
  // length, or only returns the length when `value` is empty: ERANGE when
  // it does not fit, ENODATA when the inode has no such attribute.
  // EOPNOTSUPP by default.
  virtual Result<size_t> get_xattr(const Caller& caller, std::string_view name,
                                   std::span<std::byte> value);

  // Copies the attribute names, each ending in NUL, into `list` and returns
  // their total length, or only returns the length when `list` is empty.
  // ERANGE when they do not fit. The default lists nothing.
  virtual Result<size_t> list_xattr(const Caller& caller, std::span<char> list);

  // Sets `name` to `value` under setxattr(2)'s XATTR_CREATE and
  // XATTR_REPLACE flags. EOPNOTSUPP by default.
  virtual Result<void> set_xattr(const Caller& caller, std::string_view name,
                                 std::span<const std::byte> value, int flags);

  // Removes `name`: ENODATA when absent. EOPNOTSUPP by default.
  virtual Result<void> remove_xattr(const Caller& caller, std::string_view name);

  // The operations of a writable filesystem. Before calling one, the VFS
  // (mutate.h) has walked the paths and checked the names, the caller's
  // permission, the mount's write access and which names exist. After a
  // success it updates the dentry cache. The defaults fail with EPERM,
  // Linux's errno for a filesystem without the operation. A filesystem may
  // still fail with ENOSPC, EMLINK or ENOTEMPTY.

  // Makes `name` in this directory: a regular file, directory, symlink,
  // FIFO, socket or device node, by the type in node.mode. Returns the new
  // inode.
  virtual Result<std::shared_ptr<Inode>> create(const Caller& caller, std::string_view name,
                                                const NewNode& node);

  // Makes an unnamed regular file for O_TMPFILE, which link() may name
  // later. EOPNOTSUPP by default, Linux's errno for a filesystem without
  // tmpfile support.
  virtual Result<std::shared_ptr<Inode>> create_unnamed(const Caller& caller,
                                                        const NewNode& node);

  // Makes `name` in this directory a hard link to `target`, an inode of the
  // same filesystem that is not a directory.
  virtual Result<void> link(const Caller& caller, std::string_view name,
                            const std::shared_ptr<Inode>& target);

  // Removes the non-directory `name` (unlink) or the directory `name`
  // (rmdir: ENOTEMPTY unless it is empty) from this directory. `child` is
  // the inode the VFS found there.
  virtual Result<void> unlink(const Caller& caller, std::string_view name, Inode& child);
  virtual Result<void> rmdir(const Caller& caller, std::string_view name, Inode& child);

  // Moves `old_name` of this directory to `new_name` of `new_parent`, a
  // directory of the same filesystem, replacing what is there. `flags` are
  // renameat2's RENAME_NOREPLACE and RENAME_EXCHANGE. The VFS has checked
  // the types of both ends (EISDIR, ENOTDIR) and that a directory is not
  // moved below itself (EINVAL). The filesystem checks ENOTEMPTY for a
  // replaced directory.
  virtual Result<void> rename(const Caller& caller, std::string_view old_name, Inode& new_parent,
                              std::string_view new_name, unsigned flags);

  // Applies `change` to this inode.
  virtual Result<void> set_attributes(const Caller& caller, const AttributeChange& change);

 private:
  std::shared_ptr<Filesystem> filesystem_;
  mode_t type_;

 public:
  // The fcntl and flock locks on this inode (locks.h): null until the first
  // lock request, and destroyed with the inode.
  std::shared_ptr<FileLocks>& file_locks() { return file_locks_; }

  // The inotify watches on this inode (inotify.h): null while it has none,
  // so that an unwatched inode costs the VFS's event hooks one test.
  std::shared_ptr<InodeWatches>& watches() { return watches_; }
  bool has_watches() const { return watches_ != nullptr; }

 private:
  std::shared_ptr<FileLocks> file_locks_;
  std::shared_ptr<InodeWatches> watches_;
};

// The DT_* directory-entry type of an S_IFMT mode.
uint8_t dirent_type(mode_t mode);

// Fills a statx from a stat, for the fields both have.
struct statx statx_from_stat(const struct stat& st, uint32_t mask);

}  // namespace ward::vfs
