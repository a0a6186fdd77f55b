// inotify_init, inotify_init1, inotify_add_watch and inotify_rm_watch. The
// inotify file and its watches are sentry/vfs/inotify.h; the events come
// from the VFS hooks of sentry/vfs/fsnotify.h.
#include <fcntl.h>
#include <sys/inotify.h>

#include <string>

#include "sentry/fs/eventfd.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/inotify.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_inotify.h"

namespace ward::syscalls {
namespace {

// Linux's ALL_INOTIFY_BITS: a mask with none of them is EINVAL.
constexpr uint32_t kAllInotifyBits = IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED |
                                     IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK |
                                     IN_MASK_CREATE | IN_MASK_ADD | IN_ISDIR | IN_ONESHOT;

Result<int64_t> make_inotify_fd(kernel::Task& task, uint32_t flags) {
  if ((flags & ~static_cast<uint32_t>(IN_CLOEXEC | IN_NONBLOCK)) != 0) {
    return Errno{EINVAL};
  }
  // NOTE: Linux limits the inotify instances of a user
  // (max_user_instances, EMFILE past it); ward sets no limit.
  TRY(task.fdtable().check_free_slot());
  vfs::VirtualDentry location =
      vfs::make_anonymous_location(vfs::make_anon_inode("anon_inode:inotify", task.creds()));
  auto file = std::make_shared<vfs::InotifyFile>(std::move(location),
                                                 O_RDONLY | (flags & IN_NONBLOCK));
  return TRY(task.fdtable().install(std::move(file), (flags & IN_CLOEXEC) != 0));
}

// The inotify file at `fd`: EBADF when none is open there, EINVAL for
// another kind of file.
Result<std::pair<vfs::FileRef, vfs::InotifyFile*>> get_inotify(kernel::Task& task, int fd) {
  vfs::FileRef file = TRY(task.fdtable().get(fd));
  vfs::InotifyFile* inotify = vfs::as_inotify(*file);
  if (inotify == nullptr) {
    return Errno{EINVAL};
  }
  return std::pair{std::move(file), inotify};
}

}  // namespace

// inotify_init()
Result<int64_t> sys_inotify_init(kernel::Task& task, const SyscallArgs&) {
  return make_inotify_fd(task, 0);
}

// inotify_init1(flags): IN_NONBLOCK and IN_CLOEXEC.
Result<int64_t> sys_inotify_init1(kernel::Task& task, const SyscallArgs& args) {
  const uint32_t flags = args.u32(0);
  return make_inotify_fd(task, flags);
}

// inotify_add_watch(fd, pathname, mask)
Result<int64_t> sys_inotify_add_watch(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr path_addr = args.addr(1);
  const uint32_t mask = args.u32(2);

  if ((mask & IN_MASK_ADD) != 0 && (mask & IN_MASK_CREATE) != 0) {
    return Errno{EINVAL};
  }
  if ((mask & kAllInotifyBits) == 0) {
    return Errno{EINVAL};
  }
  auto [file, inotify] = TRY(get_inotify(task, fd));

  const std::string path = TRY(task.copy_in_path(path_addr));
  const vfs::WalkOptions options{.follow_final = (mask & IN_DONT_FOLLOW) == 0,
                                 .require_directory = (mask & IN_ONLYDIR) != 0};
  const vfs::VirtualDentry location = TRY(vfs::lookup_at(task, AT_FDCWD, path, options));
  // Only a reader of a file may watch it.
  TRY(vfs::check_permission(task.creds(), location, vfs::kMayRead));
  return TRY(inotify->add_watch(location.dentry, mask));
}

// inotify_rm_watch(fd, wd)
Result<int64_t> sys_inotify_rm_watch(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int wd = args.i32(1);
  auto [file, inotify] = TRY(get_inotify(task, fd));
  TRY(inotify->remove_watch(wd));
  return 0;
}

}  // namespace ward::syscalls
