// ThreadGroup: one guest process, the tasks that share its pid, and what
// belongs to the process rather than to a thread: its place in the process
// tree, its exit status, shared pending signals, job-control state, its
// executable and its resource limits.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sentry/kernel/clock.h"
#include "sentry/kernel/signals.h"
#include "sentry/kernel/wait_queue.h"

namespace ward::kernel {

class Kernel;
class ProcessHandle;
class ProcessTimers;
class Task;
class TaskAccounts;

// A state change of a child that wait(2) reports.
enum class ChildEvent { kNone, kStopped, kContinued };

class ThreadGroup {
 public:
  ThreadGroup(Kernel& kernel, pid_t tgid, std::shared_ptr<SignalHandlers> handlers);
  ~ThreadGroup();
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  pid_t tgid() const { return tgid_; }
  Kernel& kernel() { return kernel_; }

  const std::vector<Task*>& tasks() const { return tasks_; }
  void add_task(Task& task) { tasks_.push_back(&task); }
  // The task whose tid is the pid, while it lives.
  Task* leader() const;

  // Ends the whole process with a wait(2) status (exit code << 8, or the
  // signal number with the core bit): every task is asked to exit. The
  // first call decides the status.
  void begin_exit(int wait_status);
  bool exiting() const { return exit_status_.has_value(); }

  // Removes an exited task. When the last one goes, the process is over:
  // its timers end, and `wait_status` is its status unless begin_exit
  // already set one.
  void remove_task(Task& task, int wait_status);

  // Notified whenever a task of the group exits (execve waits here for the
  // other threads to go).
  WaitQueue& task_exits() { return task_exits_; }

  // True once every task has exited: the process is a zombie until its
  // parent reaps it.
  bool finished() const { return tasks_.empty() && exit_status_.has_value(); }
  std::optional<int> exit_status() const { return exit_status_; }

  // The path of the running executable, as /proc/pid/exe shows it.
  const std::string& exe_path() const { return exe_path_; }
  void set_exe_path(std::string path) { exe_path_ = std::move(path); }

  // Resource limits, indexed by RLIMIT_*.
  rlimit& limit(int resource) { return limits_[static_cast<size_t>(resource)]; }
  const rlimit& limit(int resource) const { return limits_[static_cast<size_t>(resource)]; }
  // Sets every limit, as a new process inherits them; a finite
  // RLIMIT_CPU starts being watched.
  void set_limits(const std::array<rlimit, RLIM_NLIMITS>& limits);
  const std::array<rlimit, RLIM_NLIMITS>& limits() const { return limits_; }

  TimePoint start_time() const { return start_time_; }

  // /proc/pid/oom_score_adj, and the lowest value a writer without
  // CAP_SYS_RESOURCE may set (Linux's signal->oom_score_adj_min). Both are
  // inherited at fork. ward has no OOM killer of its own: the values are
  // the guest's record, as Linux reports them.
  int oom_score_adj() const { return oom_score_adj_; }
  int oom_score_adj_min() const { return oom_score_adj_min_; }
  void set_oom_score_adj(int adj, int adj_min) {
    oom_score_adj_ = adj;
    oom_score_adj_min_ = adj_min;
  }

  // Signal dispositions, shared with every process made with CLONE_SIGHAND.
  SignalHandlers& signal_handlers() { return *handlers_; }
  const SignalHandlers& signal_handlers() const { return *handlers_; }
  const std::shared_ptr<SignalHandlers>& signal_handlers_ref() const { return handlers_; }
  void set_signal_handlers(std::shared_ptr<SignalHandlers> handlers) {
    handlers_ = std::move(handlers);
  }

  // Process-directed signals waiting for a task that does not block them.
  PendingSignals& shared_pending() { return shared_pending_; }

  // The queue that signalfd readers and pollers wait on, as on Linux's
  // sighand->signalfd_wqh. It is notified with POLLIN whenever a signal is
  // queued for the process or one of its threads.
  WaitQueue& signalfd_queue() { return signalfd_queue_; }

  // The process tree. The parent is nullptr for the sandbox's first
  // process, whose parent is outside the sandbox.
  ThreadGroup* parent() const { return parent_; }
  void set_parent(ThreadGroup* parent) { parent_ = parent; }
  const std::vector<ThreadGroup*>& children() const { return children_; }
  void add_child(ThreadGroup& child) { children_.push_back(&child); }
  void remove_child(ThreadGroup& child);

  // The signal sent to the parent when this process ends (clone's low
  // byte), or 0 for none.
  int exit_signal() const { return exit_signal_; }
  void set_exit_signal(int signal) { exit_signal_ = signal; }

  // Notified whenever a child exits, stops or continues; wait(2) sleeps
  // here.
  WaitQueue& child_events() { return child_events_; }

