#include "sentry/kernel/timers.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace ward::kernel {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr int64_t kNanosecondsPerMicrosecond = 1'000;

// Linux's KTIME_MAX: timer values saturate there.
constexpr int64_t kKtimeMax = INT64_MAX;

// The encoding of a CPU-time clock id (include/linux/posix-timers.h): the
// complement of a pid shifted left by 3, a per-thread bit and a type. Type 3
// with the per-thread bit clear is a clock fd (CLOCKFD).
constexpr clockid_t kCpuClockPerThreadBit = 4;
constexpr clockid_t kCpuClockTypeMask = 3;
constexpr clockid_t kClockFdMask = 7;
constexpr clockid_t kClockFdType = 3;

// How often a periodic POSIX timer whose signal sits unqueued (ignored, or
// a standard signal already pending from elsewhere) tries to queue it
// again, and how often one whose signal is queued checks that it was not
// discarded.
// NOTE: Linux 6.13 and later queue the signal of such a timer the moment a
// sigaction stops ignoring it; ward notices within this period.
constexpr Duration kRequeueCheckPeriod = std::chrono::milliseconds(10);

// The live thread `tid` of `group`, or nullptr: a thread that has exited
// is gone, as Linux releases a non-leader thread at once.
Task* live_thread_of(ThreadGroup& group, pid_t tid) {
  const auto& tasks = group.tasks();
  auto it = std::find_if(tasks.begin(), tasks.end(), [tid](const Task* task) { return task->tid() == tid; });
  return it == tasks.end() ? nullptr : *it;
}

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? INT64_MAX : INT64_MIN;
  }
  return sum;
}

int64_t monotonic_now_ns() { return monotonic_now().time_since_epoch().count(); }

TimePoint time_point_at(int64_t monotonic_ns) { return TimePoint(Duration(monotonic_ns)); }

int64_t read_host_clock_ns(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return now.tv_sec * kNanosecondsPerSecond + now.tv_nsec;
}

// Moves `expires` forward by whole intervals until it is after `now` and
// returns how many it moved, as Linux's hrtimer_forward and bump_cpu_timer
// do: 0 when it already is.
int64_t forward_expiry(int64_t& expires, int64_t now, int64_t interval) {
  if (now < expires) {
    return 0;
  }
  int64_t periods = (now - expires) / interval + 1;
  int64_t step = 0;
  if (__builtin_mul_overflow(periods, interval, &step)) {
    step = kKtimeMax;
  }
  expires = saturating_add(expires, step);
  return periods;
}

int clamp_overrun(int64_t overrun) {
  return overrun > INT_MAX ? INT_MAX : static_cast<int>(std::max<int64_t>(overrun, 0));
}

// Whether the process or thread of `clock` still runs: Linux detaches the
// CPU timers of a thread or process that exits, so they never fire again.
bool cpu_clock_target_running(Kernel& kernel, const CpuClock& clock) {
  if (clock.per_thread) {
    Task* task = kernel.find_task(clock.id);
    return task != nullptr && live_thread_of(task->thread_group(), clock.id) != nullptr;
  }
  ThreadGroup* group = kernel.find_thread_group(clock.id);
  return group != nullptr && !group->finished();
}

// When a CPU clock read as `now_ns` can first reach `expires_ns`: a thread
// gains at most one CPU second per second, a process one per CPU. Never
// sooner than one host tick, the period of Linux's own CPU-timer checks.
TimePoint next_cpu_check(const CpuClock& clock, int64_t now_ns, int64_t expires_ns) {
  int64_t rate = clock.per_thread ? 1 : host_cpu_count();
  int64_t wait_ns = std::max(host_tick_ns(), (expires_ns - now_ns) / rate);
  return time_point_at(saturating_add(monotonic_now_ns(), wait_ns));
}

}  // namespace

// NOTE: any RTC class device counts, but Linux also wants it to support
// alarms and wake-up.
bool host_has_rtc() {
  static const bool has_rtc = [] {
    DIR* directory = opendir("/sys/class/rtc");
    if (directory == nullptr) {
      return false;
    }
    bool found = false;
    while (dirent* entry = readdir(directory)) {
      if (entry->d_name[0] != '.') {
        found = true;
        break;
      }
    }
    closedir(directory);
    return found;
  }();
  return has_rtc;
}

