// A parser of glibc's /etc/ld.so.cache, the table that ldconfig writes and
// the dynamic loader searches for a DT_NEEDED name after DT_RPATH and
// DT_RUNPATH. Two layouts exist: the "glibc-ld.so.cache1.1" format alone
// (glibc 2.32 and later by default), and the same preceded by the old
// "ld.so-1.7.0" table. The new table's string offsets count from the start
// of its own header in both.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ward/result.h"

namespace ward::compat {

// glibc's entry flags: FLAG_ELF_LIBC6 in the type byte, FLAG_X8664_LIB64
// in the architecture byte.
inline constexpr int32_t kLdCacheElfLibc6 = 0x0003;
inline constexpr int32_t kLdCacheX8664Lib64 = 0x0300;

struct LdCacheEntry {
  int32_t flags = 0;
  std::string name = {};  // the soname: "libc.so.6"
  std::string path = {};  // "/lib/x86_64-linux-gnu/libc.so.6"
  uint64_t hwcap = 0;
};

class LdCache {
 public:
  // Parses a cache file's bytes. ENOEXEC for a file in neither format or
  // whose tables or strings lie outside it.
  static Result<LdCache> parse(std::span<const std::byte> bytes);

  const std::vector<LdCacheEntry>& entries() const { return entries_; }

  // The path the x86_64 loader takes for `name`: the first 64-bit libc6
  // entry of that name, preferring one without a hardware-capability
  // subdirectory, as glibc's search does for a baseline CPU.
  std::optional<std::string> find(std::string_view name) const;

 private:
  std::vector<LdCacheEntry> entries_;
};

}  // namespace ward::compat
