#include "sentry/fs/host_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>

#include "compat/ioctl_names.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// The x86_64 ioctl numbers of the requests a host stream passes on.
constexpr uint32_t kTcgets = 0x5401;
constexpr uint32_t kTiocgwinsz = 0x5413;
constexpr uint32_t kFionread = 0x541B;

// struct termios as the kernel's TCGETS fills it (asm/termbits.h), which
// differs from glibc's struct termios.
struct KernelTermios {
  uint32_t iflag;
  uint32_t oflag;
  uint32_t cflag;
  uint32_t lflag;
  uint8_t line;
  std::array<uint8_t, 19> control_chars;
};
static_assert(sizeof(KernelTermios) == 36);

struct KernelWinsize {
  uint16_t rows;
  uint16_t columns;
  uint16_t x_pixels;
  uint16_t y_pixels;
};

// Linux's PIPE_BUF: a write of at most this many bytes to a pipe that poll
// reports writable completes without blocking.
constexpr size_t kPipeBufBytes = 4096;

Result<UniqueFd> duplicate(int fd) {
  UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy.valid()) {
    return Errno{errno};
  }
  return copy;
}

// Opens a new open file description of what `fd` refers to (the same pipe,
// FIFO or terminal) through the host's /proc/self/fd.
Result<UniqueFd> reopen_host_fd(int fd, int flags) {
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  UniqueFd reopened(::open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY));
  if (!reopened.valid()) {
    return Errno{errno};
  }
  return reopened;
}

// The name /proc/pid/fd shows for a host stream. The host's own path (a
// terminal's /dev/pts/N, a redirected file) names nothing in the sandbox.
std::string host_stream_name(const struct stat& st) {
  if (S_ISFIFO(st.st_mode)) {
    return "pipe:[" + std::to_string(st.st_ino) + "]";
  }
  if (S_ISSOCK(st.st_mode)) {
    return "socket:[" + std::to_string(st.st_ino) + "]";
  }
  return "host:[" + std::to_string(st.st_ino) + "]";
}

// The inode behind a host stream. It lives on no mounted filesystem; an
// open through /proc/pid/fd reopens the host file, as Linux reopens the
// pipe or terminal behind such a link.
class HostStreamInode final : public Inode {
 public:
  HostStreamInode(std::shared_ptr<Filesystem> filesystem, UniqueFd fd, const struct stat& st,
                  kernel::Scheduler& scheduler)
      : Inode(std::move(filesystem), st.st_mode),
        fd_(std::move(fd)),
        name_(host_stream_name(st)),
        scheduler_(scheduler) {}

  Result<struct stat> stat() override {
    struct stat st {};
    if (fstat(fd_.get(), &st) != 0) {
      return Errno{errno};
    }
    return st;
  }

  Result<struct statfs> statfs() override {
    struct statfs result {};
    if (fstatfs(fd_.get(), &result) != 0) {
      return Errno{errno};
    }
    return result;
  }

  Result<FileRef> open(const Caller&, const VirtualDentry& location, uint32_t flags) override;

  std::string anonymous_name() const override { return name_; }

  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string name_;
  kernel::Scheduler& scheduler_;
};

std::shared_ptr<Filesystem> host_stream_filesystem() {
  // One filesystem for every host stream, so they share a device number.
  static const auto filesystem = std::make_shared<Filesystem>("hoststream", 0);
  return filesystem;
}

// A regular file (or directory or block device) as ward's stdio: it never
// blocks, and it keeps the host open file description and its offset,
// which the user's shell shares.
class HostSeekableStreamFile final : public FileDescription {
 public:
  HostSeekableStreamFile(VirtualDentry location, uint32_t flags, UniqueFd fd)
      : FileDescription(std::move(location), flags), fd_(std::move(fd)) {}

  int64_t offset() const override { return lseek(fd_.get(), 0, SEEK_CUR); }
  void set_offset(int64_t offset) override { lseek(fd_.get(), offset, SEEK_SET); }

  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override {
    for (;;) {
      const ssize_t got = offset ? pread(fd_.get(), buffer.data(), buffer.size(), *offset)
                                 : ::read(fd_.get(), buffer.data(), buffer.size());
      if (got >= 0) {
        return static_cast<size_t>(got);
      }
      if (errno != EINTR) {
        return Errno{errno};
      }
    }
  }

  Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t> offset) override {
    for (;;) {
      const ssize_t wrote = offset ? pwrite(fd_.get(), buffer.data(), buffer.size(), *offset)
                                   : ::write(fd_.get(), buffer.data(), buffer.size());
      if (wrote >= 0) {
        return static_cast<size_t>(wrote);
      }
      if (errno != EINTR) {
        return Errno{errno};
      }
    }
  }

  Result<void> truncate(int64_t length) override {
    if (ftruncate(fd_.get(), length) != 0) {
      return Errno{errno};
    }
    return ok();
  }

  // The user gave ward this file to write, so the guest may flush it.
  Result<void> sync(bool data_only) override {
    const int result = data_only ? fdatasync(fd_.get()) : fsync(fd_.get());
    if (result != 0) {
      return Errno{errno};
    }
    return ok();
  }

  Result<int64_t> seek(int64_t offset, int whence) override {
    const off_t target = lseek(fd_.get(), offset, whence);
    if (target < 0) {
      return Errno{errno};
    }
    return static_cast<int64_t>(target);
  }

  Result<struct stat> stat() override {
    struct stat st {};
    if (fstat(fd_.get(), &st) != 0) {
      return Errno{errno};
    }
    return st;
  }

  std::optional<int> host_fd_for_mapping() override { return fd_.get(); }

 private:
  UniqueFd fd_;
};

