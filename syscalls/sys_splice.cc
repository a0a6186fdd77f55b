// splice, tee and vmsplice: transfers with a pipe on one or both ends.
// The sentry copies the bytes, so no page is shared between a pipe and a
// file or guest memory. Linux allows a copy for vmsplice without
// SPLICE_F_GIFT.
#include <fcntl.h>

#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "sentry/fs/pipe.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/task_io.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_splice.h"
#include "syscalls/splice_transfer.h"

namespace ward::syscalls {
namespace {

using vfs::FileRef;

// Copies an optional loff_t in from the guest: nullopt for a null pointer.
Result<std::optional<int64_t>> copy_in_offset(kernel::Task& task, GuestAddr address) {
  if (address.is_null()) {
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(TRY(task.copy_in<int64_t>(address)));
}

std::optional<PipeEndRef> pipe_end_of(vfs::FileDescription& file) {
  vfs::Pipe* pipe = vfs::pipe_of(file);
  if (pipe == nullptr) {
    return std::nullopt;
  }
  return PipeEndRef{.file = file, .pipe = *pipe};
}

// Linux's splice_pipe_to_pipe: waits for data in `source` and room in
// `destination`, then moves what both allow.
Result<size_t> splice_pipe_to_pipe(kernel::Task& task, PipeEndRef source, PipeEndRef destination,
                                   size_t count, bool nonblocking) {
  for (;;) {
    TRY(wait_pipe_readable(task, source, nonblocking));
    TRY(wait_pipe_writable(task, destination, nonblocking));
    const size_t moved = source.pipe.move_to(destination.pipe, count);
    if (moved > 0 || source.pipe.writers() == 0) {
      return moved;
    }
  }
}

// The file-and-pipe half of splice once the offsets are copied in, in
// the order of Linux's do_splice.
Result<size_t> splice_files(kernel::Task& task, vfs::FileDescription& in,
                            std::optional<int64_t>& in_offset, vfs::FileDescription& out,
                            std::optional<int64_t>& out_offset, size_t count, uint32_t flags) {
  if (!in.readable() || !out.writable()) {
    return Errno{EBADF};
  }
  const std::optional<PipeEndRef> in_pipe = pipe_end_of(in);
  const std::optional<PipeEndRef> out_pipe = pipe_end_of(out);
  bool nonblocking = (flags & kSpliceNonblock) != 0;

  if (in_pipe && out_pipe) {
    if (&in_pipe->pipe == &out_pipe->pipe) {
      return Errno{EINVAL};
    }
    // Linux does not check the count between two pipes, so a count past
    // SSIZE_MAX moves whatever the pipe contains.
    nonblocking = nonblocking || in.nonblocking() || out.nonblocking();
    return splice_pipe_to_pipe(task, *in_pipe, *out_pipe, std::min(count, vfs::kMaxRwCount),
                               nonblocking);
  }

  if (in_pipe) {
    // An explicit offset needs a file with a position (FMODE_PWRITE).
    if (out_offset && out.stream()) {
      return Errno{EINVAL};
    }
    if ((out.flags() & O_APPEND) != 0) {
      return Errno{EINVAL};
    }
    std::optional<int64_t> position = out_offset;
    if (!position && !out.stream()) {
      position = out.offset();
    }
    // Linux's rw_verify_area rejects a count that is negative as ssize_t
    // with EINVAL, for sockets and other streams too.
    TRY(vfs::verify_io_range(position.value_or(0), count));
    TRY(check_splice_destination(task, out));
    nonblocking = nonblocking || in.nonblocking();
    auto moved = splice_pipe_to_file(task, *in_pipe, out, position, count, nonblocking);
    if (position) {
      if (out_offset) {
        out_offset = position;
      } else {
        out.set_offset(*position);
      }
    }
    return moved;
  }

  if (out_pipe) {
    if (in_offset && in.stream()) {
      return Errno{EINVAL};
    }
    std::optional<int64_t> position = in_offset;
    if (!position && !in.stream()) {
      position = in.offset();
    }
    TRY(vfs::verify_io_range(position.value_or(0), count));
    nonblocking = nonblocking || out.nonblocking();
    auto moved = splice_file_to_pipe(task, in, position, *out_pipe, count, nonblocking);
    if (position) {
      if (in_offset) {
        in_offset = position;
      } else {
        in.set_offset(*position);
      }
    }
    return moved;
  }

  return Errno{EINVAL};
}

// vmsplice to a pipe: waits for a free buffer, then copies in as much of
// the iovecs as the free buffers hold. As Linux does with the pages it
// maps, each buffer takes the bytes up to the next guest page boundary.
Result<size_t> vmsplice_to_pipe(kernel::Task& task, PipeEndRef end,
                                std::span<const vfs::GuestSegment> segments, bool nonblocking) {
  TRY(wait_pipe_writable(task, end, nonblocking));

  size_t done = 0;
  std::vector<std::byte> page(vfs::kPipePageBytes);
  for (const vfs::GuestSegment& segment : segments) {
    size_t segment_done = 0;
    while (segment_done < segment.length) {
      if (end.pipe.full()) {
        return done;
      }
      const GuestAddr source = segment.base + segment_done;
      const size_t page_offset = source.value() % vfs::kPipePageBytes;
      const size_t want =
          std::min(segment.length - segment_done, vfs::kPipePageBytes - page_offset);
      const std::span<std::byte> piece(page.data(), want);
      auto copied = task.copy_in(source, piece);
      if (!copied.ok()) {
        return done > 0 ? Result<size_t>(done) : Result<size_t>(copied.error());
      }
      end.pipe.append_page(piece);
      done += want;
      segment_done += want;
    }
  }
  return done;
}

// vmsplice from a pipe: waits for data (only SPLICE_F_NONBLOCK makes it
// not wait, as in Linux), then copies out what the pipe holds.
Result<size_t> vmsplice_to_user(kernel::Task& task, PipeEndRef end,
                                std::span<const vfs::GuestSegment> segments, bool nonblocking) {
  TRY(wait_pipe_readable(task, end, nonblocking));

  size_t done = 0;
  std::vector<std::byte> buffer;
  for (const vfs::GuestSegment& segment : segments) {
    size_t segment_done = 0;
    while (segment_done < segment.length && end.pipe.available_bytes() > 0) {
      const size_t want = std::min(segment.length - segment_done, vfs::kIoChunkBytes);
      buffer.resize(want);
      const size_t peeked = end.pipe.peek(buffer);
      const std::span<const std::byte> data(buffer.data(), peeked);
      auto copied = task.copy_out(segment.base + segment_done, data);
      if (!copied.ok()) {
        return done > 0 ? Result<size_t>(done) : Result<size_t>(copied.error());
      }
      end.pipe.consume(peeked);
      done += peeked;
      segment_done += peeked;
    }
  }
  return done;
}

}  // namespace

// splice(2): moves bytes between a pipe and a file, or two pipes.
Result<int64_t> sys_splice(kernel::Task& task, const SyscallArgs& args) {
  const int in_fd = args.fd(0);
  const GuestAddr in_offset_addr = args.addr(1);
  const int out_fd = args.fd(2);
  const GuestAddr out_offset_addr = args.addr(3);
  const uint64_t count = args.u64(4);
  const uint32_t flags = args.u32(5);

  if (count == 0) {
    return 0;
  }
  if ((flags & ~kSpliceAllFlags) != 0) {
    return Errno{EINVAL};
  }
  FileRef in = TRY(vfs::io_file(task, in_fd));
  FileRef out = TRY(vfs::io_file(task, out_fd));

  // A pipe end has no position, so an offset for it is ESPIPE.
  if (vfs::pipe_of(*in) != nullptr && !in_offset_addr.is_null()) {
    return Errno{ESPIPE};
  }
  if (vfs::pipe_of(*out) != nullptr && !out_offset_addr.is_null()) {
    return Errno{ESPIPE};
  }
  std::optional<int64_t> out_offset = TRY(copy_in_offset(task, out_offset_addr));
  std::optional<int64_t> in_offset = TRY(copy_in_offset(task, in_offset_addr));

  const size_t moved = TRY(splice_files(task, *in, in_offset, *out, out_offset, count, flags));
  if (out_offset) {
    TRY(task.copy_out(out_offset_addr, *out_offset));
  }
  if (in_offset) {
    TRY(task.copy_out(in_offset_addr, *in_offset));
  }
  return static_cast<int64_t>(moved);
}

// tee(2): copies bytes from one pipe to another without consuming them.
Result<int64_t> sys_tee(kernel::Task& task, const SyscallArgs& args) {
  const int in_fd = args.fd(0);
  const int out_fd = args.fd(1);
  const uint64_t count = args.u64(2);
  const uint32_t flags = args.u32(3);

  if ((flags & ~kSpliceAllFlags) != 0) {
    return Errno{EINVAL};
  }
  if (count == 0) {
    return 0;
  }
  FileRef in = TRY(vfs::io_file(task, in_fd));
  FileRef out = TRY(vfs::io_file(task, out_fd));
  if (!in->readable() || !out->writable()) {
    return Errno{EBADF};
  }
  const std::optional<PipeEndRef> in_pipe = pipe_end_of(*in);
  const std::optional<PipeEndRef> out_pipe = pipe_end_of(*out);
  if (!in_pipe || !out_pipe || &in_pipe->pipe == &out_pipe->pipe) {
    return Errno{EINVAL};
  }

  const bool nonblocking =
      (flags & kSpliceNonblock) != 0 || in->nonblocking() || out->nonblocking();
  TRY(wait_pipe_readable(task, *in_pipe, nonblocking));
  TRY(wait_pipe_writable(task, *out_pipe, nonblocking));
  return static_cast<int64_t>(in_pipe->pipe.copy_to(out_pipe->pipe, count));
}

// vmsplice(2): copies guest memory into a pipe, or a pipe into guest
// memory for an end open only for reading.
Result<int64_t> sys_vmsplice(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr iov = args.addr(1);
  const uint64_t iov_count = args.u64(2);
  const uint32_t flags = args.u32(3);

  if ((flags & ~kSpliceAllFlags) != 0) {
    return Errno{EINVAL};
  }
  FileRef file = TRY(vfs::io_file(task, fd));
  const bool to_pipe = file->writable();
  if (!to_pipe && !file->readable()) {
    return Errno{EBADF};
  }
  const std::vector<vfs::GuestSegment> segments = TRY(vfs::import_iovecs(task, iov, iov_count));
  size_t total = 0;
  for (const vfs::GuestSegment& segment : segments) {
    total += segment.length;
  }
  if (total == 0) {
    return 0;
  }
  const std::optional<PipeEndRef> end = pipe_end_of(*file);
  if (!end) {
    return Errno{EBADF};
  }

  // Only SPLICE_F_NONBLOCK keeps vmsplice from waiting: Linux 6.18 waits
  // on an O_NONBLOCK pipe end too.
  const bool nonblocking = (flags & kSpliceNonblock) != 0;
  if (to_pipe) {
    return static_cast<int64_t>(TRY(vmsplice_to_pipe(task, *end, segments, nonblocking)));
  }
  return static_cast<int64_t>(TRY(vmsplice_to_user(task, *end, segments, nonblocking)));
}

}  // namespace ward::syscalls
