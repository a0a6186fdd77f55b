// Handlers of the timer and CPU-accounting syscalls: interval timers,
// POSIX timers, getrusage and times.
#pragma once

#include "syscalls/args.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

// Interval timers and POSIX timers (sys_timer.cc).
Result<int64_t> sys_alarm(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getitimer(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setitimer(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_timer_create(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_timer_settime(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_timer_gettime(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_timer_getoverrun(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_timer_delete(kernel::Task& task, const SyscallArgs& args);

// Resource usage (sys_usage.cc).
Result<int64_t> sys_getrusage(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_times(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
