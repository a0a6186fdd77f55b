// Permission checks of the VFS, following Linux's inode_permission and
// generic_permission: mode bits against the caller's fsuid, fsgid and
// supplementary groups, with root's DAC override, and EROFS for writing a
// regular file, directory or symlink on a read-only mount.
#pragma once

#include <sys/stat.h>

#include "sentry/kernel/credentials.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

// The access bits of a permission check, with Linux's MAY_* values.
inline constexpr int kMayExec = 1;
inline constexpr int kMayWrite = 2;
inline constexpr int kMayRead = 4;

// generic_permission: EACCES unless `creds` may access a file with the
// mode and owner in `st`. Root (fsuid 0) may read and write anything,
// search any directory, and execute a file with at least one x bit.
Result<void> check_access(const kernel::Credentials& creds, const struct stat& st, int may);

// inode_permission: EROFS for write access to a regular file, directory or
// symlink on a read-only mount, then check_access on the inode's stat.
Result<void> check_permission(const kernel::Credentials& creds, const VirtualDentry& location,
                              int may);

// True when `creds` holds `gid` as fsgid or a supplementary group.
bool in_group(const kernel::Credentials& creds, gid_t gid);

// Linux's inode_owner_or_capable: the fsuid owns the file described by
// `st`, or the caller has CAP_FOWNER.
bool owner_or_capable(const kernel::Credentials& creds, const struct stat& st);

// Linux's in_group_or_capable: `gid` is one of the caller's groups, or the
// caller has CAP_FSETID.
bool in_group_or_capable(const kernel::Credentials& creds, gid_t gid);

// Linux's may_create: ENOENT when `directory` has been removed, then
// EACCES without write and search permission on it.
Result<void> may_create(const kernel::Credentials& creds, const VirtualDentry& directory);

// Linux's may_delete, for removing or replacing `victim`, a child of
// `directory`. EACCES without write and search permission on the
// directory. EPERM in a sticky directory unless the caller owns the victim
// or the directory or has CAP_FOWNER. ENOTDIR when `want_directory` and the
// victim is no directory, EISDIR in the opposite case, EBUSY for a
// filesystem root, and ENOENT when the directory has been removed.
Result<void> may_delete(const kernel::Credentials& creds, const VirtualDentry& directory,
                        const Dentry& victim, bool want_directory);

}  // namespace ward::vfs
