// The state of one loopback AF_INET or AF_INET6 socket, after Linux's
// net/ipv4 and net/ipv6: its local and remote addresses, its place in the
// sandbox's port table, its TCP connection or UDP datagram queue, and its
// options. A socket file owns one endpoint. A TCP connection waiting on a
// listener for accept(2) is an endpoint without a file yet.
//
// Every segment "travels" by moving bytes between two endpoints of the
// sentry: nothing here is backed by a host socket, and the only network is
// the loopback one (127.0.0.0/8 and ::1).
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sentry/kernel/wait_queue.h"
#include "sentry/net/socket.h"
#include "ward/result.h"

namespace ward::kernel {
class Kernel;
class Task;
}  // namespace ward::kernel

namespace ward::net {

class InetEndpoint;

// An IP address and port. An IPv4 address is kept v4-mapped
// (::ffff:a.b.c.d), so 0.0.0.0 and :: stay distinct wildcards.
struct InetAddress {
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;  // host byte order

  bool operator==(const InetAddress&) const = default;

  bool is_v4() const;            // v4-mapped
  bool is_v6_any() const;        // ::
  bool is_v4_any() const;        // 0.0.0.0
  bool is_any() const { return is_v4_any() || is_v6_any(); }
  bool is_loopback() const;      // 127.0.0.0/8 or ::1
  uint32_t v4() const;           // host byte order; only for is_v4()

  static InetAddress from_v4(uint32_t address, uint16_t port);  // host byte order
  static InetAddress v4_loopback(uint16_t port);
  static InetAddress v6_loopback(uint16_t port);
};

// The sockaddr_in, or sockaddr_in6 for `family` AF_INET6, of `address`.
SocketAddress to_socket_address(int family, const InetAddress& address);

// The zero address of `family`, which getsockname reports before bind.
SocketAddress unspecified_socket_address(int family);

// Linux's ephemeral port range, net.ipv4.ip_local_port_range's default.
inline constexpr uint16_t kFirstEphemeralPort = 32768;
inline constexpr uint16_t kLastEphemeralPort = 60999;

// Linux's net.ipv4.ip_unprivileged_port_start default: binding a lower
// port needs CAP_NET_BIND_SERVICE.
inline constexpr uint16_t kFirstUnprivilegedPort = 1024;

// The bound ports of one sandbox's network stack, per protocol, with
// Linux's rules for sharing one: SO_REUSEADDR (unless one of the sockets
// listens) and SO_REUSEPORT (sockets of the same owner).
class InetStack {
 public:
  // The stack of `kernel`, made on first use.
  static std::shared_ptr<InetStack> of(kernel::Kernel& kernel);

  // Binds `endpoint` at its local address to `port`, or to a free
  // ephemeral port for 0, and returns the port. EADDRINUSE when the port is
  // taken, EADDRNOTAVAIL when no ephemeral port is free. `exclusive` picks
  // an ephemeral port no other socket uses, as connect's autobind does.
  Result<uint16_t> bind(const std::shared_ptr<InetEndpoint>& endpoint, uint16_t port,
                        bool exclusive = false);

  // Whether another socket on `endpoint`'s port makes it unable to listen
  // (inet_csk_listen_start's second check).
  bool listen_conflict(const InetEndpoint& endpoint) const;

  // Enters `endpoint` at its local port without a conflict check: an
  // accepted connection shares its listener's port.
  void attach(const std::shared_ptr<InetEndpoint>& endpoint);

  void unbind(const InetEndpoint& endpoint);

  // The listening TCP socket that takes a connection to `destination`:
  // one bound to exactly that address before one bound to a wildcard.
  std::shared_ptr<InetEndpoint> find_listener(const InetAddress& destination) const;

  // The UDP socket that receives a datagram from `source` to
  // `destination`, scored like Linux's compute_score: an exact local
  // address and a matching connected peer win over wildcards.
  std::shared_ptr<InetEndpoint> find_datagram_receiver(const InetAddress& destination,
                                                       const InetAddress& source) const;

 private:
  std::vector<std::shared_ptr<InetEndpoint>> on_port(int type, uint16_t port) const;
  bool conflicts(const InetEndpoint& endpoint, uint16_t port) const;

