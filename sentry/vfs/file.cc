#include "sentry/vfs/file.h"

#include <poll.h>

#include <limits>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/locks.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/mutate.h"

namespace ward::vfs {
namespace {

// Flags that matter only while opening; F_GETFL never shows them.
constexpr uint32_t kOpenOnlyFlags = O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC;

}  // namespace

FileDescription::FileDescription(VirtualDentry location, uint32_t flags)
    : location_(std::move(location)), flags_(flags & ~kOpenOnlyFlags) {}

// OFD and flock locks belong to the description and end with it.
FileDescription::~FileDescription() {
  notify_closed(*this);
  release_description_locks(*this);
}

Inode& FileDescription::inode() const { return location_.dentry->inode(); }

void FileDescription::set_status_flags(uint32_t flags) {
  flags_ = (flags_ & ~kSettableStatusFlags) | (flags & kSettableStatusFlags);
}

bool FileDescription::readable() const {
  if (path_only()) {
    return false;
  }
  const uint32_t mode = flags_ & O_ACCMODE;
  return mode == O_RDONLY || mode == O_RDWR;
}

bool FileDescription::writable() const {
  if (path_only()) {
    return false;
  }
  const uint32_t mode = flags_ & O_ACCMODE;
  return mode == O_WRONLY || mode == O_RDWR;
}

Result<size_t> FileDescription::read(std::span<std::byte>, std::optional<int64_t>) {
  return Errno{EINVAL};
}

Result<size_t> FileDescription::write(std::span<const std::byte>, std::optional<int64_t>) {
  return Errno{EINVAL};
}

Result<int64_t> FileDescription::seek(int64_t offset, int whence) {
  int64_t size_bytes = 0;
  if (whence == SEEK_END) {
    size_bytes = TRY(stat()).st_size;
  }
  const int64_t target = TRY(compute_seek(offset_, size_bytes, offset, whence));
  offset_ = target;
  return target;
}

Result<void> FileDescription::truncate(int64_t) {
  TRY(mount_write_access(*location_.mount));
  return Errno{EPERM};
}

Result<void> FileDescription::sync(bool) { return Errno{EINVAL}; }

Result<void> FileDescription::sync_range(int64_t, int64_t, uint32_t) { return ok(); }

Result<void> FileDescription::allocate(int, int64_t, int64_t, uint64_t) {
  return Errno{EOPNOTSUPP};
}

Result<struct stat> FileDescription::stat() { return inode().stat(); }

Result<struct statx> FileDescription::statx(uint32_t mask) { return inode().statx(mask); }

Result<struct statfs> FileDescription::statfs() { return inode().statfs(); }

Result<void> FileDescription::iterate_dir(const Caller&, DirentSink&) { return Errno{ENOTDIR}; }

uint32_t FileDescription::readiness(uint32_t mask) { return mask & kDefaultPollEvents; }

Result<int64_t> FileDescription::ioctl(kernel::Task&, uint32_t, GuestAddr) { return Errno{ENOTTY}; }

std::string FileDescription::display_path(const VirtualDentry& root) const {
  std::string anonymous = inode().anonymous_name();
  if (!anonymous.empty()) {
    return anonymous;
  }
  std::string path = name_from_root(root, location_).path;
  if (inode().unlinked()) {
    path += " (deleted)";
  }
  return path;
}

std::string FileDescription::display_path() const { return display_path(tree_root_of(location_)); }

Result<void> verify_io_range(int64_t offset, size_t count) {
  if (offset < 0) {
    return Errno{EINVAL};
  }
  if (count > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() - offset)) {
    return Errno{EINVAL};
  }
  return ok();
}

Result<int64_t> compute_seek(int64_t current, int64_t size_bytes, int64_t offset, int whence) {
  int64_t base = 0;
  switch (whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR:
      base = current;
      break;
    case SEEK_END:
      base = size_bytes;
      break;
    default:
      return Errno{EINVAL};
  }
  int64_t target = 0;
  // Linux computes the sum in loff_t; a wrapped sum is negative there, so
  // overflow is EINVAL as well.
  if (__builtin_add_overflow(base, offset, &target)) {
    return Errno{EINVAL};
  }
  if (target < 0) {
    return Errno{EINVAL};
  }
  return target;
}

}  // namespace ward::vfs
