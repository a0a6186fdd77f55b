// Loopback inet names: IPv4 and IPv6 addresses as the guest passes them,
// the sandbox's port table, bind and autobind, after Linux's __inet_bind,
// __inet6_bind and inet_csk_bind_conflict.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <random>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/net/inet_endpoint.h"

namespace ward::net {
namespace {

constexpr int kCapNetBindService = 10;

// SIN6_LEN_RFC2133: a sockaddr_in6 without sin6_scope_id, the shortest
// one Linux takes.
constexpr size_t kMinSockaddrIn6Bytes = 24;

constexpr uint32_t kEphemeralPortCount = kLastEphemeralPort - kFirstEphemeralPort + 1;

sa_family_t family_of(const SocketAddress& address) {
  sa_family_t family = AF_UNSPEC;
  std::memcpy(&family, address.data(), std::min(address.size(), sizeof(family)));
  return family;
}

// The part of the address space a bound socket takes in one IP version:
// nothing, everything (a wildcard) or one address.
struct AddressPart {
  enum class Kind { kNone, kAll, kOne } kind = Kind::kNone;
  std::array<uint8_t, 16> ip{};

  bool contains(const std::array<uint8_t, 16>& address) const {
    return kind == Kind::kAll || (kind == Kind::kOne && ip == address);
  }
  bool overlaps(const AddressPart& other) const {
    if (kind == Kind::kNone || other.kind == Kind::kNone) {
      return false;
    }
    return kind == Kind::kAll || other.kind == Kind::kAll || ip == other.ip;
  }
};

AddressPart v4_part(int family, bool v6only, const InetAddress& local) {
  if (local.is_v4()) {
    return {local.is_v4_any() ? AddressPart::Kind::kAll : AddressPart::Kind::kOne, local.ip};
  }
  if (family == AF_INET6 && local.is_v6_any() && !v6only) {
    return {AddressPart::Kind::kAll, {}};
  }
  return {};
}

AddressPart v6_part(const InetAddress& local) {
  if (local.is_v4()) {
    return {};
  }
  return {local.is_v6_any() ? AddressPart::Kind::kAll : AddressPart::Kind::kOne, local.ip};
}

}  // namespace

// ---------------------------------------------------------------------------
// InetAddress

bool InetAddress::is_v4() const {
  static constexpr std::array<uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), ip.begin());
}

bool InetAddress::is_v6_any() const { return ip == std::array<uint8_t, 16>{}; }

bool InetAddress::is_v4_any() const { return is_v4() && v4() == INADDR_ANY; }

bool InetAddress::is_loopback() const {
  if (is_v4()) {
    return (v4() >> 24) == 127;
  }
  return *this == v6_loopback(port);
}

uint32_t InetAddress::v4() const {
  return (uint32_t{ip[12]} << 24) | (uint32_t{ip[13]} << 16) | (uint32_t{ip[14]} << 8) | ip[15];
}

InetAddress InetAddress::from_v4(uint32_t address, uint16_t port) {
  InetAddress result;
  result.ip[10] = 0xff;
  result.ip[11] = 0xff;
  result.ip[12] = static_cast<uint8_t>(address >> 24);
  result.ip[13] = static_cast<uint8_t>(address >> 16);
  result.ip[14] = static_cast<uint8_t>(address >> 8);
  result.ip[15] = static_cast<uint8_t>(address);
  result.port = port;
  return result;
}

InetAddress InetAddress::v4_loopback(uint16_t port) { return from_v4(INADDR_LOOPBACK, port); }

InetAddress InetAddress::v6_loopback(uint16_t port) {
  InetAddress result;
  result.ip[15] = 1;
  result.port = port;
  return result;
}

SocketAddress to_socket_address(int family, const InetAddress& address) {
  if (family == AF_INET) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(address.port);
    in.sin_addr.s_addr = htonl(address.v4());
    return SocketAddress(reinterpret_cast<const char*>(&in), sizeof(in));
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(address.port);
  std::memcpy(&in6.sin6_addr, address.ip.data(), address.ip.size());
  return SocketAddress(reinterpret_cast<const char*>(&in6), sizeof(in6));
}

