#include "sentry/kernel/thread_group.h"

#include <signal.h>

#include <algorithm>

#include "sentry/kernel/cpu_usage.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/process_handle.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timers.h"

namespace ward::kernel {

ThreadGroup::ThreadGroup(Kernel& kernel, pid_t tgid, std::shared_ptr<SignalHandlers> handlers)
    : kernel_(kernel),
      tgid_(tgid),
      start_time_(monotonic_now()),
      handlers_(std::move(handlers)),
      pgid_(tgid),
      sid_(tgid) {}

ThreadGroup::~ThreadGroup() {
  if (handle_) {
    handle_->mark_reaped();
  }
}

std::shared_ptr<ProcessHandle> ThreadGroup::handle() {
  if (!handle_) {
    handle_ = std::make_shared<ProcessHandle>(*this);
  }
  return handle_;
}

Task* ThreadGroup::leader() const {
  for (Task* task : tasks_) {
    if (task->tid() == tgid_) {
      return task;
    }
  }
  return nullptr;
}

void ThreadGroup::begin_exit(int wait_status) {
  if (exit_status_) {
    return;
  }
  exit_status_ = wait_status;
  // A stopped group must wake to die.
  stop_signal_ = 0;
  continue_queue_.notify();
  for (Task* task : tasks_) {
    task->request_exit();
  }
}

void ThreadGroup::remove_task(Task& task, int wait_status) {
  tasks_.erase(std::remove(tasks_.begin(), tasks_.end(), &task), tasks_.end());
  if (tasks_.empty() && !exit_status_) {
    exit_status_ = wait_status;
  }
  if (tasks_.empty()) {
    // Linux deletes a process's timers when its last thread exits.
    timers_.reset();
  }
  task_exits_.notify();
}

void ThreadGroup::set_limits(const std::array<rlimit, RLIM_NLIMITS>& limits) {
  limits_ = limits;
  cpu_limit_changed(*this);
}

TaskAccounts& ThreadGroup::task_accounts() {
  if (!task_accounts_) {
    task_accounts_ = std::make_unique<TaskAccounts>();
  }
  return *task_accounts_;
}

ProcessTimers& ThreadGroup::timers() {
  if (!timers_) {
    timers_ = std::make_unique<ProcessTimers>(*this);
  }
  return *timers_;
}

void ThreadGroup::remove_child(ThreadGroup& child) {
  children_.erase(std::remove(children_.begin(), children_.end(), &child), children_.end());
}

bool is_orphaned_process_group(Kernel& kernel, pid_t pgid) {
  for (ThreadGroup* member : kernel.thread_groups()) {
    if (member->pgid() != pgid || member->finished()) {
      continue;
    }
    const ThreadGroup* parent = member->parent();
    if (parent != nullptr && parent->pgid() != pgid && parent->sid() == member->sid()) {
      return false;
    }
  }
  return true;
}

int signal_wait_status(int signal) {
  // Linux sets WCOREFLAG (0x80) only once it has written a core file, which
  // it skips under RLIMIT_CORE 0 or an unwritable directory.
  // NOTE: ward writes no core files, so the core bit stays clear and wait
  // reports CLD_KILLED, never CLD_DUMPED, for the core-dumping signals too.
  return signal;
}

}  // namespace ward::kernel
