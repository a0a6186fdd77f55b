// Pipes: a 64 KiB byte buffer in the sentry with a read end and a write
// end. Reads return what is there (EAGAIN when empty, 0 once every writer
// is gone); a write of at most PIPE_BUF bytes goes in whole or not at all;
// a write without readers fails with EPIPE. Every change of state notifies
// the pipe's wait queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "sentry/kernel/credentials.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/file.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}  // namespace ward::kernel

namespace ward::vfs {

// Linux's default pipe capacity: 16 pages.
inline constexpr size_t kPipeCapacityBytes = 64 * 1024;

// Linux's PIPE_BUF: writes up to this size are atomic.
inline constexpr size_t kPipeBufBytes = 4096;

class Pipe {
 public:
  Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  // Moves up to buffer.size() bytes out. EAGAIN when empty while a writer
  // exists; 0 when empty without writers.
  Result<size_t> read(std::span<std::byte> buffer);

  // Moves bytes in. EPIPE without readers. A write of at most PIPE_BUF
  // bytes is EAGAIN unless all of it fits; a larger one takes what fits
  // and is EAGAIN only when nothing does.
  Result<size_t> write(std::span<const std::byte> buffer);

  size_t available_bytes() const { return size_; }
  size_t free_bytes() const { return buffer_.size() - size_; }
  int readers() const { return readers_; }
  int writers() const { return writers_; }

  // The poll events true for an end that reads and/or writes.
  uint32_t readiness(bool reader, bool writer) const;

  // Each new reader or writer notifies the queue, for a FIFO open waiting
  // for the other end.
  void add_reader();
  void add_writer();
  // How many times a reader or writer was added, ever: a FIFO open waits
  // for these to move, since the other end may already be gone again.
  uint64_t reader_opens() const { return reader_opens_; }
  uint64_t writer_opens() const { return writer_opens_; }
  void remove_reader();
  void remove_writer();

  kernel::WaitQueue& queue() { return queue_; }

 private:
  std::vector<std::byte> buffer_;
  size_t head_ = 0;  // index of the oldest byte
  size_t size_ = 0;  // bytes stored
  int readers_ = 0;
  int writers_ = 0;
  uint64_t reader_opens_ = 0;
  uint64_t writer_opens_ = 0;
  kernel::WaitQueue queue_;
};

// The two ends of a new pipe, read end first. `flags` may hold O_NONBLOCK;
// the caller rejects other pipe2 flags first. The pipe is owned by `creds`
// (its fsuid and fsgid), as fstat shows.
std::pair<FileRef, FileRef> make_pipe(const kernel::Credentials& creds, uint32_t flags);

// Opens an end of the FIFO `pipe` found at `location`, as Linux's fifo_open:
// O_RDWR at once; O_RDONLY and O_WRONLY wait for the other end unless
// O_NONBLOCK, where a write-only open without a reader is ENXIO. `task` is
// the task that waits, or null when nothing may wait (then a blocking open
// behaves as a non-blocking one). ERESTARTSYS when a signal ends the wait.
Result<FileRef> open_fifo(const std::shared_ptr<Pipe>& pipe, const VirtualDentry& location,
                          uint32_t flags, kernel::Task* task);

// The capacity of the pipe behind `file`, or nullopt when it is not a pipe
// (F_GETPIPE_SZ).
std::optional<size_t> pipe_capacity(const FileDescription& file);

}  // namespace ward::vfs
