#include "sentry/vfs/dirent_buffer.h"

#include <cstring>

namespace ward::vfs {
namespace {

// Offsets of the fields of the two record layouts on x86_64.
constexpr size_t kRecordLengthOffset = 16;
constexpr size_t kDirent64TypeOffset = 18;
constexpr size_t kDirent64NameOffset = 19;
constexpr size_t kDirentNameOffset = 18;

size_t align_up(size_t value, size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

template <typename T>
void put(std::byte* at, T value) {
  std::memcpy(at, &value, sizeof(value));
}

}  // namespace

DirentBuffer::DirentBuffer(DirentFormat format, size_t capacity_bytes)
    : format_(format), capacity_bytes_(capacity_bytes) {}

bool DirentBuffer::add(const Dirent& entry) {
  const bool is64 = format_ == DirentFormat::kLinuxDirent64;
  // linux_dirent64 ends with the name and its NUL; linux_dirent adds the
  // type byte after the NUL. Both are padded to 8 bytes.
  const size_t name_offset = is64 ? kDirent64NameOffset : kDirentNameOffset;
  const size_t record_bytes = align_up(name_offset + entry.name.size() + (is64 ? 1 : 2), 8);
  if (bytes_.size() + record_bytes > capacity_bytes_) {
    overflowed_ = true;
    return false;
  }

  const size_t start = bytes_.size();
  bytes_.resize(start + record_bytes);
  std::byte* record = bytes_.data() + start;
  put<uint64_t>(record, entry.ino);
  put<int64_t>(record + 8, entry.next_offset);
  put<uint16_t>(record + kRecordLengthOffset, static_cast<uint16_t>(record_bytes));
  std::memcpy(record + name_offset, entry.name.data(), entry.name.size());
  if (is64) {
    put<uint8_t>(record + kDirent64TypeOffset, entry.type);
  } else {
    put<uint8_t>(record + record_bytes - 1, entry.type);
  }
  return true;
}

}  // namespace ward::vfs
