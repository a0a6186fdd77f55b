#include "syscalls/gaps.h"

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace ward::syscalls {

void record_gap(kernel::Task& task, std::string_view detail) {
  std::string_view syscall = task.syscall_name();
  const std::string& program = task.thread_group().exe_path();
  if (task.kernel().gaps().record(syscall, detail, program)) {
    task.log(spdlog::level::warn, "unsupported: {}", detail);
  }
}

}  // namespace ward::syscalls
