// fsync, fdatasync, sync, syncfs, sync_file_range, fallocate, readahead and
// fadvise64. The handlers make Linux's generic checks in Linux's order and
// leave the work to the file (FileDescription::sync, sync_range and
// allocate) or to the filesystem (Inode::sync_filesystem).
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_sync.h"
#include "ward/errno_name.h"

namespace ward::syscalls {
namespace {

// The sync_file_range flags of Linux 6.18 (VALID_FLAGS in fs/sync.c).
constexpr uint32_t kSyncFileRangeFlags =
    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

// FALLOC_FL_WRITE_ZEROES (Linux 6.17) is missing from older headers.
constexpr int kFallocWriteZeroes = 0x80;

// The fallocate modes of Linux 6.18 (FALLOC_FL_MODE_MASK), of which a call
// takes one, optionally with FALLOC_FL_KEEP_SIZE.
constexpr int kFallocModeMask = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE |
                                FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE |
                                FALLOC_FL_UNSHARE_RANGE | kFallocWriteZeroes;

// The highest POSIX_FADV_* advice (POSIX_FADV_NOREUSE).
constexpr int kMaxFadvise = POSIX_FADV_NOREUSE;

Result<int64_t> done(Result<void> result) {
  TRY(result);
  return 0;
}

Result<int64_t> sync_fd(kernel::Task& task, int fd, bool data_only) {
  vfs::FileRef file = TRY(vfs::io_file(task, fd));
  return done(file->sync(data_only));
}

// The mode checks of Linux's vfs_fallocate: one mode, FALLOC_FL_KEEP_SIZE
// required by FALLOC_FL_PUNCH_HOLE and refused by the modes that move or
// write data.
Result<void> check_fallocate_mode(int mode) {
  if ((mode & ~(kFallocModeMask | FALLOC_FL_KEEP_SIZE)) != 0) {
    return Errno{EOPNOTSUPP};
  }
  const bool keep_size = (mode & FALLOC_FL_KEEP_SIZE) != 0;
  switch (mode & kFallocModeMask) {
    case 0:
    case FALLOC_FL_UNSHARE_RANGE:
    case FALLOC_FL_ZERO_RANGE:
      return ok();
    case FALLOC_FL_PUNCH_HOLE:
      if (!keep_size) {
        return Errno{EOPNOTSUPP};
      }
      return ok();
    case FALLOC_FL_COLLAPSE_RANGE:
    case FALLOC_FL_INSERT_RANGE:
    case kFallocWriteZeroes:
      if (keep_size) {
        return Errno{EOPNOTSUPP};
      }
      return ok();
    default:
      // More than one mode.
      return Errno{EOPNOTSUPP};
  }
}

// The RLIMIT_FSIZE limit an allocation may not grow a file past.
uint64_t file_size_limit(kernel::Task& task) {
  const rlim_t limit = task.thread_group().limit(RLIMIT_FSIZE).rlim_cur;
  return limit == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit);
}

}  // namespace

// fsync(2)
Result<int64_t> sys_fsync(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  return sync_fd(task, fd, /*data_only=*/false);
}

// fdatasync(2)
Result<int64_t> sys_fdatasync(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  return sync_fd(task, fd, /*data_only=*/true);
}

// sync(2): flushes every filesystem of the sandbox's mount tree. Only the
// read-write binds reach the host. Like Linux's, it cannot fail, so a host
// error is logged and the other filesystems are still flushed.
Result<int64_t> sys_sync(kernel::Task& task, const SyscallArgs&) {
  for (const auto& mount : task.kernel().mounts().mounts()) {
    const Result<void> flushed = mount->root()->inode().sync_filesystem();
    if (!flushed.ok()) {
      task.log(spdlog::level::warn, "flushing the filesystem of mount {} failed: {}", mount->id(),
               errno_name(flushed.error().value));
    }
  }
  return 0;
}

