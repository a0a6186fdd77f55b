// Building blocks the --strace decoders share: names of flags and values,
// numbers, quoted byte strings, and the struct decoders. Internal to the
// strace*.cc files, because strace.h is the interface for everyone else.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "syscalls/strace.h"

namespace ward::syscalls::strace_detail {

struct FlagName {
  uint64_t bits;
  std::string_view name;
};

struct ValueName {
  int64_t value;
  std::string_view name;
};

// The kernel reads an `int` argument from the low 32 bits of its register.
int32_t low_int(uint64_t value);
uint64_t low_bits(uint64_t value);

// Hexadecimal as strace prints it: "0" for zero, "0x1f" otherwise.
std::string hex(uint64_t value);

// A guest pointer: NULL, or its value in hex.
std::string pointer(uint64_t value);

const ValueName* find_name(std::span<const ValueName> names, int64_t value);

// The name of a value, or the value in hex with a comment that no name
// fits, as strace prints an unknown command: `0x9 /* SEEK_??? */`.
std::string format_value(std::span<const ValueName> names, int32_t value,
                         std::string_view unknown_prefix);

// Appends the names of the set flags to `parts` in table order and returns
// the bits no name covers.
uint64_t append_flag_names(uint64_t value, std::span<const FlagName> names,
                           std::vector<std::string>& parts);

std::string join_flags(const std::vector<std::string>& parts);

// Returns the flag names joined with '|', then the bits without a name in
// hex. A value without bits set prints as `zero_name`.
std::string format_flags(uint64_t value, std::span<const FlagName> names,
                         std::string_view zero_name = "0");

// Returns bytes in double quotes, escaped as strace escapes them.
std::string quote(std::string_view bytes);

// Returns a byte buffer as strace prints it: the first
// kMaxPrintedStringBytes bytes in quotes, then "..." when the buffer is
// longer.
std::string format_buffer(std::string_view bytes);

// File type and permission bits: `S_IFREG|0644`, or `0755` without a type.
std::string format_mode(uint64_t value);

// SIGINT, SIGRTMIN, SIGRT_3, or the number when it names no signal.
std::string format_signal(uint64_t value);

// ---------------------------------------------------------------------------
// Struct decoders (strace_structs.cc). Each reads its struct from guest
// memory and prints the address in hex when the memory cannot be read, as
// strace does.

// Reads `size` bytes at addr, or nullopt when any of them is unreadable.
std::optional<std::string> read_guest_bytes(uint64_t addr, size_t size,
                                            const GuestMemoryReader& memory);

// `length` bytes at addr as strace prints a buffer: at most
// kMaxPrintedStringBytes of them in quotes, then "..." when there are more.
std::string format_guest_bytes(uint64_t addr, uint64_t length, const GuestMemoryReader& memory);

std::string format_stat(uint64_t addr, const GuestMemoryReader& memory);
std::string format_statx(uint64_t addr, const GuestMemoryReader& memory);
std::string format_timespec(uint64_t addr, const GuestMemoryReader& memory);
std::string format_timespec_pair(uint64_t addr, const GuestMemoryReader& memory);
std::string format_timeval(uint64_t addr, const GuestMemoryReader& memory);
std::string format_sockaddr(uint64_t addr, uint64_t length, const GuestMemoryReader& memory);

std::optional<int32_t> read_guest_int(uint64_t addr, const GuestMemoryReader& memory);

// An iovec array with `count` elements. At most `data_limit` bytes of data
// are shown across all elements, the returned length of a read, or
// nullopt to show each element's whole iov_len (cut at 32 bytes).
std::string format_iovec_array(uint64_t addr, uint64_t count, std::optional<uint64_t> data_limit,
                               const GuestMemoryReader& memory);
std::string format_msghdr(uint64_t addr, std::optional<uint64_t> data_limit,
                          const GuestMemoryReader& memory);
std::string format_msg_flags(uint64_t value);
std::string format_pollfd_array(uint64_t addr, uint64_t count, const GuestMemoryReader& memory);

// poll's returned events: `[{fd=5, revents=POLLOUT}]`, the entries with a
// non-zero revents, or nullopt when the array cannot be read.
std::optional<std::string> format_poll_revents(uint64_t addr, uint64_t count,
                                               const GuestMemoryReader& memory);
// rlimit values; RLIM_INFINITY prints as `infinity_name`, which strace
// spells RLIM64_INFINITY for prlimit64 and RLIM_INFINITY otherwise.
std::string format_rlimit(uint64_t addr, std::string_view infinity_name,
                          const GuestMemoryReader& memory);
std::string format_rlimit_resource(uint64_t value);
std::string format_sigaction(uint64_t addr, const GuestMemoryReader& memory);
std::string format_sigset(uint64_t addr, const GuestMemoryReader& memory);
std::string format_sigprocmask_how(uint64_t value);
std::string format_epoll_event(uint64_t addr, const GuestMemoryReader& memory);
std::string format_epoll_event_array(uint64_t addr, uint64_t count,
                                     const GuestMemoryReader& memory);
std::string format_epoll_ctl_op(uint64_t value);
std::string format_socket_family(uint64_t value);
std::string format_socket_type(uint64_t value);
std::string format_statx_flags(uint64_t value);
std::string format_statx_mask(uint64_t value);
std::string format_wait_options(uint64_t value);

// The int status wait4 stored at addr, as strace prints it:
// `[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]`.
std::string format_wait_status(uint64_t addr, const GuestMemoryReader& memory);

}  // namespace ward::syscalls::strace_detail
