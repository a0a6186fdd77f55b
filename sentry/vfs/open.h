// Opening files by path, after the checks of Linux's path_openat, do_open
// and may_open, in their order.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/path_walk.h"
#include "ward/result.h"

namespace ward::vfs {

// An open request whose flags the syscall has already validated (openat2's
// EINVAL rules, O_PATH's flag mask).
struct OpenRequest {
  uint32_t flags = O_RDONLY;
  mode_t mode = 0;
  WalkOptions resolve = {};  // RESOLVE_* restrictions; follow and directory come from flags
};

// Opens `path`, relative to `start` when it is relative.
Result<FileRef> open_path(const Caller& caller, const VirtualDentry& start, std::string_view path,
                          const OpenRequest& request);

// Opens the file at `location` as a successful walk found it: the checks of
// do_open and may_open, then the filesystem's open.
Result<FileRef> open_location(const Caller& caller, const VirtualDentry& location, uint32_t flags);

// Linux's may_open: what the inode's type allows with the MAY_* bits `may`
// (ELOOP for a symlink, EISDIR for writing a directory, EACCES for a device
// on a nodev mount or for executing what is not a regular file), then
// permission, then O_NOATIME ownership (EPERM).
Result<void> may_open(const Caller& caller, const VirtualDentry& location, int may, uint32_t flags);

// The MAY_* bits an open with `flags` needs (Linux's ACC_MODE plus MAY_WRITE
// for O_TRUNC).
int open_access_mode(uint32_t flags);

// An O_PATH file: a location without I/O, for fstat, fchdir and *at calls.
FileRef make_path_file(const VirtualDentry& location, uint32_t flags);

}  // namespace ward::vfs
