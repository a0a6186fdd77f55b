// Handlers of epoll (sys_epoll.cc) and eventfd (sys_eventfd.cc). Each has
// the table's Handler signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

Result<int64_t> sys_epoll_create(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_epoll_create1(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_epoll_ctl(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_epoll_wait(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_epoll_pwait(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_epoll_pwait2(kernel::Task& task, const SyscallArgs& args);

Result<int64_t> sys_eventfd(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_eventfd2(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
