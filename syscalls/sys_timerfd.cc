// timerfd_create, timerfd_settime and timerfd_gettime. The timer itself is
// sentry/fs/timerfd.h.
#include <linux/capability.h>
#include <sys/timerfd.h>
#include <time.h>

#include <cstdint>

#include "sentry/fs/timerfd.h"
#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timers.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/args.h"
#include "syscalls/handlers_event_files.h"

namespace ward::syscalls {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;

// Seconds at which Linux's timespec64_to_ktime saturates at KTIME_MAX.
constexpr int64_t kKtimeMaxSeconds = INT64_MAX / kNanosecondsPerSecond;

constexpr uint32_t kCreateFlags = TFD_CLOEXEC | TFD_NONBLOCK;
constexpr uint32_t kSettimeFlags = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET;

bool is_valid(const timespec& value) {
  return value.tv_sec >= 0 && value.tv_nsec >= 0 && value.tv_nsec < kNanosecondsPerSecond;
}

int64_t to_nanoseconds(const timespec& value) {
  if (value.tv_sec >= kKtimeMaxSeconds) {
    return INT64_MAX;
  }
  return value.tv_sec * kNanosecondsPerSecond + value.tv_nsec;
}

timespec to_timespec(int64_t nanoseconds) {
  return timespec{.tv_sec = nanoseconds / kNanosecondsPerSecond,
                  .tv_nsec = nanoseconds % kNanosecondsPerSecond};
}

itimerspec to_itimerspec(const kernel::TimerSetting& setting) {
  return itimerspec{.it_interval = to_timespec(setting.interval_ns),
                    .it_value = to_timespec(setting.value_ns)};
}

bool is_timerfd_clock(clockid_t clock) {
  return clock == CLOCK_MONOTONIC || clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_ALARM ||
         clock == CLOCK_BOOTTIME || clock == CLOCK_BOOTTIME_ALARM;
}

// Linux's timerfd_fget: EBADF for a closed fd, EINVAL for a file that is
// not a timerfd.
Result<std::pair<vfs::FileRef, vfs::TimerfdFile*>> get_timerfd(kernel::Task& task, int fd) {
  vfs::FileRef file = TRY(task.fdtable().get(fd));
  vfs::TimerfdFile* timerfd = vfs::as_timerfd(*file);
  if (timerfd == nullptr) {
    return Errno{EINVAL};
  }
  return std::pair{std::move(file), timerfd};
}

}  // namespace

// timerfd_create(clockid, flags): TFD_CLOEXEC and TFD_NONBLOCK.
Result<int64_t> sys_timerfd_create(kernel::Task& task, const SyscallArgs& args) {
  const auto clock = static_cast<clockid_t>(args.i32(0));
  const uint32_t flags = args.u32(1);

  if ((flags & ~kCreateFlags) != 0 || !is_timerfd_clock(clock)) {
    return Errno{EINVAL};
  }
  if ((clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) &&
      !task.creds().has_capability(CAP_WAKE_ALARM)) {
    return Errno{EPERM};
  }
  vfs::FileRef file =
      vfs::make_timerfd(task.scheduler(), clock, task.creds(), flags & TFD_NONBLOCK);
  return TRY(task.fdtable().install(std::move(file), (flags & TFD_CLOEXEC) != 0));
}

// timerfd_settime(fd, flags, new_value, old_value): TFD_TIMER_ABSTIME and
// TFD_TIMER_CANCEL_ON_SET, which is accepted but never cancels because the
// sandbox cannot set CLOCK_REALTIME.
Result<int64_t> sys_timerfd_settime(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const uint32_t flags = args.u32(1);
  const GuestAddr new_value_addr = args.addr(2);
  const GuestAddr old_value_addr = args.addr(3);

  const auto new_value = TRY(task.copy_in<itimerspec>(new_value_addr));
  if ((flags & ~kSettimeFlags) != 0 || !is_valid(new_value.it_value) ||
      !is_valid(new_value.it_interval)) {
    return Errno{EINVAL};
  }
  auto [file, timerfd] = TRY(get_timerfd(task, fd));
  if (timerfd->alarm_clock() && !task.creds().has_capability(CAP_WAKE_ALARM)) {
    return Errno{EPERM};
  }

  const kernel::TimerSetting setting{.value_ns = to_nanoseconds(new_value.it_value),
                                     .interval_ns = to_nanoseconds(new_value.it_interval)};
  const kernel::TimerSetting old = timerfd->set(flags, setting);
  // As in Linux, the timer stays set when old_value cannot be written.
  if (!old_value_addr.is_null()) {
    TRY(task.copy_out(old_value_addr, to_itimerspec(old)));
  }
  return 0;
}

// timerfd_gettime(fd, curr_value).
Result<int64_t> sys_timerfd_gettime(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr value_addr = args.addr(1);

  auto [file, timerfd] = TRY(get_timerfd(task, fd));
  TRY(task.copy_out(value_addr, to_itimerspec(timerfd->get())));
  return 0;
}

}  // namespace ward::syscalls
