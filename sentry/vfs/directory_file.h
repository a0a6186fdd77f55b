// DirectoryFile: the open file of a directory whose positions count entries
// of its listing rather than bytes, as on Linux's in-memory filesystems.
#pragma once

#include "sentry/vfs/file.h"

namespace ward::vfs {

class DirectoryFile : public FileDescription {
 public:
  using FileDescription::FileDescription;

  // Fails with EISDIR, as Linux's generic_read_dir.
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override;

  // Moves to an entry index with SEEK_SET or SEEK_CUR. EINVAL for another
  // whence or a negative index, as Linux's dcache_dir_lseek.
  Result<int64_t> seek(int64_t offset, int whence) override;
};

}  // namespace ward::vfs
