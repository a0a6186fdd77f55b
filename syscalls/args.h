// SyscallArgs: the six raw argument registers of a syscall, with typed
// accessors so that a handler decodes its arguments into named locals in
// its first lines.
#pragma once

#include <array>
#include <cstdint>

#include "ward/guest_addr.h"

namespace ward::syscalls {

struct SyscallArgs {
  uint64_t number = 0;
  std::array<uint64_t, 6> raw{};

  uint64_t u64(size_t index) const { return raw[index]; }
  int64_t i64(size_t index) const { return static_cast<int64_t>(raw[index]); }
  // The low 32 bits, as the kernel reads an int or unsigned int argument.
  uint32_t u32(size_t index) const { return static_cast<uint32_t>(raw[index]); }
  int32_t i32(size_t index) const { return static_cast<int32_t>(raw[index]); }
  int fd(size_t index) const { return i32(index); }
  GuestAddr addr(size_t index) const { return GuestAddr(raw[index]); }
};

}  // namespace ward::syscalls
