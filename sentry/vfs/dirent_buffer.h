// DirentSinks that lay entries out as getdents64(2) and the older
// getdents(2) return them, in a buffer the caller bounds.
#pragma once

#include <cstddef>
#include <vector>

#include "sentry/vfs/inode.h"

namespace ward::vfs {

// The record layout a DirentBuffer writes.
enum class DirentFormat {
  kLinuxDirent64,  // struct linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name
  kLinuxDirent,    // struct linux_dirent: d_ino, d_off, d_reclen, d_name, then d_type last
};

class DirentBuffer final : public DirentSink {
 public:
  DirentBuffer(DirentFormat format, size_t capacity_bytes);

  // Appends the record, or returns false when it does not fit.
  bool add(const Dirent& entry) override;

  const std::vector<std::byte>& bytes() const { return bytes_; }
  bool empty() const { return bytes_.empty(); }
  // True when an entry did not fit: getdents returns EINVAL if that was
  // the first one.
  bool overflowed() const { return overflowed_; }

 private:
  DirentFormat format_;
  bool overflowed_ = false;
  size_t capacity_bytes_;
  std::vector<std::byte> bytes_;
};

}  // namespace ward::vfs