// syncfs(2): 0 for any open file, a pipe's included, as on Linux.
Result<int64_t> sys_syncfs(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  vfs::FileRef file = TRY(vfs::io_file(task, fd));
  return done(file->inode().sync_filesystem());
}

// sync_file_range(2): EINVAL for unknown flags and for a range that is
// negative or ends past INT64_MAX, then ESPIPE for a file that is not a
// regular file, a directory or a symlink. A count of 0 means to the end of
// the file.
Result<int64_t> sys_sync_file_range(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int64_t offset = args.i64(1);
  const int64_t count_bytes = args.i64(2);
  const uint32_t flags = args.u32(3);

  vfs::FileRef file = TRY(vfs::io_file(task, fd));
  if ((flags & ~kSyncFileRangeFlags) != 0) {
    return Errno{EINVAL};
  }
  // Linux adds the two in u64 and checks the sum as s64.
  const auto end =
      static_cast<int64_t>(static_cast<uint64_t>(offset) + static_cast<uint64_t>(count_bytes));
  if (offset < 0 || end < 0 || end < offset) {
    return Errno{EINVAL};
  }
  const mode_t type = file->inode().type();
  if (!S_ISREG(type) && !S_ISDIR(type) && !S_ISLNK(type)) {
    return Errno{ESPIPE};
  }
  return done(file->sync_range(offset, count_bytes, flags));
}

// fallocate(2), checked in the order of Linux's vfs_fallocate. An EFBIG
// from RLIMIT_FSIZE also sends SIGXFSZ, as inode_newsize_ok does.
Result<int64_t> sys_fallocate(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int mode = args.i32(1);
  const int64_t offset = args.i64(2);
  const int64_t length = args.i64(3);

  vfs::FileRef file = TRY(vfs::io_file(task, fd));
  if (offset < 0 || length <= 0) {
    return Errno{EINVAL};
  }
  TRY(check_fallocate_mode(mode));
  if (!file->writable()) {
    return Errno{EBADF};
  }

  const mode_t type = file->inode().type();
  if (S_ISFIFO(type)) {
    return Errno{ESPIPE};
  }
  if (S_ISDIR(type)) {
    return Errno{EISDIR};
  }
  if (!S_ISREG(type)) {
    return Errno{ENODEV};
  }
  int64_t end = 0;
  if (__builtin_add_overflow(offset, length, &end)) {
    return Errno{EFBIG};
  }

  const uint64_t size_limit_bytes = file_size_limit(task);
  Result<void> result = file->allocate(mode, offset, length, size_limit_bytes);
  if (!result.ok() && result.error().value == EFBIG &&
      static_cast<uint64_t>(end) > size_limit_bytes) {
    kernel::send_signal_to_task(task, kernel::user_siginfo(SIGXFSZ, task));
  }
  return done(std::move(result));
}

// readahead(2): EBADF unless open for reading, EINVAL for a file that is
// not regular or a count past INT64_MAX. The sentry's files are served from
// memory or straight from the host, so there is nothing to read ahead.
Result<int64_t> sys_readahead(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int64_t count_bytes = args.i64(2);

  vfs::FileRef file = TRY(vfs::io_file(task, fd));
  if (!file->readable()) {
    return Errno{EBADF};
  }
  if (!file->inode().is_regular() || count_bytes < 0) {
    return Errno{EINVAL};
  }
  return 0;
}

// fadvise64(2): ESPIPE for a pipe or FIFO, EINVAL for a negative length or
// an unknown advice. Valid advice changes nothing, because no file of the
// sentry has a page cache of its own to tune.
Result<int64_t> sys_fadvise64(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int64_t length = args.i64(2);
  const int advice = args.i32(3);

  vfs::FileRef file = TRY(vfs::io_file(task, fd));
  if (S_ISFIFO(file->inode().type())) {
    return Errno{ESPIPE};
  }
  if (length < 0 || advice < 0 || advice > kMaxFadvise) {
    return Errno{EINVAL};
  }
  return 0;
}

}  // namespace ward::syscalls
