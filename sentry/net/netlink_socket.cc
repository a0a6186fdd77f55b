// The file of an AF_NETLINK socket and the sandbox's table of netlink port
// ids, after Linux's net/netlink/af_netlink.c. A socket's receive queue
// contains whole datagrams: the kernel side's replies (netlink_route.h) and
// unicasts from other netlink sockets of the sandbox.
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <deque>
#include <map>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/net/netlink.h"
#include "sentry/net/netlink_route.h"
#include "sentry/net/socket.h"

namespace ward::net {

class NetlinkSocket;

// The port ids bound in the sandbox, of NETLINK_ROUTE sockets (the only
// protocol ward serves), as Linux's nl_table keeps them per protocol.
class NetlinkPorts {
 public:
  static std::shared_ptr<NetlinkPorts> of(kernel::Kernel& kernel) {
    auto& ports = kernel.netlink_ports();
    if (!ports) {
      ports = std::make_shared<NetlinkPorts>();
    }
    return ports;
  }

  NetlinkSocket* find(uint32_t port) const {
    const auto found = sockets_.find(port);
    return found == sockets_.end() ? nullptr : found->second;
  }
  void add(uint32_t port, NetlinkSocket* socket) { sockets_[port] = socket; }
  void remove(uint32_t port) { sockets_.erase(port); }

  // netlink_autobind's fallback after the thread-group id: negative ids
  // counting down from -4097.
  // NOTE: Linux starts this count at a random negative value.
  uint32_t next_negative_port() { return static_cast<uint32_t>(rover_--); }

 private:
  std::map<uint32_t, NetlinkSocket*> sockets_;
  int32_t rover_ = -4097;
};

namespace {

constexpr int kCapNetBroadcast = 11;
constexpr int kCapNetAdmin = 12;

// The multicast groups of NETLINK_ROUTE, numbered from 1.
constexpr uint32_t kRouteGroups = RTNLGRP_MAX;
static_assert(kRouteGroups <= 64);
constexpr uint64_t kBindGroupsMask = 0xffffffff;

// Linux's net.core.wmem_default and rmem_default, and the minimums and the
// cap of SO_SNDBUF and SO_RCVBUF requests (wmem_max, rmem_max).
constexpr int kDefaultBufferBytes = 212992;
constexpr int kMaxBufferRequestBytes = 212992;
constexpr int kMinSendBufferBytes = 4608;
constexpr int kMinReceiveBufferBytes = 2304;

// netlink_sendmsg's limit: a message must fit in the send buffer less
// this reserve (EMSGSIZE).
constexpr size_t kSendReserveBytes = 32;

constexpr uint32_t kReadableEvents = POLLIN | POLLRDNORM;
constexpr uint32_t kWritableEvents = POLLOUT | POLLWRNORM | POLLWRBAND;

// The netlink protocols Linux 6.x registers, by number.
constexpr std::array<std::pair<int, std::string_view>, 17> kLinuxProtocols{{
    {NETLINK_ROUTE, "NETLINK_ROUTE"},
    {NETLINK_USERSOCK, "NETLINK_USERSOCK"},
    {NETLINK_SOCK_DIAG, "NETLINK_SOCK_DIAG"},
    {NETLINK_XFRM, "NETLINK_XFRM"},
    {NETLINK_SELINUX, "NETLINK_SELINUX"},
    {NETLINK_ISCSI, "NETLINK_ISCSI"},
    {NETLINK_AUDIT, "NETLINK_AUDIT"},
    {NETLINK_FIB_LOOKUP, "NETLINK_FIB_LOOKUP"},
    {NETLINK_CONNECTOR, "NETLINK_CONNECTOR"},
    {NETLINK_NETFILTER, "NETLINK_NETFILTER"},
    {NETLINK_KOBJECT_UEVENT, "NETLINK_KOBJECT_UEVENT"},
    {NETLINK_GENERIC, "NETLINK_GENERIC"},
    {NETLINK_SCSITRANSPORT, "NETLINK_SCSITRANSPORT"},
    {NETLINK_ECRYPTFS, "NETLINK_ECRYPTFS"},
    {NETLINK_RDMA, "NETLINK_RDMA"},
    {NETLINK_CRYPTO, "NETLINK_CRYPTO"},
    {NETLINK_SMC, "NETLINK_SMC"},
}};

// Linux's MAX_LINKS: protocols at or above it are EPROTONOSUPPORT.
constexpr int kProtocolLimit = 32;

// The address netlink reports for `port` and its first 32 groups.
SocketAddress netlink_address(uint32_t port, uint32_t groups) {
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_pid = port;
  address.nl_groups = groups;
  return SocketAddress(reinterpret_cast<const char*>(&address), sizeof(address));
}

Result<sockaddr_nl> parse_netlink_address(const SocketAddress& bytes) {
  if (bytes.size() < sizeof(sockaddr_nl)) {
    return Errno{EINVAL};
  }
  sockaddr_nl address{};
  std::memcpy(&address, bytes.data(), sizeof(address));
  if (address.nl_family != AF_NETLINK) {
    return Errno{EINVAL};
  }
  return address;
}

// The group number (1-based) of the lowest bit of `groups`, as Linux's
// ffs picks a send's destination group; 0 for none.
uint32_t first_group(uint32_t groups) { return static_cast<uint32_t>(__builtin_ffs(static_cast<int>(groups))); }

// Records a gap for a SOL_NETLINK option Linux has and ward lacks; other
// numbers are ENOPROTOOPT on Linux too.
void record_missing_option(kernel::Task& task, int name) {
  switch (name) {
    case NETLINK_PKTINFO:
      record_netlink_gap(task, "SOL_NETLINK option NETLINK_PKTINFO");
      break;
    case NETLINK_EXT_ACK:
      record_netlink_gap(task, "SOL_NETLINK option NETLINK_EXT_ACK");
      break;
    case NETLINK_GET_STRICT_CHK:
      record_netlink_gap(task, "SOL_NETLINK option NETLINK_GET_STRICT_CHK");
      break;
    default:
      break;
  }
}

template <typename T>
std::vector<std::byte> bytes_of(const T& value) {
  std::vector<std::byte> bytes(sizeof(T));
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

}  // namespace

class NetlinkSocket final : public Socket {
 public:
  NetlinkSocket(vfs::VirtualDentry location, uint32_t flags, int type,
                std::shared_ptr<NetlinkPorts> ports)
      : Socket(std::move(location), flags, AF_NETLINK, type), ports_(std::move(ports)) {}

