// The file of an AF_UNIX socket: the Socket operations on its endpoint,
// poll, the queue-size ioctls and the SOL_SOCKET options, after Linux's
// sk_setsockopt and sk_getsockopt.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>
#include <map>

#include "sentry/kernel/task.h"
#include "sentry/net/unix.h"
#include "sentry/net/unix_endpoint.h"

namespace ward::net {
namespace {

// The x86_64 values of the queue-size ioctls.
constexpr uint32_t kSiocinq = 0x541B;  // also FIONREAD
constexpr uint32_t kSiocoutq = 0x5411;

// The 64-bit timeval options of Linux 5.1 and later, which newer C
// libraries use; on x86_64 they take the same struct as the old ones.
constexpr int kSoRcvtimeoNew = 66;
constexpr int kSoSndtimeoNew = 67;

// The highest SO_PRIORITY a caller without CAP_NET_ADMIN may set.
constexpr int kMaxUnprivilegedPriority = 6;

constexpr int kCapNetAdmin = 12;

// Options that only store a flag for AF_UNIX sockets.
bool is_flag_option(int name) {
  switch (name) {
    case SO_REUSEADDR:
    case SO_KEEPALIVE:
    case SO_BROADCAST:
    case SO_DONTROUTE:
    case SO_OOBINLINE:
      return true;
    default:
      return false;
  }
}

class UnixSocketFile final : public Socket {
 public:
  UnixSocketFile(vfs::VirtualDentry location, uint32_t flags, int type,
                 std::shared_ptr<UnixEndpoint> endpoint)
      : Socket(std::move(location), flags, AF_UNIX, type), endpoint_(std::move(endpoint)) {
    auto st = inode().stat();
    endpoint_->set_has_file(st.ok() ? st->st_ino : 0);
  }

  ~UnixSocketFile() override { endpoint_->release(); }

  uint32_t readiness(uint32_t mask) override { return endpoint_->readiness(mask); }
  kernel::WaitQueue* wait_queue() override { return &endpoint_->queue(); }

  Result<int64_t> ioctl(kernel::Task& task, uint32_t request, GuestAddr arg) override {
    switch (request) {
      case kSiocinq: {
        const int bytes = TRY(endpoint_->input_bytes());
        TRY(task.copy_out(arg, bytes));
        return 0;
      }
      case kSiocoutq:
        TRY(task.copy_out(arg, endpoint_->output_bytes()));
        return 0;
      default:
        return Errno{ENOTTY};
    }
  }

  Result<void> bind(kernel::Task& task, const SocketAddress& address) override {
    return endpoint_->bind(task, address);
  }

  Result<void> connect(kernel::Task& task, const SocketAddress& address) override {
    return endpoint_->connect(task, address, nonblocking());
  }

  Result<void> listen(kernel::Task& task, int backlog) override {
    return endpoint_->listen(task, backlog);
  }

  Result<std::pair<vfs::FileRef, SocketAddress>> accept(kernel::Task& task,
                                                        uint32_t file_flags) override {
    std::shared_ptr<UnixEndpoint> connection = TRY(endpoint_->accept(task, nonblocking()));
    SocketAddress peer = connection->peer_address().value_or(SocketAddress{});
    auto file = std::make_shared<UnixSocketFile>(make_socket_location(task.creds()),
                                                 O_RDWR | (file_flags & O_NONBLOCK), type(),
                                                 std::move(connection));
    return std::pair<vfs::FileRef, SocketAddress>{std::move(file), std::move(peer)};
  }

  SocketAddress local_address() override { return endpoint_->local_address(); }
  Result<SocketAddress> peer_address() override { return endpoint_->peer_address(); }
  Result<void> shutdown(kernel::Task&, int how) override { return endpoint_->shutdown(how); }

  Result<size_t> send(kernel::Task& task, SendRequest& request) override {
    const bool dont_wait = nonblocking() || (request.flags & MSG_DONTWAIT) != 0;
    return endpoint_->send(task, request, dont_wait);
  }

