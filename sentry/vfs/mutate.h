// Calls that change the filesystem: create, remove, rename, link, and change
// a file's mode, owner, size or times. Each checks its arguments and walks
// its paths in Linux's order, so that a bad call gets Linux's errno (ENOENT,
// ENOTDIR, EEXIST... before EROFS), requests write access from the mount,
// applies Linux's permission rules (may_create, may_delete, the sticky bit,
// setattr_prepare), then calls the inode operation and updates the dentry
// cache. Filesystems without an operation return EPERM (inode.h).
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/inode.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

class Dentry;
class FileDescription;
class Mount;

// The mode and owner of a node a caller creates in `parent` (Linux's
// vfs_prepare_mode and inode_init_owner): `mode` contains the S_IFMT type and
// the requested bits, from which the umask is cleared when `apply_umask`.
// The owner is the fsuid, and the group the fsgid, or the parent's group
// when the parent is setgid, where a new directory inherits S_ISGID and a
// new group-executable setgid file keeps S_ISGID only for a member of that
// group or a caller with CAP_FSETID.
Result<NewNode> prepare_new_node(const Caller& caller, const VirtualDentry& parent, mode_t mode,
                                 bool apply_umask);

// Creates `name` in `parent` after may_create and caches its dentry.
Result<std::shared_ptr<Dentry>> create_child(const Caller& caller, const VirtualDentry& parent,
                                             std::string_view name, const NewNode& node);

// mkdir(2) on `path` relative to `start`.
Result<void> make_directory(const Caller& caller, const VirtualDentry& start, std::string_view path,
                            mode_t mode);

// mknod(2)'s check of the file type in `mode`, which Linux makes before it
// looks at the path: EPERM for S_IFDIR, EINVAL for an unknown type.
Result<void> check_node_type(mode_t mode);

// mknod(2), check_node_type included.
Result<void> make_node(const Caller& caller, const VirtualDentry& start, std::string_view path,
                       mode_t mode, dev_t device);

// symlink(2): `target` is stored as is; ENOENT when it is empty.
Result<void> make_symlink(const Caller& caller, std::string_view target, const VirtualDentry& start,
                          std::string_view path);

// rmdir(2): EINVAL for a last component ".", ENOTEMPTY for "..", EBUSY for
// the root.
Result<void> remove_directory(const Caller& caller, const VirtualDentry& start,
                              std::string_view path);

// unlink(2): EISDIR for a last component ".", ".." or the root.
Result<void> unlink_file(const Caller& caller, const VirtualDentry& start, std::string_view path);

// renameat2(2) once its flags are checked: EXDEV across mounts, EBUSY for
// "." or ".." (EEXIST for a new name of "." or ".." under
// RENAME_NOREPLACE).
Result<void> rename_path(const Caller& caller, const VirtualDentry& old_start,
                         std::string_view old_path, const VirtualDentry& new_start,
                         std::string_view new_path, unsigned flags);

// linkat(2) once `old_location` is found: EEXIST when the new name exists,
// EXDEV across mounts.
Result<void> link_path(const Caller& caller, const VirtualDentry& old_location,
                       const VirtualDentry& new_start, std::string_view new_path);

// chmod(2) and chown(2) of the file at `location`.
Result<void> change_mode(const Caller& caller, const VirtualDentry& location, mode_t mode);
Result<void> change_owner(const Caller& caller, const VirtualDentry& location, uid_t uid,
                          gid_t gid);

// truncate(2) of the file at `location`: EISDIR for a directory, EINVAL for
// any other non-regular file, then EROFS and EACCES. EFBIG when the file
// would grow past `size_limit_bytes` (RLIMIT_FSIZE), for which the caller
// sends SIGXFSZ.
Result<void> truncate_location(const Caller& caller, const VirtualDentry& location, int64_t length,
                               uint64_t size_limit_bytes = UINT64_MAX);

// ftruncate(2) of an open regular file, the caller having checked that it
// is open for writing: truncate_location's checks but the permission, then
// the file's own truncate.
Result<void> truncate_file(const Caller& caller, FileDescription& file, int64_t length,
                           uint64_t size_limit_bytes = UINT64_MAX);

// utimensat(2) of the file at `location`, with `times` already validated
// (nullopt: both now).
Result<void> set_times(const Caller& caller, const VirtualDentry& location,
                       const std::optional<std::pair<timespec, timespec>>& times);

// Write access to a mount, as Linux's mnt_want_write: EROFS on a read-only
// mount.
Result<void> mount_write_access(const Mount& mount);

}  // namespace ward::vfs