  std::multimap<std::pair<int, uint16_t>, std::weak_ptr<InetEndpoint>> ports_;
  uint32_t next_ephemeral_offset_ = 0;
};

// The TCP state an endpoint is in, as far as a loopback connection that
// completes at once needs: Linux's CLOSE, LISTEN and ESTABLISHED, with
// CLOSE_WAIT and FIN_WAIT2 distinguished by which FINs were exchanged.
enum class TcpState { kClosed, kListening, kConnected };

// Linux's sock->state: whether connect(2) is done, which a second connect
// after a non-blocking one reads.
enum class ConnectState { kUnconnected, kConnecting, kConnected };

// Linux's shutdown bits: RCV_SHUTDOWN and SEND_SHUTDOWN.
inline constexpr int kInetReceiveShutdown = 1;
inline constexpr int kInetSendShutdown = 2;
inline constexpr int kInetShutdownBoth = 3;

// The options of a socket that an accepted socket inherits from its
// listener.
struct InetOptions {
  bool reuse_address = false;
  bool reuse_port = false;
  bool v6only = false;  // IPV6_V6ONLY; net.ipv6.bindv6only is 0
  int send_buffer_bytes = 0;
  int receive_buffer_bytes = 0;
  int receive_low_water = 1;
  SocketTimeout send_timeout;
  SocketTimeout receive_timeout;
  struct linger linger {};
  // SOL_SOCKET flags and other plain int options, keyed by (level, name),
  // which ward stores and reports but does not act on (SO_KEEPALIVE,
  // TCP_NODELAY, TCP_CORK, IP_TOS...).
  std::map<std::pair<int, int>, int> stored;
};

// One UDP datagram on a receive queue.
struct Datagram {
  std::vector<std::byte> data;
  InetAddress source;
};

class InetEndpoint : public std::enable_shared_from_this<InetEndpoint> {
 public:
  InetEndpoint(int family, int type, uid_t owner, std::shared_ptr<InetStack> stack);
  ~InetEndpoint();
  InetEndpoint(const InetEndpoint&) = delete;
  InetEndpoint& operator=(const InetEndpoint&) = delete;

  int family() const { return family_; }
  int type() const { return type_; }
  bool stream() const { return type_ == SOCK_STREAM; }
  uid_t owner() const { return owner_; }
  TcpState state() const { return state_; }
  bool listening() const { return state_ == TcpState::kListening; }
  kernel::WaitQueue& queue() { return queue_; }
  InetOptions& options() { return options_; }
  const InetOptions& options() const { return options_; }

  // The bound address, when a port is bound.
  const std::optional<InetAddress>& local() const { return local_; }
  // Whether this socket's local address takes `destination`'s address,
  // counting wildcards and IPV6_V6ONLY.
  bool accepts_address(const InetAddress& destination) const;
  // Whether the local addresses of two sockets overlap, so that they may
  // not share a port without SO_REUSEADDR or SO_REUSEPORT.
  bool overlaps(const InetEndpoint& other) const;

  // Closes the endpoint when its file goes (tcp_close, udp_lib_close).
  void release();

  // Naming (inet_socket.cc keeps the address rules).
  Result<void> bind(kernel::Task& task, const SocketAddress& address);
  SocketAddress local_address() const;
  Result<SocketAddress> peer_address() const;

  // TCP (inet_tcp.cc).
  Result<void> connect(kernel::Task& task, const SocketAddress& address, bool nonblocking);
  Result<void> listen(int backlog);
  Result<std::shared_ptr<InetEndpoint>> accept(kernel::Task& task, bool nonblocking);
  Result<void> shutdown(int how);
  uint32_t readiness(uint32_t mask);

  // Data (inet_tcp.cc for TCP, inet_udp.cc for UDP).
  Result<size_t> send(kernel::Task& task, SendRequest& request, bool nonblocking);
  Result<ReceiveResult> receive(kernel::Task& task, const SocketBuffer& data,
                                int flags, bool nonblocking);
  // SIOCINQ: EINVAL on a listener.
  Result<int> input_bytes() const;
  // SIOCOUTQ: bytes sent but not yet taken in by the peer.
  int output_bytes() const;

