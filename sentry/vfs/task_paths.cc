#include "sentry/vfs/task_paths.h"

#include <fcntl.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"

namespace ward::vfs {

Result<VirtualDentry> start_for(kernel::Task& task, int dirfd, std::string_view path) {
  if (!path.empty() && path.front() == '/') {
    return task.fs().root();
  }
  if (dirfd == AT_FDCWD) {
    return task.fs().cwd();
  }
  FileRef file = TRY(task.fdtable().get(dirfd));
  return file->location();
}

Result<VirtualDentry> lookup_at(kernel::Task& task, int dirfd, std::string_view path,
                                const WalkOptions& options) {
  VirtualDentry start = TRY(start_for(task, dirfd, path));
  if (path.empty()) {
    return start;
  }
  return walk_path(caller_of(task), start, path, options);
}

std::shared_ptr<MountNamespace> mount_namespace_of(kernel::Task& task) {
  const std::shared_ptr<MountNamespace>& own = task.fs().mount_namespace();
  return own != nullptr ? own : task.kernel().mounts_ref();
}

Result<FileRef> io_file(kernel::Task& task, int fd) {
  FileRef file = TRY(task.fdtable().get(fd));
  if (file->path_only()) {
    return Errno{EBADF};
  }
  return file;
}

}  // namespace ward::vfs
