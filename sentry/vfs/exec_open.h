// Finding and opening the file an execve runs, for the loader.
#pragma once

#include <string_view>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/file.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {

// Opens `path` for execution the way execve does: symlinks followed all
// the way, the file opened read-only. The errors are execve's: ENOENT,
// ENOTDIR, ELOOP, ENAMETOOLONG from the walk (ENOENT for ""), and EACCES
// for a directory, a file that is not regular, a noexec mount or a file
// the caller may not execute (root needs at least one x bit). The result
// reads with read(buffer, offset) and has a host_fd_for_mapping().
Result<FileRef> open_executable(kernel::Task& task, std::string_view path);
Result<FileRef> open_executable(const Caller& caller, std::string_view path);

// Opens the file execveat runs: `path` from `dirfd` (AT_FDCWD or an open
// directory; EBADF and ENOTDIR as for any *at call), with the final
// symlink followed unless `follow_final` is false, which makes a final
// symlink ELOOP. An empty `path` names the dirfd's own file, as
// AT_EMPTY_PATH asks (the caller has already rejected an empty path
// without that flag); it may be an O_PATH descriptor.
Result<FileRef> open_executable_at(kernel::Task& task, int dirfd, std::string_view path,
                                   bool follow_final);

}  // namespace ward::vfs