SocketAddress unspecified_socket_address(int family) {
  if (family == AF_INET) {
    return to_socket_address(AF_INET, InetAddress::from_v4(INADDR_ANY, 0));
  }
  return to_socket_address(AF_INET6, InetAddress{});
}

void record_socket_gap(kernel::Task& task, std::string_view detail) {
  if (task.kernel().gaps().record(compat::GapHit{.kind = compat::GapKind::kSocket,
                                                 .syscall = task.syscall_name(),
                                                 .detail = detail,
                                                 .program = task.thread_group().exe_path(),
                                                 .pid = task.pid(),
                                                 .tid = task.tid()})) {
    task.log(spdlog::level::warn, "unsupported: {}", detail);
  }
}

// ---------------------------------------------------------------------------
// InetStack

std::shared_ptr<InetStack> InetStack::of(kernel::Kernel& kernel) {
  auto& stack = kernel.inet_stack();
  if (!stack) {
    stack = std::make_shared<InetStack>();
    // Linux starts its ephemeral port search at a random offset.
    std::random_device random;
    stack->next_ephemeral_offset_ = random() % kEphemeralPortCount;
  }
  return stack;
}

std::vector<std::shared_ptr<InetEndpoint>> InetStack::on_port(int type, uint16_t port) const {
  std::vector<std::shared_ptr<InetEndpoint>> endpoints;
  auto [first, last] = ports_.equal_range({type, port});
  for (auto it = first; it != last; ++it) {
    if (auto endpoint = it->second.lock(); endpoint && !endpoint->dead_) {
      endpoints.push_back(std::move(endpoint));
    }
  }
  return endpoints;
}

bool InetStack::conflicts(const InetEndpoint& endpoint, uint16_t port) const {
  for (const auto& other : on_port(endpoint.type_, port)) {
    if (other.get() == &endpoint || !endpoint.overlaps(*other)) {
      continue;
    }
    // SO_REUSEADDR shares a TCP port with sockets that do not listen, and
    // a UDP port with any socket that also set it.
    const bool reuse_address = endpoint.options_.reuse_address &&
                               other->options_.reuse_address &&
                               !(endpoint.stream() && other->listening());
    const bool reuse_port = endpoint.options_.reuse_port && other->options_.reuse_port &&
                            endpoint.owner_ == other->owner_;
    if (!reuse_address && !reuse_port) {
      return true;
    }
  }
  return false;
}

Result<uint16_t> InetStack::bind(const std::shared_ptr<InetEndpoint>& endpoint, uint16_t port,
                                 bool exclusive) {
  if (port != 0) {
    if (conflicts(*endpoint, port)) {
      return Errno{EADDRINUSE};
    }
    ports_.emplace(std::pair{endpoint->type_, port}, endpoint);
    return port;
  }
  for (uint32_t i = 0; i < kEphemeralPortCount; ++i) {
    const uint32_t offset = (next_ephemeral_offset_ + i) % kEphemeralPortCount;
    const auto candidate = static_cast<uint16_t>(kFirstEphemeralPort + offset);
    const bool free =
        exclusive ? on_port(endpoint->type_, candidate).empty() : !conflicts(*endpoint, candidate);
    if (free) {
      next_ephemeral_offset_ = (offset + 1) % kEphemeralPortCount;
      ports_.emplace(std::pair{endpoint->type_, candidate}, endpoint);
      return candidate;
    }
  }
  return Errno{EADDRNOTAVAIL};
}

bool InetStack::listen_conflict(const InetEndpoint& endpoint) const {
  return endpoint.local_ && conflicts(endpoint, endpoint.local_->port);
}

void InetStack::attach(const std::shared_ptr<InetEndpoint>& endpoint) {
  ports_.emplace(std::pair{endpoint->type_, endpoint->local_->port}, endpoint);
}

void InetStack::unbind(const InetEndpoint& endpoint) {
  if (!endpoint.local_) {
    return;
  }
  auto [first, last] = ports_.equal_range({endpoint.type_, endpoint.local_->port});
  for (auto it = first; it != last;) {
    auto bound = it->second.lock();
    if (!bound || bound.get() == &endpoint) {
      it = ports_.erase(it);
    } else {
      ++it;
    }
  }
}

