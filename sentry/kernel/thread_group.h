// ThreadGroup: one guest process, the tasks that share its pid, and what
// belongs to the process rather than to a thread: its exit status, its
// executable and its resource limits.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "sentry/kernel/clock.h"
#include "sentry/kernel/signals.h"

namespace ward::kernel {

class Kernel;
class Task;

class ThreadGroup {
 public:
  ThreadGroup(Kernel& kernel, pid_t tgid);
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  pid_t tgid() const { return tgid_; }
  Kernel& kernel() { return kernel_; }

  const std::vector<Task*>& tasks() const { return tasks_; }
  void add_task(Task& task) { tasks_.push_back(&task); }

  // Ends the whole process with a wait(2) status (exit code << 8, or the
  // signal number with the core bit): every task is asked to exit. The
  // first call decides the status.
  void begin_exit(int wait_status);
  bool exiting() const { return exit_status_.has_value(); }

  // Removes an exited task. When the last one goes, the process is over;
  // `wait_status` is its status unless begin_exit already set one.
  void remove_task(Task& task, int wait_status);

  // The wait(2) status once every task has exited.
  bool finished() const { return tasks_.empty() && exit_status_.has_value(); }
  std::optional<int> exit_status() const { return exit_status_; }

  // The path of the running executable, as /proc/pid/exe shows it.
  const std::string& exe_path() const { return exe_path_; }
  void set_exe_path(std::string path) { exe_path_ = std::move(path); }

  // Resource limits, indexed by RLIMIT_*.
  rlimit& limit(int resource) { return limits_[static_cast<size_t>(resource)]; }
  const rlimit& limit(int resource) const { return limits_[static_cast<size_t>(resource)]; }
  void set_limits(const std::array<rlimit, RLIM_NLIMITS>& limits) { limits_ = limits; }
  const std::array<rlimit, RLIM_NLIMITS>& limits() const { return limits_; }

  TimePoint start_time() const { return start_time_; }

  // Signal dispositions, shared by the group's tasks.
  SignalHandlers& signal_handlers() { return signal_handlers_; }

  // The parent process, or nullptr for the sandbox's first process, whose
  // parent is outside the sandbox.
  ThreadGroup* parent() const { return parent_; }
  void set_parent(ThreadGroup* parent) { parent_ = parent; }

 private:
  Kernel& kernel_;
  pid_t tgid_;
  std::vector<Task*> tasks_;
  std::optional<int> exit_status_;
  std::string exe_path_;
  std::array<rlimit, RLIM_NLIMITS> limits_{};
  TimePoint start_time_;
  SignalHandlers signal_handlers_{};
  ThreadGroup* parent_ = nullptr;
};

// The wait(2) status of an exit with `code` and of a death by `signal`.
constexpr int exit_wait_status(int code) { return (code & 0xff) << 8; }
int signal_wait_status(int signal);

}  // namespace ward::kernel