  Result<ReceiveResult> receive(kernel::Task& task, const SocketBuffer& data,
                                int flags) override {
    const bool dont_wait = nonblocking() || (flags & MSG_DONTWAIT) != 0;
    return endpoint_->receive(task, data, flags, dont_wait);
  }

  bool supports_option(int level, int name) const override {
    if (level != SOL_SOCKET) {
      return true;  // Linux returns EOPNOTSUPP for them, which is no gap
    }
    switch (name) {
      case SO_TYPE:
      case SO_DOMAIN:
      case SO_PROTOCOL:
      case SO_ACCEPTCONN:
      case SO_ERROR:
      case SO_SNDBUF:
      case SO_RCVBUF:
      case SO_PASSCRED:
      case SO_PEERCRED:
      case SO_RCVTIMEO:
      case SO_SNDTIMEO:
      case kSoRcvtimeoNew:
      case kSoSndtimeoNew:
      case SO_REUSEPORT:
      case SO_LINGER:
      case SO_PRIORITY:
      case SO_RCVLOWAT:
      case SO_SNDLOWAT:
        return true;
      default:
        return is_flag_option(name);
    }
  }

  Result<void> set_option(kernel::Task& task, int level, int name,
                          std::span<const std::byte> value) override;
  Result<std::vector<std::byte>> get_option(kernel::Task& task, int level, int name) override;

