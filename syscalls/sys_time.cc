// Clocks and sleeps: clock_gettime, clock_getres, clock_settime,
// gettimeofday, time, nanosleep and clock_nanosleep.
#include <sys/time.h>
#include <time.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_core.h"

namespace ward::syscalls {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;

// The encoding of a CPU-time clock id (include/linux/posix-timers.h): the
// bitwise complement of a pid shifted left by 3, a per-thread bit and a
// clock type.
constexpr int kCpuClockPerThread = 4;
constexpr int kCpuClockTypeMask = 3;
constexpr int kCpuClockSched = 2;
constexpr int kCpuClockVirtual = 1;
constexpr int kCpuClockFd = 3;

// Linux's USER_HZ, the unit of utime and stime in /proc/pid/stat.
constexpr int64_t kClockTicksPerSecond = 100;

clockid_t make_process_cpu_clock(pid_t host_pid, int type) {
  return static_cast<clockid_t>((~static_cast<unsigned>(host_pid) << 3) | static_cast<unsigned>(type));
}

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

// CPU time of one host thread, from /proc: schedstat's first field is the
// scheduler's exact runtime in ns; stat's utime and stime are in ticks.
Result<timespec> host_thread_cpu_time(pid_t host_pid, pid_t host_tid, int type) {
  std::string base = "/proc/" + std::to_string(host_pid) + "/task/" + std::to_string(host_tid);
  if (type == kCpuClockSched) {
    std::ifstream schedstat(base + "/schedstat");
    int64_t runtime_ns = 0;
    if (!(schedstat >> runtime_ns)) {
      return Errno{EINVAL};
    }
    return from_nanoseconds(runtime_ns);
  }

  std::ifstream stat_file(base + "/stat");
  std::string line;
  std::getline(stat_file, line);
  size_t after_name = line.rfind(')');
  if (after_name == std::string::npos) {
    return Errno{EINVAL};
  }
  std::istringstream fields(line.substr(after_name + 2));
  std::string field;
  int64_t utime = 0;
  int64_t stime = 0;
  // Fields 3 to 13 precede utime (14) and stime (15).
  for (int index = 3; index <= 13 && fields >> field; ++index) {
  }
  fields >> utime >> stime;
  int64_t ticks = type == kCpuClockVirtual ? utime : utime + stime;
  return from_nanoseconds(ticks * (kNanosecondsPerSecond / kClockTicksPerSecond));
}

// Reads a CPU-time clock of the guest: the calling process or thread, or
// one named by a dynamic clock id.
Result<timespec> read_cpu_clock(kernel::Task& task, clockid_t clock) {
  bool per_thread;
  int type;
  kernel::Task* target = &task;

  if (clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID) {
    per_thread = clock == CLOCK_THREAD_CPUTIME_ID;
    type = kCpuClockSched;
  } else {
    per_thread = (clock & kCpuClockPerThread) != 0;
    type = clock & kCpuClockTypeMask;
    if (type == kCpuClockFd) {
      return Errno{EINVAL};  // a dynamic clock from a clock fd, which ward has none of
    }
    pid_t pid = static_cast<pid_t>(~(static_cast<unsigned>(clock) >> 3));
    if (pid != 0) {
      target = task.kernel().find_task(pid);
      if (target == nullptr || !target->has_context()) {
        return Errno{EINVAL};
      }
      if (per_thread && &target->thread_group() != &task.thread_group()) {
        return Errno{EINVAL};  // Linux allows thread clocks of the caller's own process only
      }
    }
  }

  pid_t host_pid = target->mm().address_space().host_pid();
  if (per_thread) {
    return host_thread_cpu_time(host_pid, target->context().host_tid(), type);
  }
  // NOTE: the process clock restarts at exec, because exec gives the guest
  // a new stub process; Linux keeps counting.
  timespec value{};
  if (clock_gettime(make_process_cpu_clock(host_pid, type), &value) != 0) {
    return Errno{EINVAL};
  }
  return value;
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
  if (clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID || clock < 0) {
    return read_cpu_clock(task, clock);
  }
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
  } else {
    TRY(read_clock(task, clock));  // validates the id
    resolution = timespec{.tv_sec = 0, .tv_nsec = 1};
  }
  if (!result.is_null()) {
    TRY(task.copy_out(result, resolution));
  }
  return 0;
}

// clock_settime(clockid, tp): the sandbox may not set the host's clocks.
Result<int64_t> sys_clock_settime(kernel::Task& task, const SyscallArgs& args) {
  clockid_t clock = args.i32(0);
  timespec value = TRY(task.copy_in<timespec>(args.addr(1)));
  if (clock != CLOCK_REALTIME) {
    TRY(read_clock(task, clock));
    return Errno{EINVAL};  // only CLOCK_REALTIME can be set at all
  }
  if (!is_valid(value)) {
    return Errno{EINVAL};
  }
  return Errno{EPERM};
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
      break;
    case CLOCK_THREAD_CPUTIME_ID:
      return Errno{EINVAL};
    default:
      if (is_host_clock(clock) || clock == CLOCK_PROCESS_CPUTIME_ID || clock < 0) {
        record_gap(task, fmt::format("clock {}", clock));
      }
      return Errno{EINVAL};
  }

  timespec request = TRY(task.copy_in<timespec>(request_addr));
  if (!is_valid(request)) {
    return Errno{EINVAL};
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
