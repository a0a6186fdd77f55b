// timerfd: a timer whose expirations are read from a file, as Linux's
// fs/timerfd.c has it. read(2) returns the expirations since the last read
// as an 8-byte count, and the file is readable while that count is not 0.
//
// As in Linux, a periodic timer is not re-armed when it expires but when
// the count is read (or timerfd_gettime looks at it): the expirations in
// between are counted from the elapsed time.
#pragma once

#include <time.h>

#include <cstdint>

#include "sentry/kernel/credentials.h"
#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/timers.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/file.h"

namespace ward::vfs {

class TimerfdFile final : public FileDescription {
 public:
  TimerfdFile(VirtualDentry location, uint32_t flags, kernel::Scheduler& scheduler,
              clockid_t clock);

  clockid_t clock() const { return clock_; }

  // Whether the clock is CLOCK_REALTIME_ALARM or CLOCK_BOOTTIME_ALARM, whose
  // timers need CAP_WAKE_ALARM.
  bool alarm_clock() const;

  // timerfd_settime once its arguments are checked: arms the timer with
  // `setting` (disarms it for a zero value), counting from now or, with
  // TFD_TIMER_ABSTIME in `flags`, at that time of the file's clock. Clears
  // the expiration count and returns the previous setting.
  kernel::TimerSetting set(uint32_t flags, const kernel::TimerSetting& setting);

  // timerfd_gettime: the time left until the next expiration (0 when
  // disarmed or expired) and the interval.
  kernel::TimerSetting get();

  // Takes the expiration count as 8 bytes in host byte order. EINVAL for a
  // buffer shorter than 8 bytes, EAGAIN while the count is 0.
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override;

  // TFD_IOC_SET_TICKS, which sets the expiration count (for checkpoint
  // restore). ENOTTY for any other request.
  Result<int64_t> ioctl(kernel::Task& task, uint32_t request, GuestAddr arg) override;

  // NOTE: Linux's timerfd has noop_llseek, so lseek returns 0 there, but a
  // stream here fails lseek with ESPIPE.
  bool stream() const override { return true; }
  uint32_t readiness(uint32_t mask) override;
  kernel::WaitQueue* wait_queue() override { return &queue_; }

 private:
  void expire();
  int64_t forward_expiry(int64_t now_ns);
  void rearm_after_forward();

  clockid_t clock_;
  kernel::Timer timer_;
  kernel::WaitQueue queue_;
  // Whether the timer has an expiry, which it keeps after it expired.
  bool armed_ = false;
  // The monotonic time of the next or last expiration in nanoseconds; it
  // may lie before the clock's origin.
  int64_t expiry_ns_ = 0;
  int64_t interval_ns_ = 0;
  // Expirations not yet read.
  uint64_t ticks_ = 0;
  // Whether the timer expired since it was last armed or forwarded.
  bool expired_ = false;
};

// The timerfd behind `file`, or nullptr when it is another kind of file.
TimerfdFile* as_timerfd(FileDescription& file);

// A new timerfd on `clock`, disarmed, open O_RDWR plus `status_flags`
// (O_NONBLOCK). Its inode belongs to `creds`' fsuid and fsgid. The caller
// has checked the clock.
FileRef make_timerfd(kernel::Scheduler& scheduler, clockid_t clock,
                     const kernel::Credentials& creds, uint32_t status_flags);

}  // namespace ward::vfs
