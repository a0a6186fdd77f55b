#include "syscalls/splice_transfer.h"

#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <span>
#include <vector>

#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/net/socket.h"
#include "sentry/vfs/blocking.h"
#include "sentry/vfs/task_io.h"
#include "syscalls/gaps.h"

namespace ward::syscalls {
namespace {

// The error a transfer returns after partial progress: Linux reports the
// bytes moved and drops the error, which the next call sees again.
Result<size_t> progress_or(size_t done_bytes, Errno error) {
  if (done_bytes > 0) {
    return done_bytes;
  }
  return error;
}

// Reads from `source` into `buffer`: a socket receives without waiting,
// since the caller waits for POLLIN, and other files read at `position`.
Result<size_t> read_source(kernel::Task& task, vfs::FileDescription& source,
                           std::span<std::byte> buffer, std::optional<int64_t> position) {
  if (net::Socket* socket = net::as_socket(source)) {
    const net::ReceiveResult result =
        TRY(socket->receive(task, net::SocketBuffer::of_sentry_memory(buffer), MSG_DONTWAIT));
    return result.length;
  }
  return source.read(buffer, position);
}

// Writes `data` to `destination`, a file at `position`. A socket sends
// without waiting, because the caller waits for POLLOUT, and its EPIPE
// raises SIGPIPE as in Linux's splice_to_socket.
Result<size_t> write_destination(kernel::Task& task, vfs::FileDescription& destination,
                                 std::span<const std::byte> data,
                                 std::optional<int64_t> position) {
  if (net::Socket* socket = net::as_socket(destination)) {
    net::SendRequest request;
    request.data = net::SocketBuffer::of_sentry_data(data);
    request.flags = MSG_DONTWAIT;
    return socket->send(task, request);
  }
  return destination.write(data, position);
}

// Whether a stream source has data or an end to report, so that a read
// of it returns at once.
bool stream_ready(vfs::FileDescription& source) {
  return (source.readiness(POLLIN) & (POLLIN | POLLHUP | POLLERR)) != 0;
}

// Writes `data` to `destination` at `position` (nullopt: a stream at its
// own position). A blocking stream waits until all of it is written, as
// a write(2) does. Sets `written` to the bytes written, errors included.
Result<void> write_all(kernel::Task& task, vfs::FileDescription& destination,
                       std::span<const std::byte> data, std::optional<int64_t> position,
                       size_t& written) {
  written = 0;
  auto write_rest = [&]() -> Result<size_t> {
    std::optional<int64_t> at;
    if (position) {
      at = *position + static_cast<int64_t>(written);
    }
    auto wrote = write_destination(task, destination, data.subspan(written), at);
    if (!wrote.ok()) {
      return wrote.error();
    }
    written += *wrote;
    if (written < data.size() && destination.stream()) {
      return Errno{EAGAIN};
    }
    return written;
  };
  auto result = vfs::block_until_ready(task, destination, POLLOUT, write_rest);
  if (!result.ok()) {
    return result.error();
  }
  return ok();
}

}  // namespace

Result<void> check_splice_source(kernel::Task& task, vfs::FileDescription& file) {
  const mode_t type = file.inode().type();
  if (S_ISREG(type) || S_ISCHR(type) || S_ISBLK(type) || net::as_socket(file) != nullptr) {
    return ok();
  }
  if (S_ISSOCK(type)) {
    task.log(spdlog::level::warn, "splicing from a socket is not supported");
    record_gap(task, "a socket as the source");
  }
  return Errno{EINVAL};
}

Result<void> check_splice_destination(kernel::Task& task, vfs::FileDescription& file) {
  const mode_t type = file.inode().type();
  if (S_ISREG(type) || S_ISCHR(type) || S_ISBLK(type) || net::as_socket(file) != nullptr) {
    return ok();
  }
  if (S_ISSOCK(type)) {
    task.log(spdlog::level::warn, "splicing to a socket is not supported");
    record_gap(task, "a socket as the destination");
  }
  return Errno{EINVAL};
}

Result<void> wait_pipe_readable(kernel::Task& task, PipeEndRef end, bool nonblocking) {
  auto attempt = [&]() -> Result<void> {
    if (end.pipe.available_bytes() > 0 || end.pipe.writers() == 0) {
      return ok();
    }
    return Errno{EAGAIN};
  };
  return vfs::block_until_ready(task, end.file, POLLIN, nonblocking, attempt);
}

Result<void> wait_pipe_writable(kernel::Task& task, PipeEndRef end, bool nonblocking) {
  auto attempt = [&]() -> Result<void> {
    if (end.pipe.readers() == 0) {
      return Errno{EPIPE};
    }
    if (end.pipe.full()) {
      return Errno{EAGAIN};
    }
    return ok();
  };
  auto result = vfs::block_until_ready(task, end.file, POLLOUT, nonblocking, attempt);
  if (!result.ok() && result.error().value == EPIPE) {
    kernel::send_signal_to_task(task, kernel::user_siginfo(SIGPIPE, task));
  }
  return result;
}

Result<size_t> splice_file_to_pipe(kernel::Task& task, vfs::FileDescription& source,
                                   std::optional<int64_t>& position, PipeEndRef destination,
                                   size_t count, bool nonblocking) {
  // A stream source is waited for before its bytes are taken, so that no
  // byte is taken that the pipe has no room for.
  for (;;) {
    TRY(wait_pipe_writable(task, destination, nonblocking));
    TRY(check_splice_source(task, source));
    if (!source.stream() || stream_ready(source)) {
      break;
    }
    auto ready = vfs::block_until_ready(task, source, POLLIN, nonblocking || source.nonblocking(),
                                        [&]() -> Result<void> {
                                          if (stream_ready(source)) {
                                            return ok();
                                          }
                                          return Errno{EAGAIN};
                                        });
    TRY(ready);
  }

  // As Linux's do_splice_read: each free buffer takes the bytes up to the
  // next page boundary of the file (a stream fills whole pages), until the
  // ring is full, the count is reached or the source ends.
  const size_t limit = std::min(count, vfs::kMaxRwCount);
  std::vector<std::byte> page(vfs::kPipePageBytes);
  size_t done = 0;
  while (done < limit && !destination.pipe.full()) {
    size_t want = std::min(limit - done, vfs::kPipePageBytes);
    if (position) {
      const auto page_offset = static_cast<size_t>(*position) % vfs::kPipePageBytes;
      want = std::min(want, vfs::kPipePageBytes - page_offset);
    }
    const std::span<std::byte> piece(page.data(), want);
    auto got = read_source(task, source, piece, source.stream() ? std::nullopt : position);
    if (!got.ok()) {
      if (got.error().value == EAGAIN && done > 0) {
        break;
      }
      return progress_or(done, got.error());
    }
    if (*got == 0) {
      break;
    }
    destination.pipe.append_page(piece.first(*got));
    done += *got;
    if (position) {
      *position += static_cast<int64_t>(*got);
    }
    if (*got < want) {
      break;
    }
  }
  return done;
}

Result<size_t> splice_pipe_to_file(kernel::Task& task, PipeEndRef source,
                                   vfs::FileDescription& destination,
                                   std::optional<int64_t>& position, size_t count,
                                   bool nonblocking) {
  TRY(wait_pipe_readable(task, source, nonblocking));

  const size_t limit = std::min(count, vfs::kMaxRwCount);
  std::vector<std::byte> buffer(std::min(limit, vfs::kIoChunkBytes));
  size_t done = 0;
  while (done < limit && source.pipe.available_bytes() > 0) {
    const size_t want = std::min(limit - done, buffer.size());

    // The bytes leave the pipe only once written, so a failed or short
    // write loses none of them. Each attempt peeks again, since another
    // reader may have taken some while this one waited.
    auto attempt = [&]() -> Result<size_t> {
      const size_t peeked = source.pipe.peek(std::span(buffer.data(), want));
      if (peeked == 0) {
        return size_t{0};
      }
      const size_t wrote =
          TRY(write_destination(task, destination, std::span(buffer.data(), peeked), position));
      source.pipe.consume(wrote);
      return wrote;
    };
    auto wrote = vfs::block_until_ready(task, destination, POLLOUT, attempt);
    if (!wrote.ok()) {
      return progress_or(done, wrote.error());
    }
    if (*wrote == 0) {
      break;
    }
    done += *wrote;
    if (position) {
      *position += static_cast<int64_t>(*wrote);
    }
  }
  return done;
}

Result<size_t> copy_file_to_file(kernel::Task& task, vfs::FileDescription& source,
                                 int64_t& source_position, vfs::FileDescription& destination,
                                 std::optional<int64_t>& destination_position, size_t count) {
  const size_t limit = std::min(count, vfs::kMaxRwCount);
  std::vector<std::byte> buffer(std::min(limit, vfs::kIoChunkBytes));
  size_t done = 0;
  while (done < limit) {
    const size_t want = std::min(limit - done, buffer.size());
    auto got = source.read(std::span(buffer.data(), want), source_position);
    if (!got.ok()) {
      return progress_or(done, got.error());
    }
    if (*got == 0) {
      break;
    }

    size_t written = 0;
    auto wrote = write_all(task, destination, std::span(buffer.data(), *got),
                           destination_position, written);
    done += written;
    source_position += static_cast<int64_t>(written);
    if (destination_position) {
      *destination_position += static_cast<int64_t>(written);
    }
    if (!wrote.ok()) {
      return progress_or(done, wrote.error());
    }
    if (written < *got || *got < want) {
      break;  // a full disk, or the end of the source
    }
  }
  return done;
}

}  // namespace ward::syscalls
