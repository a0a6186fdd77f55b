// Unwinding a stopped guest thread's call stack: through libunwind-ptrace,
// which reads the thread's registers and memory with ptrace and its
// objects' DWARF call-frame information, or by following the rbp chain.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ward/result.h"

namespace ward::compat {

// Frames kept per stack.
inline constexpr size_t kMaxStackFrames = 32;

// Unwinds host thread `host_tid`, which must be in a ptrace stop whose
// tracer is the calling thread. Returns the code addresses, innermost
// first. libunwind finds each object's unwind tables through the host's
// /proc/<tid>/maps, so objects the host cannot open by those paths (files
// that exist only in the sentry's memory) stop the walk early.
Result<std::vector<uint64_t>> unwind_with_libunwind(pid_t host_tid, size_t max_frames);

// Reads one 64-bit word of guest memory; nullopt when it is not readable.
using ReadWord = std::function<std::optional<uint64_t>(uint64_t address)>;
// Whether an address lies in executable guest memory.
using IsCode = std::function<bool(uint64_t address)>;

struct FrameRegisters {
  uint64_t rip = 0;
  uint64_t rsp = 0;
  uint64_t rbp = 0;
};

// Walks the frame-pointer chain from `regs`: rip, then the word at rsp when
// it points into code (the return address of a leaf function without a
// frame, such as a libc syscall wrapper), then each saved return address
// at rbp + 8. The walk stops at a null, misaligned or non-increasing frame
// pointer, an unreadable word or max_frames.
std::vector<uint64_t> walk_frame_pointers(const FrameRegisters& regs, const ReadWord& read_word,
                                          const IsCode& is_code, size_t max_frames);

}  // namespace ward::compat