  ~NetlinkSocket() override {
    if (port_) {
      ports_->remove(*port_);
    }
  }

  uint32_t readiness(uint32_t mask) override {
    uint32_t events = kWritableEvents;
    if (!queue_.empty()) {
      events |= kReadableEvents;
    }
    if (error_ != 0) {
      events |= POLLERR;
    }
    return events & (mask | POLLERR | POLLHUP);
  }

  kernel::WaitQueue* wait_queue() override { return &wait_queue_; }

  // netlink_bind: EINVAL for a short address or another family, and for a
  // port other than the one a bound socket has; EADDRINUSE for a port
  // another socket holds. Port 0 lets the kernel pick one.
  Result<void> bind(kernel::Task& task, const SocketAddress& bytes) override {
    const sockaddr_nl address = TRY(parse_netlink_address(bytes));
    if (port_) {
      if (address.nl_pid != *port_) {
        return Errno{EINVAL};
      }
    } else if (address.nl_pid != 0) {
      if (ports_->find(address.nl_pid) != nullptr) {
        return Errno{EADDRINUSE};
      }
      set_port(address.nl_pid);
    } else {
      autobind(task);
    }
    // The address sets the first 32 groups and keeps the others.
    // NOTE: the sandbox's links and addresses never change, so a member of
    // a NETLINK_ROUTE group never gets a notification.
    if (address.nl_groups != 0) {
      has_groups_ = true;
    }
    groups_ = (groups_ & ~kBindGroupsMask) | address.nl_groups;
    return ok();
  }

