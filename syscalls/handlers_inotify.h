// Handlers of inotify (sys_inotify.cc). Each has the table's Handler
// signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

Result<int64_t> sys_inotify_init(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_inotify_init1(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_inotify_add_watch(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_inotify_rm_watch(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
