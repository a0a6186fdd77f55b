// Recording a compatibility gap from inside a handler: a syscall, flag,
// command, ioctl request or file that ward lacks. The dispatcher finishes
// each call that hit a gap: it stores the errno the guest got and the
// guest call stack of the gap's first few hits.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "compat/gap_recorder.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

// Records that `task` hit `detail` of its current syscall: an unsupported
// argument, flag or command. The errno is the call's result.
void record_gap(kernel::Task& task, std::string_view detail);

// Records a gap of another kind. `error` is the errno the guest gets, when
// the handler has it; otherwise the call's result is stored. `note` describes
// what the program can do or what it falls back to.
void record_gap(kernel::Task& task, compat::GapKind kind, std::string_view detail,
                std::optional<int> error = std::nullopt, std::string_view note = {});

// Records an ioctl request that `task`'s file does not serve, with the
// request decoded by name when it is a common one.
void record_ioctl_gap(kernel::Task& task, uint32_t request, std::optional<int> error);

// Ends the syscall `task` is making. When the call hit a gap, this stores
// the errno (0 for success, unset when the call returns none) and, for the
// first hits of each gap, the guest call stack. `stack_valid` is false when
// an execve replaced the image the stack was in. Costs one comparison when
// no gap is waiting.
void finish_gap_call(kernel::Task& task, std::optional<int> error, bool stack_valid = true);

}  // namespace ward::syscalls
