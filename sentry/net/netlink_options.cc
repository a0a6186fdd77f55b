// The socket options of an AF_NETLINK socket: the SOL_SOCKET ones it
// serves, and SOL_NETLINK's group memberships and flags.
#include <cstring>

#include "sentry/kernel/task.h"
#include "sentry/net/netlink.h"
#include "sentry/net/netlink_route.h"
#include "sentry/net/netlink_socket.h"

namespace ward::net {
namespace {

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

}  // namespace

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
    case SO_PASSCRED:
      passcred_ = number != 0;
      return ok();
    case SO_RCVTIMEO:
    case kSoRcvtimeoNew:
      receive_timeout_ = TRY(parse_socket_timeout(value));
      return ok();
    case SO_SNDTIMEO:
    case kSoSndtimeoNew:
      send_timeout_ = TRY(parse_socket_timeout(value));
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
      return option_bytes(type());
    case SO_DOMAIN:
      return option_bytes(int{AF_NETLINK});
    case SO_PROTOCOL:
      return option_bytes(int{NETLINK_ROUTE});
    case SO_ACCEPTCONN:
      return option_bytes(int{0});
    case SO_ERROR:
      return option_bytes(std::exchange(error_, 0));
    case SO_SNDBUF:
      return option_bytes(send_buffer_bytes_);
    case SO_RCVBUF:
      return option_bytes(receive_buffer_bytes_);
    case SO_PASSCRED:
      return option_bytes(int{passcred_ ? 1 : 0});
    case SO_RCVTIMEO:
    case kSoRcvtimeoNew:
      return socket_timeout_bytes(receive_timeout_);
    case SO_SNDTIMEO:
    case kSoSndtimeoNew:
      return socket_timeout_bytes(send_timeout_);
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

}  // namespace ward::net
