// eventfd and eventfd2.
#include <sys/eventfd.h>

#include "sentry/fs/eventfd.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/args.h"
#include "syscalls/handlers_epoll.h"

namespace ward::syscalls {
namespace {

Result<int64_t> make_eventfd_fd(kernel::Task& task, uint32_t initial_count, uint32_t flags) {
  if ((flags & ~static_cast<uint32_t>(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) != 0) {
    return Errno{EINVAL};
  }
  vfs::FileRef file = vfs::make_eventfd(initial_count, (flags & EFD_SEMAPHORE) != 0, task.creds(),
                                        flags & O_NONBLOCK);
  return TRY(task.fdtable().install(std::move(file), (flags & EFD_CLOEXEC) != 0));
}

}  // namespace

// eventfd(initval)
Result<int64_t> sys_eventfd(kernel::Task& task, const SyscallArgs& args) {
  const uint32_t initial_count = args.u32(0);
  return make_eventfd_fd(task, initial_count, 0);
}

// eventfd2(initval, flags): EFD_CLOEXEC, EFD_NONBLOCK and EFD_SEMAPHORE.
Result<int64_t> sys_eventfd2(kernel::Task& task, const SyscallArgs& args) {
  const uint32_t initial_count = args.u32(0);
  const uint32_t flags = args.u32(1);
  return make_eventfd_fd(task, initial_count, flags);
}

}  // namespace ward::syscalls
