#include "sentry/fs/pipe.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "sentry/kernel/task.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// The x86_64 value of FIONREAD.
constexpr uint32_t kFionread = 0x541B;

// The largest F_SETPIPE_SZ request Linux's round_pipe_size accepts: 2 GiB.
constexpr size_t kPipeMaxRequestBytes = size_t{1} << 31;

std::shared_ptr<Filesystem> pipe_filesystem() {
  // One pipefs for every pipe, as Linux has, so pipes share a device number.
  static const auto filesystem = std::make_shared<Filesystem>("pipefs", PIPEFS_MAGIC);
  return filesystem;
}

// The inode of a pipe. An open of it through /proc/pid/fd adds a reader or
// writer to the same pipe, as opening a FIFO does.
class PipeInode final : public Inode {
 public:
  PipeInode(std::shared_ptr<Pipe> pipe, const kernel::Credentials& creds)
      : Inode(pipe_filesystem(), S_IFIFO),
        pipe_(std::move(pipe)),
        ino_(filesystem().allocate_ino()),
        uid_(creds.fs_uid),
        gid_(creds.fs_gid) {
    clock_gettime(CLOCK_REALTIME, &created_);
  }

  Result<struct stat> stat() override {
    struct stat st {};
    st.st_dev = filesystem().dev();
    st.st_ino = ino_;
    st.st_mode = S_IFIFO | 0600;
    st.st_nlink = 1;
    st.st_uid = uid_;
    st.st_gid = gid_;
    st.st_blksize = kPipeBufBytes;
    st.st_atim = created_;
    st.st_mtim = created_;
    st.st_ctim = created_;
    return st;
  }

  Result<FileRef> open(const Caller& caller, const VirtualDentry& location,
                       uint32_t flags) override;

  std::string anonymous_name() const override { return "pipe:[" + std::to_string(ino_) + "]"; }

  const std::shared_ptr<Pipe>& pipe() const { return pipe_; }

 private:
  std::shared_ptr<Pipe> pipe_;
  uint64_t ino_;
  uid_t uid_;
  gid_t gid_;
  struct timespec created_ {};
};

// One open end of a pipe; an O_RDWR open through /proc/pid/fd is both.
class PipeEnd final : public FileDescription {
 public:
  PipeEnd(VirtualDentry location, uint32_t flags, std::shared_ptr<Pipe> pipe)
      : FileDescription(std::move(location), flags), pipe_(std::move(pipe)) {
    if (readable()) {
      pipe_->add_reader();
    }
    if (writable()) {
      pipe_->add_writer();
    }
  }

  ~PipeEnd() override {
    if (readable()) {
      pipe_->remove_reader();
    }
    if (writable()) {
      pipe_->remove_writer();
    }
  }

  bool stream() const override { return true; }

  // NOTE: readv hands a pipe one iovec at a time, so a packet longer than
  // the first iovec loses its rest where Linux spreads it over the iovecs.
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t>) override {
    return pipe_->read(buffer);
  }

  Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t>) override {
    return pipe_->write(buffer, (flags() & O_DIRECT) != 0);
  }

  uint32_t readiness(uint32_t mask) override {
    return pipe_->readiness(readable(), writable()) & (mask | POLLERR | POLLHUP);
  }

  kernel::WaitQueue* wait_queue() override { return &pipe_->queue(); }

  Result<int64_t> ioctl(kernel::Task& task, uint32_t request, GuestAddr arg) override {
    if (request != kFionread) {
      return Errno{ENOTTY};
    }
    const int available = static_cast<int>(pipe_->available_bytes());
    TRY(task.copy_out(arg, available));
    return 0;
  }

  const Pipe& pipe() const { return *pipe_; }
  Pipe& mutable_pipe() { return *pipe_; }

 private:
  std::shared_ptr<Pipe> pipe_;
};

