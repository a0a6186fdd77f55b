#include "sentry/vfs/directory_file.h"

namespace ward::vfs {

Result<size_t> DirectoryFile::read(std::span<std::byte>, std::optional<int64_t>) {
  return Errno{EISDIR};
}

Result<int64_t> DirectoryFile::seek(int64_t offset, int whence) {
  if (whence != SEEK_SET && whence != SEEK_CUR) {
    return Errno{EINVAL};
  }
  const int64_t target = TRY(compute_seek(this->offset(), 0, offset, whence));
  set_offset(target);
  return target;
}

}  // namespace ward::vfs