 private:
  std::shared_ptr<UnixEndpoint> endpoint_;
  std::map<int, int> flags_;
  struct linger linger_ {};
  int priority_ = 0;
};

Result<void> UnixSocketFile::set_option(kernel::Task& task, int level, int name,
                                        std::span<const std::byte> value) {
  if (level != SOL_SOCKET) {
    return Errno{EOPNOTSUPP};
  }
  if (value.size() < sizeof(int)) {
    return Errno{EINVAL};
  }
  int number = 0;
  std::memcpy(&number, value.data(), sizeof(number));

  if (is_flag_option(name)) {
    flags_[name] = number != 0 ? 1 : 0;
    return ok();
  }
  switch (name) {
    case SO_SNDBUF: {
      // Linux caps the request at wmem_max, doubles it for bookkeeping
      // overhead and keeps a minimum.
      const uint32_t requested =
          std::min(static_cast<uint32_t>(number), static_cast<uint32_t>(kMaxBufferRequestBytes));
      endpoint_->send_buffer_bytes =
          std::max(static_cast<int>(requested) * 2, kMinSendBufferBytes);
      endpoint_->notify_write_space();
      return ok();
    }
    case SO_RCVBUF: {
      const uint32_t requested =
          std::min(static_cast<uint32_t>(number), static_cast<uint32_t>(kMaxBufferRequestBytes));
      endpoint_->receive_buffer_bytes =
          std::max(static_cast<int>(requested) * 2, kMinReceiveBufferBytes);
      return ok();
    }
    case SO_PASSCRED:
      endpoint_->passcred = number != 0;
      return ok();
    case SO_RCVTIMEO:
    case kSoRcvtimeoNew:
      endpoint_->receive_timeout = TRY(parse_socket_timeout(value));
      return ok();
    case SO_SNDTIMEO:
    case kSoSndtimeoNew:
      endpoint_->send_timeout = TRY(parse_socket_timeout(value));
      return ok();
    case SO_REUSEPORT:
      // Linux 6.x allows SO_REUSEPORT on inet sockets only.
      if (number != 0) {
        return Errno{EOPNOTSUPP};
      }
      return ok();
    case SO_LINGER: {
      if (value.size() < sizeof(struct linger)) {
        return Errno{EINVAL};
      }
      std::memcpy(&linger_, value.data(), sizeof(linger_));
      linger_.l_onoff = linger_.l_onoff != 0 ? 1 : 0;
      return ok();
    }
    case SO_PRIORITY:
      if ((number < 0 || number > kMaxUnprivilegedPriority) &&
          !task.creds().has_capability(kCapNetAdmin)) {
        return Errno{EPERM};
      }
      priority_ = number;
      return ok();
    case SO_RCVLOWAT:
      endpoint_->receive_low_water = number < 0 ? INT32_MAX : std::max(number, 1);
      return ok();
    default:
      // SO_TYPE, SO_PEERCRED and the other read-only options.
      return Errno{ENOPROTOOPT};
  }
}

Result<std::vector<std::byte>> UnixSocketFile::get_option(kernel::Task&, int level, int name) {
  if (level != SOL_SOCKET) {
    return Errno{EOPNOTSUPP};
  }
  if (is_flag_option(name)) {
    return option_bytes(flags_[name]);
  }
  switch (name) {
    case SO_TYPE:
      return option_bytes(type());
    case SO_DOMAIN:
      return option_bytes(int{AF_UNIX});
    case SO_PROTOCOL:
      return option_bytes(int{0});
    case SO_ACCEPTCONN:
      return option_bytes(int{endpoint_->listening() ? 1 : 0});
    case SO_ERROR:
      return option_bytes(endpoint_->take_error());
    case SO_SNDBUF:
      return option_bytes(endpoint_->send_buffer_bytes);
    case SO_RCVBUF:
      return option_bytes(endpoint_->receive_buffer_bytes);
    case SO_PASSCRED:
      return option_bytes(int{endpoint_->passcred ? 1 : 0});
    case SO_PEERCRED: {
      // An unconnected socket reports pid 0 and ids of -1.
      const ucred none{.pid = 0, .uid = static_cast<uid_t>(-1), .gid = static_cast<gid_t>(-1)};
      return option_bytes(endpoint_->peer_credentials().value_or(none));
    }
    case SO_RCVTIMEO:
    case kSoRcvtimeoNew:
      return socket_timeout_bytes(endpoint_->receive_timeout);
    case SO_SNDTIMEO:
    case kSoSndtimeoNew:
      return socket_timeout_bytes(endpoint_->send_timeout);
    case SO_REUSEPORT:
      return option_bytes(int{0});
    case SO_LINGER:
      return option_bytes(linger_);
    case SO_PRIORITY:
      return option_bytes(priority_);
    case SO_RCVLOWAT:
      return option_bytes(endpoint_->receive_low_water);
    case SO_SNDLOWAT:
      return option_bytes(int{1});
    default:
      return Errno{ENOPROTOOPT};
  }
}

}  // namespace

vfs::FileRef make_unix_socket(kernel::Task& task, int type, uint32_t file_flags) {
  auto endpoint = std::make_shared<UnixEndpoint>(type, UnixNamespace::of(task.kernel()));
  return std::make_shared<UnixSocketFile>(make_socket_location(task.creds()),
                                          O_RDWR | (file_flags & O_NONBLOCK), type,
                                          std::move(endpoint));
}

std::pair<vfs::FileRef, vfs::FileRef> make_unix_socketpair(kernel::Task& task, int type,
                                                           uint32_t file_flags) {
  auto names = UnixNamespace::of(task.kernel());
  auto first = std::make_shared<UnixEndpoint>(type, names);
  auto second = std::make_shared<UnixEndpoint>(type, names);
  UnixEndpoint::join_pair(first, second, peer_credentials_of(task));
  const uint32_t flags = O_RDWR | (file_flags & O_NONBLOCK);
  vfs::FileRef first_file =
      std::make_shared<UnixSocketFile>(make_socket_location(task.creds()), flags, type, first);
  vfs::FileRef second_file =
      std::make_shared<UnixSocketFile>(make_socket_location(task.creds()), flags, type, second);
  return {std::move(first_file), std::move(second_file)};
}

}  // namespace ward::net
