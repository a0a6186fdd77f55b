// futex, futex_waitv and the futex2 calls futex_wake, futex_wait and
// futex_requeue. The work is in sentry/kernel/futex.cc; these handlers
// decode the arguments and the timeouts.
#include <linux/futex.h>
#include <time.h>

#include <vector>

#include "sentry/kernel/futex.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_core.h"

namespace ward::syscalls {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;
// Far enough to mean "never" and near enough not to overflow a TimePoint.
constexpr int64_t kLongestTimeoutSeconds = int64_t{1} << 32;

// The futex2 flags (linux/futex.h of Linux 6.7): the word size, and
// FUTEX2_PRIVATE, which is FUTEX_PRIVATE_FLAG.
constexpr uint32_t kFutex2SizeMask = 0x03;
constexpr uint32_t kFutex2SizeU32 = 0x02;
constexpr uint32_t kFutex2Numa = 0x04;
constexpr uint32_t kFutex2Mpol = 0x08;
constexpr uint32_t kFutex2Private = FUTEX_PRIVATE_FLAG;
constexpr uint32_t kFutex2ValidFlags = kFutex2SizeMask | kFutex2Numa | kFutex2Mpol | kFutex2Private;
// futex_waitv takes only the size and FUTEX2_PRIVATE in each entry.
constexpr uint32_t kFutexWaitvEntryFlags = kFutex2SizeMask | kFutex2Private;
// Linux's FUTEX_WAITV_MAX.
constexpr uint32_t kFutexWaitvMax = 128;

// Linux's struct futex_waitv.
struct GuestFutexWaitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

// The monotonic deadline of a guest timespec read from `timeout_addr`:
// relative to now, or absolute on CLOCK_REALTIME or CLOCK_MONOTONIC.
// EFAULT for a bad pointer, EINVAL for a negative or unnormalised time.
Result<kernel::TimePoint> read_deadline(kernel::Task& task, GuestAddr timeout_addr, bool absolute,
                                        bool realtime) {
  timespec timeout = TRY(task.copy_in<timespec>(timeout_addr));
  if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= kNanosecondsPerSecond) {
    return Errno{EINVAL};
  }
  int64_t seconds = std::min<int64_t>(timeout.tv_sec, kLongestTimeoutSeconds);
  int64_t timeout_ns = seconds * kNanosecondsPerSecond + timeout.tv_nsec;
  kernel::TimePoint now = kernel::monotonic_now();
  if (!absolute) {
    return now + kernel::Duration(timeout_ns);
  }
  timespec clock_now{};
  clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &clock_now);
  int64_t now_ns = clock_now.tv_sec * kNanosecondsPerSecond + clock_now.tv_nsec;
  return now + kernel::Duration(std::max<int64_t>(0, timeout_ns - now_ns));
}

// The commands whose fourth argument is a timeout rather than a count.
bool takes_timeout(int command) {
  switch (command) {
    case FUTEX_WAIT:
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_WAIT_BITSET:
    case FUTEX_WAIT_REQUEUE_PI:
      return true;
    default:
      return false;
  }
}

// Linux's futex2 flag checks shared by futex_wake, futex_wait and each
// futex_waitv entry: a known size, and only 32-bit words exist.
Result<void> check_futex2_flags(uint32_t flags, uint32_t allowed) {
  if ((flags & ~allowed) != 0) {
    return Errno{EINVAL};
  }
  if ((flags & kFutex2SizeMask) != kFutex2SizeU32) {
    return Errno{EINVAL};
  }
  return ok();
}

// A futex2 deadline: absolute, on CLOCK_REALTIME or CLOCK_MONOTONIC.
Result<std::optional<kernel::TimePoint>> futex2_deadline(kernel::Task& task, GuestAddr timeout_addr,
                                                         clockid_t clock) {
  if (timeout_addr.is_null()) {
    return std::optional<kernel::TimePoint>();
  }
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) {
    return Errno{EINVAL};
  }
  return std::optional(TRY(read_deadline(task, timeout_addr, true, clock == CLOCK_REALTIME)));
}

