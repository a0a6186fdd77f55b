#include "compat/ld_cache.h"

#include <cstring>

namespace ward::compat {
namespace {

constexpr std::string_view kOldMagic = "ld.so-1.7.0";
constexpr std::string_view kNewMagic = "glibc-ld.so.cache";
constexpr std::string_view kNewVersion = "1.1";

// struct cache_file: magic, nlibs, then 12-byte entries (flags, key, value).
constexpr size_t kOldHeaderBytes = 16;
constexpr size_t kOldEntryBytes = 12;
// struct cache_file_new: magic, version, nlibs, len_strings, flags,
// padding, extension_offset, unused[3].
constexpr size_t kNewHeaderBytes = 48;
constexpr size_t kNewNlibsOffset = 20;
// struct file_entry_new: flags, key, value, osversion, hwcap.
constexpr size_t kNewEntryBytes = 24;
// The new table starts at the next multiple of its alignment after the old.
constexpr size_t kNewTableAlignment = 8;

uint32_t load_u32(std::span<const std::byte> bytes, size_t offset) {
  uint32_t value = 0;
  std::memcpy(&value, bytes.data() + offset, sizeof(value));
  return value;
}

uint64_t load_u64(std::span<const std::byte> bytes, size_t offset) {
  uint64_t value = 0;
  std::memcpy(&value, bytes.data() + offset, sizeof(value));
  return value;
}

bool starts_with(std::span<const std::byte> bytes, size_t offset, std::string_view text) {
  return bytes.size() >= offset + text.size() &&
         std::memcmp(bytes.data() + offset, text.data(), text.size()) == 0;
}

// The NUL-terminated string at `offset` of `strings`, or nullopt when it
// runs past the end.
std::optional<std::string> string_at(std::span<const std::byte> strings, uint64_t offset) {
  if (offset >= strings.size()) {
    return std::nullopt;
  }
  const char* start = reinterpret_cast<const char*>(strings.data()) + offset;
  const size_t length = strnlen(start, strings.size() - offset);
  if (length == strings.size() - offset) {
    return std::nullopt;
  }
  return std::string(start, length);
}

}  // namespace

Result<LdCache> LdCache::parse(std::span<const std::byte> bytes) {
  size_t table = 0;
  if (starts_with(bytes, 0, kOldMagic)) {
    if (bytes.size() < kOldHeaderBytes) {
      return Errno{ENOEXEC};
    }
    const uint64_t old_count = load_u32(bytes, kOldMagic.size() + 1);
    const uint64_t old_end = kOldHeaderBytes + old_count * kOldEntryBytes;
    table = (old_end + kNewTableAlignment - 1) / kNewTableAlignment * kNewTableAlignment;
  }
  if (!starts_with(bytes, table, kNewMagic) ||
      !starts_with(bytes, table + kNewMagic.size(), kNewVersion) ||
      bytes.size() - table < kNewHeaderBytes) {
    return Errno{ENOEXEC};
  }

  const std::span<const std::byte> data = bytes.subspan(table);
  const uint64_t count = load_u32(data, kNewNlibsOffset);
  if (count > (data.size() - kNewHeaderBytes) / kNewEntryBytes) {
    return Errno{ENOEXEC};
  }
  LdCache cache;
  for (uint64_t i = 0; i < count; ++i) {
    const size_t at = kNewHeaderBytes + i * kNewEntryBytes;
    std::optional<std::string> name = string_at(data, load_u32(data, at + 4));
    std::optional<std::string> path = string_at(data, load_u32(data, at + 8));
    if (!name.has_value() || !path.has_value()) {
      return Errno{ENOEXEC};
    }
    cache.entries_.push_back(LdCacheEntry{
        .flags = static_cast<int32_t>(load_u32(data, at)),
        .name = std::move(*name),
        .path = std::move(*path),
        .hwcap = load_u64(data, at + 16),
    });
  }
  return cache;
}

std::optional<std::string> LdCache::find(std::string_view name) const {
  const LdCacheEntry* fallback = nullptr;
  for (const LdCacheEntry& entry : entries_) {
    if (entry.name != name || entry.flags != (kLdCacheElfLibc6 | kLdCacheX8664Lib64)) {
      continue;
    }
    if (entry.hwcap == 0) {
      return entry.path;
    }
    if (fallback == nullptr) {
      fallback = &entry;
    }
  }
  if (fallback != nullptr) {
    return fallback->path;
  }
  return std::nullopt;
}

}  // namespace ward::compat
