// Path arguments of *at syscalls, resolved for a task: the dirfd rules
// (AT_FDCWD, EBADF for a bad dirfd under a relative path, AT_EMPTY_PATH)
// and the walk.
#pragma once

#include <memory>
#include <string_view>

#include "sentry/vfs/file.h"
#include "sentry/vfs/path_walk.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {

class MountNamespace;

// Where a relative `path` starts for `dirfd`: the cwd for AT_FDCWD, else
// the dirfd's location (EBADF when none is open there). An absolute path
// ignores the dirfd, as Linux does, and so never fails here.
Result<VirtualDentry> start_for(kernel::Task& task, int dirfd, std::string_view path);

// The location `path` names from `dirfd`. An empty path (which the caller
// allowed with AT_EMPTY_PATH) names the dirfd's own file, or the cwd for
// AT_FDCWD.
Result<VirtualDentry> lookup_at(kernel::Task& task, int dirfd, std::string_view path,
                                const WalkOptions& options = {});

// The mount namespace `task` lives in: its FsContext's, or the kernel's
// when the FsContext names none.
std::shared_ptr<MountNamespace> mount_namespace_of(kernel::Task& task);

// The open file at `fd` for I/O: EBADF when none is open there or it is an
// O_PATH file, which only fstat, fchdir, fcntl and *at dirfds accept.
Result<FileRef> io_file(kernel::Task& task, int fd);

}  // namespace ward::vfs
