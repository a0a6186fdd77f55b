#include "sentry/vfs/exec_open.h"

#include <fcntl.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/open.h"
#include "sentry/vfs/path_walk.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/task_paths.h"

namespace ward::vfs {
namespace {

// Opens the file found at `location` for execution.
Result<FileRef> open_found_executable(const Caller& caller, const VirtualDentry& location) {
  // Linux's do_open_execat calls may_open with MAY_EXEC alone, then rejects
  // anything but a regular file.
  TRY(may_open(caller, location, kMayExec, O_RDONLY));
  if (!location.dentry->inode().is_regular()) {
    return Errno{EACCES};
  }
  FileRef file = TRY(location.dentry->inode().open(caller, location, O_RDONLY));
  if (!file->host_fd_for_mapping()) {
    // Every regular file ward serves today is a host file; one that cannot
    // be mapped cannot be loaded either.
    return Errno{EACCES};
  }
  return file;
}

}  // namespace

Result<FileRef> open_executable(kernel::Task& task, std::string_view path) {
  return open_executable(caller_of(task), path);
}

Result<FileRef> open_executable(const Caller& caller, std::string_view path) {
  if (path.empty()) {
    return Errno{ENOENT};
  }
  VirtualDentry location = TRY(walk_path(caller, caller.fs.cwd(), path));
  return open_found_executable(caller, location);
}

Result<FileRef> open_executable_at(kernel::Task& task, int dirfd, std::string_view path,
                                   bool follow_final) {
  VirtualDentry location = TRY(lookup_at(task, dirfd, path, WalkOptions{.follow_final = follow_final}));
  return open_found_executable(caller_of(task), location);
}

}  // namespace ward::vfs
