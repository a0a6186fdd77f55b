// Sockets: the open file description of a socket and the operations the
// socket syscalls call on it. A family derives from Socket; ward has
// AF_UNIX (unix.h) and loopback AF_INET and AF_INET6 (inet.h), kept
// entirely in the sentry, so no guest socket is ever a host socket.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sentry/kernel/clock.h"
#include "sentry/kernel/credentials.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/task_io.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
class WaitQueue;
}  // namespace ward::kernel

namespace ward::net {

// A socket address as the guest passes it: the bytes of a sockaddr,
// sa_family first, as many as the address length gives.
using SocketAddress = std::string;

// Linux's sizeof(struct sockaddr_storage): the longest address a syscall
// copies in.
inline constexpr size_t kMaxAddressBytes = 128;

// Linux's net.core.somaxconn default: listen(2) caps its backlog there.
inline constexpr int kSomaxconn = 4096;

// Linux's SCM_MAX_FD: the most descriptors one SCM_RIGHTS message carries.
inline constexpr size_t kMaxRightsPerMessage = 253;

// The memory a send reads or a receive fills: the segments of a guest
// iovec, or, for splice and sendfile, a buffer of the sentry.
class SocketBuffer {
 public:
  SocketBuffer() = default;
  SocketBuffer(std::span<const vfs::GuestSegment> segments) : segments_(segments) {}
  SocketBuffer(const std::vector<vfs::GuestSegment>& segments) : segments_(segments) {}

  // A sentry buffer that a receive fills.
  static SocketBuffer of_sentry_memory(std::span<std::byte> bytes) {
    SocketBuffer buffer;
    buffer.sentry_bytes_ = bytes.data();
    buffer.sentry_length_ = bytes.size();
    buffer.sentry_memory_ = true;
    return buffer;
  }
  // A sentry buffer that a send reads; a receive must not be given one.
  static SocketBuffer of_sentry_data(std::span<const std::byte> bytes) {
    SocketBuffer buffer;
    buffer.sentry_data_ = bytes.data();
    buffer.sentry_length_ = bytes.size();
    buffer.sentry_memory_ = true;
    return buffer;
  }

  bool in_sentry() const { return sentry_memory_; }
  std::span<const vfs::GuestSegment> segments() const { return segments_; }
  std::span<const std::byte> sentry_data() const {
    return {sentry_data_ != nullptr ? sentry_data_ : sentry_bytes_, sentry_length_};
  }
  std::span<std::byte> sentry_bytes() const { return {sentry_bytes_, sentry_length_}; }

 private:
  std::span<const vfs::GuestSegment> segments_;
  std::byte* sentry_bytes_ = nullptr;
  const std::byte* sentry_data_ = nullptr;
  size_t sentry_length_ = 0;
  bool sentry_memory_ = false;
};

// The data, address and ancillary data of one send.
struct SendRequest {
  SocketBuffer data;
  std::optional<SocketAddress> address;  // sendto's address or msg_name
  std::vector<vfs::FileRef> rights;      // SCM_RIGHTS
  std::optional<ucred> credentials;      // SCM_CREDENTIALS, already checked
  int flags = 0;                         // MSG_* flags
};

// The results of one receive besides the data.
struct ReceiveResult {
  size_t length = 0;  // the call's return value (the full length under MSG_TRUNC)
  int msg_flags = 0;  // MSG_TRUNC for a cut datagram
  std::optional<SocketAddress> address;
  std::vector<vfs::FileRef> rights;
  std::optional<ucred> credentials;  // delivered when the socket has SO_PASSCRED
};

class Socket : public vfs::FileDescription {
 public:
  Socket(vfs::VirtualDentry location, uint32_t flags, int family, int type)
      : FileDescription(std::move(location), flags), family_(family), type_(type) {}

  int family() const { return family_; }
  int type() const { return type_; }

  bool stream() const override { return true; }

  virtual Result<void> bind(kernel::Task& task, const SocketAddress& address) = 0;
  virtual Result<void> connect(kernel::Task& task, const SocketAddress& address) = 0;
  virtual Result<void> listen(kernel::Task& task, int backlog) = 0;
  // Takes one pending connection as a new file with `file_flags`
  // (O_NONBLOCK) and returns it with the peer's address.
  virtual Result<std::pair<vfs::FileRef, SocketAddress>> accept(kernel::Task& task,
                                                                uint32_t file_flags) = 0;
  virtual SocketAddress local_address() = 0;
  // ENOTCONN without a peer.
  virtual Result<SocketAddress> peer_address() = 0;
  // `how` is SHUT_RD, SHUT_WR or SHUT_RDWR (EINVAL otherwise).
  virtual Result<void> shutdown(kernel::Task& task, int how) = 0;

