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
#include <vector>

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

// Reads exactly `size` bytes at addr, or nullopt when any of them cannot
// be read. Callers keep `size` small: a struct, or a buffer's printed part.
using GuestBytesReader = std::function<std::optional<std::string>(GuestAddr addr, size_t size)>;

// Access to the traced guest's memory. Every reader must be set.
struct GuestMemoryReader {
  GuestStringReader read_string;
  GuestWordReader read_word;
  GuestBytesReader read_bytes;
};

// Maximum number of string bytes printed before "...", strace's default for
// -s. The same limit applies to the elements of argv.
inline constexpr size_t kMaxPrintedStringBytes = 32;

// One argument of a traced call, as decoded at entry.
struct TracedArgument {
  size_t index = 0;  // register number
  std::string text;  // decoded at entry, or an output argument's pointer
  bool decoded_at_exit = false;
  std::optional<int32_t> int_at_entry;  // the length an in-out socklen_t held at entry
};

// One traced syscall between entry and exit. The constructor decodes the
// input arguments, which must be read before the call runs (execve replaces
// the memory they point to). Output arguments (a read buffer, a stat
// struct) are decoded by line_at_exit, and only when the call succeeded.
class SyscallTrace {
 public:
  SyscallTrace(const SyscallEntry& entry, const std::array<uint64_t, 6>& args,
               const GuestMemoryReader& memory);

  // `name(arguments)` with every output argument as its pointer.
  std::string call_at_entry() const;

  // The whole line once the call returned `result` (a value, or a negated
  // errno): `read(3, "abc", 100) = 3`.
  std::string line_at_exit(int64_t result, const GuestMemoryReader& memory) const;

 private:
  const SyscallEntry* entry_;
  std::array<uint64_t, 6> args_;
  std::vector<TracedArgument> arguments_;
};

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
// of the other arguments or the result. A format that needs either (a
// buffer's length, an output argument) prints as the pointer.
std::string format_argument(ArgFormat format, uint64_t value, const GuestMemoryReader& memory);

// Formats a signal a task takes as strace does: `--- SIGCHLD {si_signo=SIGCHLD,
// si_code=CLD_EXITED, si_pid=2, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---`.
// The code is named for the signal (SEGV_MAPERR, CLD_KILLED, POLL_IN...).
// A signal a process sent carries the sender's pid and uid. SIGCHLD adds
// the child's status and times, and a fault signal (SIGSEGV, SIGBUS, SIGILL,
// SIGFPE, SIGTRAP) its si_addr.
std::string format_signal_delivery(int signal, const siginfo_t& info);

}  // namespace ward::syscalls
