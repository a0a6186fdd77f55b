// Handlers of the process-lifecycle and signal syscalls.
#pragma once

#include "syscalls/args.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

// sys_clone.cc
Result<int64_t> sys_clone(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_clone3(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fork(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_vfork(kernel::Task& task, const SyscallArgs& args);

// sys_wait.cc
Result<int64_t> sys_wait4(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_waitid(kernel::Task& task, const SyscallArgs& args);

// sys_pidfd.cc
Result<int64_t> sys_pidfd_open(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_pidfd_send_signal(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_pidfd_getfd(kernel::Task& task, const SyscallArgs& args);

// sys_kill.cc
Result<int64_t> sys_kill(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_tkill(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_tgkill(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_rt_sigqueueinfo(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_rt_tgsigqueueinfo(kernel::Task& task, const SyscallArgs& args);

// sys_signal_wait.cc
Result<int64_t> sys_rt_sigreturn(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_rt_sigsuspend(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_rt_sigtimedwait(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_pause(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_restart_syscall(kernel::Task& task, const SyscallArgs& args);

// sys_process_group.cc
Result<int64_t> sys_setpgid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getpgid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getpgrp(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setsid(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getsid(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
