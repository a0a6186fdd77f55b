// rtnetlink requests, after Linux's net/core/rtnetlink.c (the dispatch and
// RTM_GETLINK), net/ipv4/devinet.c and net/ipv6/addrconf.c (RTM_GETADDR).
// Each dump is built in full at once: one datagram with every message
// of the dump and its NLMSG_DONE.
#include "sentry/net/netlink_route.h"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <string>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/net/interfaces.h"

namespace ward::net {
namespace {

constexpr int kCapNetAdmin = 12;

// IFA_F_PERMANENT: an address configured by hand (or, for lo, by the
// kernel), which never expires.
constexpr uint32_t kPermanentAddress = IFA_F_PERMANENT;
// ifa_cacheinfo's lifetime of an address that never expires.
constexpr uint32_t kInfiniteLifetime = 0xffffffff;

// IF_OPER_UNKNOWN from <linux/if.h>: Linux's loopback device reports no
// operational state of its own.
constexpr uint8_t kOperationalStateUnknown = 0;

constexpr size_t align4(size_t length) { return (length + 3) & ~size_t{3}; }

// Builds a datagram of netlink messages: a header, a fixed part, then
// attributes, each padded to 4 bytes as NLMSG_ALIGN and NLA_ALIGN do.
class MessageWriter {
 public:
  void begin(uint16_t type, uint16_t flags, uint32_t sequence, uint32_t port) {
    start_ = bytes_.size();
    const nlmsghdr header{.nlmsg_len = 0,
                          .nlmsg_type = type,
                          .nlmsg_flags = flags,
                          .nlmsg_seq = sequence,
                          .nlmsg_pid = port};
    append(&header, sizeof(header));
  }

  template <typename T>
  void put(const T& value) {
    append(&value, sizeof(value));
  }

  void put_bytes(std::span<const std::byte> bytes) { append(bytes.data(), bytes.size()); }

  void attribute(uint16_t type, const void* data, size_t length) {
    const nlattr header{.nla_len = static_cast<uint16_t>(NLA_HDRLEN + length), .nla_type = type};
    append(&header, sizeof(header));
    append(data, length);
  }

  template <typename T>
  void attribute(uint16_t type, const T& value) {
    attribute(type, &value, sizeof(value));
  }

  // A NUL-terminated string attribute.
  void string_attribute(uint16_t type, std::string_view text) {
    std::string terminated(text);
    attribute(type, terminated.c_str(), terminated.size() + 1);
  }

  // Sets the length of the message begun last.
  void end() {
    const auto length = static_cast<uint32_t>(bytes_.size() - start_);
    std::memcpy(bytes_.data() + start_, &length, sizeof(length));
  }

  NetlinkDatagram take() { return std::move(bytes_); }

 private:
  void append(const void* data, size_t length) {
    const auto* first = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), first, first + length);
    bytes_.resize(align4(bytes_.size()));
  }

  NetlinkDatagram bytes_;
  size_t start_ = 0;
};

// The sequence number and port id of every reply to one request.
struct ReplyTo {
  uint32_t sequence;
  uint32_t port;
};