Result<FileRef> PipeInode::open(const Caller&, const VirtualDentry& location, uint32_t flags) {
  // NOTE: Linux makes a blocking open of one end wait for the other; this
  // open never waits, and a write-only open without readers fails with
  // ENXIO as a non-blocking one does on Linux.
  if ((flags & O_ACCMODE) == O_WRONLY && pipe_->readers() == 0) {
    return Errno{ENXIO};
  }
  const uint32_t kept = flags & (O_ACCMODE | O_NONBLOCK);
  return FileRef(std::make_shared<PipeEnd>(location, kept, pipe_));
}

}  // namespace

// ---------------------------------------------------------------------------
// Pipe

Pipe::Pipe() = default;

Result<size_t> Pipe::read(std::span<std::byte> buffer) {
  if (buffer.empty()) {
    return size_t{0};
  }
  if (buffers_.empty()) {
    if (writers_ == 0) {
      return size_t{0};
    }
    return Errno{EAGAIN};
  }

  const bool was_full = full();
  size_t done = 0;
  while (done < buffer.size() && !buffers_.empty()) {
    Buffer& oldest = buffers_.front();
    const size_t count = std::min(buffer.size() - done, oldest.length());
    std::memcpy(buffer.data() + done, oldest.bytes.data() + oldest.offset, count);
    done += count;
    oldest.offset += count;
    size_ -= count;

    // A read ends with a packet, and drops the rest of it.
    const bool packet = oldest.packet;
    if (packet) {
      size_ -= oldest.length();
      oldest.offset = oldest.bytes.size();
    }
    if (oldest.length() == 0) {
      buffers_.pop_front();
    }
    if (packet) {
      break;
    }
  }
  if (was_full && !full()) {
    queue_.notify(POLLOUT | POLLWRNORM);
  }
  return done;
}

Result<size_t> Pipe::write(std::span<const std::byte> buffer, bool packet) {
  // An empty write succeeds even without readers, as in Linux.
  if (buffer.empty()) {
    return size_t{0};
  }
  if (readers_ == 0) {
    return Errno{EPIPE};
  }

  // As Linux's pipe_write: the bytes past the last whole page go first
  // into the newest buffer when all of them fit there, so small writes
  // share a page and the rest of a large write is page-aligned. Linux
  // merges only into a buffer that is not a packet nor spliced in, but
  // does so for any writer, O_DIRECT or not.
  size_t done = 0;
  const size_t tail_bytes = buffer.size() % kPipePageBytes;
  if (tail_bytes != 0 && !buffers_.empty() && buffers_.back().mergeable &&
      buffers_.back().bytes.size() + tail_bytes <= kPipePageBytes) {
    std::vector<std::byte>& newest = buffers_.back().bytes;
    newest.insert(newest.end(), buffer.begin(), buffer.begin() + tail_bytes);
    done = tail_bytes;
  }

  // Then one new buffer per page, while the ring has room. A write of at
  // most PIPE_BUF bytes needs one buffer, so it goes in whole or not at all.
  while (done < buffer.size() && !full()) {
    const size_t count = std::min(buffer.size() - done, kPipePageBytes);
    Buffer fresh{.bytes = {}, .offset = 0, .packet = packet, .mergeable = !packet};
    fresh.bytes.reserve(kPipePageBytes);
    fresh.bytes.assign(buffer.begin() + done, buffer.begin() + done + count);
    buffers_.push_back(std::move(fresh));
    done += count;
  }
  if (done == 0) {
    return Errno{EAGAIN};
  }
  size_ += done;
  queue_.notify(POLLIN | POLLRDNORM);
  return done;
}

size_t Pipe::peek(std::span<std::byte> buffer) const {
  size_t done = 0;
  for (const Buffer& stored : buffers_) {
    if (done == buffer.size()) {
      break;
    }
    const size_t count = std::min(buffer.size() - done, stored.length());
    std::memcpy(buffer.data() + done, stored.bytes.data() + stored.offset, count);
    done += count;
  }
  return done;
}

