// Interval timers (alarm, getitimer, setitimer) and POSIX timers
// (timer_create, timer_settime, timer_gettime, timer_getoverrun,
// timer_delete). The timers themselves live in sentry/kernel/timers.h.
#include <sys/time.h>
#include <time.h>

#include <cstdint>

#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/timers.h"
#include "syscalls/handlers_timer.h"

namespace ward::syscalls {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr int64_t kNanosecondsPerMicrosecond = 1'000;
constexpr int64_t kMicrosecondsPerSecond = 1'000'000;

// Seconds at which Linux's timespec64_to_ktime saturates at KTIME_MAX.
constexpr int64_t kKtimeMaxSeconds = INT64_MAX / kNanosecondsPerSecond;

// The kernel's struct sigevent on x86_64: sigev_value, sigev_signo,
// sigev_notify, then a union whose first int is the SIGEV_THREAD_ID tid.
struct GuestSigevent {
  uint64_t value;
  int32_t signal;
  int32_t notify;
  int32_t thread_id;
  int32_t padding[11];
};
static_assert(sizeof(GuestSigevent) == 64);

bool is_valid(const timeval& value) {
  return value.tv_sec >= 0 && value.tv_usec >= 0 && value.tv_usec < kMicrosecondsPerSecond;
}

bool is_valid(const timespec& value) {
  return value.tv_sec >= 0 && value.tv_nsec >= 0 && value.tv_nsec < kNanosecondsPerSecond;
}

int64_t to_nanoseconds(const timeval& value) {
  if (value.tv_sec >= kKtimeMaxSeconds) {
    return INT64_MAX;
  }
  return value.tv_sec * kNanosecondsPerSecond + value.tv_usec * kNanosecondsPerMicrosecond;
}

int64_t to_nanoseconds(const timespec& value) {
  if (value.tv_sec >= kKtimeMaxSeconds) {
    return INT64_MAX;
  }
  return value.tv_sec * kNanosecondsPerSecond + value.tv_nsec;
}

// Linux truncates to whole microseconds.
timeval to_timeval(int64_t nanoseconds) {
  return timeval{.tv_sec = nanoseconds / kNanosecondsPerSecond,
                 .tv_usec = (nanoseconds % kNanosecondsPerSecond) / kNanosecondsPerMicrosecond};
}

timespec to_timespec(int64_t nanoseconds) {
  return timespec{.tv_sec = nanoseconds / kNanosecondsPerSecond,
                  .tv_nsec = nanoseconds % kNanosecondsPerSecond};
}

itimerval to_itimerval(const kernel::TimerSetting& setting) {
  return itimerval{.it_interval = to_timeval(setting.interval_ns),
                   .it_value = to_timeval(setting.value_ns)};
}

itimerspec to_itimerspec(const kernel::TimerSetting& setting) {
  return itimerspec{.it_interval = to_timespec(setting.interval_ns),
                    .it_value = to_timespec(setting.value_ns)};
}

bool is_interval_timer(int which) {
  return which == ITIMER_REAL || which == ITIMER_VIRTUAL || which == ITIMER_PROF;
}

kernel::ProcessTimers& timers_of(kernel::Task& task) { return task.thread_group().timers(); }

}  // namespace

// alarm(seconds): ITIMER_REAL without an interval. Returns the seconds
// that were left, rounded to the nearest, but at least 1 while one was
// pending.
Result<int64_t> sys_alarm(kernel::Task& task, const SyscallArgs& args) {
  uint32_t seconds = args.u32(0);

  kernel::TimerSetting setting{.value_ns = int64_t{seconds} * kNanosecondsPerSecond};
  kernel::TimerSetting old = timers_of(task).set_interval_timer(ITIMER_REAL, setting);

  int64_t old_seconds = old.value_ns / kNanosecondsPerSecond;
  int64_t old_nanoseconds = old.value_ns % kNanosecondsPerSecond;
  if ((old_seconds == 0 && old_nanoseconds != 0) || old_nanoseconds >= kNanosecondsPerSecond / 2) {
    ++old_seconds;
  }
  return old_seconds;
}