// rtnl_fill_ifinfo for the loopback device: the attributes C libraries
// and iproute2 read.
// NOTE: the traffic counters of IFLA_STATS and IFLA_STATS64 stay zero,
// because the sentry does not count loopback traffic.
void put_loopback_link(MessageWriter& writer, const ReplyTo& reply, uint16_t flags) {
  writer.begin(RTM_NEWLINK, flags, reply.sequence, reply.port);
  ifinfomsg link{};
  link.ifi_family = AF_UNSPEC;
  link.ifi_type = kLoopbackHardwareType;
  link.ifi_index = kLoopbackIndex;
  link.ifi_flags = kLoopbackFlags;
  writer.put(link);
  writer.string_attribute(IFLA_IFNAME, kLoopbackName);
  writer.attribute(IFLA_TXQLEN, kLoopbackTxQueueLength);
  writer.attribute(IFLA_OPERSTATE, kOperationalStateUnknown);
  writer.attribute(IFLA_LINKMODE, uint8_t{0});
  writer.attribute(IFLA_MTU, kLoopbackMtu);
  writer.attribute(IFLA_MIN_MTU, uint32_t{0});
  writer.attribute(IFLA_MAX_MTU, uint32_t{0});
  writer.attribute(IFLA_GROUP, uint32_t{0});
  writer.attribute(IFLA_PROMISCUITY, uint32_t{0});
  writer.attribute(IFLA_NUM_TX_QUEUES, uint32_t{1});
  writer.attribute(IFLA_NUM_RX_QUEUES, uint32_t{1});
  writer.attribute(IFLA_CARRIER, uint8_t{1});
  writer.string_attribute(IFLA_QDISC, "noqueue");
  writer.attribute(IFLA_ADDRESS, kLoopbackHardwareAddress);
  writer.attribute(IFLA_BROADCAST, kLoopbackHardwareAddress);
  writer.attribute(IFLA_STATS64, rtnl_link_stats64{});
  writer.attribute(IFLA_STATS, rtnl_link_stats{});
  writer.end();
}

ifa_cacheinfo permanent_cacheinfo() {
  // The stamps count hundredths of a second since boot; the addresses
  // exist from the sandbox's start.
  return ifa_cacheinfo{.ifa_prefered = kInfiniteLifetime,
                       .ifa_valid = kInfiniteLifetime,
                       .cstamp = 0,
                       .tstamp = 0};
}

// inet_fill_ifaddr for 127.0.0.1/8 on lo.
void put_loopback_address4(MessageWriter& writer, const ReplyTo& reply, uint16_t flags) {
  writer.begin(RTM_NEWADDR, flags, reply.sequence, reply.port);
  writer.put(ifaddrmsg{.ifa_family = AF_INET,
                       .ifa_prefixlen = kLoopbackPrefix4,
                       .ifa_flags = kPermanentAddress,
                       .ifa_scope = RT_SCOPE_HOST,
                       .ifa_index = kLoopbackIndex});
  const uint32_t address = htonl(kLoopbackAddress4);
  writer.attribute(IFA_ADDRESS, address);
  writer.attribute(IFA_LOCAL, address);
  writer.string_attribute(IFA_LABEL, kLoopbackName);
  writer.attribute(IFA_FLAGS, kPermanentAddress);
  writer.attribute(IFA_CACHEINFO, permanent_cacheinfo());
  writer.end();
}

// inet6_fill_ifaddr for ::1/128 on lo, which has no IFA_LOCAL or label.
void put_loopback_address6(MessageWriter& writer, const ReplyTo& reply, uint16_t flags) {
  writer.begin(RTM_NEWADDR, flags, reply.sequence, reply.port);
  writer.put(ifaddrmsg{.ifa_family = AF_INET6,
                       .ifa_prefixlen = kLoopbackPrefix6,
                       .ifa_flags = kPermanentAddress,
                       .ifa_scope = RT_SCOPE_HOST,
                       .ifa_index = kLoopbackIndex});
  writer.attribute(IFA_ADDRESS, in6addr_loopback);
  writer.attribute(IFA_CACHEINFO, permanent_cacheinfo());
  writer.attribute(IFA_FLAGS, kPermanentAddress);
  writer.end();
}

// The NLMSG_DONE ending a dump; its payload is the dump's result, 0.
void put_done(MessageWriter& writer, const ReplyTo& reply) {
  writer.begin(NLMSG_DONE, NLM_F_MULTI, reply.sequence, reply.port);
  writer.put(int32_t{0});
  writer.end();
}

// netlink_ack: NLMSG_ERROR with `error` (0 for an acknowledgement) and the
// request's header, followed by the rest of the request for an error
// unless `cap_ack` is set.
NetlinkDatagram make_ack(const nlmsghdr& request, std::span<const std::byte> message, int error,
                         uint32_t port, bool cap_ack) {
  MessageWriter writer;
  const bool capped = error == 0 || cap_ack;
  writer.begin(NLMSG_ERROR, capped ? NLM_F_CAPPED : 0, request.nlmsg_seq, port);
  writer.put(int32_t{-error});
  if (capped) {
    writer.put(request);
  } else {
    writer.put_bytes(message);
  }
  writer.end();
  return writer.take();
}