void Pipe::consume(size_t count) {
  const bool was_full = full();
  count = std::min(count, size_);
  size_ -= count;
  while (count > 0) {
    Buffer& oldest = buffers_.front();
    const size_t taken = std::min(count, oldest.length());
    oldest.offset += taken;
    count -= taken;
    if (oldest.length() == 0) {
      buffers_.pop_front();
    }
  }
  if (was_full && !full()) {
    queue_.notify(POLLOUT | POLLWRNORM);
  }
}

bool Pipe::append_page(std::span<const std::byte> bytes) {
  if (full() || bytes.empty()) {
    return false;
  }
  Buffer page{.bytes = {}, .offset = 0, .packet = false, .mergeable = false};
  page.bytes.assign(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), kPipePageBytes)));
  push_spliced(std::move(page));
  queue_.notify(POLLIN | POLLRDNORM);
  return true;
}

void Pipe::push_spliced(Buffer buffer) {
  size_ += buffer.length();
  buffers_.push_back(std::move(buffer));
}

size_t Pipe::move_to(Pipe& destination, size_t count) {
  // As Linux's splice_pipe_to_pipe: a whole buffer moves with its flags,
  // and the part of one that is split off may not be merged into.
  size_t done = 0;
  while (done < count && !buffers_.empty() && !destination.full()) {
    Buffer& oldest = buffers_.front();
    const size_t length = oldest.length();
    if (length <= count - done) {
      destination.push_spliced(std::move(oldest));
      buffers_.pop_front();
      size_ -= length;
      done += length;
      continue;
    }
    const size_t part = count - done;
    Buffer split{.bytes = {}, .offset = 0, .packet = oldest.packet, .mergeable = false};
    const auto first = oldest.bytes.begin() + static_cast<std::ptrdiff_t>(oldest.offset);
    split.bytes.assign(first, first + static_cast<std::ptrdiff_t>(part));
    destination.push_spliced(std::move(split));
    oldest.offset += part;
    size_ -= part;
    done += part;
  }
  if (done > 0) {
    queue_.notify(POLLOUT | POLLWRNORM);
    destination.queue_.notify(POLLIN | POLLRDNORM);
  }
  return done;
}

size_t Pipe::copy_to(Pipe& destination, size_t count) const {
  // As Linux's link_pipe: each copy is a buffer that may not be merged
  // into, cut to the bytes still wanted.
  size_t done = 0;
  for (const Buffer& stored : buffers_) {
    if (done == count || destination.full()) {
      break;
    }
    const size_t part = std::min(stored.length(), count - done);
    Buffer copy{.bytes = {}, .offset = 0, .packet = stored.packet, .mergeable = false};
    const auto first = stored.bytes.begin() + static_cast<std::ptrdiff_t>(stored.offset);
    copy.bytes.assign(first, first + static_cast<std::ptrdiff_t>(part));
    destination.push_spliced(std::move(copy));
    done += part;
  }
  if (done > 0) {
    destination.queue_.notify(POLLIN | POLLRDNORM);
  }
  return done;
}

Result<void> Pipe::set_capacity_pages(size_t page_count) {
  if (page_count < buffers_.size()) {
    return Errno{EBUSY};
  }
  max_pages_ = page_count;
  // A larger ring may let a waiting writer in.
  queue_.notify(POLLOUT | POLLWRNORM);
  return ok();
}

uint32_t Pipe::readiness(bool reader, bool writer) const {
  uint32_t events = 0;
  if (reader) {
    if (size_ > 0) {
      events |= POLLIN | POLLRDNORM;
    }
    if (writers_ == 0) {
      events |= POLLHUP;
    }
  }
  if (writer) {
    // Linux reports room when a buffer of the ring is free.
    if (!full()) {
      events |= POLLOUT | POLLWRNORM;
    }
    if (readers_ == 0) {
      events |= POLLERR;
    }
  }
  return events;
}

void Pipe::add_reader() {
  ++readers_;
  ++reader_opens_;
  queue_.notify(POLLOUT | POLLWRNORM);
}

void Pipe::add_writer() {
  ++writers_;
  ++writer_opens_;
  queue_.notify(POLLIN | POLLRDNORM);
}