  // SO_ERROR: returns and clears the pending error.
  int take_error() { return std::exchange(error_, 0); }
  // Wakes writers after SO_SNDBUF grew.
  void notify_write_space();

  // For TCP_INFO: Linux's tcp_state number, the accept queue of a
  // listener, and the bytes moved.
  int tcp_state_number() const;
  size_t pending_connections() const { return pending_.size(); }
  uint32_t backlog() const { return backlog_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_received() const { return bytes_received_; }
  bool connected() const { return state_ == TcpState::kConnected; }

 private:
  friend class InetStack;

  // Turns a connect or send destination into an address on this stack:
  // EINVAL or EAFNOSUPPORT for a malformed one, ENETUNREACH for a mapped
  // address on an IPV6_V6ONLY socket. The unspecified address means
  // loopback, as in Linux.
  Result<InetAddress> parse_destination(const SocketAddress& address, bool datagram) const;
  // ENETUNREACH and a compatibility gap for a destination off loopback.
  Result<void> check_route(kernel::Task& task, const InetAddress& destination) const;
  // The source address of a packet to `destination`: the bound address,
  // or 127.0.0.1 or ::1 for a wildcard.
  InetAddress source_for(const InetAddress& destination) const;
  // Binds an ephemeral port when none is bound (inet_autobind).
  Result<void> autobind(bool exclusive);
  // Gives the port back when bind(2) did not choose it.
  void release_unless_bound();

  // TCP.
  void reset_connection(int error);
  void receive_fin();
  void drop_connection(bool send_reset);
  size_t stream_capacity() const;
  Result<size_t> send_stream(kernel::Task& task, SendRequest& request, bool nonblocking);
  Result<ReceiveResult> receive_stream(kernel::Task& task,
                                       const SocketBuffer& data, int flags,
                                       bool nonblocking);
  // Copies `length` queued bytes from `offset` into the guest, and
  // removes them unless `peek`.
  Result<void> copy_stream_bytes(kernel::Task& task, const SocketBuffer& data,
                                 size_t data_offset, size_t queue_offset, size_t length,
                                 bool discard, bool peek);

  // UDP.
  Result<void> connect_datagram(kernel::Task& task, const SocketAddress& address);
  void disconnect_datagram();
  Result<size_t> send_datagram(kernel::Task& task, SendRequest& request, bool nonblocking);
  Result<ReceiveResult> receive_datagram(kernel::Task& task,
                                         const SocketBuffer& data, int flags,
                                         bool nonblocking);
  void deliver(Datagram datagram);

  const int family_;
  const int type_;
  const uid_t owner_;
  std::weak_ptr<InetStack> stack_;
  InetOptions options_;

  std::optional<InetAddress> local_;   // set while a port is bound
  bool address_bound_ = false;         // bind(2) chose the address
  bool port_bound_ = false;            // bind(2) chose the port
  std::optional<InetAddress> remote_;  // the peer or default destination
  TcpState state_ = TcpState::kClosed;
  ConnectState connect_state_ = ConnectState::kUnconnected;
  bool dead_ = false;
  bool fin_sent_ = false;
  bool fin_received_ = false;  // Linux's SOCK_DONE
  bool syn_sent_ = false;      // a blocking connect waits for room to queue
  int shutdown_ = 0;
  int error_ = 0;

  // TCP: the connected peer, the received bytes and a listener's queue of
  // connections not yet accepted.
  std::shared_ptr<InetEndpoint> peer_;
  std::deque<std::vector<std::byte>> chunks_;
  size_t front_consumed_ = 0;
  size_t queued_bytes_ = 0;
  std::deque<std::shared_ptr<InetEndpoint>> pending_;
  uint32_t backlog_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;

  // UDP: received datagrams and what they charge to SO_RCVBUF.
  std::deque<Datagram> datagrams_;
  size_t datagram_charge_ = 0;

  kernel::WaitQueue queue_;
};

// Records a compatibility gap of kind kSocket for the syscall `task` is
// making (the sentry's counterpart of syscalls' record_gap).
void record_socket_gap(kernel::Task& task, std::string_view detail);

}  // namespace ward::net
