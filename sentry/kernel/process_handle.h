// ProcessHandle: a process as a pidfd refers to it. It names the process
// itself rather than its pid number, so that after the process is reaped
// the handle says so instead of coming to mean a later process that
// reuses the pid.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstdint>

#include "sentry/kernel/wait_queue.h"

namespace ward::kernel {

class ThreadGroup;

class ProcessHandle {
 public:
  explicit ProcessHandle(ThreadGroup& group);
  ProcessHandle(const ProcessHandle&) = delete;
  ProcessHandle& operator=(const ProcessHandle&) = delete;

  // The process, or null once it has been reaped.
  ThreadGroup* group() const { return group_; }

  // The pid the process has, or had.
  pid_t pid() const { return pid_; }

  // The poll(2) events of a pidfd: POLLIN once every thread has exited
  // (the process is a zombie), with POLLHUP once it has been reaped.
  uint32_t readiness() const;

  // Notified when the process exits and when it is reaped.
  WaitQueue& queue() { return queue_; }

  // Called by the kernel when the last thread has exited.
  void mark_exited();

  // Called by the kernel when the process's status has been collected.
  void mark_reaped();

 private:
  ThreadGroup* group_;
  pid_t pid_;
  bool exited_ = false;
  WaitQueue queue_;
};

}  // namespace ward::kernel
