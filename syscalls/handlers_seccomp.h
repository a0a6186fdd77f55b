// seccomp(2), the prctl options PR_SET_SECCOMP and PR_GET_SECCOMP, and the
// check of every guest syscall against the caller's seccomp mode.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "syscalls/args.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

// sys_seccomp.cc
Result<int64_t> sys_seccomp(kernel::Task& task, const SyscallArgs& args);

// prctl(PR_SET_SECCOMP, mode, filter) and prctl(PR_GET_SECCOMP); `args`
// are prctl's own.
Result<int64_t> prctl_set_seccomp(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> prctl_get_seccomp(kernel::Task& task, const SyscallArgs& args);

// A syscall that the task's seccomp mode stopped from running.
struct SeccompDenial {
  // The value the guest gets in rax (-errno for RET_ERRNO), or nullopt
  // when the task gets a signal or dies instead of a result.
  std::optional<int64_t> result;
  // The action or mode that stopped it, for --strace.
  std::string_view reason;
};

// Applies the task's seccomp mode to the syscall in `args` before it runs,
// as Linux's __secure_computing does. Returns nullopt when the call may
// run. Otherwise it has already set rax, forced a SIGSYS or ended the
// thread or process, and returns what it did. Call it only for a task
// whose mode is not kDisabled.
std::optional<SeccompDenial> check_seccomp(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
