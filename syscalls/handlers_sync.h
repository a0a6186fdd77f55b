// Handlers of the calls that flush, preallocate or advise on file data:
// fsync, fdatasync, sync, syncfs, sync_file_range, fallocate, readahead and
// fadvise64 (sys_sync.cc). Each has the table's Handler signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

Result<int64_t> sys_fsync(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fdatasync(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sync(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_syncfs(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sync_file_range(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fallocate(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_readahead(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fadvise64(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