namespace {

siginfo_t timer_siginfo(int id, const TimerEvent& event) {
  siginfo_t info{};
  info.si_signo = event.signal;
  info.si_code = SI_TIMER;
  info.si_timerid = id;
  info.si_overrun = 0;
  std::memcpy(&info.si_value, &event.value, sizeof(event.value));
  return info;
}

// The kind of clock a timer_create clock id names.
enum class TimerClockKind { kWall, kAlarm, kCpu };

// Linux's clockid_to_kclock and its timer_create check: EINVAL for a clock
// that does not exist, EOPNOTSUPP for one without timers.
Result<TimerClockKind> timer_clock_kind(clockid_t clock) {
  if (clock < 0) {
    if ((clock & kClockFdMask) == kClockFdType) {
      return Errno{EOPNOTSUPP};  // a dynamic clock (clock fd) has no timers
    }
    return TimerClockKind::kCpu;
  }
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
      return TimerClockKind::kWall;
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
      return TimerClockKind::kCpu;
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
      return TimerClockKind::kAlarm;
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
      return Errno{EOPNOTSUPP};
    default:
      return Errno{EINVAL};
  }
}

// Linux's good_sigevent: SIGEV_THREAD_ID must name a thread of the
// caller's process, and a notification by signal needs a valid signal.
Result<void> check_event(Task& creator, const TimerEvent& event) {
  switch (event.notify) {
    case SIGEV_THREAD_ID: {
      if (live_thread_of(creator.thread_group(), event.thread_id) == nullptr) {
        return Errno{EINVAL};
      }
      [[fallthrough]];
    }
    case SIGEV_SIGNAL:
    case SIGEV_THREAD:
      if (!is_valid_signal(event.signal)) {
        return Errno{EINVAL};
      }
      return ok();
    case SIGEV_NONE:
      return ok();
    default:
      return Errno{EINVAL};
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// CPU clocks

bool is_cpu_clock_id(clockid_t clock) {
  if (clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID) {
    return true;
  }
  return clock < 0 && (clock & kClockFdMask) != kClockFdType;
}

Result<CpuClock> resolve_cpu_clock(Task& task, clockid_t clock, CpuClockUse use) {
  if (clock == CLOCK_PROCESS_CPUTIME_ID) {
    return CpuClock{.id = task.pid(), .per_thread = false, .type = CpuClockType::kSched};
  }
  if (clock == CLOCK_THREAD_CPUTIME_ID) {
    return CpuClock{.id = task.tid(), .per_thread = true, .type = CpuClockType::kSched};
  }
  int type = clock & kCpuClockTypeMask;
  if (type == kClockFdType) {
    return Errno{EINVAL};  // past CPUCLOCK_MAX
  }
  bool per_thread = (clock & kCpuClockPerThreadBit) != 0;
  // An arithmetic shift, as Linux's CPUCLOCK_PID does on the signed id.
  auto pid = static_cast<pid_t>(~(clock >> 3));
  CpuClock result{.id = pid, .per_thread = per_thread, .type = static_cast<CpuClockType>(type)};
  if (pid == 0) {
    result.id = per_thread ? task.tid() : task.pid();
    return result;
  }
  Kernel& kernel = task.kernel();
  if (per_thread) {
    if (live_thread_of(task.thread_group(), pid) == nullptr) {
      return Errno{EINVAL};
    }
    return result;
  }
  if (use == CpuClockUse::kRead && pid == task.tid()) {
    result.id = task.pid();
    return result;
  }
  if (kernel.find_thread_group(pid) == nullptr) {
    return Errno{EINVAL};
  }
  return result;
}

std::optional<int64_t> read_cpu_clock(Kernel& kernel, const CpuClock& clock) {
  if (clock.per_thread) {
    Task* task = kernel.find_task(clock.id);
    if (task == nullptr || live_thread_of(task->thread_group(), clock.id) == nullptr) {
      return std::nullopt;
    }
    return cpu_clock_value(task_cpu_times(*task), clock.type);
  }
  ThreadGroup* group = kernel.find_thread_group(clock.id);
  if (group == nullptr) {
    return std::nullopt;
  }
  return cpu_clock_value(process_cpu_times(*group), clock.type);
}

namespace {

// Sleeps until `clock` reaches `expires_ns`; see cpu_clock_nanosleep.
Result<void> sleep_on_cpu_clock(Task& task, const CpuClock& clock, int64_t expires_ns,
                                GuestAddr remaining) {
  Kernel& kernel = task.kernel();
  std::optional<int64_t> now = read_cpu_clock(kernel, clock);
  if (!now) {
    return Errno{ESRCH};
  }
  for (;;) {
    if (*now >= expires_ns) {
      return ok();
    }
    Waiter waiter(task.scheduler());
    // A clock whose thread or process has exited stops; only a signal
    // ends the sleep then.
    if (cpu_clock_target_running(kernel, clock)) {
      waiter.set_deadline(next_cpu_check(clock, *now, expires_ns));
    }
    WakeReason reason = task.block(waiter);
    now = read_cpu_clock(kernel, clock).value_or(*now);
    if (reason != WakeReason::kInterrupted) {
      continue;
    }
    if (*now >= expires_ns) {
      return ok();
    }
    if (!remaining.is_null()) {
      int64_t left_ns = expires_ns - *now;
      timespec left{.tv_sec = left_ns / kNanosecondsPerSecond,
                    .tv_nsec = left_ns % kNanosecondsPerSecond};
      TRY(task.copy_out(remaining, left));
    }
    task.set_restart_function([clock, expires_ns, remaining](Task& restarted) -> Result<int64_t> {
      TRY(sleep_on_cpu_clock(restarted, clock, expires_ns, remaining));
      return 0;
    });
    return Errno{ERESTART_RESTARTBLOCK};
  }
}

}  // namespace

Result<void> cpu_clock_nanosleep(Task& task, clockid_t clock, bool absolute,
                                 const timespec& request, GuestAddr remaining) {
  // Linux's posix_cpu_nsleep: a thread cannot sleep on its own CPU clock,
  // which would never advance.
  bool per_thread = clock == CLOCK_THREAD_CPUTIME_ID ||
                    (clock < 0 && (clock & kCpuClockPerThreadBit) != 0);
  if (per_thread && clock < 0) {
    auto pid = static_cast<pid_t>(~(clock >> 3));
    if (pid == 0 || pid == task.tid()) {
      return Errno{EINVAL};
    }
  }
  CpuClock resolved = TRY(resolve_cpu_clock(task, clock, CpuClockUse::kTimer));

  int64_t request_ns = request.tv_sec >= kKtimeMax / kNanosecondsPerSecond
                           ? kKtimeMax
                           : request.tv_sec * kNanosecondsPerSecond + request.tv_nsec;
  int64_t expires_ns = request_ns;
  if (!absolute) {
    if (request_ns == 0) {
      return ok();  // a zero relative sleep arms nothing and returns at once
    }
    std::optional<int64_t> now = read_cpu_clock(task.kernel(), resolved);
    if (!now) {
      return Errno{ESRCH};
    }
    expires_ns = saturating_add(*now, request_ns);
  }

  auto slept = sleep_on_cpu_clock(task, resolved, expires_ns,
                                  absolute ? GuestAddr() : remaining);
  if (!slept.ok() && absolute && slept.error().value == ERESTART_RESTARTBLOCK) {
    // An absolute sleep restarts with the same deadline; Linux reports it
    // as ERESTARTNOHAND.
    task.take_restart_function();
    return Errno{ERESTARTNOHAND};
  }
  return slept;
}

// ---------------------------------------------------------------------------
// POSIX timers

// The clock a POSIX timer measures: a wall clock through a monotonic
// deadline, or a CPU-time clock.
struct TimerClock {
  clockid_t wall_base = CLOCK_MONOTONIC;  // REALTIME, MONOTONIC, BOOTTIME or TAI
  std::optional<CpuClock> cpu;
};

// One timer of timer_create, with Linux's states: armed, disarmed, or
// expired with its signal not yet dequeued (a periodic timer then waits
// for the dequeue to re-arm it).
class PosixTimer {
 public:
  enum class Status { kDisarmed, kArmed, kRequeuePending };

  PosixTimer(ThreadGroup& group, int id, const TimerClock& clock, const TimerEvent& event,
             uid_t owner_uid)
      : group_(group),
        id_(id),
        clock_(clock),
        event_(event),
        owner_uid_(owner_uid),
        timer_(group.kernel().scheduler(), [this] { on_timer(); }) {}

  uid_t owner_uid() const { return owner_uid_; }
  bool signal_queued() const { return signal_queued_; }
  int overrun() const { return clamp_overrun(overrun_last_); }

  TimerSetting get() { return clock_.cpu ? get_cpu() : get_wall(); }

  // timer_settime after the id was found; do_timer_settime's part first.
  Result<TimerSetting> set(bool absolute, const TimerSetting& setting) {
    TimerSetting old{.value_ns = 0, .interval_ns = interval_ns_};
    // A signal queued before the change is dropped when dequeued.
    ++signal_seq_;
    if (clock_.cpu) {
      TRY(set_cpu(absolute, setting, old));
    } else {
      set_wall(absolute, setting, old);
    }
    return old;
  }

  // Stops the timer for timer_delete or execve; a signal it queued is
  // dropped when dequeued.
  void stop() {
    ++signal_seq_;
    timer_.cancel();
    status_ = Status::kDisarmed;
  }

  // Linux's posixtimer_deliver_signal.
  bool dequeued(siginfo_t& info) {
    signal_queued_ = false;
    if (signal_seq_ != queued_seq_) {
      return false;
    }
    if (interval_ns_ != 0 && status_ == Status::kRequeuePending) {
      rearm();
      status_ = Status::kArmed;
      overrun_last_ = overrun_;
      overrun_ = -1;
      ++signal_seq_;
      info.si_overrun = clamp_overrun(overrun_last_);
    }
    return true;
  }

 private:
  bool notifies_by_signal() const { return event_.notify != SIGEV_NONE; }

  // posix_timer_set_common: the interval counts only with a value, and the
  // overrun count starts over.
  void set_common(const TimerSetting& setting) {
    interval_ns_ = setting.value_ns != 0 ? setting.interval_ns : 0;
    overrun_last_ = 0;
    overrun_ = -1;
  }

  // Linux's common_timer_get.
  TimerSetting get_wall() {
    TimerSetting result;
    if (interval_ns_ != 0) {
      result.interval_ns = interval_ns_;
    } else if (status_ == Status::kDisarmed && notifies_by_signal()) {
      return result;
    }
    int64_t now = monotonic_now_ns();
    // An expired periodic timer moves on by whole intervals, which count as
    // overruns, so that its next expiry is in the future.
    if (interval_ns_ != 0 && status_ != Status::kArmed) {
      overrun_ += forward_expiry(wall_expires_ns_, now, interval_ns_);
    }
    int64_t remaining = wall_expires_ns_ - now;
    if (remaining > 0) {
      result.value_ns = remaining;
    } else if (notifies_by_signal()) {
      result.value_ns = 1;  // expired, but its signal is not sent yet
    }
    return result;
  }

  // Linux's common_timer_set. A relative CLOCK_REALTIME timer runs on the
  // monotonic clock, as in Linux.
  // NOTE: an absolute timer on CLOCK_REALTIME or CLOCK_TAI is converted to
  // a monotonic deadline when set, so later host clock changes are not
  // followed; CLOCK_BOOTTIME is taken as monotonic, since the sandbox
  // sees no suspend.
  void set_wall(bool absolute, const TimerSetting& setting, TimerSetting& old) {
    old = get_wall();
    interval_ns_ = 0;
    timer_.cancel();
    status_ = Status::kDisarmed;
    set_common(setting);
    if (setting.value_ns == 0) {
      return;
    }
    int64_t now = monotonic_now_ns();
    int64_t delay = setting.value_ns;
    if (absolute) {
      delay = setting.value_ns - (clock_.wall_base == CLOCK_MONOTONIC
                                      ? now
                                      : read_host_clock_ns(clock_.wall_base));
    }
    wall_expires_ns_ = saturating_add(now, delay);
    if (notifies_by_signal()) {
      timer_.arm(time_point_at(wall_expires_ns_));
      status_ = Status::kArmed;
    }
  }

  // posix_cpu_timer_get; zeros once the clock's thread or process is gone
  // or the timer is disarmed.
  TimerSetting get_cpu() {
    TimerSetting result;
    std::optional<int64_t> now = read_cpu_clock(group_.kernel(), *clock_.cpu);
    if (!now || cpu_expires_ns_ == 0) {
      return result;
    }
    result.interval_ns = interval_ns_;
    result.value_ns = cpu_value_at(*now);
    return result;
  }

  // __posix_cpu_timer_get.
  int64_t cpu_value_at(int64_t now) {
    int64_t expires = cpu_expires_ns_;
    if (interval_ns_ != 0 && status_ != Status::kArmed) {
      overrun_ += forward_expiry(cpu_expires_ns_, now, interval_ns_);
      expires = cpu_expires_ns_;
    }
    if (now < expires) {
      return expires - now;
    }
    return notifies_by_signal() ? 1 : 0;
  }

  // posix_cpu_timer_set.
  Result<void> set_cpu(bool absolute, const TimerSetting& setting, TimerSetting& old) {
    std::optional<int64_t> now = read_cpu_clock(group_.kernel(), *clock_.cpu);
    if (!now) {
      return Errno{ESRCH};
    }
    int64_t old_expires = cpu_expires_ns_;
    timer_.cancel();
    status_ = Status::kDisarmed;
    if (old_expires != 0) {
      old.value_ns = cpu_value_at(*now);
    }

    int64_t new_expires = setting.value_ns;
    if (new_expires != 0 && !absolute) {
      new_expires = saturating_add(new_expires, *now);
    }
    cpu_expires_ns_ = new_expires;
    bool due = new_expires != 0 && *now >= new_expires;
    if (notifies_by_signal() && new_expires != 0 && !due) {
      status_ = Status::kArmed;
      schedule_cpu_check(*now);
    }
    set_common(setting);

    // An expiry already in the past fires at once, even if the clock
    // never moves again.
    if (notifies_by_signal() && due) {
      expire();
    }
    return ok();
  }

  void schedule_cpu_check(int64_t now) {
    if (cpu_clock_target_running(group_.kernel(), *clock_.cpu)) {
      timer_.arm(next_cpu_check(*clock_.cpu, now, cpu_expires_ns_));
    }
  }

  void on_timer() {
    switch (status_) {
      case Status::kArmed:
        if (clock_.cpu) {
          check_cpu_expiry();
        } else {
          expire();
        }
        return;
      case Status::kRequeuePending:
        check_queued_signal();
        return;
      case Status::kDisarmed:
        return;
    }
  }

  void check_cpu_expiry() {
    std::optional<int64_t> now = read_cpu_clock(group_.kernel(), *clock_.cpu);
    if (!now) {
      return;
    }
    if (*now >= cpu_expires_ns_) {
      expire();
    } else {
      schedule_cpu_check(*now);
    }
  }

  // Linux's cpu_timer_fire and posix_timer_queue_signal.
  void expire() {
    status_ = interval_ns_ != 0 ? Status::kRequeuePending : Status::kDisarmed;
    if (clock_.cpu && interval_ns_ == 0) {
      cpu_expires_ns_ = 0;
    }
    queue_signal();
  }

  // The queue the timer's signal goes to, or nullptr when its thread is
  // gone (Linux then sends nothing).
  PendingSignals* target_queue(Task*& thread) {
    thread = nullptr;
    if (event_.notify != SIGEV_THREAD_ID) {
      return group_.finished() ? nullptr : &group_.shared_pending();
    }
    thread = live_thread_of(group_, event_.thread_id);
    if (thread == nullptr) {
      return nullptr;
    }
    return &thread->pending();
  }

  // Linux's posixtimer_send_sigqueue. A signal still queued from the last
  // expiry stays queued and now stands for this one.
  void queue_signal() {
    Task* thread = nullptr;
    PendingSignals* queue = target_queue(thread);
    if (queue == nullptr) {
      return;
    }
    queued_seq_ = signal_seq_;
    if (!signal_queued_ || !queue->has(event_.signal)) {
      siginfo_t info = timer_siginfo(id_, event_);
      size_t queued_before = queue->queued();
      if (thread != nullptr) {
        send_signal_to_task(*thread, info);
      } else {
        send_signal_to_group(group_, info);
      }
      signal_queued_ = queue->queued() > queued_before;
    }
    if (status_ == Status::kRequeuePending) {
      timer_.arm(monotonic_now() + kRequeueCheckPeriod);
    }
  }

  // Queues the signal of a periodic timer that waits for its dequeue again
  // when it was never queued or was discarded since.
  // NOTE: a pending signal of the same number from another sender counts
  // as this timer's. The timer queues its own once that one is gone.
  void check_queued_signal() {
    Task* thread = nullptr;
    PendingSignals* queue = target_queue(thread);
    if (queue == nullptr) {
      return;
    }
    if (signal_queued_ && !queue->has(event_.signal)) {
      signal_queued_ = false;
    }
    queue_signal();
  }

  // Linux's timer_rearm at delivery: common_hrtimer_rearm or
  // posix_cpu_timer_rearm.
  void rearm() {
    if (!clock_.cpu) {
      overrun_ += forward_expiry(wall_expires_ns_, monotonic_now_ns(), interval_ns_);
      timer_.arm(time_point_at(wall_expires_ns_));
      return;
    }
    std::optional<int64_t> now = read_cpu_clock(group_.kernel(), *clock_.cpu);
    if (!now) {
      timer_.cancel();
      return;
    }
    overrun_ += forward_expiry(cpu_expires_ns_, *now, interval_ns_);
    schedule_cpu_check(*now);
  }

  ThreadGroup& group_;
  int id_;
  TimerClock clock_;
  TimerEvent event_;
  uid_t owner_uid_;
  Status status_ = Status::kDisarmed;
  int64_t interval_ns_ = 0;
  int64_t wall_expires_ns_ = 0;  // monotonic
  int64_t cpu_expires_ns_ = 0;   // on the CPU clock; 0 when disarmed
  int64_t overrun_ = -1;
  int64_t overrun_last_ = 0;
  // signal_seq_ changes whenever the timer is set or deleted, and
  // queued_seq_ is its value when the signal was last queued: a mismatch
  // at dequeue means the signal is stale.
  uint64_t signal_seq_ = 0;
  uint64_t queued_seq_ = 0;
  bool signal_queued_ = false;
  Timer timer_;  // the expiry, the next CPU-clock check or the next queue check
};

// ---------------------------------------------------------------------------
// ProcessTimers

// ITIMER_REAL: an hrtimer in Linux, re-armed when SIGALRM is dequeued.
struct ProcessTimers::RealTimer {
  explicit RealTimer(Scheduler& scheduler, std::function<void()> callback)
      : timer(scheduler, std::move(callback)) {}

  Timer timer;
  int64_t expires_ns = 0;  // monotonic
  int64_t interval_ns = 0;
};

// ITIMER_VIRTUAL or ITIMER_PROF: a CPU-time expiry checked by polling.
struct ProcessTimers::CpuIntervalTimer {
  CpuIntervalTimer(Scheduler& scheduler, std::function<void()> callback, int signal,
                   CpuClockType type)
      : poll(scheduler, std::move(callback)), signal(signal), type(type) {}

  Timer poll;
  int signal;
  CpuClockType type;
  int64_t expires_ns = 0;  // on the process's clock; 0 when disarmed
  int64_t interval_ns = 0;
};

ProcessTimers::ProcessTimers(ThreadGroup& group) : group_(group) {
  Scheduler& scheduler = group.kernel().scheduler();
  real_ = std::make_unique<RealTimer>(scheduler, [this] { fire_real_timer(); });
  virtual_ = std::make_unique<CpuIntervalTimer>(
      scheduler, [this] { check_cpu_interval_timer(*virtual_); }, SIGVTALRM,
      CpuClockType::kVirtual);
  prof_ = std::make_unique<CpuIntervalTimer>(
      scheduler, [this] { check_cpu_interval_timer(*prof_); }, SIGPROF, CpuClockType::kProf);
}

ProcessTimers::~ProcessTimers() = default;

TimerSetting ProcessTimers::get_interval_timer(int which) {
  if (which == ITIMER_REAL) {
    // Linux's itimer_get_remtime: an expiry whose callback has not run yet
    // reads as one microsecond.
    TimerSetting result{.value_ns = 0, .interval_ns = real_->interval_ns};
    if (real_->timer.armed()) {
      int64_t remaining = real_->expires_ns - monotonic_now_ns();
      result.value_ns = remaining > 0 ? remaining : kNanosecondsPerMicrosecond;
    }
    return result;
  }

  // Linux's get_cpu_itimer: an expiry already reached reads as one tick.
  CpuIntervalTimer& timer = which == ITIMER_VIRTUAL ? *virtual_ : *prof_;
  TimerSetting result{.value_ns = timer.expires_ns, .interval_ns = timer.interval_ns};
  if (timer.expires_ns != 0) {
    CpuClock clock{.id = group_.tgid(), .per_thread = false, .type = timer.type};
    int64_t now = read_cpu_clock(group_.kernel(), clock).value_or(0);
    result.value_ns = timer.expires_ns < now ? host_tick_ns() : timer.expires_ns - now;
  }
  return result;
}

TimerSetting ProcessTimers::set_interval_timer(int which, const TimerSetting& setting) {
  if (which == ITIMER_REAL) {
    TimerSetting old = get_interval_timer(ITIMER_REAL);
    real_->timer.cancel();
    if (setting.value_ns != 0) {
      real_->interval_ns = setting.interval_ns;
      real_->expires_ns = saturating_add(monotonic_now_ns(), setting.value_ns);
      real_->timer.arm(time_point_at(real_->expires_ns));
    } else {
      real_->interval_ns = 0;
    }
    return old;
  }

  // Linux's set_cpu_itimer: a new expiry gets one tick added, and the old
  // one is reported relative to now, or as one tick when already reached.
  CpuIntervalTimer& timer = which == ITIMER_VIRTUAL ? *virtual_ : *prof_;
  int64_t old_value = timer.expires_ns;
  int64_t old_interval = timer.interval_ns;
  int64_t new_value = setting.value_ns;
  if (old_value != 0 || new_value != 0) {
    CpuClock clock{.id = group_.tgid(), .per_thread = false, .type = timer.type};
    int64_t now = read_cpu_clock(group_.kernel(), clock).value_or(0);
    if (old_value != 0) {
      old_value = old_value <= now ? host_tick_ns() : old_value - now;
    }
    if (new_value != 0) {
      new_value = saturating_add(saturating_add(new_value, host_tick_ns()), now);
    }
    timer.expires_ns = new_value;
    timer.interval_ns = setting.interval_ns;
    timer.poll.cancel();
    if (new_value != 0) {
      timer.poll.arm(next_cpu_check(clock, now, new_value));
    }
  } else {
    timer.interval_ns = setting.interval_ns;
  }
  return TimerSetting{.value_ns = old_value, .interval_ns = old_interval};
}

void ProcessTimers::fire_real_timer() {
  // Linux's it_real_fn: SIGALRM from the kernel; a periodic timer restarts
  // only when the signal is dequeued.
  send_signal_to_group(group_, kernel_siginfo(SIGALRM));
}

void ProcessTimers::check_cpu_interval_timer(CpuIntervalTimer& timer) {
  if (timer.expires_ns == 0 || group_.finished()) {
    return;
  }
  CpuClock clock{.id = group_.tgid(), .per_thread = false, .type = timer.type};
  std::optional<int64_t> now = read_cpu_clock(group_.kernel(), clock);
  if (!now) {
    return;
  }
  // Linux's check_cpu_itimer: one signal per check, the next expiry one
  // interval after the last, however far behind it is.
  if (*now >= timer.expires_ns) {
    timer.expires_ns = timer.interval_ns != 0 ? timer.expires_ns + timer.interval_ns : 0;
    send_signal_to_group(group_, kernel_siginfo(timer.signal));
  }
  if (timer.expires_ns != 0) {
    timer.poll.arm(next_cpu_check(clock, *now, timer.expires_ns));
  }
}

void ProcessTimers::watch_cpu_limit() {
  if (!cpu_limit_poll_) {
    cpu_limit_poll_ =
        std::make_unique<Timer>(group_.kernel().scheduler(), [this] { check_cpu_limit(); });
  }
  // The first check runs from the scheduler loop, not inside setrlimit or
  // clone, where the new process may have no task yet to take a signal.
  cpu_limit_poll_->arm(monotonic_now());
}

// Linux's RLIMIT_CPU check in check_process_timers, on the process's user
// plus system time. The hard limit sends SIGKILL. The soft limit sends
// SIGXCPU and moves one second on, so the next SIGXCPU comes a CPU second
// later.
void ProcessTimers::check_cpu_limit() {
  rlimit& limit = group_.limit(RLIMIT_CPU);
  if (limit.rlim_cur == RLIM_INFINITY || group_.finished()) {
    cpu_limit_poll_->cancel();
    return;
  }
  auto to_nanoseconds = [](rlim_t seconds) {
    return seconds >= static_cast<rlim_t>(kKtimeMax / kNanosecondsPerSecond)
               ? kKtimeMax
               : static_cast<int64_t>(seconds) * kNanosecondsPerSecond;
  };
  if (group_.tasks().empty()) {
    cpu_limit_poll_->arm(monotonic_now() + Duration(host_tick_ns()));
    return;
  }
  int64_t soft_ns = to_nanoseconds(limit.rlim_cur);
  CpuClock clock{.id = group_.tgid(), .per_thread = false, .type = CpuClockType::kProf};
  int64_t now = cpu_clock_value(process_cpu_times(group_), CpuClockType::kProf);

  if (limit.rlim_max != RLIM_INFINITY && now >= to_nanoseconds(limit.rlim_max)) {
    cpu_limit_poll_->cancel();
    send_signal_to_group(group_, kernel_siginfo(SIGKILL));
    return;
  }
  if (now >= soft_ns) {
    limit.rlim_cur += 1;
    soft_ns = saturating_add(soft_ns, kNanosecondsPerSecond);
    send_signal_to_group(group_, kernel_siginfo(SIGXCPU));
  }
  cpu_limit_poll_->arm(next_cpu_check(clock, now, soft_ns));
}

PosixTimer* ProcessTimers::find(int id) {
  auto it = posix_timers_.find(id);
  return it == posix_timers_.end() ? nullptr : it->second.get();
}

int ProcessTimers::allocate_id() {
  // Linux hands out increasing ids per process, wrapping at INT_MAX and
  // skipping ids in use.
  for (;;) {
    int id = next_id_;
    next_id_ = next_id_ == INT_MAX ? 0 : next_id_ + 1;
    if (posix_timers_.count(id) == 0) {
      return id;
    }
  }
}

size_t ProcessTimers::count_owned_by(uid_t uid) const {
  return static_cast<size_t>(
      std::count_if(posix_timers_.begin(), posix_timers_.end(),
                    [uid](const auto& entry) { return entry.second->owner_uid() == uid; }));
}

Result<int> ProcessTimers::create(Task& creator, clockid_t clock,
                                  const std::optional<TimerEvent>& event,
                                  const std::function<Result<void>(int id)>& publish_id) {
  TimerClockKind kind = TRY(timer_clock_kind(clock));

  // Each timer takes a signal queue entry, which Linux charges to the
  // creator's real uid against RLIMIT_SIGPENDING.
  // NOTE: only timers are counted; Linux also counts the signals of that
  // uid that are queued at the time.
  uid_t uid = creator.creds().real_uid;
  rlim_t limit = creator.thread_group().limit(RLIMIT_SIGPENDING).rlim_cur;
  if (limit != RLIM_INFINITY) {
    size_t used = 0;
    for (ThreadGroup* group : creator.kernel().thread_groups()) {
      if (group->has_timers()) {
        used += group->timers().count_owned_by(uid);
      }
    }
    if (used + 1 > limit) {
      return Errno{EAGAIN};
    }
  }

  // In posix_timer_add's uniqueness guarantee, an id is taken before any
  // later check can fail.
  int id = allocate_id();
  TimerEvent resolved_event{.notify = SIGEV_SIGNAL,
                            .signal = SIGALRM,
                            .value = static_cast<uint32_t>(id),
                            .thread_id = 0};
  if (event) {
    TRY(check_event(creator, *event));
    resolved_event = *event;
  }
  TRY(publish_id(id));

  TimerClock timer_clock;
  switch (kind) {
    case TimerClockKind::kWall:
      timer_clock.wall_base = clock;
      break;
    case TimerClockKind::kCpu:
      timer_clock.cpu = TRY(resolve_cpu_clock(creator, clock, CpuClockUse::kTimer));
      break;
    case TimerClockKind::kAlarm:
      if (!host_has_rtc()) {
        return Errno{EOPNOTSUPP};
      }
      if (!creator.creds().is_root()) {
        return Errno{EPERM};  // CAP_WAKE_ALARM
      }
      // NOTE: an alarm timer runs as a timer on its base clock, because
      // the sandbox never suspends the machine. It does not wake a
      // suspended host.
      timer_clock.wall_base = clock == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
      break;
  }

  posix_timers_.emplace(
      id, std::make_unique<PosixTimer>(group_, id, timer_clock, resolved_event, uid));
  return id;
}

Result<TimerSetting> ProcessTimers::set(int id, bool absolute, const TimerSetting& setting) {
  PosixTimer* timer = find(id);
  if (timer == nullptr) {
    return Errno{EINVAL};
  }
  return timer->set(absolute, setting);
}

Result<TimerSetting> ProcessTimers::get(int id) {
  PosixTimer* timer = find(id);
  if (timer == nullptr) {
    return Errno{EINVAL};
  }
  return timer->get();
}

Result<int> ProcessTimers::overrun(int id) {
  PosixTimer* timer = find(id);
  if (timer == nullptr) {
    return Errno{EINVAL};
  }
  return timer->overrun();
}

Result<void> ProcessTimers::remove(int id) {
  auto it = posix_timers_.find(id);
  if (it == posix_timers_.end()) {
    return Errno{EINVAL};
  }
  it->second->stop();
  if (it->second->signal_queued()) {
    stale_signal_ids_.insert(id);
  }
  posix_timers_.erase(it);
  return ok();
}

void ProcessTimers::delete_posix_timers() {
  for (auto& [id, timer] : posix_timers_) {
    timer->stop();
    if (timer->signal_queued()) {
      stale_signal_ids_.insert(id);
    }
  }
  posix_timers_.clear();
}

bool ProcessTimers::signal_dequeued(siginfo_t& info, bool from_process_queue) {
  // Linux's dequeue_signal: a SIGALRM taken from the process's queue
  // restarts a periodic ITIMER_REAL that is not running.
  if (info.si_signo == SIGALRM && from_process_queue && !real_->timer.armed() &&
      real_->interval_ns != 0) {
    forward_expiry(real_->expires_ns, monotonic_now_ns(), real_->interval_ns);
    real_->timer.arm(time_point_at(real_->expires_ns));
  }

  if (info.si_code != SI_TIMER) {
    return true;
  }
  int id = info.si_timerid;
  if (PosixTimer* timer = find(id)) {
    return timer->dequeued(info);
  }
  // A signal of a deleted timer is dropped; any other SI_TIMER signal was
  // queued by rt_sigqueueinfo and is delivered as it is.
  auto stale = stale_signal_ids_.find(id);
  if (stale != stale_signal_ids_.end()) {
    stale_signal_ids_.erase(stale);
    return false;
  }
  return true;
}

bool timer_signal_dequeued(Task& task, siginfo_t& info, bool from_process_queue) {
  ThreadGroup& group = task.thread_group();
  if (!group.has_timers()) {
    return true;
  }
  return group.timers().signal_dequeued(info, from_process_queue);
}

void cpu_limit_changed(ThreadGroup& group) {
  if (group.limit(RLIMIT_CPU).rlim_cur != RLIM_INFINITY) {
    group.timers().watch_cpu_limit();
  } else if (group.has_timers()) {
    group.timers().watch_cpu_limit();  // stops a running watch
  }
}

void delete_timers_for_exec(Task& task) {
  ThreadGroup& group = task.thread_group();
  if (group.has_timers()) {
    group.timers().delete_posix_timers();
  }
}

}  // namespace ward::kernel
