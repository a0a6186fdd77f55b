#include "sentry/net/socket.h"

#include <linux/magic.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/mount.h"

namespace ward::net {
namespace {

std::shared_ptr<vfs::Filesystem> socket_filesystem() {
  // One sockfs for every socket, as Linux has, so sockets share a device.
  static const auto filesystem = std::make_shared<vfs::Filesystem>("sockfs", SOCKFS_MAGIC);
  return filesystem;
}

// The inode of a socket. Linux gives it mode S_IFSOCK | 0777 and the
// creator's fsuid and fsgid.
class SocketInode final : public vfs::Inode {
 public:
  explicit SocketInode(const kernel::Credentials& creds)
      : Inode(socket_filesystem(), S_IFSOCK),
        ino_(filesystem().allocate_ino()),
        uid_(creds.fs_uid),
        gid_(creds.fs_gid) {
    clock_gettime(CLOCK_REALTIME, &created_);
  }

  Result<struct stat> stat() override {
    struct stat st {};
    st.st_dev = filesystem().dev();
    st.st_ino = ino_;
    st.st_mode = S_IFSOCK | 0777;
    st.st_nlink = 1;
    st.st_uid = uid_;
    st.st_gid = gid_;
    st.st_blksize = 4096;
    st.st_atim = created_;
    st.st_mtim = created_;
    st.st_ctim = created_;
    return st;
  }

  std::string anonymous_name() const override { return "socket:[" + std::to_string(ino_) + "]"; }

 private:
  uint64_t ino_;
  uid_t uid_;
  gid_t gid_;
  struct timespec created_ {};
};

}  // namespace

Socket* as_socket(vfs::FileDescription& file) { return dynamic_cast<Socket*>(&file); }

vfs::VirtualDentry make_socket_location(const kernel::Credentials& creds) {
  return vfs::make_anonymous_location(std::make_shared<SocketInode>(creds));
}

std::optional<kernel::TimePoint> SocketTimeout::deadline() const {
  if (!duration) {
    return std::nullopt;
  }
  return kernel::monotonic_now() + *duration;
}

Result<SocketTimeout> parse_socket_timeout(std::span<const std::byte> value) {
  struct timeval tv {};
  if (value.size() < sizeof(tv)) {
    return Errno{EINVAL};
  }
  std::memcpy(&tv, value.data(), sizeof(tv));
  if (tv.tv_usec < 0 || tv.tv_usec >= 1'000'000) {
    return Errno{EDOM};
  }
  if (tv.tv_sec < 0) {
    return SocketTimeout{.duration = kernel::Duration{0}};
  }
  if (tv.tv_sec == 0 && tv.tv_usec == 0) {
    return SocketTimeout{};
  }
  const auto duration = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  return SocketTimeout{.duration = std::chrono::duration_cast<kernel::Duration>(duration)};
}

std::vector<std::byte> socket_timeout_bytes(const SocketTimeout& timeout) {
  struct timeval tv {};
  if (timeout.duration) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(*timeout.duration);
    tv.tv_sec = micros.count() / 1'000'000;
    tv.tv_usec = micros.count() % 1'000'000;
  }
  return option_bytes(tv);
}

size_t segments_length(std::span<const vfs::GuestSegment> segments) {
  size_t total = 0;
  for (const auto& segment : segments) {
    total += segment.length;
  }
  return total;
}

// Runs `operation(address, span_offset, length)` on each piece of
// [offset, offset + length) of the segments' concatenation.
template <typename Operation>
Result<void> for_each_piece(std::span<const vfs::GuestSegment> segments, size_t offset,
                            size_t length, Operation operation) {
  size_t done = 0;
  for (const auto& segment : segments) {
    if (done == length) {
      break;
    }
    if (offset >= segment.length) {
      offset -= segment.length;
      continue;
    }
    const size_t piece = std::min(segment.length - offset, length - done);
    TRY(operation(segment.base + offset, done, piece));
    done += piece;
    offset = 0;
  }
  return ok();
}

size_t segments_length(const SocketBuffer& segments) {
  if (segments.in_sentry()) {
    return segments.sentry_data().size();
  }
  return segments_length(segments.segments());
}

Result<std::vector<std::byte>> copy_from_segments(kernel::Task& task, const SocketBuffer& segments,
                                                  size_t offset, size_t length) {
  if (segments.in_sentry()) {
    const std::span<const std::byte> data = segments.sentry_data().subspan(offset, length);
    return std::vector<std::byte>(data.begin(), data.end());
  }
  std::vector<std::byte> bytes(length);
  TRY(for_each_piece(segments.segments(), offset, length,
                     [&](GuestAddr address, size_t at, size_t piece) -> Result<void> {
                       return task.copy_in(address, std::span(bytes.data() + at, piece));
                     }));
  return bytes;
}

Result<void> copy_to_segments(kernel::Task& task, const SocketBuffer& segments, size_t offset,
                              std::span<const std::byte> bytes) {
  if (segments.in_sentry()) {
    std::copy(bytes.begin(), bytes.end(), segments.sentry_bytes().subspan(offset).begin());
    return ok();
  }
  return for_each_piece(segments.segments(), offset, bytes.size(),
                        [&](GuestAddr address, size_t at, size_t piece) -> Result<void> {
                          return task.copy_out(address, bytes.subspan(at, piece));
                        });
}

Result<void> wait_for_events(kernel::Task& task, std::span<kernel::WaitQueue* const> queues,
                             uint32_t events, std::optional<kernel::TimePoint> deadline) {
  kernel::Waiter waiter(task.scheduler());
  for (kernel::WaitQueue* queue : queues) {
    if (queue != nullptr) {
      waiter.watch(*queue, events | POLLERR | POLLHUP);
    }
  }
  if (deadline) {
    waiter.set_deadline(*deadline);
  }
  switch (task.block(waiter)) {
    case kernel::WakeReason::kNotified:
      return ok();
    case kernel::WakeReason::kTimedOut:
      return Errno{EAGAIN};
    case kernel::WakeReason::kInterrupted:
      return Errno{deadline ? EINTR : ERESTARTSYS};
  }
  return ok();
}

}  // namespace ward::net
