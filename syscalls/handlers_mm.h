// Handlers of the memory syscalls.
#pragma once

#include "syscalls/args.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

Result<int64_t> sys_mmap(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_munmap(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mprotect(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mremap(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_brk(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_madvise(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_msync(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mincore(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
