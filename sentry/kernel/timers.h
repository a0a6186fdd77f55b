// The timers of a process: the interval timers of setitimer and alarm
// (ITIMER_REAL on the wall clock, ITIMER_VIRTUAL and ITIMER_PROF on the
// process's CPU time) and the POSIX timers of timer_create. They follow
// Linux's kernel/time/itimer.c, posix-timers.c and posix-cpu-timers.c.
//
// Wall-clock timers are scheduler Timers at a monotonic deadline. CPU-time
// timers poll the CPU clock they watch: a process's CPU time grows by at
// most one second per CPU per second, so after reading it the next check is
// due when the clock could first have reached the expiry, and never sooner
// than one host tick, which is also how often Linux checks CPU timers.
//
// As in Linux, a periodic POSIX timer and a periodic ITIMER_REAL are re-armed
// when their signal is dequeued, not when they expire, so a timer whose
// signal stays blocked counts overruns instead of queueing more signals.
// Signal delivery reports every dequeued signal through
// timer_signal_dequeued() for that.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "sentry/kernel/clock.h"
#include "sentry/kernel/cpu_usage.h"
#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::kernel {

class Kernel;
class Task;
class ThreadGroup;
class Timer;

// it_value and it_interval, in nanoseconds.
struct TimerSetting {
  int64_t value_ns = 0;
  int64_t interval_ns = 0;
};

// A CPU-time clock of one process or one thread.
struct CpuClock {
  pid_t id = 0;  // the tgid or tid in the sandbox
  bool per_thread = false;
  CpuClockType type = CpuClockType::kSched;
};

// Whether `clock` is a CPU-time clock id: CLOCK_PROCESS_CPUTIME_ID,
// CLOCK_THREAD_CPUTIME_ID or one that clock_getcpuclockid encodes (a
// negative id whose low three bits are not those of a clock fd).
bool is_cpu_clock_id(clockid_t clock);

// The purpose a CPU-time clock id is resolved for: kRead for clock_gettime
// and clock_getres, kTimer for a timer, a sleep or clock_settime.
enum class CpuClockUse { kRead, kTimer };

// Resolves a CPU-time clock id for `task`, as Linux's pid_for_clock does.
// Pid 0 is the caller's own process or thread. Another pid must name a
// process, and for kRead the caller's own tid also names its process. A
// per-thread clock must name a thread of the caller's process. Any other
// id is EINVAL.
Result<CpuClock> resolve_cpu_clock(Task& task, clockid_t clock, CpuClockUse use);

// The clock's value in nanoseconds, or nullopt when its process or thread
// is gone.
std::optional<int64_t> read_cpu_clock(Kernel& kernel, const CpuClock& clock);

// clock_nanosleep on a CPU-time clock, once `request` has been copied in
// and checked: EINVAL for the caller's own thread clock or a clock of no
// process, ESRCH when its process is gone. An interrupted relative sleep
// stores the time left in `remaining` (unless null) and returns
// ERESTART_RESTARTBLOCK with a restart that goes on to the same expiry. An
// interrupted absolute sleep returns ERESTARTNOHAND.
Result<void> cpu_clock_nanosleep(Task& task, clockid_t clock, bool absolute,
                                 const timespec& request, GuestAddr remaining);

// Whether the host has a real-time clock that can wake it, which Linux's
// alarm clocks need for timers and sleeps (alarmtimer_get_rtcdev).
bool host_has_rtc();

// The notification of a POSIX timer's expiry (struct sigevent).
struct TimerEvent {
  int notify = SIGEV_SIGNAL;  // SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD or SIGEV_THREAD_ID
  int signal = SIGALRM;
  uint64_t value = 0;  // sigev_value, as si_value carries it
  pid_t thread_id = 0;  // the target thread of SIGEV_THREAD_ID
};

class PosixTimer;

