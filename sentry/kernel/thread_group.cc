#include "sentry/kernel/thread_group.h"

#include <signal.h>

#include <algorithm>

#include "sentry/kernel/task.h"

namespace ward::kernel {

ThreadGroup::ThreadGroup(Kernel& kernel, pid_t tgid)
    : kernel_(kernel), tgid_(tgid), start_time_(monotonic_now()) {}

void ThreadGroup::begin_exit(int wait_status) {
  if (exit_status_) {
    return;
  }
  exit_status_ = wait_status;
  for (Task* task : tasks_) {
    task->request_exit();
  }
}

void ThreadGroup::remove_task(Task& task, int wait_status) {
  tasks_.erase(std::remove(tasks_.begin(), tasks_.end(), &task), tasks_.end());
  if (tasks_.empty() && !exit_status_) {
    exit_status_ = wait_status;
  }
}

int signal_wait_status(int signal) {
  // Signals whose default action dumps core set WCOREFLAG; ward writes no
  // core file, but the status says what Linux's would.
  switch (signal) {
    case SIGQUIT:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
    case SIGBUS:
    case SIGFPE:
    case SIGSEGV:
    case SIGXCPU:
    case SIGXFSZ:
    case SIGSYS:
      return signal | 0x80;
    default:
      return signal;
  }
}

}  // namespace ward::kernel
