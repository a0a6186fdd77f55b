// The VFS side of calls that inspect a path or the working directory:
// access(2), readlink(2), getcwd(2) and chdir(2). The syscalls decode and
// copy their arguments and call these.
#pragma once

#include <string>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

// faccessat2(2) on the file at `location`. `mode` is F_OK or a mask of
// R_OK, W_OK and X_OK. The check uses the caller's real ids unless
// `use_effective_ids` (AT_EACCESS), with root's overrides for real uid 0.
// EACCES, or EROFS for W_OK on a regular file, directory or symlink of a
// read-only mount.
Result<void> check_access_at(const Caller& caller, const VirtualDentry& location, int mode,
                             bool use_effective_ids);

// readlink(2) of the file at `location`: EINVAL when it is not a symlink,
// or ENOENT when `empty_path` (the call named its dirfd with "").
Result<std::string> read_link_at(const Caller& caller, const VirtualDentry& location,
                                 bool empty_path);

// getcwd(2)'s text, NUL excluded: ENOENT when the working directory was
// removed, "(unreachable)" before a working directory outside the root,
// ENAMETOOLONG past PATH_MAX.
Result<std::string> working_directory_name(const Caller& caller);

// chdir(2) and fchdir(2)'s checks on the new working directory: ENOTDIR,
// then EACCES without search permission.
Result<void> check_new_working_directory(const Caller& caller, const VirtualDentry& location);

}  // namespace ward::vfs
