// Calls that change the filesystem: create, remove, rename, link, and change
// a file's mode, owner, size or times. Each checks its arguments and walks
// its paths in Linux's order, so that a bad call gets Linux's errno (ENOENT,
// ENOTDIR, EEXIST... before EROFS), then requests write access from the mount.
//
// NOTE: every filesystem ward mounts today is read-only, so each of these
// ends in EROFS once the checks pass. On a writable mount they answer
// EPERM, Linux's errno for a filesystem without the operation, until tmpfs
// and the overlay bring one.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

class Mount;

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
// any other non-regular file.
Result<void> truncate_location(const Caller& caller, const VirtualDentry& location, int64_t length);

// utimensat(2) of the file at `location`, with `times` already validated
// (nullopt: both now).
Result<void> set_times(const Caller& caller, const VirtualDentry& location,
                       const std::optional<std::pair<timespec, timespec>>& times);

// Write access to a mount, as Linux's mnt_want_write: EROFS on a read-only
// mount.
Result<void> mount_write_access(const Mount& mount);

}  // namespace ward::vfs
