// Pipes: a ring of page-sized buffers in the sentry with a read end and a
// write end, as Linux's pipe_inode_info. Reads return what is there (EAGAIN
// when empty, 0 once every writer is gone). A write of at most PIPE_BUF
// bytes goes in whole or not at all, and a write without readers fails with
// EPIPE. A writer with O_DIRECT writes packets: each buffer it fills is one
// packet, and a read takes at most one packet and drops what does not fit.
// Every change of state notifies the pipe's wait queue.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
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

// The size of one pipe buffer, a page on x86_64.
inline constexpr size_t kPipePageBytes = 4096;

// Linux's default pipe capacity: 16 pages.
inline constexpr size_t kPipeCapacityBytes = 16 * kPipePageBytes;

// Linux's PIPE_BUF: writes up to this size are atomic.
inline constexpr size_t kPipeBufBytes = 4096;

// The default of /proc/sys/fs/pipe-max-size: F_SETPIPE_SZ above it needs
// CAP_SYS_RESOURCE.
inline constexpr size_t kPipeMaxSizeBytes = 1024 * 1024;

class Pipe {
 public:
  Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  // Moves up to buffer.size() bytes out, stopping after a packet, whose
  // bytes past buffer.size() are dropped. EAGAIN when empty while a writer
  // exists; 0 when empty without writers.
  Result<size_t> read(std::span<std::byte> buffer);

  // Moves bytes in, as packets when `packet` (the writer's O_DIRECT). EPIPE
  // without readers. A write of at most PIPE_BUF bytes is EAGAIN unless all
  // of it fits. A larger one takes what fits and is EAGAIN only when
  // nothing does.
  Result<size_t> write(std::span<const std::byte> buffer, bool packet = false);

  // F_SETPIPE_SZ after its permission checks: resizes the ring to
  // `page_count` buffers. EBUSY when more buffers than that hold data.
  Result<void> set_capacity_pages(size_t page_count);

  // splice(2), tee(2) and vmsplice(2) support. Copies up to buffer.size()
  // bytes from the oldest on without consuming them, across packets.
  size_t peek(std::span<std::byte> buffer) const;
  // Drops the oldest `count` bytes, at most available_bytes().
  void consume(size_t count);
  // Moves up to `count` bytes into `destination`, whole buffers while they
  // fit, while `destination` has free buffers. Returns the bytes moved.
  size_t move_to(Pipe& destination, size_t count);
  // Copies up to `count` bytes into `destination` as tee(2) does: buffer
  // by buffer from the oldest, while `destination` has free buffers.
  size_t copy_to(Pipe& destination, size_t count) const;
  // Adds `bytes` (at most a page) as one buffer that later writes do not
  // merge into, as Linux adds a spliced page. False when the ring is full.
  bool append_page(std::span<const std::byte> bytes);
  // The bytes a write can add now without waiting: the free buffers' pages.
  size_t room_bytes() const { return (max_pages_ - std::min(max_pages_, buffers_.size())) * kPipePageBytes; }
  bool full() const { return buffers_.size() >= max_pages_; }

  size_t available_bytes() const { return size_; }
  size_t capacity_bytes() const { return max_pages_ * kPipePageBytes; }
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
  // One page of the ring, Linux's pipe_buffer.
  struct Buffer {
    std::vector<std::byte> bytes;  // the unread bytes start at `offset`
    size_t offset = 0;
    bool packet = false;     // written by an O_DIRECT writer
    bool mergeable = true;  // a later small write may append to it
    size_t length() const { return bytes.size() - offset; }
  };

  // Appends a buffer moved or copied from another pipe.
  void push_spliced(Buffer buffer);

  std::deque<Buffer> buffers_;  // oldest first; none is empty
  size_t max_pages_ = kPipeCapacityBytes / kPipePageBytes;
  size_t size_ = 0;  // bytes stored
  int readers_ = 0;
  int writers_ = 0;
  uint64_t reader_opens_ = 0;
  uint64_t writer_opens_ = 0;
  kernel::WaitQueue queue_;
};

// The two ends of a new pipe, read end first. `flags` may hold O_NONBLOCK
// and O_DIRECT; the caller rejects other pipe2 flags first. The pipe is owned by `creds`
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

// The pipe behind `file`, or null when it is not a pipe or FIFO end.
Pipe* pipe_of(FileDescription& file);

// F_SETPIPE_SZ: sets the capacity of `pipe` to `size_bytes` rounded up to
// a power-of-two number of pages and returns the new capacity. EINVAL for
// a size above 2 GiB (a negative int is one), EPERM to grow past
// pipe-max-size without CAP_SYS_RESOURCE, EBUSY to shrink below the pages
// that hold data.
Result<size_t> set_pipe_capacity(Pipe& pipe, uint32_t size_bytes, const kernel::Credentials& creds);

}  // namespace ward::vfs
