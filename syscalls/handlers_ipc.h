// Handlers of System V IPC: shared memory (sys_ipc_shm.cc), semaphores
// (sys_ipc_sem.cc) and message queues (sys_ipc_msg.cc). Each has the
// table's Handler signature.
#pragma once

#include <cstdint>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

Result<int64_t> sys_shmget(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_shmat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_shmdt(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_shmctl(kernel::Task& task, const SyscallArgs& args);

Result<int64_t> sys_semget(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_semop(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_semtimedop(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_semctl(kernel::Task& task, const SyscallArgs& args);

Result<int64_t> sys_msgget(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_msgsnd(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_msgrcv(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_msgctl(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
