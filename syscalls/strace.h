// The --strace decoders. They print a guest syscall and its result in the
// style of strace(1), decoding each argument in the format that the
// syscall's table row gives.
#pragma once

#include <signal.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "syscalls/table.h"
#include "ward/guest_addr.h"

namespace ward::syscalls {

// Reads the NUL-terminated string at addr: the bytes before the first NUL,
// or the first max_bytes bytes when no NUL comes sooner. Returns nullopt
// when the memory at addr cannot be read, and the pointer is then printed
// in hex.
using GuestStringReader =
    std::function<std::optional<std::string>(GuestAddr addr, size_t max_bytes)>;

// Reads the 8-byte word at addr, one element of a pointer array, or nullopt
// when the memory cannot be read.
using GuestWordReader = std::function<std::optional<uint64_t>(GuestAddr addr)>;

// Access to the traced guest's memory. Both readers must be set.
struct GuestMemoryReader {
  GuestStringReader read_string;
  GuestWordReader read_word;
};

// Maximum number of string bytes printed before "...", strace's default for
// -s. The same limit applies to the elements of argv.
inline constexpr size_t kMaxPrintedStringBytes = 32;

// Formats a syscall at entry: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY)`.
// Arguments a call ignores are left out as strace leaves them out: the
// open mode without O_CREAT or O_TMPFILE, the fcntl argument of F_GETFD,
// and the futex arguments the operation does not read.
std::string format_syscall_entry(const SyscallEntry& entry, const std::array<uint64_t, 6>& args,
                                 const GuestMemoryReader& memory);

// Formats a syscall's return value as strace does: `= 3`,
// `= -1 ENOENT (No such file or directory)`, `= 0x7f0000000000` for calls
// that return an address, and `= ? ERESTARTSYS (...)` with a short
// explanation for a kernel restart code.
std::string format_syscall_result(const SyscallEntry& entry, int64_t result);

// Formats one argument register in the given format, without the context
// of the other arguments. Used by format_syscall_entry and by reports that
// name a single unsupported flag or command.
std::string format_argument(ArgFormat format, uint64_t value, const GuestMemoryReader& memory);

// Formats a signal a task takes as strace does:
// `--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2, si_uid=0} ---`.
// The sender's pid and uid appear for the codes that carry them. Codes
// specific to other signals (SEGV_MAPERR...) print as numbers.
std::string format_signal_delivery(int signal, const siginfo_t& info);

}  // namespace ward::syscalls
