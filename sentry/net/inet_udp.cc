// Loopback UDP: connect for a default destination, sendto and recvfrom
// between endpoints, autobind on the first send, MSG_TRUNC, and the
// ECONNREFUSED a connected socket learns from a datagram no socket took,
// after Linux's udp.c, udpv6.c and datagram.c.
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "sentry/kernel/task.h"
#include "sentry/net/inet_endpoint.h"

namespace ward::net {
namespace {

constexpr uint32_t kReadableEvents = POLLIN | POLLRDNORM;
constexpr uint32_t kWritableEvents = POLLOUT | POLLWRNORM;

// The largest UDP payload: 65535 bytes less the UDP header, and for IPv4
// the IP header too.
constexpr size_t kMaxV4PayloadBytes = 65507;
constexpr size_t kMaxV6PayloadBytes = 65527;

// The charge of each queued datagram to the receiver's SO_RCVBUF on top of
// its data, in place of the sk_buff truesize Linux counts.
// NOTE: Linux's overhead depends on the allocation, so exactly how many
// datagrams fit before the receiver drops more differs.
constexpr size_t kDatagramOverheadBytes = 768;

}  // namespace

Result<void> InetEndpoint::connect_datagram(kernel::Task& task, const SocketAddress& address) {
  sa_family_t family = AF_UNSPEC;
  std::memcpy(&family, address.data(), sizeof(family));
  if (family == AF_UNSPEC) {
    disconnect_datagram();
    return ok();
  }
  // inet_dgram_connect binds a port before it reads the address.
  TRY(autobind(/*exclusive=*/false));
  const InetAddress destination = TRY(parse_destination(address, /*datagram=*/true));
  TRY(check_route(task, destination));
  if (!address_bound_) {
    const uint16_t port = local_->port;
    local_ = source_for(destination);
    local_->port = port;
  }
  remote_ = destination;
  state_ = TcpState::kConnected;
  connect_state_ = ConnectState::kConnected;
  return ok();
}

void InetEndpoint::disconnect_datagram() {
  // udp_disconnect: the address bind(2) did not choose goes back to the
  // wildcard, and a port it did not choose is given back.
  remote_.reset();
  state_ = TcpState::kClosed;
  connect_state_ = ConnectState::kUnconnected;
  if (local_ && !address_bound_) {
    const uint16_t port = local_->port;
    local_ = family_ == AF_INET ? InetAddress::from_v4(INADDR_ANY, port) : InetAddress{};
    local_->port = port;
  }
  if (local_) {
    release_unless_bound();
  }
}

Result<size_t> InetEndpoint::send_datagram(kernel::Task& task, SendRequest& request,
                                           bool nonblocking) {
  (void)nonblocking;  // delivery or a drop is immediate, so a send never waits
  if ((request.flags & MSG_OOB) != 0) {
    return Errno{EOPNOTSUPP};
  }
  TRY(autobind(/*exclusive=*/false));

  std::optional<SocketAddress> address = request.address;
  if (address && family_ == AF_INET6) {
    if (address->size() < sizeof(sa_family_t)) {
      return Errno{EINVAL};
    }
    sa_family_t family = AF_UNSPEC;
    std::memcpy(&family, address->data(), sizeof(family));
    if (family == AF_UNSPEC) {
      address.reset();  // udpv6_sendmsg: AF_UNSPEC means no address
    }
  }
  InetAddress destination;
  if (address) {
    destination = TRY(parse_destination(*address, /*datagram=*/true));
    if (destination.port == 0) {
      return Errno{EINVAL};
    }
  } else {
    if (!remote_) {
      return Errno{EDESTADDRREQ};
    }
    destination = *remote_;
  }
  const size_t total = segments_length(request.data);
  if (total > (destination.is_v4() ? kMaxV4PayloadBytes : kMaxV6PayloadBytes)) {
    return Errno{EMSGSIZE};
  }
  TRY(check_route(task, destination));
  // Linux's sock_alloc_send_pskb reports and clears a pending error, such
  // as the ECONNREFUSED of an earlier send, before it checks SHUT_WR.
  if (error_ != 0) {
    return Errno{take_error()};
  }
  if ((shutdown_ & kInetSendShutdown) != 0) {
    return Errno{EPIPE};
  }

  Datagram datagram;
  datagram.data = TRY(copy_from_segments(task, request.data, 0, total));
  datagram.source = source_for(destination);

  std::shared_ptr<InetEndpoint> receiver;
  if (auto stack = stack_.lock()) {
    receiver = stack->find_datagram_receiver(destination, datagram.source);
  }
  if (!receiver) {
    // The ICMP port-unreachable sent back reaches a socket connected to
    // that destination as ECONNREFUSED on its next call.
    if (remote_ && *remote_ == destination) {
      error_ = ECONNREFUSED;
      queue_.notify(POLLERR);
    }
    return total;
  }
  receiver->deliver(std::move(datagram));
  return total;
}

void InetEndpoint::deliver(Datagram datagram) {
  // __udp_enqueue_schedule_skb drops a datagram, silently to the sender,
  // once the receive buffer is over its size.
  if (datagram_charge_ > static_cast<size_t>(options_.receive_buffer_bytes)) {
    return;
  }
  datagram_charge_ += datagram.data.size() + kDatagramOverheadBytes;
  datagrams_.push_back(std::move(datagram));
  queue_.notify(kReadableEvents);
}

Result<ReceiveResult> InetEndpoint::receive_datagram(kernel::Task& task,
                                                     const SocketBuffer& data,
                                                     int flags, bool nonblocking) {
  if ((flags & MSG_OOB) != 0) {
    return Errno{EOPNOTSUPP};
  }
  const auto deadline = options_.receive_timeout.deadline();
  const std::array<kernel::WaitQueue*, 1> own_queue{&queue_};
  for (;;) {
    if (error_ != 0) {
      return Errno{take_error()};
    }
    if (!datagrams_.empty()) {
      break;
    }
    if (nonblocking) {
      return Errno{EAGAIN};
    }
    if ((shutdown_ & kInetReceiveShutdown) != 0) {
      return ReceiveResult{};
    }
    TRY(wait_for_events(task, own_queue, kReadableEvents, deadline));
  }

  Datagram& datagram = datagrams_.front();
  ReceiveResult result;
  result.address = to_socket_address(family_, datagram.source);
  const size_t size = segments_length(data);
  const size_t length = std::min(size, datagram.data.size());
  if (size < datagram.data.size()) {
    result.msg_flags |= MSG_TRUNC;
  }
  TRY(copy_to_segments(task, data, 0, std::span(datagram.data.data(), length)));
  result.length = (flags & MSG_TRUNC) != 0 ? datagram.data.size() : length;
  if ((flags & MSG_PEEK) == 0) {
    const size_t charge = datagram.data.size() + kDatagramOverheadBytes;
    datagram_charge_ -= std::min(charge, datagram_charge_);
    datagrams_.pop_front();
    queue_.notify(kWritableEvents);
  }
  return result;
}

}  // namespace ward::net
