// Handlers of the identity, capability, scheduling-attribute and prctl
// syscalls.
#pragma once

#include "syscalls/args.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

// User and group ids, supplementary groups and capabilities (sys_cred.cc).
Result<int64_t> sys_setuid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setgid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setreuid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setregid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setresuid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setresgid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setfsuid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setfsgid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setgroups(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_capget(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_capset(kernel::Task& task, const SyscallArgs& args);

// Scheduling policy, priority, CPU affinity and I/O priority
// (sys_sched.cc).
Result<int64_t> sys_sched_yield(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_getaffinity(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_setaffinity(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_getparam(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_setparam(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_getscheduler(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_setscheduler(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_get_priority_max(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_get_priority_min(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_rr_get_interval(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_getattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sched_setattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getpriority(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setpriority(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getcpu(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_ioprio_get(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_ioprio_set(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_personality(kernel::Task& task, const SyscallArgs& args);

// Process attributes (sys_prctl.cc).
Result<int64_t> sys_prctl(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
