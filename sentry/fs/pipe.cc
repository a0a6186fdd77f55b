#include "sentry/fs/pipe.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "sentry/kernel/task.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// The x86_64 value of FIONREAD.
constexpr uint32_t kFionread = 0x541B;

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

  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t>) override {
    return pipe_->read(buffer);
  }

  Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t>) override {
    return pipe_->write(buffer);
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

Pipe::Pipe() : buffer_(kPipeCapacityBytes) {}

Result<size_t> Pipe::read(std::span<std::byte> buffer) {
  if (size_ == 0) {
    if (writers_ == 0) {
      return size_t{0};
    }
    return Errno{EAGAIN};
  }
  const size_t count = std::min(buffer.size(), size_);
  const size_t first_part = std::min(count, buffer_.size() - head_);
  std::memcpy(buffer.data(), buffer_.data() + head_, first_part);
  std::memcpy(buffer.data() + first_part, buffer_.data(), count - first_part);
  head_ = (head_ + count) % buffer_.size();
  size_ -= count;
  queue_.notify(POLLOUT | POLLWRNORM);
  return count;
}

Result<size_t> Pipe::write(std::span<const std::byte> buffer) {
  // An empty write succeeds even without readers, as in Linux.
  if (buffer.empty()) {
    return size_t{0};
  }
  if (readers_ == 0) {
    return Errno{EPIPE};
  }
  const size_t room = free_bytes();
  if (buffer.size() <= kPipeBufBytes ? room < buffer.size() : room == 0) {
    return Errno{EAGAIN};
  }
  const size_t count = std::min(buffer.size(), room);
  const size_t tail = (head_ + size_) % buffer_.size();
  const size_t first_part = std::min(count, buffer_.size() - tail);
  std::memcpy(buffer_.data() + tail, buffer.data(), first_part);
  std::memcpy(buffer_.data(), buffer.data() + first_part, count - first_part);
  size_ += count;
  queue_.notify(POLLIN | POLLRDNORM);
  return count;
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
    // Linux reports room when a whole page is free; PIPE_BUF is that page.
    if (free_bytes() >= kPipeBufBytes) {
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
  const uint32_t status = flags & O_NONBLOCK;
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
  if (dynamic_cast<const PipeEnd*>(&file) == nullptr) {
    return std::nullopt;
  }
  return kPipeCapacityBytes;
}

}  // namespace ward::vfs
