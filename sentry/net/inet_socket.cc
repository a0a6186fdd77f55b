// The file of a loopback AF_INET or AF_INET6 socket: the Socket operations
// on its endpoint, poll, the queue-size ioctls, and the SOL_SOCKET,
// IPPROTO_TCP, IPPROTO_IP and IPPROTO_IPV6 options, after Linux's
// sk_setsockopt, do_tcp_setsockopt, do_ip_setsockopt and
// do_ipv6_setsockopt and their getsockopt halves.
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "sentry/kernel/task.h"
#include "sentry/net/inet.h"
#include "sentry/net/inet_endpoint.h"

namespace ward::net {
namespace {

// The x86_64 values of the queue-size ioctls.
constexpr uint32_t kSiocinq = 0x541B;  // also FIONREAD
constexpr uint32_t kSiocoutq = 0x5411;

// The 64-bit timeval options of Linux 5.1 and later.
constexpr int kSoRcvtimeoNew = 66;
constexpr int kSoSndtimeoNew = 67;

// Linux's net.core.wmem_max and rmem_max defaults, which cap SO_SNDBUF and
// SO_RCVBUF requests, and SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF on x86_64.
constexpr int kMaxBufferRequestBytes = 212992;
constexpr int kMinSendBufferBytes = 4608;
constexpr int kMinReceiveBufferBytes = 2304;

constexpr int kMaxUnprivilegedPriority = 6;
constexpr int kCapNetAdmin = 12;

// TCP_MSS_DEFAULT before a connection, and the MSS of a loopback
// connection: the 65535-byte IP limit (IPv4) or lo's 65536-byte MTU
// (IPv6), less the IP and TCP headers and 12 bytes of timestamp option.
constexpr int kDefaultMss = 536;
constexpr int kLoopbackMssV4 = 65535 - 20 - 20 - 12;
constexpr int kLoopbackMssV6 = 65536 - 40 - 20 - 12;

// Linux's limits on the TCP options it range-checks.
constexpr int kMinUserMss = 88;      // TCP_MIN_MSS
constexpr int kMaxUserMss = 32767;   // MAX_TCP_WINDOW
constexpr int kMaxKeepaliveSeconds = 32767;
constexpr int kMaxKeepaliveProbes = 127;
constexpr int kMaxSynRetries = 255;
constexpr int kMaxFinTimeoutSeconds = 120;

// The defaults Linux reports for the options ward stores.
constexpr int kDefaultTtl = 64;
constexpr int kDefaultKeepaliveIdleSeconds = 7200;
constexpr int kDefaultKeepaliveIntervalSeconds = 75;
constexpr int kDefaultKeepaliveProbes = 9;
constexpr int kDefaultSynRetries = 6;
constexpr int kDefaultFinTimeoutSeconds = 60;

// SOL_SOCKET options that only store a flag.
bool is_socket_flag(int name) {
  switch (name) {
    case SO_KEEPALIVE:
    case SO_BROADCAST:
    case SO_DONTROUTE:
    case SO_OOBINLINE:
      return true;
    default:
      return false;
  }
}

// The IPPROTO_TCP options ward serves.
bool is_tcp_option(int name) {
  switch (name) {
    case TCP_NODELAY:
    case TCP_MAXSEG:
    case TCP_CORK:
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
    case TCP_KEEPCNT:
    case TCP_SYNCNT:
    case TCP_LINGER2:
    case TCP_INFO:
    case TCP_QUICKACK:
    case TCP_USER_TIMEOUT:
      return true;
    default:
      return false;
  }
}

int tcp_default(int name) {
  switch (name) {
    case TCP_KEEPIDLE:
      return kDefaultKeepaliveIdleSeconds;
    case TCP_KEEPINTVL:
      return kDefaultKeepaliveIntervalSeconds;
    case TCP_KEEPCNT:
      return kDefaultKeepaliveProbes;
    case TCP_SYNCNT:
      return kDefaultSynRetries;
    case TCP_QUICKACK:
      return 1;
    default:
      return 0;
  }
}

class InetSocketFile final : public Socket {
 public:
  InetSocketFile(vfs::VirtualDentry location, uint32_t flags,
                 std::shared_ptr<InetEndpoint> endpoint)
      : Socket(std::move(location), flags, endpoint->family(), endpoint->type()),
        endpoint_(std::move(endpoint)) {}