// getitimer(which, curr_value)
Result<int64_t> sys_getitimer(kernel::Task& task, const SyscallArgs& args) {
  int which = args.i32(0);
  GuestAddr value_addr = args.addr(1);

  if (!is_interval_timer(which)) {
    return Errno{EINVAL};
  }
  kernel::TimerSetting setting = timers_of(task).get_interval_timer(which);
  TRY(task.copy_out(value_addr, to_itimerval(setting)));
  return 0;
}

// setitimer(which, new_value, old_value)
Result<int64_t> sys_setitimer(kernel::Task& task, const SyscallArgs& args) {
  int which = args.i32(0);
  GuestAddr new_addr = args.addr(1);
  GuestAddr old_addr = args.addr(2);

  // Linux still takes a NULL new_value as a disarm.
  kernel::TimerSetting setting;
  if (!new_addr.is_null()) {
    itimerval value = TRY(task.copy_in<itimerval>(new_addr));
    if (!is_valid(value.it_value) || !is_valid(value.it_interval)) {
      return Errno{EINVAL};
    }
    setting = kernel::TimerSetting{.value_ns = to_nanoseconds(value.it_value),
                                   .interval_ns = to_nanoseconds(value.it_interval)};
  }
  if (!is_interval_timer(which)) {
    return Errno{EINVAL};
  }

  kernel::TimerSetting old = timers_of(task).set_interval_timer(which, setting);
  if (!old_addr.is_null()) {
    TRY(task.copy_out(old_addr, to_itimerval(old)));
  }
  return 0;
}

// timer_create(clockid, sevp, timerid)
Result<int64_t> sys_timer_create(kernel::Task& task, const SyscallArgs& args) {
  clockid_t clock = args.i32(0);
  GuestAddr event_addr = args.addr(1);
  GuestAddr id_addr = args.addr(2);

  std::optional<kernel::TimerEvent> event;
  if (!event_addr.is_null()) {
    auto guest_event = TRY(task.copy_in<GuestSigevent>(event_addr));
    event = kernel::TimerEvent{.notify = guest_event.notify,
                               .signal = guest_event.signal,
                               .value = guest_event.value,
                               .thread_id = guest_event.thread_id};
  }
  auto publish_id = [&task, id_addr](int id) { return task.copy_out<int32_t>(id_addr, id); };
  TRY(timers_of(task).create(task, clock, event, publish_id));
  return 0;
}

// timer_settime(timerid, flags, new_value, old_value): flags other than
// TIMER_ABSTIME are ignored, as in Linux.
Result<int64_t> sys_timer_settime(kernel::Task& task, const SyscallArgs& args) {
  int id = args.i32(0);
  int flags = args.i32(1);
  GuestAddr new_addr = args.addr(2);
  GuestAddr old_addr = args.addr(3);

  if (new_addr.is_null()) {
    return Errno{EINVAL};
  }
  itimerspec value = TRY(task.copy_in<itimerspec>(new_addr));
  if (!is_valid(value.it_interval) || !is_valid(value.it_value)) {
    return Errno{EINVAL};
  }

  kernel::TimerSetting setting{.value_ns = to_nanoseconds(value.it_value),
                               .interval_ns = to_nanoseconds(value.it_interval)};
  bool absolute = (flags & TIMER_ABSTIME) != 0;
  kernel::TimerSetting old = TRY(timers_of(task).set(id, absolute, setting));
  if (!old_addr.is_null()) {
    TRY(task.copy_out(old_addr, to_itimerspec(old)));
  }
  return 0;
}

// timer_gettime(timerid, curr_value)
Result<int64_t> sys_timer_gettime(kernel::Task& task, const SyscallArgs& args) {
  int id = args.i32(0);
  GuestAddr value_addr = args.addr(1);

  kernel::TimerSetting setting = TRY(timers_of(task).get(id));
  TRY(task.copy_out(value_addr, to_itimerspec(setting)));
  return 0;
}

// timer_getoverrun(timerid)
Result<int64_t> sys_timer_getoverrun(kernel::Task& task, const SyscallArgs& args) {
  int id = args.i32(0);
  return TRY(timers_of(task).overrun(id));
}

// timer_delete(timerid)
Result<int64_t> sys_timer_delete(kernel::Task& task, const SyscallArgs& args) {
  int id = args.i32(0);
  TRY(timers_of(task).remove(id));
  return 0;
}

}  // namespace ward::syscalls
