// Clocks and sleeps: clock_gettime, clock_getres, clock_settime,
// gettimeofday, time, nanosleep and clock_nanosleep.
#include <sys/time.h>
#include <time.h>

#include <string>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/timers.h"
#include "sentry/mm/memory_manager.h"
#include "syscalls/handlers_core.h"

namespace ward::syscalls {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;

timespec from_nanoseconds(int64_t nanoseconds) {
  return timespec{.tv_sec = nanoseconds / kNanosecondsPerSecond,
                  .tv_nsec = nanoseconds % kNanosecondsPerSecond};
}

int64_t to_nanoseconds(const timespec& value) {
  return value.tv_sec * kNanosecondsPerSecond + value.tv_nsec;
}

bool is_valid(const timespec& value) {
  return value.tv_sec >= 0 && value.tv_nsec >= 0 && value.tv_nsec < kNanosecondsPerSecond;
}

// Reads a CPU-time clock of the guest: the calling process or thread, or
// one that clock_getcpuclockid or pthread_getcpuclockid built.
Result<timespec> read_cpu_clock(kernel::Task& task, clockid_t clock) {
  kernel::CpuClock resolved =
      TRY(kernel::resolve_cpu_clock(task, clock, kernel::CpuClockUse::kRead));
  std::optional<int64_t> value = kernel::read_cpu_clock(task.kernel(), resolved);
  if (!value) {
    return Errno{EINVAL};
  }
  return from_nanoseconds(*value);
}

bool is_host_clock(clockid_t clock) {
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
    case CLOCK_TAI:
      return true;
    default:
      return false;
  }
}

Result<timespec> read_clock(kernel::Task& task, clockid_t clock) {
  if (is_host_clock(clock)) {
    timespec value{};
    clock_gettime(clock, &value);
    return value;
  }
  if (kernel::is_cpu_clock_id(clock)) {
    return read_cpu_clock(task, clock);
  }
  // NOTE: a negative id with the clock fd bits set names a dynamic clock
  // (a PTP device), and the sandbox has none.
  return Errno{EINVAL};
}

// Sleeps until `deadline` on the monotonic clock. Interrupted, it stores the
// time left in `remaining` and returns EINTR's restart code.
Result<void> sleep_until(kernel::Task& task, kernel::TimePoint deadline,
                         std::optional<GuestAddr> remaining) {
  kernel::Waiter waiter(task.scheduler());
  waiter.set_deadline(deadline);
  if (task.block(waiter) != kernel::WakeReason::kInterrupted) {
    return ok();
  }
  if (remaining && !remaining->is_null()) {
    auto left = std::max(kernel::Duration(0), deadline - kernel::monotonic_now());
    TRY(task.copy_out(*remaining, from_nanoseconds(left.count())));
  }
  // Restarted without a handler in between, the sleep goes on to the same
  // deadline.
  task.set_restart_function([deadline, remaining](kernel::Task& restarted) -> Result<int64_t> {
    TRY(sleep_until(restarted, deadline, remaining));
    return 0;
  });
  return Errno{ERESTART_RESTARTBLOCK};
}

}  // namespace

// clock_gettime(clockid, tp)
Result<int64_t> sys_clock_gettime(kernel::Task& task, const SyscallArgs& args) {
  clockid_t clock = args.i32(0);
  timespec value = TRY(read_clock(task, clock));
  TRY(task.copy_out(args.addr(1), value));
  return 0;
}

// clock_getres(clockid, res): res may be NULL.
Result<int64_t> sys_clock_getres(kernel::Task& task, const SyscallArgs& args) {
  clockid_t clock = args.i32(0);
  GuestAddr result = args.addr(1);

  timespec resolution{};
  if (is_host_clock(clock)) {
    clock_getres(clock, &resolution);
  } else if (kernel::is_cpu_clock_id(clock)) {
    // Linux's posix_cpu_clock_getres: the scheduler's clock counts in
    // nanoseconds, the user and system split in ticks.
    kernel::CpuClock resolved =
        TRY(kernel::resolve_cpu_clock(task, clock, kernel::CpuClockUse::kRead));
    resolution.tv_nsec =
        resolved.type == kernel::CpuClockType::kSched ? 1 : kernel::host_tick_ns();
  } else {
    return Errno{EINVAL};
  }
  if (!result.is_null()) {
    TRY(task.copy_out(result, resolution));
  }
  return 0;
}

