// The syscall dispatcher: decodes a stopped task's registers, finds the
// syscall's row in the table, runs its handler or records the gap, logs the
// call for --strace and writes the result back to rax.
#pragma once

namespace ward::kernel {
class Kernel;
class Task;
}  // namespace ward::kernel

namespace ward::syscalls {

// Handles the syscall `task` stopped at.
void dispatch_syscall(kernel::Task& task);

// Makes `kernel` send its tasks' syscalls to dispatch_syscall.
void install_dispatcher(kernel::Kernel& kernel);

}  // namespace ward::syscalls