class ProcessTimers {
 public:
  explicit ProcessTimers(ThreadGroup& group);
  ~ProcessTimers();
  ProcessTimers(const ProcessTimers&) = delete;
  ProcessTimers& operator=(const ProcessTimers&) = delete;

  // getitimer and setitimer; `which` is ITIMER_REAL, ITIMER_VIRTUAL or
  // ITIMER_PROF. set_interval_timer returns the old setting.
  TimerSetting get_interval_timer(int which);
  TimerSetting set_interval_timer(int which, const TimerSetting& setting);

  // timer_create, with Linux's checks in Linux's order:
  //   1. the clock: EINVAL, or EOPNOTSUPP for a clock without timers;
  //   2. the RLIMIT_SIGPENDING limit: EAGAIN;
  //   3. an id is taken, then the event is checked: EINVAL;
  //   4. `publish_id` copies the id out, and its error is returned;
  //   5. the clock's own checks: EINVAL for a CPU clock of no process,
  //      EPERM or EOPNOTSUPP for an alarm clock.
  // A failure after step 3 uses the id up, as in Linux. `event` is nullopt
  // for a NULL sigevent.
  Result<int> create(Task& creator, clockid_t clock, const std::optional<TimerEvent>& event,
                     const std::function<Result<void>(int id)>& publish_id);

  // timer_settime: EINVAL for an unknown id, ESRCH when the process or
  // thread of a CPU-time timer is gone. Returns the old setting.
  Result<TimerSetting> set(int id, bool absolute, const TimerSetting& setting);

  // timer_gettime, timer_getoverrun and timer_delete; EINVAL for an
  // unknown id.
  Result<TimerSetting> get(int id);
  Result<int> overrun(int id);
  Result<void> remove(int id);

  // Starts or moves the watch of RLIMIT_CPU after its soft limit was set
  // to a finite value.
  void watch_cpu_limit();

  // Deletes every POSIX timer, as execve does; the interval timers stay.
  void delete_posix_timers();

  // The number of POSIX timers created by processes of real uid `uid`.
  size_t count_owned_by(uid_t uid) const;

  // Called for each signal a task of this process dequeues: re-arms the
  // timer that sent it and fills in si_overrun. Returns false when the
  // signal comes from a timer changed or deleted since it was queued, which
  // Linux drops.
  bool signal_dequeued(siginfo_t& info, bool from_process_queue);

 private:
  struct RealTimer;
  struct CpuIntervalTimer;

  PosixTimer* find(int id);
  int allocate_id();
  void fire_real_timer();
  void check_cpu_interval_timer(CpuIntervalTimer& timer);
  void check_cpu_limit();

  ThreadGroup& group_;
  std::unique_ptr<RealTimer> real_;
  std::unique_ptr<CpuIntervalTimer> virtual_;
  std::unique_ptr<CpuIntervalTimer> prof_;
  std::unique_ptr<Timer> cpu_limit_poll_;  // made when RLIMIT_CPU is first finite
  std::map<int, std::unique_ptr<PosixTimer>> posix_timers_;
  int next_id_ = 0;
  // Ids of deleted timers whose signal may still be queued; Linux drops
  // such a signal when it is dequeued.
  std::multiset<int> stale_signal_ids_;
};

// Reports a dequeued signal to the timers of `task`'s process; see
// ProcessTimers::signal_dequeued. `from_process_queue` is true when it
// came from the process's shared queue, not the thread's own. Returns
// false when the caller must drop the signal and take the next one.
bool timer_signal_dequeued(Task& task, siginfo_t& info, bool from_process_queue);

// Starts or stops the watch of `group`'s RLIMIT_CPU, after setrlimit,
// prlimit or a new process's inherited limits may have changed it. With a
// finite soft limit the process gets SIGXCPU when its CPU time reaches it
// and each CPU second after that. It gets SIGKILL at the hard limit.
void cpu_limit_changed(ThreadGroup& group);

// Deletes the POSIX timers of `task`'s process, as execve does.
void delete_timers_for_exec(Task& task);

}  // namespace ward::kernel
