// Extended attributes at the VFS level, in the manner of Linux's
// fs/xattr.c: the checks every filesystem shares (the namespace rules of
// user.*, trusted.*, security.* and system.*, the caller's permission, the
// mount's write access) before the inode's own xattr hooks (inode.h). The
// syscalls copy the name and value in and out and call these.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

// Linux's XATTR_NAME_MAX: the longest attribute name, in bytes.
inline constexpr size_t kXattrNameMax = 255;
// Linux's XATTR_SIZE_MAX: the largest attribute value, in bytes.
inline constexpr size_t kXattrSizeMax = 65536;
// Linux's XATTR_LIST_MAX: the longest name list listxattr returns, in bytes.
inline constexpr size_t kXattrListMax = 65536;

// getxattr(2) of `name` on the file at `location`, into `value` (empty:
// only the length). ENODATA for a user.* name on anything but a regular
// file or directory, and for a trusted.* name without CAP_SYS_ADMIN. EACCES
// without read permission for user.* and unknown namespaces. Past these
// checks, the filesystem's result.
Result<size_t> get_xattr_at(const Caller& caller, const VirtualDentry& location,
                            std::string_view name, std::span<std::byte> value);

// listxattr(2) of the file at `location`, into `list` (empty: only the
// length). Linux checks no permission here.
Result<size_t> list_xattr_at(const Caller& caller, const VirtualDentry& location,
                             std::span<char> list);

// setxattr(2) with XATTR_CREATE and XATTR_REPLACE `flags`: EROFS on a
// read-only mount, then EPERM where getxattr would give ENODATA, EPERM for a
// user.* name on a sticky directory the caller does not own, and EACCES
// without write permission. Past these checks, the filesystem's result.
Result<void> set_xattr_at(const Caller& caller, const VirtualDentry& location,
                          std::string_view name, std::span<const std::byte> value, int flags);

// removexattr(2), with set_xattr_at's checks.
Result<void> remove_xattr_at(const Caller& caller, const VirtualDentry& location,
                             std::string_view name);

}  // namespace ward::vfs
