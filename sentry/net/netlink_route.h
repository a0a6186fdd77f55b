// The kernel side of NETLINK_ROUTE (Linux's rtnetlink): the requests a
// socket sends to port 0, and the replies queued back on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ward::kernel {
class Task;
}

namespace ward::net {

// One datagram the kernel side queues on the sender.
using NetlinkDatagram = std::vector<std::byte>;

// Serves the netlink messages of one send, as Linux's netlink_rcv_skb
// walks them: dumps and queries of links and addresses get their replies,
// other requests get an NLMSG_ERROR with the errno, and NLM_F_ACK
// requests an acknowledgement. A message whose header is short or longer than the
// rest of the data ends the walk silently. `port` is the sender's port
// id, which every reply carries. `cap_ack` (NETLINK_CAP_ACK) leaves the
// request's payload out of an error.
std::vector<NetlinkDatagram> serve_route_requests(kernel::Task& task,
                                                  std::span<const std::byte> data, uint32_t port,
                                                  bool cap_ack);

// Records a compatibility gap `detail` of the task's current syscall.
void record_netlink_gap(kernel::Task& task, std::string_view detail);

}  // namespace ward::net