// The string of attribute `type` in the attributes after the fixed part
// of a request, cut at its first NUL.
std::optional<std::string> find_string_attribute(std::span<const std::byte> attributes,
                                                 uint16_t type) {
  size_t offset = 0;
  while (offset + NLA_HDRLEN <= attributes.size()) {
    nlattr header{};
    std::memcpy(&header, attributes.data() + offset, sizeof(header));
    if (header.nla_len < NLA_HDRLEN || header.nla_len > attributes.size() - offset) {
      break;
    }
    if ((header.nla_type & NLA_TYPE_MASK) == type) {
      const auto* text = reinterpret_cast<const char*>(attributes.data() + offset + NLA_HDRLEN);
      const size_t length = header.nla_len - NLA_HDRLEN;
      return std::string(text, strnlen(text, length));
    }
    offset += align4(header.nla_len);
  }
  return std::nullopt;
}

// rtnl_getlink: the link `ifi_index` names, or else IFLA_IFNAME or
// IFLA_ALT_IFNAME. EINVAL for a request shorter than an ifinfomsg or
// naming no link, ENODEV for a link other than lo.
Result<NetlinkDatagram> get_link(std::span<const std::byte> payload, const ReplyTo& reply) {
  if (payload.size() < sizeof(ifinfomsg)) {
    return Errno{EINVAL};
  }
  ifinfomsg request{};
  std::memcpy(&request, payload.data(), sizeof(request));
  const std::span<const std::byte> attributes = payload.subspan(align4(sizeof(ifinfomsg)));
  if (request.ifi_index > 0) {
    if (request.ifi_index != kLoopbackIndex) {
      return Errno{ENODEV};
    }
  } else {
    std::optional<std::string> name = find_string_attribute(attributes, IFLA_IFNAME);
    if (!name) {
      name = find_string_attribute(attributes, IFLA_ALT_IFNAME);
    }
    if (!name) {
      return Errno{EINVAL};
    }
    if (*name != kLoopbackName) {
      return Errno{ENODEV};
    }
  }
  MessageWriter writer;
  put_loopback_link(writer, reply, 0);
  return writer.take();
}

// rtnl_dump_ifinfo: every link, whatever the family asked.
NetlinkDatagram dump_links(const ReplyTo& reply) {
  MessageWriter writer;
  put_loopback_link(writer, reply, NLM_F_MULTI);
  put_done(writer, reply);
  return writer.take();
}

// The address dumps: AF_INET's and AF_INET6's for their families, and
// every family's in order (rtnl_dump_all) for any other.
NetlinkDatagram dump_addresses(uint8_t family, const ReplyTo& reply) {
  MessageWriter writer;
  if (family != AF_INET6) {
    put_loopback_address4(writer, reply, NLM_F_MULTI);
  }
  if (family != AF_INET) {
    put_loopback_address6(writer, reply, NLM_F_MULTI);
  }
  put_done(writer, reply);
  return writer.take();
}

// The name of an rtnetlink message type for a gap's detail.
std::string route_type_name(uint16_t type) {
  switch (type) {
    case RTM_GETROUTE:
      return "RTM_GETROUTE";
    case RTM_GETNEIGH:
      return "RTM_GETNEIGH";
    case RTM_GETRULE:
      return "RTM_GETRULE";
    case RTM_GETQDISC:
      return "RTM_GETQDISC";
    case RTM_GETNETCONF:
      return "RTM_GETNETCONF";
    case RTM_NEWLINK:
      return "RTM_NEWLINK";
    case RTM_NEWADDR:
      return "RTM_NEWADDR";
    case RTM_NEWROUTE:
      return "RTM_NEWROUTE";
    default:
      return "rtnetlink type " + std::to_string(type);
  }
}

// The replies to one request, and whether it was a dump, which Linux's
// netlink_dump_start never acknowledges.
struct Served {
  std::vector<NetlinkDatagram> replies;
  bool dumped = false;
};

