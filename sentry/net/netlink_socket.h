// The file of an AF_NETLINK socket and the sandbox's table of netlink port
// ids, after Linux's net/netlink/af_netlink.c. A socket's receive queue
// contains whole datagrams: the kernel side's replies (netlink_route.h) and
// unicasts from other netlink sockets of the sandbox. netlink_socket.cc
// has the socket operations, netlink_options.cc the socket options.
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/wait_queue.h"
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

// The address netlink reports for `port` and its first 32 groups.
SocketAddress netlink_address(uint32_t port, uint32_t groups);

// A whole sockaddr_nl: EINVAL for a shorter address or another family.
Result<sockaddr_nl> parse_netlink_address(const SocketAddress& bytes);

// The group number (1-based) of the lowest bit of `groups`, as Linux's
// ffs picks a send's destination group; 0 for none.
uint32_t first_group(uint32_t groups);

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
  Result<ReceiveResult> receive(kernel::Task& task, const SocketBuffer& data,
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
      case SO_PASSCRED:
      case SO_RCVTIMEO:
      case SO_SNDTIMEO:
      case kSoRcvtimeoNew:
      case kSoSndtimeoNew:
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

  // Queues a datagram from `source_port` with its sender's credentials,
  // which the kernel side's are all 0. When the queued data is already
  // over the receive buffer size the datagram is dropped and, unless
  // NETLINK_NO_ENOBUFS is set, the next receive fails with ENOBUFS, as
  // Linux's netlink_overrun does.
  // NOTE: Linux makes a blocking sender from another socket wait for room
  // instead, where this drops its message too.
  void deliver(std::vector<std::byte> data, uint32_t source_port, ucred credentials) {
    if (queued_bytes_ > static_cast<size_t>(receive_buffer_bytes_)) {
      if (!no_enobufs_) {
        error_ = ENOBUFS;
        wait_queue_.notify(POLLERR);
      }
      return;
    }
    queued_bytes_ += data.size();
    queue_.push_back(Datagram{
        .data = std::move(data), .source_port = source_port, .credentials = credentials});
    wait_queue_.notify(kReadableEvents);
  }

 private:
  // The 64-bit timeval options of Linux 5.1 and later; on x86_64 they take
  // the same struct as SO_RCVTIMEO and SO_SNDTIMEO.
  static constexpr int kSoRcvtimeoNew = 66;
  static constexpr int kSoSndtimeoNew = 67;

  static constexpr int kCapNetBroadcast = 11;
  static constexpr int kCapNetAdmin = 12;

  // The multicast groups of NETLINK_ROUTE, numbered from 1, and the ones
  // a bind address sets.
  static constexpr uint32_t kRouteGroups = RTNLGRP_MAX;
  static_assert(kRouteGroups <= 64);
  static constexpr uint64_t kBindGroupsMask = 0xffffffff;

  // Linux's net.core.wmem_default and rmem_default, and the minimums and
  // the cap of SO_SNDBUF and SO_RCVBUF requests (wmem_max, rmem_max).
  static constexpr int kDefaultBufferBytes = 212992;
  static constexpr int kMaxBufferRequestBytes = 212992;
  static constexpr int kMinSendBufferBytes = 4608;
  static constexpr int kMinReceiveBufferBytes = 2304;

  // netlink_sendmsg's limit: a message must fit in the send buffer less
  // this reserve (EMSGSIZE).
  static constexpr size_t kSendReserveBytes = 32;

  static constexpr uint32_t kReadableEvents = POLLIN | POLLRDNORM;
  static constexpr uint32_t kWritableEvents = POLLOUT | POLLWRNORM | POLLWRBAND;

  struct Datagram {
    std::vector<std::byte> data;
    uint32_t source_port;
    ucred credentials;
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
  bool passcred_ = false;
  SocketTimeout receive_timeout_;
  // Stored for getsockopt only, because a netlink send never waits here.
  SocketTimeout send_timeout_;
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

}  // namespace ward::net