  // netlink_connect: AF_UNSPEC disconnects; a port or group other than the
  // kernel's needs CAP_NET_ADMIN for NETLINK_ROUTE (EPERM).
  Result<void> connect(kernel::Task& task, const SocketAddress& bytes) override {
    if (bytes.size() < sizeof(sa_family_t)) {
      return Errno{EINVAL};
    }
    sa_family_t family = 0;
    std::memcpy(&family, bytes.data(), sizeof(family));
    if (family == AF_UNSPEC) {
      peer_port_ = 0;
      peer_group_ = 0;
      return ok();
    }
    const sockaddr_nl address = TRY(parse_netlink_address(bytes));
    if ((address.nl_groups != 0 || address.nl_pid != 0) &&
        !task.creds().has_capability(kCapNetAdmin)) {
      return Errno{EPERM};
    }
    if (!port_) {
      autobind(task);
    }
    peer_port_ = address.nl_pid;
    peer_group_ = first_group(address.nl_groups);
    return ok();
  }

  Result<void> listen(kernel::Task&, int) override { return Errno{EOPNOTSUPP}; }

  Result<std::pair<vfs::FileRef, SocketAddress>> accept(kernel::Task&, uint32_t) override {
    return Errno{EOPNOTSUPP};
  }

  SocketAddress local_address() override {
    return netlink_address(port_.value_or(0), static_cast<uint32_t>(groups_ & kBindGroupsMask));
  }

  // Linux reports the connected destination, the kernel's port 0 when
  // unconnected, never ENOTCONN.
  Result<SocketAddress> peer_address() override {
    const uint32_t group_mask = peer_group_ == 0 ? 0 : uint32_t{1} << (peer_group_ - 1);
    return netlink_address(peer_port_, group_mask);
  }

  Result<void> shutdown(kernel::Task&, int) override { return Errno{EOPNOTSUPP}; }

  Result<size_t> send(kernel::Task& task, SendRequest& request) override;
  Result<ReceiveResult> receive(kernel::Task& task, std::span<const vfs::GuestSegment> data,
                                int flags) override;

  bool supports_option(int level, int name) const override {
    if (level != SOL_SOCKET) {
      return true;
    }
    switch (name) {
      case SO_TYPE:
      case SO_DOMAIN:
      case SO_PROTOCOL:
      case SO_ERROR:
      case SO_SNDBUF:
      case SO_RCVBUF:
      case SO_ACCEPTCONN:
        return true;
      default:
        return false;
    }
  }

  Result<void> set_option(kernel::Task& task, int level, int name,
                          std::span<const std::byte> value) override;
  Result<std::vector<std::byte>> get_option(kernel::Task& task, int level, int name) override;

  // The SOL_NETLINK options ward serves.
  static bool supports_netlink_option(int name);
  // Sets SOL_NETLINK option `name` to `value`, which is 0 when the
  // caller's value is shorter than an int.
  Result<void> set_netlink_option(kernel::Task& task, int name, int value);
  // The SOL_NETLINK option `name`: a flag, or the group bitmap of
  // NETLINK_LIST_MEMBERSHIPS as 32-bit words.
  std::vector<uint32_t> get_netlink_option(int name) const;

  // Queues a datagram from `source_port`. When the receive buffer is
  // already over its size the datagram is dropped and, unless
  // NETLINK_NO_ENOBUFS is set, the next receive fails with ENOBUFS, as
  // Linux's netlink_overrun does.
  // NOTE: Linux makes a blocking sender from another socket wait for room
  // instead, where this drops its message too.
  void deliver(std::vector<std::byte> data, uint32_t source_port) {
    if (queued_bytes_ > static_cast<size_t>(receive_buffer_bytes_)) {
      if (!no_enobufs_) {
        error_ = ENOBUFS;
        wait_queue_.notify(POLLERR);
      }
      return;
    }
    queued_bytes_ += data.size();
    queue_.push_back(Datagram{.data = std::move(data), .source_port = source_port});
    wait_queue_.notify(kReadableEvents);
  }

 private:
  struct Datagram {
    std::vector<std::byte> data;
    uint32_t source_port;
  };

  void set_port(uint32_t port) {
    port_ = port;
    ports_->add(port, this);
  }

  // netlink_autobind: the caller's thread-group id, or a free negative id
  // when another socket is bound to that.
  void autobind(kernel::Task& task) {
    uint32_t port = static_cast<uint32_t>(task.thread_group().tgid());
    while (ports_->find(port) != nullptr) {
      port = ports_->next_negative_port();
    }
    set_port(port);
  }

