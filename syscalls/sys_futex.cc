// futex: FUTEX_WAIT, FUTEX_WAKE and their bitset forms.
#include <linux/futex.h>
#include <time.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_core.h"

namespace ward::syscalls {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;

kernel::FutexTable::Key futex_key(kernel::Task& task, GuestAddr word) {
  return {task.mm_ref().get(), word.value()};
}

// Converts a futex timeout to a monotonic deadline. FUTEX_WAIT takes a
// relative time; FUTEX_WAIT_BITSET an absolute one on CLOCK_MONOTONIC, or on
// CLOCK_REALTIME with FUTEX_CLOCK_REALTIME.
Result<std::optional<kernel::TimePoint>> futex_deadline(kernel::Task& task, GuestAddr timeout_addr,
                                                        bool absolute, bool realtime) {
  if (timeout_addr.is_null()) {
    return std::optional<kernel::TimePoint>();
  }
  timespec timeout = TRY(task.copy_in<timespec>(timeout_addr));
  if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= kNanosecondsPerSecond) {
    return Errno{EINVAL};
  }
  int64_t timeout_ns = timeout.tv_sec * kNanosecondsPerSecond + timeout.tv_nsec;
  kernel::TimePoint now = kernel::monotonic_now();
  if (!absolute) {
    return std::optional(now + kernel::Duration(timeout_ns));
  }
  timespec clock_now{};
  clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &clock_now);
  int64_t now_ns = clock_now.tv_sec * kNanosecondsPerSecond + clock_now.tv_nsec;
  return std::optional(now + kernel::Duration(std::max<int64_t>(0, timeout_ns - now_ns)));
}

Result<int64_t> futex_wait(kernel::Task& task, GuestAddr word, uint32_t expected,
                           std::optional<kernel::TimePoint> deadline, uint32_t bitset) {
  uint32_t value = TRY(task.copy_in<uint32_t>(word));
  if (value != expected) {
    return Errno{EAGAIN};
  }

  auto key = futex_key(task, word);
  kernel::WakeReason reason;
  {
    kernel::Waiter waiter(task.scheduler());
    waiter.watch(task.kernel().futexes().queue(key), bitset);
    if (deadline) {
      waiter.set_deadline(*deadline);
    }
    reason = task.block(waiter);
  }
  task.kernel().futexes().release(key);

  switch (reason) {
    case kernel::WakeReason::kNotified:
      return 0;
    case kernel::WakeReason::kTimedOut:
      return Errno{ETIMEDOUT};
    case kernel::WakeReason::kInterrupted:
      return Errno{ERESTARTSYS};
  }
  return 0;
}

Result<int64_t> futex_wake(kernel::Task& task, GuestAddr word, uint32_t count, uint32_t bitset) {
  auto key = futex_key(task, word);
  size_t woken = task.kernel().futexes().queue(key).notify_some(count, bitset);
  task.kernel().futexes().release(key);
  return static_cast<int64_t>(woken);
}

}  // namespace

// futex(uaddr, futex_op, val, timeout or val2, uaddr2, val3)
Result<int64_t> sys_futex(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr word = args.addr(0);
  int operation = args.i32(1);
  uint32_t value = args.u32(2);
  GuestAddr timeout = args.addr(3);
  uint32_t bitset = args.u32(5);

  int command = operation & FUTEX_CMD_MASK;
  bool realtime = (operation & FUTEX_CLOCK_REALTIME) != 0;
  if (realtime && command != FUTEX_WAIT && command != FUTEX_WAIT_BITSET &&
      command != FUTEX_WAIT_REQUEUE_PI && command != FUTEX_LOCK_PI2) {
    return Errno{ENOSYS};
  }

  switch (command) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      bool with_bitset = command == FUTEX_WAIT_BITSET;
      uint32_t mask = with_bitset ? bitset : FUTEX_BITSET_MATCH_ANY;
      if ((word.value() & 3) != 0 || mask == 0) {
        return Errno{EINVAL};
      }
      auto deadline = TRY(futex_deadline(task, timeout, with_bitset, realtime));
      return futex_wait(task, word, value, deadline, mask);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      uint32_t mask = command == FUTEX_WAKE_BITSET ? bitset : FUTEX_BITSET_MATCH_ANY;
      if ((word.value() & 3) != 0 || mask == 0) {
        return Errno{EINVAL};
      }
      return futex_wake(task, word, value, mask);
    }
    default:
      record_gap(task, fmt::format("operation {}", command));
      return Errno{ENOSYS};
  }
}

}  // namespace ward::syscalls
