// Handlers of the calls that wait for readiness of many files at once:
// poll, ppoll, select and pselect6 (sys_poll.cc). Each has the table's
// Handler signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

Result<int64_t> sys_poll(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_ppoll(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_select(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_pselect6(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
