// The one way a file operation waits: try the non-blocking operation; on
// EAGAIN, unless the file is non-blocking, watch the file's wait queue, park
// the task and try again. A signal ends the wait with ERESTARTSYS, which the
// syscall exit path turns into EINTR or a restart.
#pragma once

#include <poll.h>

#include <cerrno>
#include <cstdint>

#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/file.h"
#include "ward/result.h"

namespace ward::vfs {

// Runs `attempt` (returning some Result<T>) until it succeeds or fails with
// anything but EAGAIN. `events` are the poll bits that can make it succeed
// (POLLIN for a read); POLLERR and POLLHUP always wake the wait too. With
// `nonblocking` the first EAGAIN is returned.
template <typename Attempt>
auto block_until_ready(kernel::Task& task, FileDescription& file, uint32_t events, bool nonblocking,
                       Attempt attempt) -> decltype(attempt()) {
  for (;;) {
    auto result = attempt();
    if (result.ok() || result.error().value != EAGAIN || nonblocking) {
      return result;
    }
    kernel::WaitQueue* queue = file.wait_queue();
    if (queue == nullptr) {
      return result;  // a file without a queue cannot become ready
    }

    // No other fiber runs between the attempt and the watch, so no
    // notification can be missed in between.
    kernel::Waiter waiter(task.scheduler());
    waiter.watch(*queue, events | POLLERR | POLLHUP);
    if (task.block(waiter) == kernel::WakeReason::kInterrupted) {
      return Errno{ERESTARTSYS};
    }
  }
}

// The same with the file's own O_NONBLOCK flag.
template <typename Attempt>
auto block_until_ready(kernel::Task& task, FileDescription& file, uint32_t events, Attempt attempt)
    -> decltype(attempt()) {
  return block_until_ready(task, file, events, file.nonblocking(), std::move(attempt));
}

}  // namespace ward::vfs