void Pipe::remove_reader() {
  if (--readers_ == 0) {
    queue_.notify(POLLERR | POLLOUT | POLLWRNORM);
  }
}

void Pipe::remove_writer() {
  if (--writers_ == 0) {
    queue_.notify(POLLHUP | POLLIN | POLLRDNORM);
  }
}

std::pair<FileRef, FileRef> make_pipe(const kernel::Credentials& creds, uint32_t flags) {
  auto pipe = std::make_shared<Pipe>();
  auto inode = std::make_shared<PipeInode>(pipe, creds);
  const VirtualDentry location = make_anonymous_location(inode);
  const uint32_t status = flags & (O_NONBLOCK | O_DIRECT);
  auto reader = std::make_shared<PipeEnd>(location, O_RDONLY | status, pipe);
  auto writer = std::make_shared<PipeEnd>(location, O_WRONLY | status, pipe);
  return {std::move(reader), std::move(writer)};
}

Result<FileRef> open_fifo(const std::shared_ptr<Pipe>& pipe, const VirtualDentry& location,
                          uint32_t flags, kernel::Task* task) {
  const uint32_t access = flags & O_ACCMODE;
  const bool nonblocking = (flags & O_NONBLOCK) != 0 || task == nullptr;
  if (access == O_WRONLY && nonblocking && pipe->readers() == 0) {
    return Errno{ENXIO};
  }
  const uint32_t kept = flags & (O_ACCMODE | O_NONBLOCK);
  auto end = std::make_shared<PipeEnd>(location, kept, pipe);
  if (access == O_RDWR || nonblocking) {
    return FileRef(std::move(end));
  }

  // Wait until the other end has been opened at least once since this
  // open began, whether or not it is still open.
  const bool reading = access == O_RDONLY;
  auto other_opens = [&] { return reading ? pipe->writer_opens() : pipe->reader_opens(); };
  auto other_count = [&] { return reading ? pipe->writers() : pipe->readers(); };
  const uint64_t opens_before = other_opens();
  while (other_count() == 0 && other_opens() == opens_before) {
    kernel::Waiter waiter(task->scheduler());
    waiter.watch(pipe->queue(), POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
    if (task->block(waiter) == kernel::WakeReason::kInterrupted) {
      return Errno{ERESTARTSYS};
    }
  }
  return FileRef(std::move(end));
}

std::optional<size_t> pipe_capacity(const FileDescription& file) {
  const auto* end = dynamic_cast<const PipeEnd*>(&file);
  if (end == nullptr) {
    return std::nullopt;
  }
  return end->pipe().capacity_bytes();
}

Pipe* pipe_of(FileDescription& file) {
  auto* end = dynamic_cast<PipeEnd*>(&file);
  return end == nullptr ? nullptr : &end->mutable_pipe();
}

Result<size_t> set_pipe_capacity(Pipe& pipe, uint32_t size_bytes,
                                 const kernel::Credentials& creds) {
  // Linux's round_pipe_size: at least a page, at most 2 GiB.
  if (size_bytes > kPipeMaxRequestBytes) {
    return Errno{EINVAL};
  }
  const size_t rounded = std::bit_ceil(std::max<size_t>(size_bytes, kPipePageBytes));
  const size_t page_count = rounded / kPipePageBytes;

  // Shrinking is always allowed, but growing past pipe-max-size needs
  // CAP_SYS_RESOURCE.
  // NOTE: Linux also limits a user without CAP_SYS_RESOURCE or
  // CAP_SYS_ADMIN to pipe-user-pages-soft (16384 pages over all of the
  // user's pipes). ward keeps no per-user count.
  const bool grows = rounded > pipe.capacity_bytes();
  if (grows && rounded > kPipeMaxSizeBytes && !creds.has_capability(CAP_SYS_RESOURCE)) {
    return Errno{EPERM};
  }
  TRY(pipe.set_capacity_pages(page_count));
  return rounded;
}

}  // namespace ward::vfs