// rtnetlink_rcv_msg for one request. An error becomes the NLMSG_ERROR the
// caller sends.

Result<Served> serve_one(kernel::Task& task, const nlmsghdr& header,
                         std::span<const std::byte> payload, const ReplyTo& reply) {
  if (header.nlmsg_type > RTM_MAX) {
    return Errno{EOPNOTSUPP};
  }
  // Every rtnetlink request carries at least an rtgenmsg; a shorter one
  // is ignored.
  if (payload.size() < sizeof(rtgenmsg)) {
    return Served{};
  }
  const auto family = static_cast<uint8_t>(payload[0]);
  const bool get = (header.nlmsg_type - RTM_BASE) % 4 == 2;
  if (!get && !task.creds().has_capability(kCapNetAdmin)) {
    return Errno{EPERM};
  }
  const bool dump = get && (header.nlmsg_flags & NLM_F_DUMP) != 0;

  Served served;
  switch (header.nlmsg_type) {
    case RTM_GETLINK:
      if (dump) {
        served.replies.push_back(dump_links(reply));
        served.dumped = true;
      } else {
        served.replies.push_back(TRY(get_link(payload, reply)));
      }
      return served;
    case RTM_GETADDR:
      if (dump) {
        served.replies.push_back(dump_addresses(family, reply));
        served.dumped = true;
        return served;
      }
      // Linux has a query of one address for AF_INET6 only.
      if (family == AF_INET6) {
        record_netlink_gap(task, "netlink RTM_GETADDR query of an AF_INET6 address");
      }
      return Errno{EOPNOTSUPP};
    default:
      // NOTE: routes, neighbours, rules, queueing disciplines and every
      // change (RTM_NEW*, RTM_DEL*, RTM_SET*) are not served yet.
      record_netlink_gap(task, "netlink " + route_type_name(header.nlmsg_type) +
                                   (dump ? " dump" : ""));
      return Errno{EOPNOTSUPP};
  }
}

}  // namespace

void record_netlink_gap(kernel::Task& task, std::string_view detail) {
  if (task.kernel().gaps().record(compat::GapHit{.kind = compat::GapKind::kSocket,
                                                 .syscall = task.syscall_name(),
                                                 .detail = detail,
                                                 .program = task.thread_group().exe_path(),
                                                 .pid = task.pid(),
                                                 .tid = task.tid()})) {
    task.log(spdlog::level::warn, "unsupported: {}", detail);
  }
}

std::vector<NetlinkDatagram> serve_route_requests(kernel::Task& task,
                                                  std::span<const std::byte> data, uint32_t port,
                                                  bool cap_ack) {
  std::vector<NetlinkDatagram> replies;
  size_t offset = 0;
  while (data.size() - offset >= NLMSG_HDRLEN) {
    nlmsghdr header{};
    std::memcpy(&header, data.data() + offset, sizeof(header));
    if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > data.size() - offset) {
      break;
    }
    const std::span<const std::byte> message = data.subspan(offset, header.nlmsg_len);
    const std::span<const std::byte> payload = message.subspan(NLMSG_HDRLEN);
    const ReplyTo reply{.sequence = header.nlmsg_seq, .port = port};

    // Only requests reach rtnetlink, and control messages (types below
    // NLMSG_MIN_TYPE) are only acknowledged.
    int error = 0;
    bool dumped = false;
    if ((header.nlmsg_flags & NLM_F_REQUEST) != 0 && header.nlmsg_type >= NLMSG_MIN_TYPE) {
      Result<Served> served = serve_one(task, header, payload, reply);
      if (served.ok()) {
        dumped = served->dumped;
        for (NetlinkDatagram& datagram : served->replies) {
          replies.push_back(std::move(datagram));
        }
      } else {
        error = served.error().value;
      }
    }
    if (!dumped && (error != 0 || (header.nlmsg_flags & NLM_F_ACK) != 0)) {
      replies.push_back(make_ack(header, message, error, port, cap_ack));
    }

    offset += std::min<size_t>(NLMSG_ALIGN(header.nlmsg_len), data.size() - offset);
  }
  return replies;
}

}  // namespace ward::net