std::shared_ptr<InetEndpoint> InetStack::find_listener(const InetAddress& destination) const {
  std::shared_ptr<InetEndpoint> wildcard;
  for (const auto& endpoint : on_port(SOCK_STREAM, destination.port)) {
    if (!endpoint->listening() || !endpoint->accepts_address(destination)) {
      continue;
    }
    if (endpoint->local_->ip == destination.ip) {
      return endpoint;
    }
    if (!wildcard) {
      wildcard = endpoint;
    }
  }
  return wildcard;
}

std::shared_ptr<InetEndpoint> InetStack::find_datagram_receiver(const InetAddress& destination,
                                                                const InetAddress& source) const {
  std::shared_ptr<InetEndpoint> best;
  int best_score = -1;
  for (const auto& endpoint : on_port(SOCK_DGRAM, destination.port)) {
    if (!endpoint->accepts_address(destination)) {
      continue;
    }
    if (endpoint->remote_ && *endpoint->remote_ != source) {
      continue;
    }
    int score = endpoint->family_ == AF_INET ? 2 : 1;
    if (endpoint->local_->ip == destination.ip) {
      score += 4;
    }
    if (endpoint->remote_) {
      score += 4;
    }
    if (score > best_score) {
      best = endpoint;
      best_score = score;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------
// InetEndpoint: addresses

bool InetEndpoint::accepts_address(const InetAddress& destination) const {
  if (!local_) {
    return false;
  }
  if (destination.is_v4()) {
    return v4_part(family_, options_.v6only, *local_).contains(destination.ip);
  }
  return v6_part(*local_).contains(destination.ip);
}

bool InetEndpoint::overlaps(const InetEndpoint& other) const {
  if (!local_ || !other.local_) {
    return false;
  }
  return v4_part(family_, options_.v6only, *local_)
             .overlaps(v4_part(other.family_, other.options_.v6only, *other.local_)) ||
         v6_part(*local_).overlaps(v6_part(*other.local_));
}

Result<void> InetEndpoint::bind(kernel::Task& task, const SocketAddress& address) {
  InetAddress requested;
  if (family_ == AF_INET) {
    if (address.size() < sizeof(sockaddr_in)) {
      return Errno{EINVAL};
    }
    sockaddr_in in{};
    std::memcpy(&in, address.data(), sizeof(in));
    // AF_UNSPEC passes for INADDR_ANY, for old programs.
    if (in.sin_family != AF_INET &&
        !(in.sin_family == AF_UNSPEC && in.sin_addr.s_addr == htonl(INADDR_ANY))) {
      return Errno{EAFNOSUPPORT};
    }
    requested = InetAddress::from_v4(ntohl(in.sin_addr.s_addr), ntohs(in.sin_port));
    if (!requested.is_any() && !requested.is_loopback()) {
      return Errno{EADDRNOTAVAIL};  // the sandbox's only interface is lo
    }
    if (requested.port != 0 && requested.port < kFirstUnprivilegedPort &&
        !task.creds().has_capability(kCapNetBindService)) {
      return Errno{EACCES};
    }
    if (local_ || state_ != TcpState::kClosed) {
      return Errno{EINVAL};
    }
  } else {
    if (address.size() < kMinSockaddrIn6Bytes) {
      return Errno{EINVAL};
    }
    if (family_of(address) != AF_INET6) {
      return Errno{EAFNOSUPPORT};
    }
    sockaddr_in6 in6{};
    std::memcpy(&in6, address.data(), std::min(address.size(), sizeof(in6)));
    std::memcpy(requested.ip.data(), &in6.sin6_addr, requested.ip.size());
    requested.port = ntohs(in6.sin6_port);
    if (requested.port != 0 && requested.port < kFirstUnprivilegedPort &&
        !task.creds().has_capability(kCapNetBindService)) {
      return Errno{EACCES};
    }
    if (local_ || state_ != TcpState::kClosed) {
      return Errno{EINVAL};
    }
    if (requested.is_v4() && options_.v6only) {
      return Errno{EINVAL};
    }
    if (!requested.is_any() && !requested.is_loopback()) {
      return Errno{EADDRNOTAVAIL};
    }
  }

  local_ = requested;
  auto stack = stack_.lock();
  auto port = stack ? stack->bind(shared_from_this(), requested.port) : Result<uint16_t>(Errno{EINVAL});
  if (!port.ok()) {
    local_.reset();
    return port.error();
  }
  local_->port = *port;
  address_bound_ = !requested.is_any();
  port_bound_ = requested.port != 0;
  return ok();
}

Result<void> InetEndpoint::autobind(bool exclusive) {
  if (local_) {
    return ok();
  }
  auto stack = stack_.lock();
  if (!stack) {
    return Errno{EAGAIN};
  }
  local_ = family_ == AF_INET ? InetAddress::from_v4(INADDR_ANY, 0) : InetAddress{};
  auto port = stack->bind(shared_from_this(), 0, exclusive);
  if (!port.ok()) {
    local_.reset();
    return Errno{EAGAIN};
  }
  local_->port = *port;
  return ok();
}

void InetEndpoint::release_unless_bound() {
  if (port_bound_) {
    return;
  }
  if (auto stack = stack_.lock()) {
    stack->unbind(*this);
  }
  local_.reset();
  address_bound_ = false;
}

SocketAddress InetEndpoint::local_address() const {
  if (!local_) {
    return unspecified_socket_address(family_);
  }
  return to_socket_address(family_, *local_);
}

Result<SocketAddress> InetEndpoint::peer_address() const {
  const bool closed = state_ != TcpState::kConnected || (fin_sent_ && fin_received_);
  if (!remote_ || closed) {
    return Errno{ENOTCONN};
  }
  return to_socket_address(family_, *remote_);
}

Result<InetAddress> InetEndpoint::parse_destination(const SocketAddress& address,
                                                    bool datagram) const {
  InetAddress destination;
  const sa_family_t family = family_of(address);
  const bool as_v4 = family_ == AF_INET || (datagram && family == AF_INET);
  if (as_v4) {
    if (address.size() < sizeof(sockaddr_in)) {
      return Errno{EINVAL};
    }
    if (family_ == AF_INET6 && options_.v6only) {
      return Errno{EAFNOSUPPORT};
    }
    // udp_sendmsg takes AF_UNSPEC as AF_INET.
    if (family != AF_INET && !(datagram && family == AF_UNSPEC)) {
      return Errno{EAFNOSUPPORT};
    }
    sockaddr_in in{};
    std::memcpy(&in, address.data(), sizeof(in));
    destination = InetAddress::from_v4(ntohl(in.sin_addr.s_addr), ntohs(in.sin_port));
  } else {
    if (address.size() < kMinSockaddrIn6Bytes) {
      return Errno{EINVAL};
    }
    if (family != AF_INET6) {
      return Errno{datagram ? EINVAL : EAFNOSUPPORT};
    }
    sockaddr_in6 in6{};
    std::memcpy(&in6, address.data(), std::min(address.size(), sizeof(in6)));
    std::memcpy(destination.ip.data(), &in6.sin6_addr, destination.ip.size());
    destination.port = ntohs(in6.sin6_port);
    if (destination.is_v4() && options_.v6only) {
      return Errno{ENETUNREACH};
    }
  }
  // Connecting to the unspecified address reaches this host.
  if (destination.is_v4_any()) {
    destination = InetAddress::v4_loopback(destination.port);
  } else if (destination.is_v6_any()) {
    destination = local_ && local_->is_v4() ? InetAddress::v4_loopback(destination.port)
                                            : InetAddress::v6_loopback(destination.port);
  }
  return destination;
}

Result<void> InetEndpoint::check_route(kernel::Task& task, const InetAddress& destination) const {
  if (destination.is_loopback()) {
    return ok();
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (destination.is_v4()) {
    const in_addr address{.s_addr = htonl(destination.v4())};
    inet_ntop(AF_INET, &address, text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, destination.ip.data(), text, sizeof(text));
  }
  record_socket_gap(task, std::string("destination off loopback ") + text);
  return Errno{ENETUNREACH};
}

InetAddress InetEndpoint::source_for(const InetAddress& destination) const {
  InetAddress source;
  if (local_ && !local_->is_any()) {
    source = *local_;
  } else {
    source = destination.is_v4() ? InetAddress::v4_loopback(0) : InetAddress::v6_loopback(0);
  }
  source.port = local_ ? local_->port : 0;
  return source;
}

}  // namespace ward::net