  ~InetSocketFile() override { endpoint_->release(); }

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
        if (endpoint_->listening()) {
          return Errno{EINVAL};
        }
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

  Result<void> listen(kernel::Task&, int backlog) override { return endpoint_->listen(backlog); }

  Result<std::pair<vfs::FileRef, SocketAddress>> accept(kernel::Task& task,
                                                        uint32_t file_flags) override {
    std::shared_ptr<InetEndpoint> connection = TRY(endpoint_->accept(task, nonblocking()));
    SocketAddress peer = connection->peer_address().value_or(SocketAddress{});
    auto file = std::make_shared<InetSocketFile>(make_socket_location(task.creds()),
                                                 O_RDWR | (file_flags & O_NONBLOCK),
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

  bool takes_option_level(int) const override { return true; }
  bool supports_option(int level, int name) const override;
  Result<void> set_option(kernel::Task& task, int level, int name,
                          std::span<const std::byte> value) override;
  Result<std::vector<std::byte>> get_option(kernel::Task& task, int level, int name) override;

 private:
  Result<void> set_socket_option(kernel::Task& task, int name, std::span<const std::byte> value,
                                 int number);
  Result<std::vector<std::byte>> get_socket_option(int name);
  Result<void> set_tcp_option(int name, int number);
  Result<std::vector<std::byte>> get_tcp_option(int name);
  std::vector<std::byte> tcp_info() const;

  // getsockopt of a level this socket's protocol does not own ends in
  // ip_getsockopt (EOPNOTSUPP) or ipv6_getsockopt (ENOPROTOOPT).
  Errno foreign_level_error() const { return Errno{family() == AF_INET ? EOPNOTSUPP : ENOPROTOOPT}; }

  int stored(int level, int name, int fallback) const {
    const auto& values = endpoint_->options().stored;
    auto found = values.find({level, name});
    return found == values.end() ? fallback : found->second;
  }
  void store(int level, int name, int value) { endpoint_->options().stored[{level, name}] = value; }

  std::shared_ptr<InetEndpoint> endpoint_;
};

bool InetSocketFile::supports_option(int level, int name) const {
  switch (level) {
    case SOL_SOCKET:
      switch (name) {
        case SO_TYPE:
        case SO_DOMAIN:
        case SO_PROTOCOL:
        case SO_ACCEPTCONN:
        case SO_ERROR:
        case SO_SNDBUF:
        case SO_RCVBUF:
        case SO_RCVTIMEO:
        case SO_SNDTIMEO:
        case kSoRcvtimeoNew:
        case kSoSndtimeoNew:
        case SO_REUSEADDR:
        case SO_REUSEPORT:
        case SO_LINGER:
        case SO_PRIORITY:
        case SO_RCVLOWAT:
        case SO_SNDLOWAT:
        case SO_PEERCRED:
          return true;
        default:
          return is_socket_flag(name);
      }
    case IPPROTO_TCP:
      // Linux returns ENOPROTOOPT for TCP options on a UDP socket.
      return type() != SOCK_STREAM || is_tcp_option(name);
    case IPPROTO_IP:
      return name == IP_TOS || name == IP_TTL;
    case IPPROTO_IPV6:
      return family() != AF_INET6 || name == IPV6_V6ONLY || name == IPV6_UNICAST_HOPS ||
             name == IPV6_TCLASS;
    case IPPROTO_UDP:
      // UDP_CORK, UDP_SEGMENT and UDP_GRO are missing.
      return type() == SOCK_STREAM;
    default:
      return true;  // Linux returns ENOPROTOOPT for other levels
  }
}

Result<void> InetSocketFile::set_option(kernel::Task& task, int level, int name,
                                        std::span<const std::byte> value) {
  if (value.size() < sizeof(int)) {
    return Errno{EINVAL};
  }
  int number = 0;
  std::memcpy(&number, value.data(), sizeof(number));

  switch (level) {
    case SOL_SOCKET:
      return set_socket_option(task, name, value, number);
    case IPPROTO_TCP:
      if (type() != SOCK_STREAM) {
        return Errno{ENOPROTOOPT};
      }
      return set_tcp_option(name, number);
    case IPPROTO_IP:
      if (name == IP_TOS) {
        // The ECN bits of a TCP socket's TOS belong to the stack.
        store(IPPROTO_IP, IP_TOS, type() == SOCK_STREAM ? number & 0xfc : number & 0xff);
        return ok();
      }
      if (name == IP_TTL) {
        if (number != -1 && (number < 1 || number > 255)) {
          return Errno{EINVAL};
        }
        store(IPPROTO_IP, IP_TTL, number);
        return ok();
      }
      return Errno{ENOPROTOOPT};
    case IPPROTO_IPV6:
      if (family() != AF_INET6) {
        return Errno{ENOPROTOOPT};
      }
      if (name == IPV6_V6ONLY) {
        // The choice is fixed once a port is bound.
        if (endpoint_->local()) {
          return Errno{EINVAL};
        }
        endpoint_->options().v6only = number != 0;
        return ok();
      }
      if (name == IPV6_UNICAST_HOPS || name == IPV6_TCLASS) {
        if (number < -1 || number > 255) {
          return Errno{EINVAL};
        }
        store(IPPROTO_IPV6, name, number);
        return ok();
      }
      return Errno{ENOPROTOOPT};
    default:
      return Errno{ENOPROTOOPT};
  }
}

Result<void> InetSocketFile::set_socket_option(kernel::Task& task, int name,
                                               std::span<const std::byte> value, int number) {
  InetOptions& options = endpoint_->options();
  if (is_socket_flag(name)) {
    store(SOL_SOCKET, name, number != 0 ? 1 : 0);
    return ok();
  }
  switch (name) {
    case SO_REUSEADDR:
      options.reuse_address = number != 0;
      return ok();
    case SO_REUSEPORT:
      options.reuse_port = number != 0;
      return ok();
    case SO_SNDBUF: {
      // Linux caps the request at wmem_max, doubles it for bookkeeping
      // overhead and keeps a minimum.
      const uint32_t requested =
          std::min(static_cast<uint32_t>(number), static_cast<uint32_t>(kMaxBufferRequestBytes));
      options.send_buffer_bytes = std::max(static_cast<int>(requested) * 2, kMinSendBufferBytes);
      endpoint_->notify_write_space();
      return ok();
    }
    case SO_RCVBUF: {
      const uint32_t requested =
          std::min(static_cast<uint32_t>(number), static_cast<uint32_t>(kMaxBufferRequestBytes));
      options.receive_buffer_bytes =
          std::max(static_cast<int>(requested) * 2, kMinReceiveBufferBytes);
      return ok();
    }
    case SO_RCVTIMEO:
    case kSoRcvtimeoNew:
      options.receive_timeout = TRY(parse_socket_timeout(value));
      return ok();
    case SO_SNDTIMEO:
    case kSoSndtimeoNew:
      options.send_timeout = TRY(parse_socket_timeout(value));
      return ok();
    case SO_LINGER:
      if (value.size() < sizeof(struct linger)) {
        return Errno{EINVAL};
      }
      std::memcpy(&options.linger, value.data(), sizeof(options.linger));
      options.linger.l_onoff = options.linger.l_onoff != 0 ? 1 : 0;
      return ok();
    case SO_PRIORITY:
      if ((number < 0 || number > kMaxUnprivilegedPriority) &&
          !task.creds().has_capability(kCapNetAdmin)) {
        return Errno{EPERM};
      }
      store(SOL_SOCKET, SO_PRIORITY, number);
      return ok();
    case SO_RCVLOWAT:
      options.receive_low_water = number < 0 ? INT32_MAX : std::max(number, 1);
      return ok();
    default:
      // SO_TYPE, SO_ERROR and the other read-only options.
      return Errno{ENOPROTOOPT};
  }
}

Result<void> InetSocketFile::set_tcp_option(int name, int number) {
  switch (name) {
    case TCP_NODELAY:
    case TCP_CORK:
    case TCP_QUICKACK:
      // NOTE: stored only. Loopback delivers each send at once, so neither
      // Nagle's delay nor corking changes what a reader sees, only when.
      store(IPPROTO_TCP, name, number != 0 ? 1 : 0);
      return ok();
    case TCP_MAXSEG:
      if (number != 0 && (number < kMinUserMss || number > kMaxUserMss)) {
        return Errno{EINVAL};
      }
      store(IPPROTO_TCP, name, number);
      return ok();
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
      if (number < 1 || number > kMaxKeepaliveSeconds) {
        return Errno{EINVAL};
      }
      store(IPPROTO_TCP, name, number);
      return ok();
    case TCP_KEEPCNT:
      if (number < 1 || number > kMaxKeepaliveProbes) {
        return Errno{EINVAL};
      }
      store(IPPROTO_TCP, name, number);
      return ok();
    case TCP_SYNCNT:
      if (number < 1 || number > kMaxSynRetries) {
        return Errno{EINVAL};
      }
      store(IPPROTO_TCP, name, number);
      return ok();
    case TCP_LINGER2:
      // A negative value turns FIN_WAIT2's timeout off; 0 means the
      // net.ipv4.tcp_fin_timeout default.
      store(IPPROTO_TCP, name, number < 0 ? -1 : std::min(number, kMaxFinTimeoutSeconds));
      return ok();
    case TCP_USER_TIMEOUT:
      if (number < 0) {
        return Errno{EINVAL};
      }
      store(IPPROTO_TCP, name, number);
      return ok();
    default:
      return Errno{ENOPROTOOPT};  // TCP_INFO is read-only
  }
}

Result<std::vector<std::byte>> InetSocketFile::get_option(kernel::Task&, int level, int name) {
  switch (level) {
    case SOL_SOCKET:
      return get_socket_option(name);
    case IPPROTO_TCP:
      if (type() != SOCK_STREAM) {
        return foreign_level_error();
      }
      return get_tcp_option(name);
    case IPPROTO_IP:
      if (name == IP_TOS) {
        return option_bytes(stored(IPPROTO_IP, IP_TOS, 0));
      }
      if (name == IP_TTL) {
        const int ttl = stored(IPPROTO_IP, IP_TTL, -1);
        return option_bytes(ttl == -1 ? kDefaultTtl : ttl);
      }
      return Errno{ENOPROTOOPT};
    case IPPROTO_IPV6:
      if (family() != AF_INET6) {
        return foreign_level_error();
      }
      if (name == IPV6_V6ONLY) {
        return option_bytes(int{endpoint_->options().v6only ? 1 : 0});
      }
      if (name == IPV6_UNICAST_HOPS) {
        const int hops = stored(IPPROTO_IPV6, name, -1);
        return option_bytes(hops == -1 ? kDefaultTtl : hops);
      }
      if (name == IPV6_TCLASS) {
        return option_bytes(std::max(stored(IPPROTO_IPV6, name, 0), 0));
      }
      return Errno{ENOPROTOOPT};
    default:
      return foreign_level_error();
  }
}

Result<std::vector<std::byte>> InetSocketFile::get_socket_option(int name) {
  const InetOptions& options = endpoint_->options();
  if (is_socket_flag(name)) {
    return option_bytes(stored(SOL_SOCKET, name, 0));
  }
  switch (name) {
    case SO_TYPE:
      return option_bytes(type());
    case SO_DOMAIN:
      return option_bytes(family());
    case SO_PROTOCOL:
      return option_bytes(int{type() == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP});
    case SO_ACCEPTCONN:
      return option_bytes(int{endpoint_->listening() ? 1 : 0});
    case SO_ERROR:
      return option_bytes(endpoint_->take_error());
    case SO_REUSEADDR:
      return option_bytes(int{options.reuse_address ? 1 : 0});
    case SO_REUSEPORT:
      return option_bytes(int{options.reuse_port ? 1 : 0});
    case SO_SNDBUF:
      return option_bytes(options.send_buffer_bytes);
    case SO_RCVBUF:
      return option_bytes(options.receive_buffer_bytes);
    case SO_RCVTIMEO:
    case kSoRcvtimeoNew:
      return socket_timeout_bytes(options.receive_timeout);
    case SO_SNDTIMEO:
    case kSoSndtimeoNew:
      return socket_timeout_bytes(options.send_timeout);
    case SO_LINGER:
      return option_bytes(options.linger);
    case SO_PRIORITY:
      return option_bytes(stored(SOL_SOCKET, SO_PRIORITY, 0));
    case SO_RCVLOWAT:
      return option_bytes(options.receive_low_water);
    case SO_SNDLOWAT:
      return option_bytes(int{1});
    case SO_PEERCRED: {
      // An inet socket carries no peer credentials: pid 0 and ids of -1.
      const ucred none{.pid = 0, .uid = static_cast<uid_t>(-1), .gid = static_cast<gid_t>(-1)};
      return option_bytes(none);
    }
    default:
      return Errno{ENOPROTOOPT};
  }
}

Result<std::vector<std::byte>> InetSocketFile::get_tcp_option(int name) {
  switch (name) {
    case TCP_INFO:
      return tcp_info();
    case TCP_MAXSEG: {
      const int user_mss = stored(IPPROTO_TCP, TCP_MAXSEG, 0);
      if (!endpoint_->connected()) {
        return option_bytes(user_mss != 0 ? user_mss : kDefaultMss);
      }
      const int loopback = family() == AF_INET6 && !endpoint_->local()->is_v4() ? kLoopbackMssV6
                                                                                 : kLoopbackMssV4;
      return option_bytes(user_mss != 0 ? std::min(user_mss, loopback) : loopback);
    }
    case TCP_LINGER2: {
      const int seconds = stored(IPPROTO_TCP, name, 0);
      return option_bytes(seconds == 0 ? kDefaultFinTimeoutSeconds : seconds);
    }
    default:
      if (!is_tcp_option(name)) {
        return Errno{ENOPROTOOPT};
      }
      return option_bytes(stored(IPPROTO_TCP, name, tcp_default(name)));
  }
}

std::vector<std::byte> InetSocketFile::tcp_info() const {
  // Only fields a loopback connection can report truly are set. The
  // retransmission, RTT and congestion counters stay zero, as Linux
  // reports them for a connection that has not measured them yet.
  struct tcp_info info {};
  info.tcpi_state = static_cast<uint8_t>(endpoint_->tcp_state_number());
  if (endpoint_->listening()) {
    // Linux reports a listener's accept queue and backlog here.
    info.tcpi_unacked = static_cast<uint32_t>(endpoint_->pending_connections());
    info.tcpi_sacked = endpoint_->backlog();
  } else if (endpoint_->connected()) {
    const bool v6 = family() == AF_INET6 && !endpoint_->local()->is_v4();
    const uint32_t mss = v6 ? kLoopbackMssV6 : kLoopbackMssV4;
    info.tcpi_snd_mss = mss;
    info.tcpi_rcv_mss = mss;
    info.tcpi_advmss = mss;
    info.tcpi_pmtu = v6 ? 65536 : 65535;
    info.tcpi_snd_ssthresh = 0x7fffffff;  // TCP_INFINITE_SSTHRESH
    info.tcpi_snd_cwnd = 10;              // TCP_INIT_CWND
    info.tcpi_reordering = 3;             // net.ipv4.tcp_reordering
    info.tcpi_bytes_acked = endpoint_->bytes_sent();
    info.tcpi_bytes_received = endpoint_->bytes_received();
  }
  return option_bytes(info);
}

}  // namespace

Result<vfs::FileRef> make_inet_socket(kernel::Task& task, int family, int type, int protocol,
                                      uint32_t file_flags) {
  const std::string family_name = family == AF_INET ? "AF_INET" : "AF_INET6";
  switch (type) {
    case SOCK_STREAM:
      if (protocol != 0 && protocol != IPPROTO_TCP) {
        if (protocol == IPPROTO_MPTCP || protocol == IPPROTO_SCTP) {
          record_socket_gap(task, family_name + " SOCK_STREAM protocol " +
                                      std::to_string(protocol));
        }
        return Errno{EPROTONOSUPPORT};
      }
      break;
    case SOCK_DGRAM:
      if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6) {
        // Ping sockets: Linux's net.ipv4.ping_group_range default admits
        // no group.
        record_socket_gap(task, family_name + " SOCK_DGRAM ping socket");
        return Errno{EACCES};
      }
      if (protocol != 0 && protocol != IPPROTO_UDP) {
        if (protocol == IPPROTO_UDPLITE) {
          record_socket_gap(task, family_name + " SOCK_DGRAM IPPROTO_UDPLITE");
        }
        return Errno{EPROTONOSUPPORT};
      }
      break;
    case SOCK_RAW:
      // NOTE: a caller with CAP_NET_RAW gets a raw socket from Linux. ward
      // has none, so it returns what Linux returns to a caller without it.
      record_socket_gap(task, family_name + " SOCK_RAW");
      return Errno{EPERM};
    default:
      return Errno{ESOCKTNOSUPPORT};
  }
  auto endpoint = std::make_shared<InetEndpoint>(family, type, task.creds().fs_uid,
                                                 InetStack::of(task.kernel()));
  vfs::FileRef file = std::make_shared<InetSocketFile>(make_socket_location(task.creds()),
                                                       O_RDWR | (file_flags & O_NONBLOCK),
                                                       std::move(endpoint));
  return file;
}

}  // namespace ward::net
