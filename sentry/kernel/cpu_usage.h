// CPU time and resource usage of guest threads and processes. A guest
// thread runs as one host thread of a stub process, so its usage is the
// host's accounting of that thread, read from the host's /proc: schedstat
// gives its exact runtime, stat its user and system ticks and page faults,
// status its context switches. The user and system split of the runtime
// follows Linux's cputime_adjust.
//
// A process's usage is the sum over its live tasks plus what its exited
// tasks used. A task that runs execve moves to a new host thread; the old
// thread's usage is carried over, so a thread's clock keeps counting as
// Linux's does.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>

#include "sentry/kernel/thread_group.h"

namespace ward::kernel {

class Task;

using CpuTimes = ThreadGroup::CpuTimes;
using UsageCounters = ThreadGroup::UsageCounters;

// Linux's CPU clock types, the low two bits of a CPU clock id:
// CPUCLOCK_PROF (user plus system time), CPUCLOCK_VIRT (user time) and
// CPUCLOCK_SCHED (the scheduler's runtime).
enum class CpuClockType { kProf = 0, kVirtual = 1, kSched = 2 };

// The value of a clock of `type` for these times, in nanoseconds. PROF and
// SCHED are the same here, because the split always adds up to the runtime.
int64_t cpu_clock_value(const CpuTimes& times, CpuClockType type);

// One reading of a host thread's counters.
struct HostThreadSample {
  int64_t runtime_ns = 0;
  int64_t user_ticks = 0;  // USER_HZ ticks, as /proc/pid/stat counts them
  int64_t system_ticks = 0;
  int64_t minor_faults = 0;
  int64_t major_faults = 0;
};

// The accounting state of a process's live tasks, keyed by tid.
class TaskAccounts {
 public:
  struct Account {
    // The host thread the task ran on when it was last read; a change
    // means an execve moved the task to a new host thread.
    pid_t host_pid = 0;
    pid_t host_tid = 0;
    HostThreadSample last_sample;
    // The last user and system split reported for this host thread.
    // Later splits never go below it, so that both clocks are monotonic.
    CpuTimes last_split;
    // The usage of the task's earlier host threads.
    CpuTimes carried_time;
    UsageCounters carried_counters;
  };

  Account& get(pid_t tid) { return accounts_[tid]; }
  void erase(pid_t tid) { accounts_.erase(tid); }

  // Moves the account of `from` to `to`, replacing any account there.
  void rename(pid_t from, pid_t to) {
    auto entry = accounts_.extract(from);
    if (entry.empty()) {
      return;
    }
    accounts_.erase(to);
    entry.key() = to;
    accounts_.insert(std::move(entry));
  }

  // Drops the accounts of tids for which `is_live` is false.
  template <typename Predicate>
  void erase_unless(Predicate is_live) {
    std::erase_if(accounts_, [&](const auto& entry) { return !is_live(entry.first); });
  }

 private:
  std::map<pid_t, Account> accounts_;
};

// CPU time of one task, its earlier host threads included.
CpuTimes task_cpu_times(Task& task);

// CPU time of a process: its live tasks and those that exited.
CpuTimes process_cpu_times(ThreadGroup& group);

// The usage getrusage reports for a set of tasks.
struct Usage {
  CpuTimes time;
  UsageCounters counters;
};

// getrusage's RUSAGE_THREAD, RUSAGE_SELF and RUSAGE_CHILDREN views, and
// RUSAGE_BOTH (the process and its reaped children), which wait4 and
// waitid report for a child.
Usage thread_usage(Task& task);
Usage process_usage(ThreadGroup& group);
Usage children_usage(const ThreadGroup& group);
Usage process_and_children_usage(ThreadGroup& group);

// A struct rusage for `usage`; the fields Linux leaves at zero stay zero.
struct rusage to_rusage(const Usage& usage);

// The rusage that wait4 and waitid report for `child`: its own usage and
// that of the children it reaped.
struct rusage child_rusage(ThreadGroup& child);

// Adds what `task` used to its process's exited-task totals. Called as the
// task exits, while its host thread still exists.
void account_task_exit(Task& task);

// Carries what `task`'s current host thread used over to the thread it
// gets from execve. Called just before the new image replaces the old
// one, while the old host thread still exists. `tid_before_exec` is the
// task's tid before execve, which differs when a non-leader ran execve.
void account_exec(Task& task, pid_t tid_before_exec);

// Adds a reaped child's usage and its own children's to `parent`'s
// children totals, as wait(2) does in Linux when it collects a zombie.
void account_reaped_child(ThreadGroup& parent, const ThreadGroup& child);

// The host's scheduler tick (TICK_NSEC), which Linux adds to CPU interval
// timers and uses as the granularity of CPU-time checks.
int64_t host_tick_ns();

// How many CPUs the host lets the stubs run on: the fastest rate, in CPU
// seconds per second, at which a process's CPU time can grow.
int host_cpu_count();

}  // namespace ward::kernel
