// Handlers of timerfd (sys_timerfd.cc) and signalfd (sys_signalfd.cc).
// Each has the table's Handler signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

Result<int64_t> sys_timerfd_create(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_timerfd_settime(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_timerfd_gettime(kernel::Task& task, const SyscallArgs& args);

Result<int64_t> sys_signalfd(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_signalfd4(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