// clock_settime(clockid, tp): the sandbox may not set the host's clocks.
// Linux checks that the clock can be set at all (EINVAL), then copies the
// time in (EFAULT), then checks the value and the caller's rights.
Result<int64_t> sys_clock_settime(kernel::Task& task, const SyscallArgs& args) {
  clockid_t clock = args.i32(0);
  GuestAddr value_addr = args.addr(1);

  // CLOCK_REALTIME, the CPU clocks of a pid and the dynamic clocks have a
  // setter; CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID do not.
  if (clock != CLOCK_REALTIME && clock >= 0) {
    return Errno{EINVAL};
  }
  timespec value = TRY(task.copy_in<timespec>(value_addr));
  if (clock == CLOCK_REALTIME) {
    if (!is_valid(value)) {
      return Errno{EINVAL};
    }
    return Errno{EPERM};
  }
  if (kernel::is_cpu_clock_id(clock)) {
    // Linux's posix_cpu_clock_set: a CPU clock can never be set.
    TRY(kernel::resolve_cpu_clock(task, clock, kernel::CpuClockUse::kTimer));
    return Errno{EPERM};
  }
  return Errno{EINVAL};  // a clock fd, which the sandbox has none of
}

// gettimeofday(tv, tz)
Result<int64_t> sys_gettimeofday(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr time_addr = args.addr(0);
  GuestAddr zone_addr = args.addr(1);
  struct timeval now {};
  struct timezone zone {};
  ::gettimeofday(&now, &zone);
  if (!time_addr.is_null()) {
    TRY(task.copy_out(time_addr, now));
  }
  if (!zone_addr.is_null()) {
    TRY(task.copy_out(zone_addr, zone));
  }
  return 0;
}

// time(tloc)
Result<int64_t> sys_time(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr location = args.addr(0);
  int64_t now = static_cast<int64_t>(::time(nullptr));
  if (!location.is_null()) {
    TRY(task.copy_out(location, now));
  }
  return now;
}

// nanosleep(req, rem)
Result<int64_t> sys_nanosleep(kernel::Task& task, const SyscallArgs& args) {
  timespec request = TRY(task.copy_in<timespec>(args.addr(0)));
  GuestAddr remaining = args.addr(1);
  if (!is_valid(request)) {
    return Errno{EINVAL};
  }
  auto deadline = kernel::monotonic_now() + kernel::Duration(to_nanoseconds(request));
  TRY(sleep_until(task, deadline, remaining));
  return 0;
}

// clock_nanosleep(clockid, flags, request, remain)
Result<int64_t> sys_clock_nanosleep(kernel::Task& task, const SyscallArgs& args) {
  clockid_t clock = args.i32(0);
  int flags = args.i32(1);
  GuestAddr request_addr = args.addr(2);
  GuestAddr remaining = args.addr(3);

  bool absolute = (flags & TIMER_ABSTIME) != 0;
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
    case CLOCK_PROCESS_CPUTIME_ID:
      break;
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
      break;
    case CLOCK_THREAD_CPUTIME_ID:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
      return Errno{EOPNOTSUPP};  // clocks Linux cannot sleep on
    default:
      if (clock >= 0) {
        return Errno{EINVAL};
      }
      if (!kernel::is_cpu_clock_id(clock)) {
        return Errno{EOPNOTSUPP};  // a clock fd
      }
      break;
  }

  timespec request = TRY(task.copy_in<timespec>(request_addr));
  if (!is_valid(request)) {
    return Errno{EINVAL};
  }
  if (kernel::is_cpu_clock_id(clock)) {
    TRY(kernel::cpu_clock_nanosleep(task, clock, absolute, request, remaining));
    return 0;
  }
  if (clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) {
    // Linux's alarm_timer_nsleep checks, in its order.
    if (!kernel::host_has_rtc()) {
      return Errno{EOPNOTSUPP};
    }
    if ((flags & ~TIMER_ABSTIME) != 0) {
      return Errno{EINVAL};
    }
    if (!task.creds().is_root()) {
      return Errno{EPERM};  // CAP_WAKE_ALARM
    }
    // NOTE: the sleep runs on the alarm clock's base clock, because the
    // sandbox never suspends the machine. It does not wake a suspended host.
    clock = clock == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
  }

  kernel::TimePoint now = kernel::monotonic_now();
  int64_t wait_ns = to_nanoseconds(request);
  if (absolute) {
    // NOTE: a change of the host's clock during the sleep is not followed.
    timespec clock_now{};
    clock_gettime(clock, &clock_now);
    wait_ns = std::max<int64_t>(0, wait_ns - to_nanoseconds(clock_now));
  }
  auto deadline = now + kernel::Duration(wait_ns);
  auto slept = sleep_until(task, deadline, absolute ? std::nullopt : std::optional(remaining));
  if (!slept.ok()) {
    // An absolute sleep restarts with the same deadline; Linux reports it
    // as ERESTARTNOHAND.
    return absolute ? Errno{ERESTARTNOHAND} : slept.error();
  }
  return 0;
}

}  // namespace ward::syscalls
