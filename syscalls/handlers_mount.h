// Handlers of chroot, mount and umount2 (sys_mount.cc). Each has the
// table's Handler signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

Result<int64_t> sys_chroot(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
