// read, write and their positional and vector forms, and lseek.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/net/socket.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/task_io.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_file.h"
#include "syscalls/handlers_socket.h"

namespace ward::syscalls {
namespace {

using vfs::FileRef;
using vfs::GuestSegment;

// The whence values lseek knows (SEEK_SET through SEEK_HOLE).
constexpr int kMaxWhence = SEEK_HOLE;

// preadv2's offset that means "the file offset".
constexpr int64_t kCurrentOffset = -1;

// The RWF_* flags (Linux's values) ward honours. RWF_HIPRI only asks for polled I/O, and
// RWF_DSYNC and RWF_SYNC only matter to a write that reaches storage, which
// no ward file does. Others (RWF_ATOMIC, RWF_DONTCACHE) are EOPNOTSUPP, as
// Linux answers for a file that lacks them.
constexpr uint32_t kRwfHipri = 0x01;
constexpr uint32_t kRwfDsync = 0x02;
constexpr uint32_t kRwfSync = 0x04;
constexpr uint32_t kRwfNowait = 0x08;
constexpr uint32_t kRwfAppend = 0x10;
constexpr uint32_t kRwfNoappend = 0x20;
constexpr uint32_t kSupportedRwFlags =
    kRwfHipri | kRwfDsync | kRwfSync | kRwfNowait | kRwfAppend | kRwfNoappend;

enum class Direction { kRead, kWrite };

// The file at `fd` for a transfer in `direction`: EBADF when it is not open
// for that.
Result<FileRef> file_for(kernel::Task& task, int fd, Direction direction) {
  FileRef file = TRY(vfs::io_file(task, fd));
  const bool allowed = direction == Direction::kRead ? file->readable() : file->writable();
  if (!allowed) {
    return Errno{EBADF};
  }
  return file;
}

size_t total_length(const std::vector<GuestSegment>& segments) {
  size_t total = 0;
  for (const auto& segment : segments) {
    total += segment.length;
  }
  return total;
}

// rw_verify_area for a transfer at `offset` or at the file offset.
Result<void> verify_area(vfs::FileDescription& file, std::optional<int64_t> offset, size_t count) {
  if (file.stream()) {
    return ok();
  }
  return vfs::verify_io_range(offset.value_or(file.offset()), count);
}

// The transfer shared by read, write, pread64 and pwrite64.
Result<int64_t> transfer(kernel::Task& task, FileRef file, Direction direction, GuestAddr buffer,
                         uint64_t count, std::optional<int64_t> offset) {
  if (!vfs::guest_range_ok(buffer, count)) {
    return Errno{EFAULT};
  }
  TRY(verify_area(*file, offset, count));
  const std::vector<GuestSegment> segments{{buffer, std::min<uint64_t>(count, vfs::kMaxRwCount)}};
  if (net::Socket* socket = net::as_socket(*file)) {
    return direction == Direction::kRead ? socket_read(task, *socket, segments)
                                         : socket_write(task, *socket, segments);
  }
  const size_t done = direction == Direction::kRead
                          ? TRY(vfs::read_to_guest(task, *file, segments, offset))
                          : TRY(vfs::write_from_guest(task, *file, segments, offset));
  return static_cast<int64_t>(done);
}

// The transfer shared by the vector calls, after the descriptor checks.
Result<int64_t> vector_transfer(kernel::Task& task, FileRef file, Direction direction,
                                GuestAddr iov, uint64_t iov_count, std::optional<int64_t> offset,
                                uint32_t rw_flags) {
  const std::vector<GuestSegment> segments = TRY(vfs::import_iovecs(task, iov, iov_count));
  if (net::Socket* socket = net::as_socket(*file); socket != nullptr && rw_flags == 0) {
    return direction == Direction::kRead ? socket_read(task, *socket, segments)
                                         : socket_write(task, *socket, segments);
  }
  const size_t total = total_length(segments);
  if (total == 0) {
    return 0;
  }
  TRY(verify_area(*file, offset, total));

  if ((rw_flags & ~kSupportedRwFlags) != 0) {
    return Errno{EOPNOTSUPP};
  }
  if (direction == Direction::kWrite && (rw_flags & kRwfAppend) != 0 && !file->stream()) {
    offset = TRY(file->stat()).st_size;
  }
  if ((rw_flags & kRwfNoappend) != 0 && (file->flags() & O_APPEND) != 0) {
    // NOTE: ward cannot lift O_APPEND for one write of a host file opened
    // that way.
    task.log(spdlog::level::warn, "RWF_NOAPPEND on an O_APPEND file is not supported");
    return Errno{EOPNOTSUPP};
  }
  const bool nowait = (rw_flags & kRwfNowait) != 0;

  const size_t done = direction == Direction::kRead
                          ? TRY(vfs::read_to_guest(task, *file, segments, offset, nowait))
                          : TRY(vfs::write_from_guest(task, *file, segments, offset, nowait));
  return static_cast<int64_t>(done);
}

// pread64, pwrite64, preadv and pwritev: EINVAL for a negative offset,
// EBADF, then ESPIPE for a file without a position.
Result<FileRef> positional_file(kernel::Task& task, int fd, int64_t offset, Direction direction) {
  if (offset < 0) {
    return Errno{EINVAL};
  }
  FileRef file = TRY(vfs::io_file(task, fd));
  if (file->stream()) {
    return Errno{ESPIPE};
  }
  if (direction == Direction::kWrite && !file->pwrite_allowed()) {
    return Errno{ESPIPE};
  }
  const bool allowed = direction == Direction::kRead ? file->readable() : file->writable();
  if (!allowed) {
    return Errno{EBADF};
  }
  return file;
}

}  // namespace

// read(2)
Result<int64_t> sys_read(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr buffer = args.addr(1);
  const uint64_t count = args.u64(2);
  FileRef file = TRY(file_for(task, fd, Direction::kRead));
  return transfer(task, std::move(file), Direction::kRead, buffer, count, std::nullopt);
}

// write(2)
Result<int64_t> sys_write(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr buffer = args.addr(1);
  const uint64_t count = args.u64(2);
  FileRef file = TRY(file_for(task, fd, Direction::kWrite));
  return transfer(task, std::move(file), Direction::kWrite, buffer, count, std::nullopt);
}

// pread64(2)
Result<int64_t> sys_pread64(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr buffer = args.addr(1);
  const uint64_t count = args.u64(2);
  const int64_t offset = args.i64(3);
  FileRef file = TRY(positional_file(task, fd, offset, Direction::kRead));
  return transfer(task, std::move(file), Direction::kRead, buffer, count, offset);
}

// pwrite64(2)
Result<int64_t> sys_pwrite64(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr buffer = args.addr(1);
  const uint64_t count = args.u64(2);
  const int64_t offset = args.i64(3);
  FileRef file = TRY(positional_file(task, fd, offset, Direction::kWrite));
  return transfer(task, std::move(file), Direction::kWrite, buffer, count, offset);
}

// readv(2)
Result<int64_t> sys_readv(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr iov = args.addr(1);
  const uint64_t iov_count = args.u64(2);
  FileRef file = TRY(file_for(task, fd, Direction::kRead));
  return vector_transfer(task, std::move(file), Direction::kRead, iov, iov_count, std::nullopt, 0);
}

// writev(2)
Result<int64_t> sys_writev(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr iov = args.addr(1);
  const uint64_t iov_count = args.u64(2);
  FileRef file = TRY(file_for(task, fd, Direction::kWrite));
  return vector_transfer(task, std::move(file), Direction::kWrite, iov, iov_count, std::nullopt, 0);
}

// preadv(2). On x86_64 the whole offset is in the low-half register; the
// high half is ignored, as Linux's pos_from_hilo does on 64-bit.
Result<int64_t> sys_preadv(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr iov = args.addr(1);
  const uint64_t iov_count = args.u64(2);
  const int64_t offset = args.i64(3);
  FileRef file = TRY(positional_file(task, fd, offset, Direction::kRead));
  return vector_transfer(task, std::move(file), Direction::kRead, iov, iov_count, offset, 0);
}

// pwritev(2)
Result<int64_t> sys_pwritev(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr iov = args.addr(1);
  const uint64_t iov_count = args.u64(2);
  const int64_t offset = args.i64(3);
  FileRef file = TRY(positional_file(task, fd, offset, Direction::kWrite));
  return vector_transfer(task, std::move(file), Direction::kWrite, iov, iov_count, offset, 0);
}

// preadv2(2): an offset of -1 reads at the file offset, like readv.
Result<int64_t> sys_preadv2(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr iov = args.addr(1);
  const uint64_t iov_count = args.u64(2);
  const int64_t offset = args.i64(3);
  const uint32_t rw_flags = args.u32(5);

  if (offset == kCurrentOffset) {
    FileRef file = TRY(file_for(task, fd, Direction::kRead));
    return vector_transfer(task, std::move(file), Direction::kRead, iov, iov_count, std::nullopt,
                           rw_flags);
  }
  FileRef file = TRY(positional_file(task, fd, offset, Direction::kRead));
  return vector_transfer(task, std::move(file), Direction::kRead, iov, iov_count, offset, rw_flags);
}

// pwritev2(2): an offset of -1 writes at the file offset, like writev.
Result<int64_t> sys_pwritev2(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr iov = args.addr(1);
  const uint64_t iov_count = args.u64(2);
  const int64_t offset = args.i64(3);
  const uint32_t rw_flags = args.u32(5);

  if (offset == kCurrentOffset) {
    FileRef file = TRY(file_for(task, fd, Direction::kWrite));
    return vector_transfer(task, std::move(file), Direction::kWrite, iov, iov_count, std::nullopt,
                           rw_flags);
  }
  FileRef file = TRY(positional_file(task, fd, offset, Direction::kWrite));
  return vector_transfer(task, std::move(file), Direction::kWrite, iov, iov_count, offset,
                         rw_flags);
}

// lseek(2): EINVAL for an unknown whence before ESPIPE for a stream.
Result<int64_t> sys_lseek(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int64_t offset = args.i64(1);
  const uint32_t whence = args.u32(2);

  FileRef file = TRY(vfs::io_file(task, fd));
  if (whence > kMaxWhence) {
    return Errno{EINVAL};
  }
  if (file->stream()) {
    return Errno{ESPIPE};
  }
  return file->seek(offset, static_cast<int>(whence));
}

}  // namespace ward::syscalls
