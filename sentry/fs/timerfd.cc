#include "sentry/fs/timerfd.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>

#include <cstring>
#include <limits>

#include "sentry/fs/eventfd.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// Linux's TFD_IOC_SET_TICKS from <linux/timerfd.h>, which glibc's
// <sys/timerfd.h> lacks.
constexpr uint32_t kTimerfdSetTicks = _IOW('T', 0, uint64_t);

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

int64_t monotonic_now_ns() { return kernel::monotonic_now().time_since_epoch().count(); }

int64_t read_host_clock_ns(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return now.tv_sec * kNanosecondsPerSecond + now.tv_nsec;
}

// The clock whose time an absolute expiry of `clock` is given in: an alarm
// clock runs on its base clock.
clockid_t base_clock(clockid_t clock) {
  switch (clock) {
    case CLOCK_REALTIME_ALARM:
      return CLOCK_REALTIME;
    case CLOCK_BOOTTIME_ALARM:
      return CLOCK_BOOTTIME;
    default:
      return clock;
  }
}

}  // namespace

TimerfdFile::TimerfdFile(VirtualDentry location, uint32_t flags, kernel::Scheduler& scheduler,
                         clockid_t clock)
    : FileDescription(std::move(location), flags),
      clock_(clock),
      timer_(scheduler, [this] { expire(); }) {}

bool TimerfdFile::alarm_clock() const {
  return clock_ == CLOCK_REALTIME_ALARM || clock_ == CLOCK_BOOTTIME_ALARM;
}

void TimerfdFile::expire() {
  expired_ = true;
  ++ticks_;
  queue_.notify(POLLIN);
}

// Moves the expiry of an expired periodic timer past `now_ns` by whole
// intervals, as Linux's hrtimer_forward_now, and returns how many.
int64_t TimerfdFile::forward_expiry(int64_t now_ns) {
  if (now_ns < expiry_ns_) {
    return 0;
  }
  int64_t elapsed_ns = 0;
  if (__builtin_sub_overflow(now_ns, expiry_ns_, &elapsed_ns)) {
    elapsed_ns = std::numeric_limits<int64_t>::max();
  }
  const int64_t periods = elapsed_ns / interval_ns_ + 1;
  int64_t step = 0;
  if (__builtin_mul_overflow(periods, interval_ns_, &step)) {
    step = std::numeric_limits<int64_t>::max();
  }
  expiry_ns_ = saturating_add(expiry_ns_, step);
  return periods;
}

// Forwards an expired periodic timer, adds the expirations it missed to the
// count and arms it for the next one.
void TimerfdFile::rearm_after_forward() {
  const int64_t periods = forward_expiry(monotonic_now_ns());
  if (periods > 0) {
    ticks_ += static_cast<uint64_t>(periods - 1);
  }
  expired_ = false;
  timer_.arm(kernel::TimePoint(kernel::Duration(expiry_ns_)));
}

kernel::TimerSetting TimerfdFile::set(uint32_t flags, const kernel::TimerSetting& setting) {
  const int64_t now_ns = monotonic_now_ns();
  timer_.cancel();

  // The previous setting, with an expired periodic timer moved to its next
  // expiration first; the count it missed is dropped with the old setting.
  if (expired_ && interval_ns_ != 0) {
    forward_expiry(now_ns);
  }
  kernel::TimerSetting old;
  old.interval_ns = interval_ns_;
  if (armed_) {
    old.value_ns = std::max<int64_t>(0, expiry_ns_ - now_ns);
  }

  expired_ = false;
  ticks_ = 0;
  interval_ns_ = setting.interval_ns;
  armed_ = setting.value_ns != 0;
  if (!armed_) {
    return old;
  }

  // NOTE: an absolute expiry is converted to a monotonic one now, so a
  // later change of the host's CLOCK_REALTIME is not followed, and
  // TFD_TIMER_CANCEL_ON_SET never fires: the sandbox cannot set the clock
  // (clock_settime fails with EPERM). CLOCK_BOOTTIME is followed as the
  // host has it at this moment; the sandbox never suspends the machine.
  int64_t delay_ns = setting.value_ns;
  if ((flags & TFD_TIMER_ABSTIME) != 0) {
    const clockid_t base = base_clock(clock_);
    const int64_t clock_now_ns = base == CLOCK_MONOTONIC ? now_ns : read_host_clock_ns(base);
    delay_ns = setting.value_ns - clock_now_ns;
  }
  // An expiry in the past is kept as it is, so that a periodic timer
  // counts every interval since then.
  expiry_ns_ = saturating_add(now_ns, delay_ns);
  if (delay_ns <= 0) {
    // It counts at once, as Linux's timer interrupt would before the
    // caller could look.
    expire();
  } else {
    timer_.arm(kernel::TimePoint(kernel::Duration(expiry_ns_)));
  }
  return old;
}

kernel::TimerSetting TimerfdFile::get() {
  if (expired_ && interval_ns_ != 0) {
    rearm_after_forward();
  }
  kernel::TimerSetting setting;
  setting.interval_ns = interval_ns_;
  if (armed_) {
    setting.value_ns = std::max<int64_t>(0, expiry_ns_ - monotonic_now_ns());
  }
  return setting;
}

Result<size_t> TimerfdFile::read(std::span<std::byte> buffer, std::optional<int64_t>) {
  if (buffer.size() < sizeof(uint64_t)) {
    return Errno{EINVAL};
  }
  if (ticks_ == 0) {
    return Errno{EAGAIN};
  }
  if (expired_ && interval_ns_ != 0) {
    rearm_after_forward();
  }
  const uint64_t ticks = ticks_;
  ticks_ = 0;
  expired_ = false;
  std::memcpy(buffer.data(), &ticks, sizeof(ticks));
  return sizeof(ticks);
}

Result<int64_t> TimerfdFile::ioctl(kernel::Task& task, uint32_t request, GuestAddr arg) {
  if (request != kTimerfdSetTicks) {
    return Errno{ENOTTY};
  }
  const auto ticks = TRY(task.copy_in<uint64_t>(arg));
  if (ticks == 0) {
    return Errno{EINVAL};
  }
  ticks_ = ticks;
  queue_.notify(POLLIN);
  return 0;
}

uint32_t TimerfdFile::readiness(uint32_t mask) {
  // Linux's timerfd_poll reports POLLIN alone, without POLLRDNORM.
  const uint32_t events = ticks_ != 0 ? POLLIN : 0;
  return events & mask;
}

TimerfdFile* as_timerfd(FileDescription& file) { return dynamic_cast<TimerfdFile*>(&file); }

FileRef make_timerfd(kernel::Scheduler& scheduler, clockid_t clock,
                     const kernel::Credentials& creds, uint32_t status_flags) {
  VirtualDentry location = make_anonymous_location(make_anon_inode("anon_inode:[timerfd]", creds));
  return std::make_shared<TimerfdFile>(std::move(location), O_RDWR | status_flags, scheduler,
                                       clock);
}

}  // namespace ward::vfs
