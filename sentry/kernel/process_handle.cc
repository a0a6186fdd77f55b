#include "sentry/kernel/process_handle.h"

#include "sentry/kernel/thread_group.h"

namespace ward::kernel {

ProcessHandle::ProcessHandle(ThreadGroup& group)
    : group_(&group), pid_(group.tgid()), exited_(group.finished()) {}

uint32_t ProcessHandle::readiness() const {
  if (group_ == nullptr) {
    return POLLIN | POLLRDNORM | POLLHUP;
  }
  return exited_ ? POLLIN | POLLRDNORM : 0;
}

void ProcessHandle::mark_exited() {
  exited_ = true;
  queue_.notify();
}

void ProcessHandle::mark_reaped() {
  exited_ = true;
  group_ = nullptr;
  queue_.notify();
}

}  // namespace ward::kernel
