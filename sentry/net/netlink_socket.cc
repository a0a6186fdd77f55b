// The operations of an AF_NETLINK socket: names, sends to the kernel side
// or another socket, and receives.
#include "sentry/net/netlink_socket.h"

#include <fcntl.h>

#include <array>
#include <cstring>
#include <string_view>

#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/net/netlink.h"
#include "sentry/net/netlink_route.h"

namespace ward::net {
namespace {

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

}  // namespace

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

uint32_t first_group(uint32_t groups) {
  return static_cast<uint32_t>(__builtin_ffs(static_cast<int>(groups)));
}

// netlink_sendmsg: EOPNOTSUPP for MSG_OOB, then ENODATA for an empty
// message; EINVAL for a short address or
// another family; EPERM for a group without CAP_NET_ADMIN; EMSGSIZE for a
// message over the send buffer. A message to port 0 goes to the kernel
// side, one to another port to the socket bound there (ECONNREFUSED when
// none is).
Result<size_t> NetlinkSocket::send(kernel::Task& task, SendRequest& request) {
  if ((request.flags & MSG_OOB) != 0) {
    return Errno{EOPNOTSUPP};
  }
  // A Linux 6.18 host returns ENODATA for an empty message before it
  // parses the address, whatever the destination.
  const size_t length = segments_length(request.data);
  if (length == 0) {
    return Errno{ENODATA};
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
    // netlink_sendmsg sends the caller's process id and real ids, or the
    // SCM_CREDENTIALS it passed.
    const kernel::Credentials& creds = task.creds();
    const ucred sender = request.credentials.value_or(ucred{.pid = task.thread_group().tgid(),
                                                            .uid = creds.real_uid,
                                                            .gid = creds.real_gid});
    receiver->deliver(std::move(data), *port_, sender);
    return length;
  }
  for (NetlinkDatagram& reply : serve_route_requests(task, data, *port_, cap_ack_)) {
    deliver(std::move(reply), 0, ucred{.pid = 0, .uid = 0, .gid = 0});
  }
  return length;
}

// netlink_recvmsg: one datagram per call, cut to the buffer with MSG_TRUNC
// in msg_flags; the MSG_TRUNC flag makes the call return its full length.
Result<ReceiveResult> NetlinkSocket::receive(kernel::Task& task, const SocketBuffer& data,
                                             int flags) {
  if ((flags & MSG_OOB) != 0) {
    return Errno{EOPNOTSUPP};
  }
  const bool dont_wait = nonblocking() || (flags & MSG_DONTWAIT) != 0;
  const auto deadline = receive_timeout_.deadline();
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
    TRY(wait_for_events(task, own_queue, kReadableEvents, deadline));
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
  if (passcred_) {
    result.credentials = datagram.credentials;
  }
  if ((flags & MSG_PEEK) == 0) {
    queued_bytes_ -= datagram.data.size();
    queue_.pop_front();
  }
  return result;
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
