// Handlers of the POSIX message queue calls (sys_mqueue.cc). Each has the
// table's Handler signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

Result<int64_t> sys_mq_open(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mq_unlink(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mq_timedsend(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mq_timedreceive(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mq_notify(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mq_getsetattr(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
