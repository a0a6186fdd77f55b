// chroot(2), which changes the root directory of the calling process.
#include <fcntl.h>
#include <linux/capability.h>

#include <string>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_mount.h"

namespace ward::syscalls {

// chroot(path): the walk's errors first, then EACCES without search
// permission on the directory, then EPERM without CAP_SYS_CHROOT, in
// Linux's order. The working directory stays where it is.
Result<int64_t> sys_chroot(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path_addr = args.addr(0);
  const std::string path = TRY(task.copy_in_path(path_addr));
  const vfs::VirtualDentry location = TRY(vfs::lookup_at(
      task, AT_FDCWD, path, vfs::WalkOptions{.follow_final = true, .require_directory = true}));
  TRY(vfs::check_permission(task.creds(), location, vfs::kMayExec));
  if (!task.creds().has_capability(CAP_SYS_CHROOT)) {
    return Errno{EPERM};
  }
  task.fs().set_root(location);
  return 0;
}

}  // namespace ward::syscalls
