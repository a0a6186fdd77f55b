// signalfd and signalfd4. The file itself is sentry/fs/signalfd.h.
#include <sys/signalfd.h>

#include <cstdint>

#include "sentry/fs/signalfd.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/args.h"
#include "syscalls/handlers_event_files.h"

namespace ward::syscalls {
namespace {

// The size of the kernel's sigset_t on x86_64, the only mask size that
// signalfd accepts.
constexpr uint64_t kKernelSigsetBytes = sizeof(kernel::SignalSet);

constexpr uint32_t kSignalfdFlags = SFD_CLOEXEC | SFD_NONBLOCK;

// Linux's signalfd4, in its order of checks: EINVAL for a mask size other
// than 8, EFAULT for an unreadable mask, EINVAL for an unknown flag. With
// fd -1 it makes a new signalfd. Any other fd must be a signalfd, whose
// mask it replaces: EBADF for a closed fd, EINVAL for another kind of file.
Result<int64_t> do_signalfd4(kernel::Task& task, int fd, GuestAddr mask_addr, uint64_t mask_bytes,
                             uint32_t flags) {
  if (mask_bytes != kKernelSigsetBytes) {
    return Errno{EINVAL};
  }
  const auto mask = TRY(task.copy_in<kernel::SignalSet>(mask_addr));
  if ((flags & ~kSignalfdFlags) != 0) {
    return Errno{EINVAL};
  }

  if (fd == -1) {
    vfs::FileRef file = vfs::make_signalfd(task.kernel(), mask, task.creds(), flags & SFD_NONBLOCK);
    return TRY(task.fdtable().install(std::move(file), (flags & SFD_CLOEXEC) != 0));
  }

  vfs::FileRef file = TRY(task.fdtable().get(fd));
  vfs::SignalfdFile* signalfd = vfs::as_signalfd(*file);
  if (signalfd == nullptr) {
    return Errno{EINVAL};
  }
  signalfd->set_mask(mask);
  // Readers of this process may now find a pending signal in the new mask.
  task.thread_group().signalfd_queue().notify(POLLIN);
  return fd;
}

}  // namespace

// signalfd(fd, mask, sizemask): signalfd4 without flags.
Result<int64_t> sys_signalfd(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr mask_addr = args.addr(1);
  const uint64_t mask_bytes = args.u64(2);
  return do_signalfd4(task, fd, mask_addr, mask_bytes, 0);
}

// signalfd4(fd, mask, sizemask, flags): SFD_CLOEXEC and SFD_NONBLOCK.
Result<int64_t> sys_signalfd4(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr mask_addr = args.addr(1);
  const uint64_t mask_bytes = args.u64(2);
  const uint32_t flags = args.u32(3);
  return do_signalfd4(task, fd, mask_addr, mask_bytes, flags);
}

}  // namespace ward::syscalls