  // Process group and session ids.
  pid_t pgid() const { return pgid_; }
  pid_t sid() const { return sid_; }
  void set_pgid(pid_t pgid) { pgid_ = pgid; }
  void set_sid(pid_t sid) { sid_ = sid; }

  // Whether the process has run execve, after which its parent may no
  // longer change its process group (setpgid's EACCES).
  bool has_execed() const { return has_execed_; }
  void set_has_execed() { has_execed_ = true; }

  // Group stop. `stop_signal` is the signal that stopped the group; the
  // tasks park on continue_queue() until SIGCONT or SIGKILL.
  bool stopped() const { return stop_signal_ != 0; }
  int stop_signal() const { return stop_signal_; }
  void set_stopped(int signal) { stop_signal_ = signal; }
  WaitQueue& continue_queue() { return continue_queue_; }

  // A stop or continue not yet reported to the parent's wait(2).
  ChildEvent unreported_event() const { return unreported_event_; }
  void set_unreported_event(ChildEvent event) { unreported_event_ = event; }

  // PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented here.
  bool child_subreaper() const { return child_subreaper_; }
  void set_child_subreaper(bool value) { child_subreaper_ = value; }

  // CPU time of exited tasks and of reaped children, in nanoseconds, for
  // getrusage and times.
  struct CpuTimes {
    int64_t user_ns = 0;
    int64_t system_ns = 0;
  };
  CpuTimes& exited_tasks_time() { return exited_tasks_time_; }
  CpuTimes& reaped_children_time() { return reaped_children_time_; }
  const CpuTimes& exited_tasks_time() const { return exited_tasks_time_; }
  const CpuTimes& reaped_children_time() const { return reaped_children_time_; }

  // The rest of getrusage's counters, for the same two sets of tasks.
  // max_rss_kb is a maximum, the others are sums.
  struct UsageCounters {
    int64_t minor_faults = 0;
    int64_t major_faults = 0;
    int64_t voluntary_switches = 0;
    int64_t involuntary_switches = 0;
    int64_t max_rss_kb = 0;
  };
  UsageCounters& exited_tasks_usage() { return exited_tasks_usage_; }
  UsageCounters& reaped_children_usage() { return reaped_children_usage_; }
  const UsageCounters& exited_tasks_usage() const { return exited_tasks_usage_; }
  const UsageCounters& reaped_children_usage() const { return reaped_children_usage_; }

  // The accounting state of the live tasks (cpu_usage.h), made on first
  // use.
  TaskAccounts& task_accounts();

  // The interval timers and POSIX timers (timers.h), made on first use.
  // They end when the last task exits.
  ProcessTimers& timers();
  bool has_timers() const { return timers_ != nullptr; }

  // What pidfds of this process hold, made on first use.
  std::shared_ptr<ProcessHandle> handle();
  // The handle when one was made, for the kernel to tell it about exit and
  // reaping.
  ProcessHandle* existing_handle() const { return handle_.get(); }

 private:
  Kernel& kernel_;
  pid_t tgid_;
  std::vector<Task*> tasks_;
  std::optional<int> exit_status_;
  std::string exe_path_;
  std::array<rlimit, RLIM_NLIMITS> limits_{};
  TimePoint start_time_;
  std::shared_ptr<SignalHandlers> handlers_;
  PendingSignals shared_pending_;
  WaitQueue signalfd_queue_;
  ThreadGroup* parent_ = nullptr;
  std::vector<ThreadGroup*> children_;
  int exit_signal_ = SIGCHLD;
  WaitQueue child_events_;
  WaitQueue task_exits_;
  int oom_score_adj_ = 0;
  int oom_score_adj_min_ = 0;
  pid_t pgid_ = 0;
  pid_t sid_ = 0;
  bool has_execed_ = false;
  int stop_signal_ = 0;
  WaitQueue continue_queue_;
  ChildEvent unreported_event_ = ChildEvent::kNone;
  bool child_subreaper_ = false;
  CpuTimes exited_tasks_time_;
  CpuTimes reaped_children_time_;
  UsageCounters exited_tasks_usage_;
  UsageCounters reaped_children_usage_;
  std::unique_ptr<TaskAccounts> task_accounts_;
  std::unique_ptr<ProcessTimers> timers_;
  std::shared_ptr<ProcessHandle> handle_;
};

// Whether the process group `pgid` is orphaned: no living member has a
// parent in another group of the same session, so no shell can continue it
// after a stop. A parent outside the sandbox counts as another session. Like
// a pid namespace's init, the sandbox's first process is an ordinary parent
// here.
bool is_orphaned_process_group(Kernel& kernel, pid_t pgid);

// The wait(2) status of an exit with `code` and of a death by `signal`.
constexpr int exit_wait_status(int code) { return (code & 0xff) << 8; }
int signal_wait_status(int signal);

}  // namespace ward::kernel