  std::shared_ptr<NetlinkPorts> ports_;
  std::optional<uint32_t> port_;
  // Bit n - 1 is group n. Linux reports no groups at all until a bind or
  // NETLINK_ADD_MEMBERSHIP gives the socket any.
  uint64_t groups_ = 0;
  bool has_groups_ = false;
  bool cap_ack_ = false;
  bool no_enobufs_ = false;
  bool broadcast_error_ = false;
  bool listen_all_nsid_ = false;
  uint32_t peer_port_ = 0;
  uint32_t peer_group_ = 0;
  int error_ = 0;
  int send_buffer_bytes_ = kDefaultBufferBytes;
  int receive_buffer_bytes_ = kDefaultBufferBytes;
  std::deque<Datagram> queue_;
  size_t queued_bytes_ = 0;
  kernel::WaitQueue wait_queue_;
};

// netlink_sendmsg: EOPNOTSUPP for MSG_OOB; EINVAL for a short address or
// another family; EPERM for a group without CAP_NET_ADMIN; EMSGSIZE for a
// message over the send buffer. A message to port 0 goes to the kernel
// side, one to another port to the socket bound there (ECONNREFUSED when
// none is).
Result<size_t> NetlinkSocket::send(kernel::Task& task, SendRequest& request) {
  if ((request.flags & MSG_OOB) != 0) {
    return Errno{EOPNOTSUPP};
  }
  uint32_t destination_port = peer_port_;
  uint32_t destination_group = peer_group_;
  if (request.address) {
    const sockaddr_nl address = TRY(parse_netlink_address(*request.address));
    destination_port = address.nl_pid;
    destination_group = first_group(address.nl_groups);
    if (destination_group != 0 && !task.creds().has_capability(kCapNetAdmin)) {
      return Errno{EPERM};
    }
  }
  if (!port_) {
    autobind(task);
  }
  const size_t length = segments_length(request.data);
  if (length > static_cast<size_t>(send_buffer_bytes_) - kSendReserveBytes) {
    return Errno{EMSGSIZE};
  }
  std::vector<std::byte> data = TRY(copy_from_segments(task, request.data, 0, length));

  if (destination_group != 0) {
    record_netlink_gap(task, "netlink send to a multicast group");
    return Errno{EOPNOTSUPP};
  }
  if (destination_port != 0) {
    NetlinkSocket* receiver = ports_->find(destination_port);
    if (receiver == nullptr) {
      return Errno{ECONNREFUSED};
    }
    receiver->deliver(std::move(data), *port_);
    return length;
  }
  for (NetlinkDatagram& reply : serve_route_requests(task, data, *port_, cap_ack_)) {
    deliver(std::move(reply), 0);
  }
  return length;
}

// netlink_recvmsg: one datagram per call, cut to the buffer with MSG_TRUNC
// in msg_flags; the MSG_TRUNC flag makes the call return its full length.
Result<ReceiveResult> NetlinkSocket::receive(kernel::Task& task,
                                             std::span<const vfs::GuestSegment> data, int flags) {
  if ((flags & MSG_OOB) != 0) {
    return Errno{EOPNOTSUPP};
  }
  const bool dont_wait = nonblocking() || (flags & MSG_DONTWAIT) != 0;
  const std::array<kernel::WaitQueue*, 1> own_queue{&wait_queue_};
  while (true) {
    // A pending error is reported first, as skb_recv_datagram does.
    if (error_ != 0) {
      return Errno{std::exchange(error_, 0)};
    }
    if (!queue_.empty()) {
      break;
    }
    if (dont_wait) {
      return Errno{EAGAIN};
    }
    TRY(wait_for_events(task, own_queue, kReadableEvents, std::nullopt));
  }

  const Datagram& datagram = queue_.front();
  const size_t size = segments_length(data);
  const size_t copied = std::min(size, datagram.data.size());
  TRY(copy_to_segments(task, data, 0, std::span(datagram.data).first(copied)));

  ReceiveResult result;
  result.length = (flags & MSG_TRUNC) != 0 ? datagram.data.size() : copied;
  if (copied < datagram.data.size()) {
    result.msg_flags |= MSG_TRUNC;
  }
  result.address = netlink_address(datagram.source_port, 0);
  if ((flags & MSG_PEEK) == 0) {
    queued_bytes_ -= datagram.data.size();
    queue_.pop_front();
  }
  return result;
}

Result<void> NetlinkSocket::set_option(kernel::Task&, int level, int name,
                                       std::span<const std::byte> value) {
  if (level != SOL_SOCKET) {
    return Errno{EOPNOTSUPP};
  }
  if (value.size() < sizeof(int)) {
    return Errno{EINVAL};
  }
  int number = 0;
  std::memcpy(&number, value.data(), sizeof(number));
  // Linux caps a buffer request at wmem_max or rmem_max, doubles it for
  // bookkeeping overhead and keeps a minimum.
  const auto requested =
      static_cast<int>(std::min(static_cast<uint32_t>(number),
                                static_cast<uint32_t>(kMaxBufferRequestBytes)));
  switch (name) {
    case SO_SNDBUF:
      send_buffer_bytes_ = std::max(requested * 2, kMinSendBufferBytes);
      return ok();
    case SO_RCVBUF:
      receive_buffer_bytes_ = std::max(requested * 2, kMinReceiveBufferBytes);
      return ok();
    default:
      return Errno{ENOPROTOOPT};
  }
}

Result<std::vector<std::byte>> NetlinkSocket::get_option(kernel::Task&, int level, int name) {
  if (level != SOL_SOCKET) {
    return Errno{EOPNOTSUPP};
  }
  switch (name) {
    case SO_TYPE:
      return bytes_of(type());
    case SO_DOMAIN:
      return bytes_of(int{AF_NETLINK});
    case SO_PROTOCOL:
      return bytes_of(int{NETLINK_ROUTE});
    case SO_ACCEPTCONN:
      return bytes_of(int{0});
    case SO_ERROR:
      return bytes_of(std::exchange(error_, 0));
    case SO_SNDBUF:
      return bytes_of(send_buffer_bytes_);
    case SO_RCVBUF:
      return bytes_of(receive_buffer_bytes_);
    default:
      return Errno{ENOPROTOOPT};
  }
}

bool NetlinkSocket::supports_netlink_option(int name) {
  switch (name) {
    case NETLINK_ADD_MEMBERSHIP:
    case NETLINK_DROP_MEMBERSHIP:
    case NETLINK_BROADCAST_ERROR:
    case NETLINK_NO_ENOBUFS:
    case NETLINK_LISTEN_ALL_NSID:
    case NETLINK_LIST_MEMBERSHIPS:
    case NETLINK_CAP_ACK:
      return true;
    default:
      // NOTE: NETLINK_PKTINFO, NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK
      // change what replies carry or which requests fail, and ward does
      // not serve them yet.
      return false;
  }
}

// netlink_setsockopt: a membership needs a group from 1 to RTNLGRP_MAX
// (EINVAL), and NETLINK_LISTEN_ALL_NSID needs CAP_NET_BROADCAST (EPERM).
// A value shorter than an int reads as 0, which clears a flag.
Result<void> NetlinkSocket::set_netlink_option(kernel::Task& task, int name, int value) {
  bool* flag = nullptr;
  switch (name) {
    case NETLINK_ADD_MEMBERSHIP:
    case NETLINK_DROP_MEMBERSHIP: {
      has_groups_ = true;
      const auto group = static_cast<uint32_t>(value);
      if (group == 0 || group - 1 >= kRouteGroups) {
        return Errno{EINVAL};
      }
      const uint64_t bit = uint64_t{1} << (group - 1);
      groups_ = name == NETLINK_ADD_MEMBERSHIP ? groups_ | bit : groups_ & ~bit;
      return ok();
    }
    case NETLINK_BROADCAST_ERROR:
      flag = &broadcast_error_;
      break;
    case NETLINK_NO_ENOBUFS:
      flag = &no_enobufs_;
      break;
    case NETLINK_LISTEN_ALL_NSID:
      // The sandbox has one network namespace, so there is no other to
      // listen to.
      if (!task.creds().has_capability(kCapNetBroadcast)) {
        return Errno{EPERM};
      }
      flag = &listen_all_nsid_;
      break;
    case NETLINK_CAP_ACK:
      flag = &cap_ack_;
      break;
    default:
      return Errno{ENOPROTOOPT};
  }
  *flag = value != 0;
  return ok();
}

std::vector<uint32_t> NetlinkSocket::get_netlink_option(int name) const {
  switch (name) {
    case NETLINK_LIST_MEMBERSHIPS: {
      if (!has_groups_) {
        return {};
      }
      std::vector<uint32_t> words((kRouteGroups + 31) / 32);
      for (size_t i = 0; i < words.size(); ++i) {
        words[i] = static_cast<uint32_t>(groups_ >> (32 * i));
      }
      return words;
    }
    case NETLINK_BROADCAST_ERROR:
      return {broadcast_error_ ? 1u : 0u};
    case NETLINK_NO_ENOBUFS:
      return {no_enobufs_ ? 1u : 0u};
    case NETLINK_LISTEN_ALL_NSID:
      return {listen_all_nsid_ ? 1u : 0u};
    case NETLINK_CAP_ACK:
      return {cap_ack_ ? 1u : 0u};
    default:
      return {};
  }
}

Result<int64_t> set_netlink_option(kernel::Task& task, vfs::FileDescription& file, int level,
                                   int name, GuestAddr value_addr, int length) {
  auto& socket = dynamic_cast<NetlinkSocket&>(file);
  if (level != SOL_NETLINK) {
    return Errno{ENOPROTOOPT};
  }
  int value = 0;
  if (static_cast<size_t>(length) >= sizeof(int)) {
    value = TRY(task.copy_in<int>(value_addr));
  }
  if (!NetlinkSocket::supports_netlink_option(name)) {
    record_missing_option(task, name);
    return Errno{ENOPROTOOPT};
  }
  TRY(socket.set_netlink_option(task, name, value));
  return 0;
}

// netlink_getsockopt: a flag needs room for an int (EINVAL) and returns
// one; NETLINK_LIST_MEMBERSHIPS copies the whole words that fit and
// stores the bitmap's full length.
Result<int64_t> get_netlink_option(kernel::Task& task, vfs::FileDescription& file, int level,
                                   int name, GuestAddr value_addr, GuestAddr length_addr) {
  auto& socket = dynamic_cast<NetlinkSocket&>(file);
  if (level != SOL_NETLINK) {
    return Errno{ENOPROTOOPT};
  }
  const int length = TRY(task.copy_in<int>(length_addr));
  if (length < 0) {
    return Errno{EINVAL};
  }
  if (!NetlinkSocket::supports_netlink_option(name)) {
    record_missing_option(task, name);
    return Errno{ENOPROTOOPT};
  }
  const std::vector<uint32_t> words = socket.get_netlink_option(name);
  if (name == NETLINK_LIST_MEMBERSHIPS) {
    const size_t fitting = std::min(words.size(), static_cast<size_t>(length) / sizeof(uint32_t));
    TRY(task.copy_out(value_addr, std::as_bytes(std::span(words.data(), fitting))));
    TRY(task.copy_out(length_addr, static_cast<int>(words.size() * sizeof(uint32_t))));
    return 0;
  }
  if (static_cast<size_t>(length) < sizeof(int)) {
    return Errno{EINVAL};
  }
  TRY(task.copy_out(length_addr, static_cast<int>(sizeof(int))));
  TRY(task.copy_out(value_addr, static_cast<int>(words.at(0))));
  return 0;
}

Result<void> check_netlink_kind(int type, int protocol) {
  if (type != SOCK_RAW && type != SOCK_DGRAM) {
    return Errno{ESOCKTNOSUPPORT};
  }
  if (protocol < 0 || protocol >= kProtocolLimit) {
    return Errno{EPROTONOSUPPORT};
  }
  return ok();
}

std::optional<std::string_view> unsupported_netlink_protocol(int protocol) {
  if (protocol == NETLINK_ROUTE) {
    return std::nullopt;
  }
  for (const auto& [number, name] : kLinuxProtocols) {
    if (number == protocol) {
      return name;
    }
  }
  return std::nullopt;
}

vfs::FileRef make_netlink_socket(kernel::Task& task, int type, uint32_t file_flags) {
  return std::make_shared<NetlinkSocket>(make_socket_location(task.creds()),
                                         O_RDWR | (file_flags & O_NONBLOCK), type,
                                         NetlinkPorts::of(task.kernel()));
}

}  // namespace ward::net
