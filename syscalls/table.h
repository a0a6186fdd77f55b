// The x86_64 system-call table: one row per syscall number Linux defines,
// with its name, argument formats, ward's support level and a note. The
// table is the single source for dispatch, --strace output and the
// compatibility documentation.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

struct SyscallArgs;

// A syscall handler. It returns the value for the guest's rax on success or
// the errno, which the dispatcher negates.
using Handler = Result<int64_t> (*)(kernel::Task& task, const SyscallArgs& args);

enum class Support : uint8_t {
  kFull,     // every flag and mode Linux documents
  kPartial,  // works, but the note lists flags, commands or modes ward lacks
  kNone,     // returns ENOSYS (or the errno in the note) and records a gap
};

// The --strace decoding of one argument. A C `int` argument is read from
// the low 32 bits of its register, as the kernel reads it.
enum class ArgFormat : uint8_t {
  kInt,             // signed decimal of the low 32 bits: int, pid_t, uid_t
  kLong,            // signed decimal of all 64 bits: long, off_t, loff_t
  kUint,            // unsigned decimal of all 64 bits: sizes and counts
  kHex,             // hexadecimal: opaque values and flags without a decoder
  kPtr,             // guest pointer: hex, or NULL
  kFd,              // file descriptor (low 32 bits, signed)
  kDirFd,           // AT_FDCWD or a file descriptor
  kPath,            // NUL-terminated path in guest memory, up to PATH_MAX
  kString,          // NUL-terminated string in guest memory, cut after 32 bytes
  kStringArray,     // NULL-terminated array of string pointers, printed in full (argv)
  kEnvArray,        // NULL-terminated array of string pointers, printed as a count (envp)
  kOpenFlags,       // access mode and O_* flags
  kNewFdFlags,      // O_CLOEXEC, O_NONBLOCK...: O_* flags without an access mode (pipe2, dup3)
  kMode,            // file type and permission bits, octal
  kAtFlags,         // AT_* flags
  kUnlinkatFlags,   // AT_REMOVEDIR, unlinkat's meaning of 0x200
  kFaccessatFlags,  // AT_EACCESS (faccessat2's meaning of 0x200) and other AT_* flags
  kProt,            // PROT_* flags
  kMmapFlags,       // MAP_* mapping type and flags
  kSignal,          // signal number
  kClockId,         // CLOCK_* id, or a CPU-time or fd clock encoded in a negative id
  kWhence,          // SEEK_* whence
  kFcntlCmd,        // F_* command, which also decides how the next argument is printed
  kIoctlCmd,        // ioctl request
  kCloneFlags,      // CLONE_* flags with the exit signal in the low byte (clone)
  kNamespaceFlags,  // CLONE_NEW* and other CLONE_* flags without an exit signal (unshare, setns)
  kFutexOp,         // FUTEX_* operation, which also decides which arguments are printed
  kAccessMode,      // F_OK, R_OK, W_OK, X_OK

  // Structs and buffers in guest memory. An "output" format is decoded at
  // syscall exit and only on success. After an error it prints as kPtr.
  // An input format is decoded at entry. An unreadable struct prints as
  // its address, as strace prints it.
  kWriteBuffer,     // bytes the call reads, as many as the next argument gives (write)
  kReadBuffer,      // output: bytes the call stored, as many as it returned (read)
  kStatOut,         // output: struct stat
  kStatxOut,        // output: struct statx
  kTimespec,        // struct timespec
  kTimespecOut,     // output: struct timespec (clock_gettime)
  kTimespecPair,    // struct timespec[2] (utimensat)
  kTimeval,         // struct timeval
  kTimevalOut,      // output: struct timeval (gettimeofday)
  kSockaddr,        // socket address, as many bytes as the next argument gives
  kSockaddrOut,     // output: socket address, its length in the int the next argument points to
  kSocklenInOut,    // int pointer the call reads and rewrites: [110 => 2]
  kIovec,           // struct iovec array, as many elements as the next argument gives
  kIovecOut,        // output: struct iovec array, data up to the returned length
  kMsghdr,          // struct msghdr (sendmsg)
  kMsghdrOut,       // output: struct msghdr, data up to the returned length (recvmsg)
  kPollFds,         // struct pollfd array, as many as the next argument gives (poll)
  kRlimit,          // struct rlimit
  kRlimitOut,       // output: struct rlimit
  kRlimitResource,  // RLIMIT_* resource
  kSigaction,       // the kernel's struct sigaction
  kSigactionOut,    // output: the kernel's struct sigaction
  kSigset,          // signal set: [INT TERM]
  kSigsetOut,       // output: signal set
  kSigprocmaskHow,  // SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK
  kEpollEvent,      // struct epoll_event
  kEpollEventsOut,  // output: struct epoll_event array, as many as the call returned
  kEpollCtlOp,      // EPOLL_CTL_* operation
  kMsgFlags,        // MSG_* flags of send and receive calls
  kSocketFamily,    // AF_* address family
  kSocketType,      // SOCK_* type with SOCK_CLOEXEC and SOCK_NONBLOCK
  kStatxFlags,      // AT_* flags of statx, where 0 is AT_STATX_SYNC_AS_STAT
  kStatxMask,       // STATX_* fields requested
  kWaitOptions,     // WNOHANG and the other wait options
  kWaitStatusOut,   // output: wait status, decoded with the W* macros
};

struct SyscallEntry {
  int number;
  std::string_view name;
  uint8_t arg_count;
  std::array<ArgFormat, 6> args;
  Support support;
  std::string_view note;
  Handler handler;  // nullptr exactly when support is kNone
};

// Every row, sorted by number. Numbers Linux 6.18 leaves unassigned on
// x86_64 (337-423, and everything above 469) have no row, and neither have
// the x32 ABI's numbers 512-547.
std::span<const SyscallEntry> syscall_table();

// The row for a number, or nullptr when Linux assigns nothing to it. Takes
// constant time.
const SyscallEntry* find_syscall(uint64_t number);

// The row for a name, or nullptr.
const SyscallEntry* find_syscall(std::string_view name);

}  // namespace ward::syscalls