// Makes the file for host fd `fd` with stat `st`, guest-visible `flags`
// and host access mode `access_mode`.
Result<FileRef> make_stream_file(kernel::Scheduler* scheduler, const VirtualDentry& location,
                                 int fd, const struct stat& st, uint32_t flags, int access_mode) {
  if (S_ISSOCK(st.st_mode)) {
    UniqueFd copy = TRY(duplicate(fd));
    return FileRef(std::make_shared<HostStreamFile>(location, flags, std::move(copy),
                                                    HostStreamFile::Kind::kSocket, scheduler));
  }
  if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
    auto reopened = reopen_host_fd(fd, access_mode | O_NONBLOCK);
    if (reopened.ok()) {
      return FileRef(std::make_shared<HostStreamFile>(
          location, flags, std::move(*reopened), HostStreamFile::Kind::kNonblockingFd, scheduler));
    }
    // NOTE: without a reopen (a FIFO with no reader yet, no host /proc) the
    // shared fd is used only after poll reports it ready, and writes go in
    // pieces of at most PIPE_BUF. Another process draining the same pipe
    // between the poll and the read can still block the sentry.
    spdlog::warn("sentry: cannot reopen host fd {} without blocking ({}); using it directly", fd,
                 errno_name(reopened.error().value));
    UniqueFd copy = TRY(duplicate(fd));
    return FileRef(std::make_shared<HostStreamFile>(location, flags, std::move(copy),
                                                    HostStreamFile::Kind::kPollGuarded, scheduler));
  }
  UniqueFd copy = TRY(duplicate(fd));
  return FileRef(std::make_shared<HostSeekableStreamFile>(location, flags, std::move(copy)));
}

Result<FileRef> HostStreamInode::open(const Caller&, const VirtualDentry& location,
                                      uint32_t flags) {
  const struct stat st = TRY(stat());
  if (S_ISSOCK(st.st_mode)) {
    return Errno{ENXIO};  // Linux cannot open a socket through /proc/pid/fd either
  }
  const int access_mode = static_cast<int>(flags & O_ACCMODE);
  if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
    UniqueFd reopened = TRY(reopen_host_fd(fd_.get(), access_mode | O_NONBLOCK));
    return FileRef(std::make_shared<HostStreamFile>(
        location, flags, std::move(reopened), HostStreamFile::Kind::kNonblockingFd, &scheduler_));
  }
  UniqueFd reopened = TRY(reopen_host_fd(fd_.get(), access_mode));
  return FileRef(std::make_shared<HostSeekableStreamFile>(location, flags, std::move(reopened)));
}

}  // namespace

// ---------------------------------------------------------------------------
// HostStreamFile

HostStreamFile::HostStreamFile(VirtualDentry location, uint32_t flags, UniqueFd fd, Kind kind,
                               kernel::Scheduler* scheduler)
    : FileDescription(std::move(location), flags),
      fd_(std::move(fd)),
      kind_(kind),
      terminal_(isatty(fd_.get()) == 1) {
  if (scheduler != nullptr) {
    watch_ = std::make_unique<kernel::HostFdWatch>(*scheduler, fd_.get());
  }
}

HostStreamFile::~HostStreamFile() = default;

Result<size_t> HostStreamFile::read(std::span<std::byte> buffer, std::optional<int64_t>) {
  if (kind_ == Kind::kPollGuarded && (readiness(POLLIN) & (POLLIN | POLLHUP | POLLERR)) == 0) {
    return Errno{EAGAIN};
  }
  for (;;) {
    const ssize_t got = kind_ == Kind::kSocket
                            ? recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT)
                            : ::read(fd_.get(), buffer.data(), buffer.size());
    if (got >= 0) {
      return static_cast<size_t>(got);
    }
    if (errno == EWOULDBLOCK) {
      return Errno{EAGAIN};
    }
    if (errno != EINTR) {
      return Errno{errno};
    }
  }
}

