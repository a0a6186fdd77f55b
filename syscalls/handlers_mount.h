// Handlers of mount, umount2 and chroot (sys_mount.cc) and unshare
// (sys_unshare.cc), with the table's Handler signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

Result<int64_t> sys_mount(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_umount2(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_chroot(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_unshare(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
