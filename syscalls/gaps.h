// Recording a compatibility gap from inside a handler: a flag, command or
// mode of an implemented syscall that ward lacks.
#pragma once

#include <string_view>

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

// Records that `task` hit `detail` of its current syscall, logging a
// warning the first time the program hits it.
void record_gap(kernel::Task& task, std::string_view detail);

}  // namespace ward::syscalls
