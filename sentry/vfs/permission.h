// Permission checks of the VFS, following Linux's inode_permission and
// generic_permission: mode bits against the caller's fsuid, fsgid and
// supplementary groups, with root's DAC override, and EROFS for writing a
// regular file, directory or symlink on a read-only mount.
#pragma once

#include <sys/stat.h>

#include "sentry/kernel/credentials.h"
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

}  // namespace ward::vfs
