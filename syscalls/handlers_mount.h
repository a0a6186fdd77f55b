// Handler of chroot (sys_mount.cc), with the table's Handler signature.
// NOTE: mount and umount2 have no handler yet and fail with ENOSYS.
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
