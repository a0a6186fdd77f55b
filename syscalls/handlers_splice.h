// Handlers of the calls that copy between files inside the kernel:
// sendfile, splice, tee, vmsplice and copy_file_range. Each has the
// table's Handler signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

// sys_splice.cc: transfers with a pipe on one or both ends.
Result<int64_t> sys_splice(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_tee(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_vmsplice(kernel::Task& task, const SyscallArgs& args);

// sys_copy.cc: file to file (or pipe) copies.
Result<int64_t> sys_sendfile(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_copy_file_range(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