Result<size_t> HostStreamFile::write(std::span<const std::byte> buffer, std::optional<int64_t>) {
  if (kind_ == Kind::kPollGuarded) {
    if ((readiness(POLLOUT) & (POLLOUT | POLLERR)) == 0) {
      return Errno{EAGAIN};
    }
    buffer = buffer.first(std::min(buffer.size(), kPipeBufBytes));
  }
  for (;;) {
    // MSG_NOSIGNAL: the host must not send SIGPIPE to ward itself.
    const ssize_t wrote = kind_ == Kind::kSocket ? send(fd_.get(), buffer.data(), buffer.size(),
                                                        MSG_DONTWAIT | MSG_NOSIGNAL)
                                                 : ::write(fd_.get(), buffer.data(), buffer.size());
    if (wrote >= 0) {
      return static_cast<size_t>(wrote);
    }
    if (errno == EWOULDBLOCK) {
      return Errno{EAGAIN};
    }
    if (errno != EINTR) {
      return Errno{errno};
    }
  }
}

Result<struct stat> HostStreamFile::stat() {
  struct stat st {};
  if (fstat(fd_.get(), &st) != 0) {
    return Errno{errno};
  }
  return st;
}

Result<struct statfs> HostStreamFile::statfs() {
  struct statfs result {};
  if (fstatfs(fd_.get(), &result) != 0) {
    return Errno{errno};
  }
  return result;
}

uint32_t HostStreamFile::readiness(uint32_t mask) {
  pollfd entry{.fd = fd_.get(), .events = static_cast<short>(mask), .revents = 0};
  if (poll(&entry, 1, 0) < 0) {
    return 0;
  }
  return static_cast<uint16_t>(entry.revents) & (mask | POLLERR | POLLHUP | POLLNVAL);
}

kernel::WaitQueue* HostStreamFile::wait_queue() {
  if (watch_ == nullptr || !watch_->watched()) {
    return nullptr;
  }
  return &watch_->queue();
}

namespace {

// Records a terminal request that ward does not pass to the host terminal.
void record_terminal_ioctl_gap(kernel::Task& task, uint32_t request) {
  const std::string name = compat::describe_ioctl_request(request);
  if (task.kernel().gaps().record(compat::GapHit{.kind = compat::GapKind::kIoctl,
                                                 .syscall = task.syscall_name(),
                                                 .detail = name,
                                                 .program = task.thread_group().exe_path(),
                                                 .pid = task.pid(),
                                                 .tid = task.tid(),
                                                 .error = ENOTTY})) {
    task.log(spdlog::level::warn, "unsupported: terminal ioctl {}", name);
  }
}

}  // namespace

Result<int64_t> HostStreamFile::ioctl(kernel::Task& task, uint32_t request, GuestAddr arg) {
  switch (request) {
    case kFionread: {
      int available = 0;
      if (::ioctl(fd_.get(), FIONREAD, &available) != 0) {
        return Errno{errno};
      }
      TRY(task.copy_out(arg, available));
      return 0;
    }
    case kTcgets: {
      if (!terminal_) {
        return Errno{ENOTTY};
      }
      KernelTermios termios{};
      if (::ioctl(fd_.get(), kTcgets, &termios) != 0) {
        return Errno{errno};
      }
      TRY(task.copy_out(arg, termios));
      return 0;
    }
    case kTiocgwinsz: {
      if (!terminal_) {
        return Errno{ENOTTY};
      }
      KernelWinsize size{};
      if (::ioctl(fd_.get(), kTiocgwinsz, &size) != 0) {
        return Errno{errno};
      }
      TRY(task.copy_out(arg, size));
      return 0;
    }
    default:
      // NOTE: other terminal requests (TCSETS*, TIOCGPGRP, TIOCSWINSZ...)
      // are not passed to the host terminal yet; ENOTTY is what Linux
      // returns for a request a terminal does not know.
      if (terminal_) {
        record_terminal_ioctl_gap(task, request);
      }
      return Errno{ENOTTY};
  }
}

Result<FileRef> make_host_stream(kernel::Scheduler& scheduler, int host_fd) {
  struct stat st {};
  if (fstat(host_fd, &st) != 0) {
    return Errno{errno};
  }
  const int host_flags = fcntl(host_fd, F_GETFL);
  if (host_flags < 0) {
    return Errno{errno};
  }
  const int access_mode = host_flags & O_ACCMODE;
  const uint32_t guest_flags =
      static_cast<uint32_t>(host_flags) & (O_ACCMODE | O_APPEND | O_NONBLOCK);

  UniqueFd inode_fd = TRY(duplicate(host_fd));
  auto inode = std::make_shared<HostStreamInode>(host_stream_filesystem(), std::move(inode_fd), st,
                                                 scheduler);
  const VirtualDentry location = make_anonymous_location(inode);
  return make_stream_file(&scheduler, location, inode->fd(), st, guest_flags, access_mode);
}

}  // namespace ward::vfs
