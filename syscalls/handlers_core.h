// Handlers of the process, identity, system information, time, signal-state
// and futex syscalls.
#pragma once

#include "syscalls/args.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

// Process lifetime and identity (sys_process.cc).
Result<int64_t> sys_exit(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_exit_group(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_execve(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_execveat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getpid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_gettid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getppid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getuid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_geteuid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getgid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getegid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getresuid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getresgid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getgroups(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_umask(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_set_tid_address(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_set_robust_list(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_get_robust_list(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_arch_prctl(kernel::Task& task, const SyscallArgs& args);

// System information and limits (sys_info.cc).
Result<int64_t> sys_uname(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sysinfo(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getrandom(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getrlimit(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setrlimit(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_prlimit64(kernel::Task& task, const SyscallArgs& args);

// Clocks and sleeping (sys_time.cc).
Result<int64_t> sys_clock_gettime(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_clock_getres(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_clock_settime(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_gettimeofday(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_time(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_nanosleep(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_clock_nanosleep(kernel::Task& task, const SyscallArgs& args);

// Signal dispositions and masks (sys_signal.cc).
Result<int64_t> sys_rt_sigaction(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_rt_sigprocmask(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_rt_sigpending(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sigaltstack(kernel::Task& task, const SyscallArgs& args);

// Futexes (sys_futex.cc).
Result<int64_t> sys_futex(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_futex_waitv(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_futex_wake(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_futex_wait(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_futex_requeue(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