// Reads `count` struct futex_waitv entries with futex_waitv's checks.
Result<std::vector<kernel::FutexWaitvEntry>> read_waitv(kernel::Task& task, GuestAddr array,
                                                        uint32_t count) {
  std::vector<kernel::FutexWaitvEntry> entries;
  for (uint32_t i = 0; i < count; ++i) {
    auto entry = TRY(task.copy_in<GuestFutexWaitv>(array + i * sizeof(GuestFutexWaitv)));
    if ((entry.flags & ~kFutexWaitvEntryFlags) != 0 || entry.reserved != 0) {
      return Errno{EINVAL};
    }
    TRY(check_futex2_flags(entry.flags, kFutexWaitvEntryFlags));
    if (entry.val > UINT32_MAX) {
      return Errno{EINVAL};
    }
    entries.push_back(kernel::FutexWaitvEntry{.word = GuestAddr(entry.uaddr),
                                              .expected = static_cast<uint32_t>(entry.val),
                                              .shared = (entry.flags & kFutex2Private) == 0});
  }
  return entries;
}

}  // namespace

// futex(uaddr, futex_op, val, timeout or val2, uaddr2, val3)
Result<int64_t> sys_futex(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr word = args.addr(0);
  int operation = args.i32(1);
  uint32_t value = args.u32(2);
  GuestAddr timeout = args.addr(3);
  auto value2 = static_cast<int32_t>(args.u64(3));
  GuestAddr word2 = args.addr(4);
  uint32_t value3 = args.u32(5);

  int command = operation & FUTEX_CMD_MASK;
  bool shared = (operation & FUTEX_PRIVATE_FLAG) == 0;
  bool realtime = (operation & FUTEX_CLOCK_REALTIME) != 0;

  // The timeout is read before the flags are checked, as in Linux.
  // FUTEX_WAIT's is relative; FUTEX_LOCK_PI's absolute on CLOCK_REALTIME;
  // the others' absolute on CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME.
  std::optional<kernel::TimePoint> deadline;
  if (!timeout.is_null() && takes_timeout(command)) {
    bool absolute = command != FUTEX_WAIT;
    bool on_realtime = command == FUTEX_LOCK_PI || realtime;
    deadline = TRY(read_deadline(task, timeout, absolute, on_realtime));
  }
  if (realtime && command != FUTEX_WAIT_BITSET && command != FUTEX_WAIT_REQUEUE_PI &&
      command != FUTEX_LOCK_PI2) {
    return Errno{ENOSYS};
  }

  switch (command) {
    case FUTEX_WAIT:
      return kernel::futex_wait(task, word, shared, value, deadline, FUTEX_BITSET_MATCH_ANY);
    case FUTEX_WAIT_BITSET:
      return kernel::futex_wait(task, word, shared, value, deadline, value3);
    case FUTEX_WAKE:
      return kernel::futex_wake(task, word, shared, static_cast<int32_t>(value),
                                FUTEX_BITSET_MATCH_ANY);
    case FUTEX_WAKE_BITSET:
      return kernel::futex_wake(task, word, shared, static_cast<int32_t>(value), value3);
    case FUTEX_REQUEUE:
      return kernel::futex_requeue(task, word, shared, word2, shared, static_cast<int32_t>(value),
                                   value2, std::nullopt);
    case FUTEX_CMP_REQUEUE:
      return kernel::futex_requeue(task, word, shared, word2, shared, static_cast<int32_t>(value),
                                   value2, value3);
    case FUTEX_WAKE_OP:
      return kernel::futex_wake_op(task, word, word2, shared, static_cast<int32_t>(value), value2,
                                   value3);
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
      return kernel::futex_lock_pi(task, word, shared, deadline, false);
    case FUTEX_TRYLOCK_PI:
      return kernel::futex_lock_pi(task, word, shared, std::nullopt, true);
    case FUTEX_UNLOCK_PI:
      return kernel::futex_unlock_pi(task, word, shared);
    case FUTEX_WAIT_REQUEUE_PI:
      return kernel::futex_wait_requeue_pi(task, word, shared, value, deadline, word2);
    case FUTEX_CMP_REQUEUE_PI:
      return kernel::futex_cmp_requeue_pi(task, word, shared, word2, static_cast<int32_t>(value),
                                          value2, value3);
    default:
      return Errno{ENOSYS};
  }
}

