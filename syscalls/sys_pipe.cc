// pipe and pipe2.
#include <fcntl.h>

#include <array>

#include "sentry/fs/pipe.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/args.h"
#include "syscalls/handlers_file.h"

namespace ward::syscalls {
namespace {

// pipe2's O_NOTIFICATION_PIPE, which shares O_EXCL's value.
constexpr uint32_t kNotificationPipe = O_EXCL;

Result<int64_t> make_pipe_fds(kernel::Task& task, GuestAddr fds_addr, uint32_t flags) {
  if ((flags & ~static_cast<uint32_t>(O_CLOEXEC | O_NONBLOCK | O_DIRECT | kNotificationPipe)) !=
      0) {
    return Errno{EINVAL};
  }
  // Linux without CONFIG_WATCH_QUEUE answers ENOPKG, and ward has no
  // watch queues.
  if ((flags & kNotificationPipe) != 0) {
    return Errno{ENOPKG};
  }

  auto [reader, writer] = vfs::make_pipe(task.creds(), flags & (O_NONBLOCK | O_DIRECT));
  const bool close_on_exec = (flags & O_CLOEXEC) != 0;
  vfs::FdTable& fdtable = task.fdtable();
  const int read_fd = TRY(fdtable.install(std::move(reader), close_on_exec));
  auto write_fd = fdtable.install(std::move(writer), close_on_exec);
  if (!write_fd.ok()) {
    (void)fdtable.remove(read_fd);
    return write_fd.error();
  }

  const std::array<int, 2> fds{read_fd, *write_fd};
  auto copied = task.copy_out(fds_addr, fds);
  if (!copied.ok()) {
    // Linux installs the descriptors only after the copy succeeds.
    (void)fdtable.remove(read_fd);
    (void)fdtable.remove(*write_fd);
    return copied.error();
  }
  return 0;
}

}  // namespace

// pipe(2)
Result<int64_t> sys_pipe(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr fds = args.addr(0);
  return make_pipe_fds(task, fds, 0);
}

// pipe2(2): O_CLOEXEC, O_NONBLOCK and O_DIRECT (packet mode);
// O_NOTIFICATION_PIPE is ENOPKG.
Result<int64_t> sys_pipe2(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr fds = args.addr(0);
  const uint32_t flags = args.u32(1);
  return make_pipe_fds(task, fds, flags);
}

}  // namespace ward::syscalls
