// sendfile and copy_file_range: copies from a file at an offset, which
// the sentry makes through its own read and write of each file.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <optional>

#include "sentry/fs/pipe.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/task_io.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_splice.h"
#include "syscalls/splice_transfer.h"

namespace ward::syscalls {
namespace {

using vfs::FileRef;

// Linux's do_sendfile after the offset is copied in: `offset` is the
// caller's offset, advanced on success, or nullopt to use and advance
// the input's file offset.
Result<size_t> send_file(kernel::Task& task, int out_fd, int in_fd, std::optional<int64_t>& offset,
                         uint64_t count) {
  FileRef in = TRY(vfs::io_file(task, in_fd));
  if (!in->readable()) {
    return Errno{EBADF};
  }
  // An explicit offset needs a file with a position (FMODE_PREAD).
  if (offset && in->stream()) {
    return Errno{ESPIPE};
  }
  int64_t position = offset.value_or(in->stream() ? 0 : in->offset());
  TRY(vfs::verify_io_range(position, count));
  count = std::min<uint64_t>(count, vfs::kMaxRwCount);

  FileRef out = TRY(vfs::io_file(task, out_fd));
  if (!out->writable()) {
    return Errno{EBADF};
  }

  size_t done = 0;
  if (vfs::Pipe* pipe = vfs::pipe_of(*out)) {
    std::optional<int64_t> read_position;
    if (!in->stream()) {
      read_position = position;
    }
    done = TRY(splice_file_to_pipe(task, *in, read_position, PipeEndRef{*out, *pipe}, count,
                                   out->nonblocking()));
    position = read_position.value_or(position);
  } else {
    std::optional<int64_t> out_position;
    if (!out->stream()) {
      out_position = out->offset();
      TRY(vfs::verify_io_range(*out_position, count));
    }
    if ((out->flags() & O_APPEND) != 0) {
      return Errno{EINVAL};
    }
    // Linux copies file to file only from a file with pages: regular
    // files and block devices.
    const mode_t in_type = in->inode().type();
    if (!S_ISREG(in_type) && !S_ISBLK(in_type)) {
      return Errno{EINVAL};
    }
    TRY(check_splice_destination(task, *out));
    done = TRY(copy_file_to_file(task, *in, position, *out, out_position, count));
    if (out_position) {
      out->set_offset(*out_position);
    }
  }

  if (offset) {
    offset = position;
  } else if (!in->stream()) {
    in->set_offset(position);
  }
  return done;
}

// Linux's generic_copy_file_checks and the rw_verify_area calls after
// them. Returns the count cut to the end of the input.
Result<size_t> check_copy_range(vfs::FileDescription& in, int64_t in_position,
                                vfs::FileDescription& out, int64_t out_position, size_t count) {
  if (in.inode().is_dir() || out.inode().is_dir()) {
    return Errno{EISDIR};
  }
  if (!in.inode().is_regular() || !out.inode().is_regular()) {
    return Errno{EINVAL};
  }
  if (!in.readable() || !out.writable() || (out.flags() & O_APPEND) != 0) {
    return Errno{EBADF};
  }
  // No ward filesystem has a copy_file_range of its own, so Linux's rule
  // for those applies: both files on one filesystem.
  if (&in.inode().filesystem() != &out.inode().filesystem()) {
    return Errno{EXDEV};
  }

  // Linux compares as unsigned 64-bit values, so a negative offset wraps.
  const auto in_start = static_cast<uint64_t>(in_position);
  const auto out_start = static_cast<uint64_t>(out_position);
  if (in_start + count < in_start || out_start + count < out_start) {
    return Errno{EOVERFLOW};
  }
  const int64_t in_size = TRY(in.stat()).st_size;
  if (in_position >= in_size) {
    count = 0;
  } else {
    count = std::min<uint64_t>(count, static_cast<uint64_t>(in_size) - in_start);
  }
  // NOTE: Linux also cuts the count at RLIMIT_FSIZE here (EFBIG and
  // SIGXFSZ past it); ward does not apply that limit to copy_file_range.

  // Overlapping ranges of one file are EINVAL.
  if (&in.inode() == &out.inode() && out_start + count > in_start &&
      out_start < in_start + count) {
    return Errno{EINVAL};
  }
  TRY(vfs::verify_io_range(in_position, count));
  TRY(vfs::verify_io_range(out_position, count));
  return count;
}

}  // namespace

// sendfile(2): copies from a file at an offset to any file or a pipe.
Result<int64_t> sys_sendfile(kernel::Task& task, const SyscallArgs& args) {
  const int out_fd = args.fd(0);
  const int in_fd = args.fd(1);
  const GuestAddr offset_addr = args.addr(2);
  const uint64_t count = args.u64(3);

  if (offset_addr.is_null()) {
    std::optional<int64_t> offset;
    return static_cast<int64_t>(TRY(send_file(task, out_fd, in_fd, offset, count)));
  }
  std::optional<int64_t> offset = TRY(task.copy_in<int64_t>(offset_addr));
  auto sent = send_file(task, out_fd, in_fd, offset, count);
  // Linux stores the offset back whatever the result.
  TRY(task.copy_out(offset_addr, *offset));
  return static_cast<int64_t>(TRY(sent));
}

// copy_file_range(2): copies a range of one regular file to another on
// the same filesystem.
Result<int64_t> sys_copy_file_range(kernel::Task& task, const SyscallArgs& args) {
  const int in_fd = args.fd(0);
  const GuestAddr in_offset_addr = args.addr(1);
  const int out_fd = args.fd(2);
  const GuestAddr out_offset_addr = args.addr(3);
  const uint64_t count = args.u64(4);
  const uint32_t flags = args.u32(5);

  FileRef in = TRY(vfs::io_file(task, in_fd));
  FileRef out = TRY(vfs::io_file(task, out_fd));
  int64_t in_position = in->offset();
  if (!in_offset_addr.is_null()) {
    in_position = TRY(task.copy_in<int64_t>(in_offset_addr));
  }
  int64_t out_position = out->offset();
  if (!out_offset_addr.is_null()) {
    out_position = TRY(task.copy_in<int64_t>(out_offset_addr));
  }
  if (flags != 0) {
    return Errno{EINVAL};
  }

  const size_t length = TRY(check_copy_range(*in, in_position, *out, out_position, count));
  if (length == 0) {
    return 0;
  }
  std::optional<int64_t> write_position = out_position;
  const size_t copied = TRY(copy_file_to_file(task, *in, in_position, *out, write_position,
                                              std::min(length, vfs::kMaxRwCount)));
  out_position = *write_position;

  // Linux stores the new offsets only after a copy of at least one byte.
  if (copied == 0) {
    return 0;
  }
  if (in_offset_addr.is_null()) {
    in->set_offset(in_position);
  } else {
    TRY(task.copy_out(in_offset_addr, in_position));
  }
  if (out_offset_addr.is_null()) {
    out->set_offset(out_position);
  } else {
    TRY(task.copy_out(out_offset_addr, out_position));
  }
  return static_cast<int64_t>(copied);
}

}  // namespace ward::syscalls