// futex_waitv(waiters, nr_futexes, flags, timeout, clockid): returns the
// index of a woken entry.
Result<int64_t> sys_futex_waitv(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr waiters = args.addr(0);
  uint32_t count = args.u32(1);
  uint32_t flags = args.u32(2);
  GuestAddr timeout = args.addr(3);
  auto clock = static_cast<clockid_t>(args.i32(4));

  if (flags != 0) {
    return Errno{EINVAL};
  }
  if (count == 0 || count > kFutexWaitvMax || waiters.is_null()) {
    return Errno{EINVAL};
  }
  auto deadline = TRY(futex2_deadline(task, timeout, clock));
  auto entries = TRY(read_waitv(task, waiters, count));
  return kernel::futex_waitv(task, entries, deadline);
}

// futex_wake(uaddr, mask, nr, flags)
Result<int64_t> sys_futex_wake(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr word = args.addr(0);
  uint64_t mask = args.u64(1);
  int32_t count = args.i32(2);
  uint32_t flags = args.u32(3);

  TRY(check_futex2_flags(flags, kFutex2ValidFlags));
  if ((flags & (kFutex2Numa | kFutex2Mpol)) != 0) {
    // NOTE: FUTEX2_NUMA and FUTEX2_MPOL words (a node id after the value)
    // are not supported.
    record_gap(task, "FUTEX2_NUMA");
    return Errno{EINVAL};
  }
  if (mask > UINT32_MAX) {
    return Errno{EINVAL};
  }
  bool shared = (flags & kFutex2Private) == 0;
  return kernel::futex_wake(task, word, shared, count, static_cast<uint32_t>(mask), true);
}

// futex_wait(uaddr, val, mask, flags, timeout, clockid)
Result<int64_t> sys_futex_wait(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr word = args.addr(0);
  uint64_t value = args.u64(1);
  uint64_t mask = args.u64(2);
  uint32_t flags = args.u32(3);
  GuestAddr timeout = args.addr(4);
  auto clock = static_cast<clockid_t>(args.i32(5));

  TRY(check_futex2_flags(flags, kFutex2ValidFlags));
  if ((flags & (kFutex2Numa | kFutex2Mpol)) != 0) {
    record_gap(task, "FUTEX2_NUMA");
    return Errno{EINVAL};
  }
  if (value > UINT32_MAX || mask > UINT32_MAX) {
    return Errno{EINVAL};
  }
  auto deadline = TRY(futex2_deadline(task, timeout, clock));
  bool shared = (flags & kFutex2Private) == 0;
  return kernel::futex_wait(task, word, shared, static_cast<uint32_t>(value), deadline,
                            static_cast<uint32_t>(mask));
}

// futex_requeue(waiters[2], flags, nr_wake, nr_requeue): the first entry's
// val is the value its word must contain.
Result<int64_t> sys_futex_requeue(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr waiters = args.addr(0);
  uint32_t flags = args.u32(1);
  int32_t wake_count = args.i32(2);
  int32_t requeue_count = args.i32(3);

  if (flags != 0) {
    return Errno{EINVAL};
  }
  auto entries = TRY(read_waitv(task, waiters, 2));
  return kernel::futex_requeue(task, entries[0].word, entries[0].shared, entries[1].word,
                               entries[1].shared, wake_count, requeue_count, entries[0].expected);
}

}  // namespace ward::syscalls
