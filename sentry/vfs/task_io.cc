#include "sentry/vfs/task_io.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>

#include <algorithm>

#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/blocking.h"
#include "sentry/vfs/fsnotify.h"

namespace ward::vfs {
namespace {

// The error a transfer returns after partial progress: Linux reports the
// bytes moved and drops the error, which the next call sees again.
Result<size_t> progress_or(size_t done_bytes, Errno error) {
  if (done_bytes > 0) {
    return done_bytes;
  }
  return error;
}

size_t total_length(std::span<const GuestSegment> segments) {
  size_t total = 0;
  for (const auto& segment : segments) {
    total += segment.length;
  }
  return total;
}

// Applies RLIMIT_FSIZE to a write of `total` bytes to a regular file, as
// Linux's generic_write_check_limits does, and returns the bytes allowed.
// A write starting at or past the limit fails with EFBIG and sends the
// writer SIGXFSZ. One that would cross it is cut short at the limit.
Result<size_t> apply_file_size_limit(kernel::Task& task, FileDescription& file, size_t total,
                                     std::optional<int64_t> offset) {
  const rlim_t limit = task.thread_group().limit(RLIMIT_FSIZE).rlim_cur;
  if (limit == RLIM_INFINITY || !file.inode().is_regular()) {
    return total;
  }
  int64_t position = 0;
  if (offset) {
    position = *offset;
  } else if ((file.flags() & O_APPEND) != 0) {
    position = TRY(file.stat()).st_size;
  } else {
    position = file.offset();
  }
  if (position >= 0 && static_cast<rlim_t>(position) >= limit) {
    kernel::send_signal_to_task(task, kernel::user_siginfo(SIGXFSZ, task));
    return Errno{EFBIG};
  }
  return static_cast<size_t>(std::min<rlim_t>(total, limit - static_cast<rlim_t>(position)));
}

// The first `length` bytes of `segments`.
std::vector<GuestSegment> first_bytes(std::span<const GuestSegment> segments, size_t length) {
  std::vector<GuestSegment> prefix;
  for (const GuestSegment& segment : segments) {
    if (length == 0) {
      break;
    }
    prefix.push_back(GuestSegment{segment.base, std::min(segment.length, length)});
    length -= prefix.back().length;
  }
  return prefix;
}

}  // namespace

bool guest_range_ok(GuestAddr addr, uint64_t length) {
  return addr.value() <= kTaskSize && length <= kTaskSize - addr.value();
}

Result<std::vector<GuestSegment>> import_iovecs(kernel::Task& task, GuestAddr iov_addr,
                                                uint64_t iov_count) {
  if (iov_count > kMaxIovecs) {
    return Errno{EINVAL};
  }
  std::vector<iovec> raw(iov_count);
  TRY(task.copy_in(iov_addr, std::as_writable_bytes(std::span(raw))));

  std::vector<GuestSegment> segments;
  segments.reserve(iov_count);
  for (const iovec& entry : raw) {
    const auto length = static_cast<int64_t>(entry.iov_len);
    if (length < 0) {
      return Errno{EINVAL};
    }
  }
  size_t total = 0;
  for (const iovec& entry : raw) {
    const GuestAddr base(reinterpret_cast<uint64_t>(entry.iov_base));
    size_t length = entry.iov_len;
    if (!guest_range_ok(base, length)) {
      return Errno{EFAULT};
    }
    length = std::min(length, kMaxRwCount - total);
    total += length;
    segments.push_back(GuestSegment{.base = base, .length = length});
  }
  return segments;
}

Result<size_t> read_to_guest(kernel::Task& task, FileDescription& file,
                             std::span<const GuestSegment> segments, std::optional<int64_t> offset,
                             bool nowait) {
  const size_t total = total_length(segments);
  if (total == 0) {
    return size_t{0};
  }
  std::vector<std::byte> buffer(std::min(total, kIoChunkBytes));

  // A file with a position is read at explicit offsets; its offset moves
  // only by what reached the guest.
  const bool positioned = !file.stream();
  int64_t position = offset.value_or(positioned ? file.offset() : 0);
  size_t done = 0;
  bool at_end = false;

  for (const GuestSegment& segment : segments) {
    size_t segment_done = 0;
    while (segment_done < segment.length && !at_end) {
      // Take from the file only what the guest buffer can hold before it
      // faults, so that no byte of a stream is consumed and then lost.
      const GuestAddr target = segment.base + segment_done;
      const size_t want = static_cast<size_t>(task.mm().accessible_bytes(
          target, std::min(segment.length - segment_done, buffer.size()), PROT_WRITE));
      if (want == 0) {
        if (positioned && !offset) {
          file.set_offset(position);
        }
        return progress_or(done, Errno{EFAULT});
      }
      std::span<std::byte> chunk(buffer.data(), want);
      auto read_once = [&]() -> Result<size_t> {
        return file.read(chunk, positioned ? std::optional<int64_t>(position) : std::nullopt);
      };

      // Only the first bytes are worth waiting for; after them a stream
      // returns what it has.
      Result<size_t> got =
          done == 0 ? block_until_ready(task, file, POLLIN, nowait || file.nonblocking(), read_once)
                    : read_once();
      if (!got.ok()) {
        if (done > 0 && got.error().value == EAGAIN) {
          at_end = true;
          break;
        }
        if (positioned && !offset) {
          file.set_offset(position);
        }
        return progress_or(done, got.error());
      }
      if (*got == 0) {
        at_end = true;
        break;
      }

      // The span must be of const bytes: Task's copy_out template would
      // otherwise copy the span object itself.
      const std::span<const std::byte> data(buffer.data(), *got);
      auto copied = task.copy_out(target, data);
      if (!copied.ok()) {
        // NOTE: a mapping the VMA list calls writable can still fault (a
        // file page past the end of its file); bytes taken from a stream
        // are then lost, where Linux keeps them.
        if (positioned && !offset) {
          file.set_offset(position);
        }
        return progress_or(done, copied.error());
      }
      done += *got;
      segment_done += *got;
      position += static_cast<int64_t>(*got);
      if (*got < want) {
        at_end = true;
      }
    }
    if (at_end) {
      break;
    }
  }

  if (positioned && !offset) {
    file.set_offset(position);
  }
  notify_accessed(file, done);
  return done;
}

Result<size_t> write_from_guest(kernel::Task& task, FileDescription& file,
                                std::span<const GuestSegment> segments,
                                std::optional<int64_t> offset, bool nowait) {
  size_t total = total_length(segments);
  if (total == 0) {
    return file.write_empty(offset);
  }
  const size_t allowed = TRY(apply_file_size_limit(task, file, total, offset));
  std::vector<GuestSegment> limited;
  if (allowed < total) {
    limited = first_bytes(segments, allowed);
    segments = limited;
    total = allowed;
  }
  std::vector<std::byte> buffer(std::min(total, kIoChunkBytes));
  int64_t position = offset.value_or(0);
  size_t done = 0;

  // Segments are packed into the bounce buffer before each write, so a
  // writev of at most PIPE_BUF bytes reaches a pipe as one atomic write.
  size_t segment_index = 0;
  size_t segment_offset = 0;
  while (segment_index < segments.size()) {
    size_t filled = 0;
    while (filled < buffer.size() && segment_index < segments.size()) {
      const GuestSegment& segment = segments[segment_index];
      // Linux writes the bytes before a fault in the guest buffer.
      const size_t take = static_cast<size_t>(task.mm().accessible_bytes(
          segment.base + segment_offset,
          std::min(segment.length - segment_offset, buffer.size() - filled), PROT_READ));
      if (take == 0) {
        if (filled == 0) {
          return progress_or(done, Errno{EFAULT});
        }
        break;  // write what was copied; the next call reports the fault
      }
      auto copied =
          task.copy_in(segment.base + segment_offset, std::span(buffer.data() + filled, take));
      if (!copied.ok()) {
        if (filled == 0) {
          return progress_or(done, copied.error());
        }
        break;  // write what was copied; the next call reports the fault
      }
      filled += take;
      segment_offset += take;
      if (segment_offset == segment.length) {
        ++segment_index;
        segment_offset = 0;
      }
    }

    std::span<const std::byte> chunk(buffer.data(), filled);
    size_t chunk_done = 0;
    auto write_rest = [&]() -> Result<size_t> {
      std::optional<int64_t> at;
      if (offset) {
        at = position + static_cast<int64_t>(chunk_done);
      }
      auto wrote = file.write(chunk.subspan(chunk_done), at);
      if (!wrote.ok()) {
        return wrote.error();
      }
      chunk_done += *wrote;
      // A blocking write to a stream waits for room for all of it.
      if (chunk_done < chunk.size() && file.stream()) {
        return Errno{EAGAIN};
      }
      return chunk_done;
    };
    auto wrote = block_until_ready(task, file, POLLOUT, nowait || file.nonblocking(), write_rest);
    done += chunk_done;
    position += static_cast<int64_t>(chunk_done);
    if (!wrote.ok()) {
      if (wrote.error().value == EPIPE) {
        // Linux sends SIGPIPE to the writer with every EPIPE from a write.
        kernel::send_signal_to_task(task, kernel::user_siginfo(SIGPIPE, task));
      }
      return progress_or(done, wrote.error());
    }
    if (chunk_done < chunk.size()) {
      break;  // a short write to a file with a position: the disk is full
    }
    if (filled < buffer.size() && segment_index < segments.size()) {
      break;  // stopped at a fault in the guest buffer
    }
  }
  notify_modified(file, done);
  return done;
}

}  // namespace ward::vfs
