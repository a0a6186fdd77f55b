// AF_UNIX connections: socketpair, listen, connect, accept, shutdown,
// release, and the poll events that follow from them.
#include <poll.h>
#include <sys/un.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

#include "sentry/kernel/task.h"
#include "sentry/net/unix_endpoint.h"

namespace ward::net {
namespace {

constexpr uint32_t kReadableEvents = POLLIN | POLLRDNORM;
constexpr uint32_t kWritableEvents = POLLOUT | POLLWRNORM | POLLWRBAND;

}  // namespace

UnixMessage::~UnixMessage() {
  if (sender) {
    sender->uncharge(charge);
  }
}

UnixEndpoint::UnixEndpoint(int type, std::shared_ptr<UnixNamespace> names)
    : type_(type), names_(names) {
  names->add_endpoint(this);
}

UnixEndpoint::~UnixEndpoint() {
  if (auto names = names_.lock()) {
    names->remove_endpoint(this);
  }
}

void UnixEndpoint::join_pair(const std::shared_ptr<UnixEndpoint>& first,
                             const std::shared_ptr<UnixEndpoint>& second,
                             const MessageCredentials& creator) {
  first->peer_ = second;
  second->peer_ = first;
  first->state_ = UnixState::kConnected;
  second->state_ = UnixState::kConnected;
  first->peer_credentials_ = creator;
  second->peer_credentials_ = creator;
}

void UnixEndpoint::uncharge(size_t bytes) {
  charged_bytes_ -= std::min(bytes, charged_bytes_);
  queue_.notify(kWritableEvents);
}

void UnixEndpoint::notify_write_space() { queue_.notify(kWritableEvents); }

void UnixEndpoint::enqueue(UnixMessage message) {
  messages_.push_back(std::move(message));
  queue_.notify(kReadableEvents);
}

void UnixEndpoint::release(bool embryo) {
  if (dead_) {
    return;
  }
  if (auto names = names_.lock()) {
    names->remove(*this);
    names->remove_endpoint(this);
  }
  dead_ = true;
  shutdown_ = kShutdownBoth;
  const UnixState old_state = state_;
  state_ = UnixState::kUnconnected;
  std::shared_ptr<UnixEndpoint> peer = std::move(peer_);
  peer_ = nullptr;
  queue_.notify(kernel::kAllEvents);

  if (peer && connection_oriented()) {
    // The peer can neither send nor receive more, and learns of data lost
    // here through ECONNRESET.
    peer->shutdown_ = kShutdownBoth;
    if (!messages_.empty() || embryo) {
      peer->error_ = ECONNRESET;
    }
    peer->queue_.notify(kernel::kAllEvents);
  }

  // Dropping the queue may close files that travelled in it, and with them
  // other endpoints, so it is moved out before it is destroyed.
  std::deque<UnixMessage> dropped = std::move(messages_);
  messages_.clear();
  dropped.clear();
  std::deque<std::shared_ptr<UnixEndpoint>> pending = std::move(pending_);
  pending_.clear();
  if (old_state == UnixState::kListening) {
    for (const auto& connection : pending) {
      connection->release(/*embryo=*/true);
    }
  }
  bound_inode_ = nullptr;
}

std::optional<ucred> UnixEndpoint::peer_credentials() const {
  if (!peer_credentials_) {
    return std::nullopt;
  }
  return ucred{.pid = peer_credentials_->pid,
               .uid = peer_credentials_->uid,
               .gid = peer_credentials_->gid};
}

Result<void> UnixEndpoint::listen(kernel::Task& task, int backlog) {
  if (!connection_oriented()) {
    return Errno{EOPNOTSUPP};
  }
  if (!address_) {
    return Errno{EINVAL};
  }
  if (state_ != UnixState::kUnconnected && state_ != UnixState::kListening) {
    return Errno{EINVAL};
  }
  if (static_cast<uint32_t>(backlog) > backlog_) {
    queue_.notify(kWritableEvents);  // connectors waiting for room
  }
  backlog_ = static_cast<uint32_t>(backlog);
  state_ = UnixState::kListening;
  // connect copies these to the connecting socket's SO_PEERCRED.
  peer_credentials_ = peer_credentials_of(task);
  return ok();
}

Result<void> UnixEndpoint::connect(kernel::Task& task, const SocketAddress& address,
                                   bool nonblocking) {
  if (!connection_oriented()) {
    // A datagram connect sets the default destination (unix_dgram_connect).
    // AF_UNSPEC dissolves the association.
    sa_family_t family = AF_UNSPEC;
    std::memcpy(&family, address.data(), std::min(address.size(), sizeof(family)));
    if (address.size() < sizeof(family)) {
      return Errno{EINVAL};
    }
    if (family == AF_UNSPEC) {
      if (peer_) {
        disconnect_datagram_peer();
      }
      return ok();
    }
    TRY(validate_unix_address(address));
    if (passcred) {
      TRY(autobind());
    }
    std::shared_ptr<UnixEndpoint> other = TRY(find_other(task, address));
    if (other->peer_ != nullptr && other->peer_.get() != this) {
      return Errno{EPERM};
    }
    if (peer_ && peer_ != other) {
      disconnect_datagram_peer();
    }
    peer_ = std::move(other);
    state_ = UnixState::kConnected;
    return ok();
  }

  TRY(validate_unix_address(address));
  if (passcred) {
    TRY(autobind());
  }

  const auto deadline = nonblocking ? std::optional(kernel::monotonic_now())
                                    : send_timeout.deadline();
  for (;;) {
    std::shared_ptr<UnixEndpoint> listener = TRY(find_other(task, address));
    if (listener->state_ != UnixState::kListening ||
        (listener->shutdown_ & kReceiveShutdown) != 0) {
      return Errno{ECONNREFUSED};
    }
    // Linux's queue is full once it contains more than the backlog.
    if (listener->pending_.size() > listener->backlog_) {
      if (nonblocking) {
        return Errno{EAGAIN};
      }
      const std::array<kernel::WaitQueue*, 1> queues{&listener->queue_};
      TRY(wait_for_events(task, queues, kWritableEvents, deadline));
      continue;
    }
    if (state_ != UnixState::kUnconnected) {
      return Errno{state_ == UnixState::kConnected ? EISCONN : EINVAL};
    }

    auto embryo = std::make_shared<UnixEndpoint>(type_, names_.lock());
    embryo->peer_ = shared_from_this();
    embryo->state_ = UnixState::kConnected;
    embryo->peer_credentials_ = peer_credentials_of(task);
    embryo->address_ = listener->address_;

    peer_credentials_ = listener->peer_credentials_;
    state_ = UnixState::kConnected;
    peer_ = embryo;

    listener->pending_.push_back(std::move(embryo));
    listener->queue_.notify(kReadableEvents);
    return ok();
  }
}

Result<std::shared_ptr<UnixEndpoint>> UnixEndpoint::accept(kernel::Task& task, bool nonblocking) {
  if (!connection_oriented()) {
    return Errno{EOPNOTSUPP};
  }
  if (state_ != UnixState::kListening) {
    return Errno{EINVAL};
  }
  const auto deadline = receive_timeout.deadline();
  for (;;) {
    if (!pending_.empty()) {
      std::shared_ptr<UnixEndpoint> connection = std::move(pending_.front());
      pending_.pop_front();
      queue_.notify(kWritableEvents);  // room for a waiting connector
      connection->passcred = passcred;
      return connection;
    }
    if (error_ != 0) {
      return Errno{take_error()};
    }
    // A listener shut down for reading accepts nothing more.
    if ((shutdown_ & kReceiveShutdown) != 0) {
      return Errno{EINVAL};
    }
    if (nonblocking) {
      return Errno{EAGAIN};
    }
    const std::array<kernel::WaitQueue*, 1> queues{&queue_};
    TRY(wait_for_events(task, queues, kReadableEvents, deadline));
  }
}

Result<void> UnixEndpoint::shutdown(int how) {
  if (how < SHUT_RD || how > SHUT_RDWR) {
    return Errno{EINVAL};
  }
  // SHUT_RD, SHUT_WR and SHUT_RDWR map to the bits 1, 2 and 3.
  const int mode = how + 1;
  shutdown_ |= mode;
  queue_.notify(kernel::kAllEvents);

  if (peer_ && connection_oriented()) {
    int peer_mode = 0;
    if ((mode & kReceiveShutdown) != 0) {
      peer_mode |= kSendShutdown;
    }
    if ((mode & kSendShutdown) != 0) {
      peer_mode |= kReceiveShutdown;
    }
    peer_->shutdown_ |= peer_mode;
    peer_->queue_.notify(kernel::kAllEvents);
  }
  return ok();
}

bool UnixEndpoint::receiver_full(const UnixEndpoint& receiver) const {
  return &receiver != this && receiver.peer_.get() != this &&
         receiver.messages_.size() > kMaxDatagramQueue;
}

void UnixEndpoint::disconnect_datagram_peer() {
  std::shared_ptr<UnixEndpoint> old_peer = std::move(peer_);
  peer_ = nullptr;
  state_ = UnixState::kUnconnected;
  queue_.notify(kWritableEvents);
  // unix_dgram_disconnected: messages from the old peer are dropped, and a
  // peer connected back learns of the loss.
  if (!messages_.empty()) {
    std::deque<UnixMessage> dropped = std::move(messages_);
    messages_.clear();
    dropped.clear();
    if (old_peer && !old_peer->dead_ && old_peer->peer_.get() == this) {
      old_peer->error_ = ECONNRESET;
      old_peer->queue_.notify(POLLERR);
    }
  }
}

uint32_t UnixEndpoint::readiness(uint32_t mask) {
  uint32_t events = 0;
  if (error_ != 0) {
    events |= POLLERR;
  }
  if (shutdown_ == kShutdownBoth) {
    events |= POLLHUP;
  }
  if ((shutdown_ & kReceiveShutdown) != 0) {
    events |= POLLRDHUP | kReadableEvents;
  }
  if (!messages_.empty() || !pending_.empty()) {
    events |= kReadableEvents;
  }
  // Connection-oriented sockets report a hang-up before they connect.
  const bool hangs_up_unconnected = type_ == SOCK_STREAM || type_ == SOCK_SEQPACKET;
  if (hangs_up_unconnected && state_ == UnixState::kUnconnected) {
    events |= POLLHUP;
  }

  // unix_writable: no listener, and at most a quarter of the send buffer
  // in flight.
  bool writable = state_ != UnixState::kListening &&
                  charged_bytes_ * 4 <= static_cast<size_t>(send_buffer_bytes);
  if (writable && type_ != SOCK_STREAM && peer_ && !peer_->dead_ && receiver_full(*peer_)) {
    // NOTE: Linux also wakes a poller when such a full receiver drains.
    // ward notifies only the receiver's own queue then, so a poll waits
    // until its timeout or another event.
    writable = false;
  }
  if (writable) {
    events |= kWritableEvents;
  }
  return events & (mask | POLLERR | POLLHUP);
}

}  // namespace ward::net