  // Sends `request`, waiting unless MSG_DONTWAIT or O_NONBLOCK is set and
  // at most SO_SNDTIMEO. Returns the bytes sent, which for a stream
  // interrupted midway is a part.
  virtual Result<size_t> send(kernel::Task& task, SendRequest& request) = 0;

  // Receives into `data` with the MSG_* `flags`, waiting unless
  // MSG_DONTWAIT or O_NONBLOCK is set and at most SO_RCVTIMEO.
  virtual Result<ReceiveResult> receive(kernel::Task& task,
                                        const SocketBuffer& data, int flags) = 0;

  // setsockopt(2) and getsockopt(2) once the option value is copied in, or
  // before it is copied out: get_option returns the whole value, which the
  // caller cuts to the guest's length.
  // Whether ward supports option `name` of `level`. An unsupported one is
  // ENOPROTOOPT and a compatibility gap.
  virtual bool supports_option(int level, int name) const = 0;
  // Whether options of `level` reach this socket at all. Linux's AF_UNIX
  // sockets take SOL_SOCKET only and return EOPNOTSUPP for other levels
  // before they read the value.
  virtual bool takes_option_level(int level) const { return level == SOL_SOCKET; }
  virtual Result<void> set_option(kernel::Task& task, int level, int name,
                                  std::span<const std::byte> value) = 0;
  virtual Result<std::vector<std::byte>> get_option(kernel::Task& task, int level, int name) = 0;

 private:
  int family_;
  int type_;
};

// The socket behind `file`, or null when it is not a socket (ENOTSOCK).
Socket* as_socket(vfs::FileDescription& file);

// A location for a new socket's file: an inode of sockfs, shown as
// "socket:[ino]" and stat'ed as S_IFSOCK, owned by `creds`.
vfs::VirtualDentry make_socket_location(const kernel::Credentials& creds);

// A send or receive timeout (SO_SNDTIMEO, SO_RCVTIMEO). Linux stores a
// negative timeval as a timeout of zero, which makes every wait fail at
// once with EAGAIN.
struct SocketTimeout {
  std::optional<kernel::Duration> duration;  // nullopt: no timeout

  // The deadline of a wait starting now, or nullopt to wait for ever.
  std::optional<kernel::TimePoint> deadline() const;
};

// sock_set_timeout: parses a struct timeval option value. EINVAL for a
// short value, EDOM for microseconds out of range; a negative time is a
// zero timeout and zero means none.
Result<SocketTimeout> parse_socket_timeout(std::span<const std::byte> value);

// The struct timeval getsockopt reports for `timeout`.
std::vector<std::byte> socket_timeout_bytes(const SocketTimeout& timeout);

// The bytes of an option value, as getsockopt copies them out.
template <typename T>
std::vector<std::byte> option_bytes(const T& value) {
  std::vector<std::byte> bytes(sizeof(T));
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

// Copies `length` bytes at `offset` of `segments` out of guest (or
// sentry) memory, or `bytes` into them at `offset`. EFAULT for a bad
// guest buffer.
Result<std::vector<std::byte>> copy_from_segments(kernel::Task& task,
                                                  const SocketBuffer& segments, size_t offset,
                                                  size_t length);
Result<void> copy_to_segments(kernel::Task& task, const SocketBuffer& segments, size_t offset,
                              std::span<const std::byte> bytes);

// The total length of `segments`.
size_t segments_length(std::span<const vfs::GuestSegment> segments);
size_t segments_length(const SocketBuffer& segments);

// Parks `task` until one of `queues` is notified with `events` (POLLERR
// and POLLHUP always wake it), or `deadline` passes: EAGAIN then. A
// signal ends the wait with ERESTARTSYS, or with EINTR when the wait has
// a deadline, as Linux's sock_intr_errno does.
Result<void> wait_for_events(kernel::Task& task, std::span<kernel::WaitQueue* const> queues,
                             uint32_t events, std::optional<kernel::TimePoint> deadline);

}  // namespace ward::net
