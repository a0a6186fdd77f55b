// Loopback TCP: connect, listen, accept, shutdown, close, the byte stream
// between two endpoints and the poll events that follow, after Linux's
// tcp.c, tcp_input.c's tcp_fin and tcp_reset, and af_inet.c. A connection
// completes at once, because both ends live in this sentry: there is no
// SYN_SENT wait, no retransmission and no TIME_WAIT.
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <array>

#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/net/inet_endpoint.h"

namespace ward::net {
namespace {

constexpr uint32_t kReadableEvents = POLLIN | POLLRDNORM;
constexpr uint32_t kWritableEvents = POLLOUT | POLLWRNORM;

// The largest piece one send moves at a time, so a big write lets the
// reader run between pieces.
constexpr size_t kMaxStreamPieceBytes = 64 * 1024;

// Linux's tcp_wmem[1] and tcp_rmem[1]: the default SO_SNDBUF and SO_RCVBUF
// of a TCP socket; and net.core.wmem_default and rmem_default for UDP.
constexpr int kTcpSendBufferBytes = 16384;
constexpr int kTcpReceiveBufferBytes = 131072;
constexpr int kUdpBufferBytes = 212992;

void raise_sigpipe(kernel::Task& task, int flags) {
  if ((flags & MSG_NOSIGNAL) == 0) {
    kernel::send_signal_to_task(task, kernel::user_siginfo(SIGPIPE, task));
  }
}

template <typename T>
Result<T> progress_or(T done, Errno error) {
  if (done > 0) {
    return done;
  }
  return error;
}

}  // namespace

InetEndpoint::InetEndpoint(int family, int type, uid_t owner, std::shared_ptr<InetStack> stack)
    : family_(family), type_(type), owner_(owner), stack_(std::move(stack)) {
  options_.send_buffer_bytes = type == SOCK_STREAM ? kTcpSendBufferBytes : kUdpBufferBytes;
  options_.receive_buffer_bytes = type == SOCK_STREAM ? kTcpReceiveBufferBytes : kUdpBufferBytes;
}

InetEndpoint::~InetEndpoint() = default;

void InetEndpoint::notify_write_space() { queue_.notify(kWritableEvents); }

void InetEndpoint::release() {
  if (dead_) {
    return;
  }
  if (stream() && state_ == TcpState::kConnected) {
    // tcp_close: unread data, or SO_LINGER with a zero timeout, aborts the
    // connection with a RST; otherwise the peer gets a FIN.
    const bool linger_abort = options_.linger.l_onoff != 0 && options_.linger.l_linger == 0;
    drop_connection(/*send_reset=*/queued_bytes_ > 0 || linger_abort);
  }
  dead_ = true;
  if (auto stack = stack_.lock()) {
    stack->unbind(*this);
  }
  std::deque<std::shared_ptr<InetEndpoint>> pending = std::move(pending_);
  pending_.clear();
  for (const auto& connection : pending) {
    // A listener that closes resets the connections not yet accepted.
    connection->drop_connection(/*send_reset=*/true);
    connection->release();
  }
  state_ = TcpState::kClosed;
  shutdown_ = kInetShutdownBoth;
  chunks_.clear();
  queued_bytes_ = 0;
  datagrams_.clear();
  queue_.notify(kernel::kAllEvents);
}

void InetEndpoint::drop_connection(bool send_reset) {
  std::shared_ptr<InetEndpoint> peer = std::move(peer_);
  peer_ = nullptr;
  if (!peer || peer->dead_) {
    return;
  }
  if (send_reset) {
    peer->reset_connection(ECONNRESET);
  } else if (!fin_sent_) {
    fin_sent_ = true;
    peer->receive_fin();
  }
  peer->queue_.notify(kernel::kAllEvents);
}

void InetEndpoint::reset_connection(int error) {
  // tcp_reset: the error is EPIPE once the peer's FIN came (CLOSE_WAIT).
  error_ = fin_received_ && error == ECONNRESET ? EPIPE : error;
  state_ = TcpState::kClosed;
  shutdown_ = kInetShutdownBoth;
  peer_ = nullptr;
  queue_.notify(kernel::kAllEvents);
}

void InetEndpoint::receive_fin() {
  fin_received_ = true;
  shutdown_ |= kInetReceiveShutdown;
  queue_.notify(kernel::kAllEvents);
}

int InetEndpoint::tcp_state_number() const {
  switch (state_) {
    case TcpState::kListening:
      return TCP_LISTEN;
    case TcpState::kClosed:
      return TCP_CLOSE;
    case TcpState::kConnected:
      break;
  }
  if (fin_sent_ && fin_received_) {
    return TCP_CLOSE;  // TIME_WAIT and LAST_ACK belong to no socket file
  }
  if (fin_sent_) {
    return TCP_FIN_WAIT2;
  }
  if (fin_received_) {
    return TCP_CLOSE_WAIT;
  }
  return TCP_ESTABLISHED;
}

Result<void> InetEndpoint::connect(kernel::Task& task, const SocketAddress& address,
                                   bool nonblocking) {
  if (address.size() < sizeof(sa_family_t)) {
    return Errno{EINVAL};
  }
  if (!stream()) {
    return connect_datagram(task, address);
  }
  sa_family_t family = AF_UNSPEC;
  std::memcpy(&family, address.data(), sizeof(family));
  if (family == AF_UNSPEC) {
    // tcp_disconnect: an established connection is aborted.
    if (state_ == TcpState::kConnected) {
      drop_connection(/*send_reset=*/true);
      state_ = TcpState::kClosed;
      remote_.reset();
      release_unless_bound();
    }
    connect_state_ = ConnectState::kUnconnected;
    return ok();
  }

  // __inet_stream_connect: a second connect reports how the first ended.
  switch (connect_state_) {
    case ConnectState::kConnected:
      return Errno{EISCONN};
    case ConnectState::kConnecting:
      if (state_ == TcpState::kConnected) {
        connect_state_ = ConnectState::kConnected;
        return ok();
      }
      connect_state_ = ConnectState::kUnconnected;
      return Errno{error_ != 0 ? take_error() : ECONNABORTED};
    case ConnectState::kUnconnected:
      break;
  }
  if (state_ != TcpState::kClosed) {
    return Errno{EISCONN};
  }

  const InetAddress destination = TRY(parse_destination(address, /*datagram=*/false));
  TRY(check_route(task, destination));
  if (!local_) {
    TRY(autobind(/*exclusive=*/true));
    if (!local_) {
      return Errno{EADDRNOTAVAIL};
    }
  }
  if (local_->is_any()) {
    local_ = source_for(destination);
  }

  const auto deadline = options_.send_timeout.deadline();
  std::shared_ptr<InetEndpoint> listener;
  for (;;) {
    listener = nullptr;
    if (auto stack = stack_.lock()) {
      listener = stack->find_listener(destination);
    }
    if (!listener || (listener->shutdown_ & kInetReceiveShutdown) != 0) {
      // With nothing listening, a RST replies to the SYN. A non-blocking
      // connect learns of it later, through SO_ERROR and a second connect.
      release_unless_bound();
      if (nonblocking) {
        error_ = ECONNREFUSED;
        shutdown_ = kInetShutdownBoth;
        connect_state_ = ConnectState::kConnecting;
        queue_.notify(kernel::kAllEvents);
        return Errno{EINPROGRESS};
      }
      return Errno{ECONNREFUSED};
    }
    // Linux's accept queue is full once it contains more than the backlog,
    // so the SYN is dropped and retried until there is room.
    // NOTE: a non-blocking connect to a full queue is let in at once, where
    // Linux would complete it only after an accept.
    if (listener->pending_.size() <= listener->backlog_ || nonblocking) {
      break;
    }
    // Linux's SYN_SENT: shutdown(2) from another thread aborts the wait.
    syn_sent_ = true;
    const std::array<kernel::WaitQueue*, 2> queues{&listener->queue_, &queue_};
    Result<void> waited = wait_for_events(task, queues, kWritableEvents, deadline);
    const bool aborted = !syn_sent_;
    syn_sent_ = false;
    if (!aborted && !waited.ok() && waited.error().value == EAGAIN) {
      // When SO_SNDTIMEO runs out, Linux returns EINPROGRESS and the
      // handshake goes on, so this connect finishes as a non-blocking one.
      nonblocking = true;
      break;
    }
    TRY(waited);
    if (aborted) {
      release_unless_bound();
      return Errno{take_error()};
    }
  }

  // The server side of the connection waits on the listener for accept.
  auto child = std::make_shared<InetEndpoint>(listener->family_, SOCK_STREAM, listener->owner_,
                                              listener->stack_.lock());
  child->options_ = listener->options_;
  InetAddress child_local = destination;
  child->local_ = child_local;
  child->remote_ = *local_;
  child->state_ = TcpState::kConnected;
  child->connect_state_ = ConnectState::kConnected;
  child->peer_ = shared_from_this();
  if (auto stack = child->stack_.lock()) {
    stack->attach(child);  // the connection keeps the port in use
  }

  remote_ = destination;
  peer_ = child;
  state_ = TcpState::kConnected;
  connect_state_ = nonblocking ? ConnectState::kConnecting : ConnectState::kConnected;
  listener->pending_.push_back(std::move(child));
  listener->queue_.notify(kReadableEvents);
  queue_.notify(kWritableEvents);
  if (nonblocking) {
    return Errno{EINPROGRESS};
  }
  return ok();
}

Result<void> InetEndpoint::listen(int backlog) {
  if (!stream()) {
    return Errno{EOPNOTSUPP};
  }
  if (connect_state_ != ConnectState::kUnconnected) {
    return Errno{EINVAL};
  }
  if (state_ != TcpState::kClosed && state_ != TcpState::kListening) {
    return Errno{EINVAL};
  }
  if (state_ == TcpState::kClosed) {
    if (!local_) {
      TRY(autobind(/*exclusive=*/false));
      if (!local_) {
        return Errno{EADDRINUSE};
      }
    }
    auto stack = stack_.lock();
    if (stack && stack->listen_conflict(*this)) {
      return Errno{EADDRINUSE};
    }
    shutdown_ = 0;
    error_ = 0;
  }
  if (static_cast<uint32_t>(backlog) > backlog_) {
    queue_.notify(kWritableEvents);  // connectors waiting for room
  }
  backlog_ = static_cast<uint32_t>(backlog);
  state_ = TcpState::kListening;
  return ok();
}

Result<std::shared_ptr<InetEndpoint>> InetEndpoint::accept(kernel::Task& task, bool nonblocking) {
  if (!stream()) {
    return Errno{EOPNOTSUPP};
  }
  const auto deadline = options_.receive_timeout.deadline();
  for (;;) {
    if (state_ != TcpState::kListening) {
      return Errno{EINVAL};
    }
    if (!pending_.empty()) {
      std::shared_ptr<InetEndpoint> connection = std::move(pending_.front());
      pending_.pop_front();
      queue_.notify(kWritableEvents);  // room for a waiting connector
      return connection;
    }
    if (nonblocking) {
      return Errno{EAGAIN};
    }
    const std::array<kernel::WaitQueue*, 1> queues{&queue_};
    TRY(wait_for_events(task, queues, kReadableEvents, deadline));
  }
}

Result<void> InetEndpoint::shutdown(int how) {
  if (how < SHUT_RD || how > SHUT_RDWR) {
    return Errno{EINVAL};
  }
  // SHUT_RD, SHUT_WR and SHUT_RDWR map to the bits 1, 2 and 3.
  const int mode = how + 1;

  // inet_shutdown: a listener shut down for reading stops listening, and
  // an unconnected socket takes the bits but reports ENOTCONN.
  if (state_ == TcpState::kListening) {
    if ((mode & kInetReceiveShutdown) != 0) {
      std::deque<std::shared_ptr<InetEndpoint>> pending = std::move(pending_);
      pending_.clear();
      for (const auto& connection : pending) {
        connection->drop_connection(/*send_reset=*/true);
        connection->release();
      }
      state_ = TcpState::kClosed;
      release_unless_bound();
      queue_.notify(kernel::kAllEvents);
    }
    return ok();
  }
  // inet_shutdown on a SYN_SENT socket: tcp_disconnect ends the blocked
  // connect with ECONNRESET and leaves no shutdown bits.
  if (syn_sent_) {
    syn_sent_ = false;
    error_ = ECONNRESET;
    queue_.notify(kernel::kAllEvents);
    return ok();
  }
  shutdown_ |= mode;
  queue_.notify(kernel::kAllEvents);
  if (state_ != TcpState::kConnected) {
    return Errno{ENOTCONN};
  }
  if (stream() && (mode & kInetSendShutdown) != 0 && !fin_sent_) {
    fin_sent_ = true;
    if (peer_ && !peer_->dead_) {
      peer_->receive_fin();
    }
  }
  return ok();
}

size_t InetEndpoint::stream_capacity() const {
  // What the peer's receive buffer and this socket's send buffer hold
  // together before a writer waits.
  // NOTE: Linux's limit depends on its buffer autotuning and sk_buff
  // overhead, so the exact number of bytes a writer gets in differs.
  const size_t receive = peer_ ? static_cast<size_t>(peer_->options_.receive_buffer_bytes) : 0;
  return receive + static_cast<size_t>(options_.send_buffer_bytes);
}

uint32_t InetEndpoint::readiness(uint32_t mask) {
  uint32_t events = 0;
  if (!stream()) {
    // datagram_poll
    if (error_ != 0) {
      events |= POLLERR;
    }
    if ((shutdown_ & kInetReceiveShutdown) != 0) {
      events |= POLLRDHUP | kReadableEvents;
    }
    if (shutdown_ == kInetShutdownBoth) {
      events |= POLLHUP;
    }
    if (!datagrams_.empty()) {
      events |= kReadableEvents;
    }
    events |= kWritableEvents | POLLWRBAND;
    return events & (mask | POLLERR | POLLHUP);
  }

  if (state_ == TcpState::kListening) {
    // inet_csk_listen_poll
    return pending_.empty() ? 0 : kReadableEvents & mask;
  }
  // tcp_poll
  const bool closed = state_ == TcpState::kClosed || (fin_sent_ && fin_received_);
  if (shutdown_ == kInetShutdownBoth || closed) {
    events |= POLLHUP;
  }
  if ((shutdown_ & kInetReceiveShutdown) != 0) {
    events |= POLLRDHUP | kReadableEvents;
  }
  if (queued_bytes_ >= static_cast<size_t>(std::max(options_.receive_low_water, 1))) {
    events |= kReadableEvents;
  }
  const bool room = !peer_ || peer_->queued_bytes_ < stream_capacity();
  if ((shutdown_ & kInetSendShutdown) != 0 || room) {
    events |= kWritableEvents;
  }
  if (error_ != 0) {
    events |= POLLERR;
  }
  return events & (mask | POLLERR | POLLHUP);
}

Result<size_t> InetEndpoint::send(kernel::Task& task, SendRequest& request, bool nonblocking) {
  if (stream()) {
    return send_stream(task, request, nonblocking);
  }
  return send_datagram(task, request, nonblocking);
}

Result<ReceiveResult> InetEndpoint::receive(kernel::Task& task,
                                            const SocketBuffer& data, int flags,
                                            bool nonblocking) {
  if ((flags & MSG_ERRQUEUE) != 0) {
    return Errno{EAGAIN};  // the error queue is always empty
  }
  if (stream()) {
    return receive_stream(task, data, flags, nonblocking);
  }
  return receive_datagram(task, data, flags, nonblocking);
}

Result<size_t> InetEndpoint::send_stream(kernel::Task& task, SendRequest& request,
                                         bool nonblocking) {
  if ((request.flags & MSG_OOB) != 0) {
    return Errno{EOPNOTSUPP};
  }
  // tcp_sendmsg ignores the address of a sendto; sk_stream_wait_connect
  // and sk_stream_error give the pending error, or EPIPE with SIGPIPE.
  auto stream_error = [&]() -> Errno {
    if (error_ != 0) {
      return Errno{take_error()};
    }
    raise_sigpipe(task, request.flags);
    return Errno{EPIPE};
  };
  if (state_ != TcpState::kConnected || (shutdown_ & kInetSendShutdown) != 0) {
    return stream_error();
  }
  if (error_ != 0) {
    return Errno{take_error()};
  }

  const size_t total = segments_length(request.data);
  const auto deadline = options_.send_timeout.deadline();
  const std::array<kernel::WaitQueue*, 1> own_queue{&queue_};
  size_t sent = 0;
  while (sent < total) {
    if (state_ != TcpState::kConnected || (shutdown_ & kInetSendShutdown) != 0) {
      if (sent > 0) {
        return sent;
      }
      return stream_error();
    }
    std::shared_ptr<InetEndpoint> peer = peer_;
    if (!peer || peer->dead_) {
      // The data reaches a closed socket, whose RST comes back: this send
      // succeeds and the next one fails.
      auto data = copy_from_segments(task, request.data, sent, total - sent);
      if (!data.ok()) {
        return progress_or(sent, data.error());
      }
      bytes_sent_ += total - sent;
      reset_connection(ECONNRESET);
      return total;
    }
    const size_t capacity = stream_capacity();
    if (peer->queued_bytes_ >= capacity) {
      if (nonblocking) {
        return progress_or(sent, Errno{EAGAIN});
      }
      auto waited = wait_for_events(task, own_queue, kWritableEvents, deadline);
      if (!waited.ok()) {
        return progress_or(sent, waited.error());
      }
      continue;
    }
    const size_t size =
        std::min({total - sent, capacity - peer->queued_bytes_, kMaxStreamPieceBytes});
    auto data = copy_from_segments(task, request.data, sent, size);
    if (!data.ok()) {
      return progress_or(sent, data.error());
    }
    peer->chunks_.push_back(std::move(*data));
    peer->queued_bytes_ += size;
    peer->bytes_received_ += size;
    peer->queue_.notify(kReadableEvents);
    bytes_sent_ += size;
    sent += size;
  }
  return sent;
}

Result<void> InetEndpoint::copy_stream_bytes(kernel::Task& task,
                                             const SocketBuffer& data,
                                             size_t data_offset, size_t queue_offset,
                                             size_t length, bool discard, bool peek) {
  size_t skip = front_consumed_ + queue_offset;
  size_t done = 0;
  for (const auto& chunk : chunks_) {
    if (done == length) {
      break;
    }
    if (skip >= chunk.size()) {
      skip -= chunk.size();
      continue;
    }
    const size_t piece = std::min(chunk.size() - skip, length - done);
    if (!discard) {
      TRY(copy_to_segments(task, data, data_offset + done, std::span(chunk.data() + skip, piece)));
    }
    done += piece;
    skip = 0;
  }
  if (peek) {
    return ok();
  }
  size_t left = length;
  while (left > 0 && !chunks_.empty()) {
    const size_t available = chunks_.front().size() - front_consumed_;
    if (left < available) {
      front_consumed_ += left;
      break;
    }
    left -= available;
    chunks_.pop_front();
    front_consumed_ = 0;
  }
  queued_bytes_ -= length;
  if (peer_) {
    peer_->queue_.notify(kWritableEvents);  // the writer has room again
  }
  return ok();
}

Result<ReceiveResult> InetEndpoint::receive_stream(kernel::Task& task,
                                                   const SocketBuffer& data,
                                                   int flags, bool nonblocking) {
  if (state_ == TcpState::kListening) {
    return Errno{ENOTCONN};
  }
  if ((flags & MSG_OOB) != 0) {
    return Errno{EINVAL};  // no urgent data ever arrives
  }
  const bool peek = (flags & MSG_PEEK) != 0;
  // MSG_TRUNC on TCP drops the bytes instead of copying them.
  const bool discard = (flags & MSG_TRUNC) != 0;
  const size_t size = segments_length(data);
  ReceiveResult result;
  if (size == 0) {
    return result;
  }
  // sock_rcvlowat: all of it under MSG_WAITALL, else SO_RCVLOWAT, at
  // least one byte.
  const size_t low_water = static_cast<size_t>(std::max(options_.receive_low_water, 1));
  const size_t target =
      std::max<size_t>((flags & MSG_WAITALL) != 0 ? size : std::min(low_water, size), 1);
  const auto deadline = options_.receive_timeout.deadline();
  const std::array<kernel::WaitQueue*, 1> own_queue{&queue_};

  size_t copied = 0;
  while (copied < size) {
    // A peek reads from the front again, past what this call already saw.
    const size_t seen = peek ? copied : 0;
    if (queued_bytes_ > seen) {
      const size_t length = std::min(queued_bytes_ - seen, size - copied);
      auto moved = copy_stream_bytes(task, data, copied, seen, length, discard, peek);
      if (!moved.ok()) {
        if (copied == 0) {
          return moved.error();
        }
        break;
      }
      copied += length;
      continue;
    }
    if (copied >= target) {
      break;
    }
    if (copied > 0) {
      if (error_ != 0 || state_ != TcpState::kConnected ||
          (shutdown_ & kInetReceiveShutdown) != 0 || nonblocking) {
        break;
      }
    } else {
      if (fin_received_) {
        break;
      }
      if (error_ != 0) {
        return Errno{take_error()};
      }
      if ((shutdown_ & kInetReceiveShutdown) != 0) {
        break;
      }
      if (state_ != TcpState::kConnected) {
        return Errno{ENOTCONN};
      }
      if (nonblocking) {
        return Errno{EAGAIN};
      }
    }
    auto waited = wait_for_events(task, own_queue, kReadableEvents, deadline);
    if (!waited.ok()) {
      if (copied == 0) {
        return waited.error();
      }
      break;
    }
  }
  result.length = copied;
  return result;
}

Result<int> InetEndpoint::input_bytes() const {
  if (state_ == TcpState::kListening) {
    return Errno{EINVAL};
  }
  if (!stream()) {
    return datagrams_.empty() ? 0 : static_cast<int>(datagrams_.front().data.size());
  }
  return static_cast<int>(queued_bytes_);
}

int InetEndpoint::output_bytes() const {
  if (!stream() || !peer_) {
    return 0;
  }
  // Bytes the peer's receive buffer does not hold yet stay in the send
  // queue, unacknowledged.
  const size_t window = static_cast<size_t>(peer_->options_.receive_buffer_bytes);
  return static_cast<int>(peer_->queued_bytes_ > window ? peer_->queued_bytes_ - window : 0);
}

}  // namespace ward::net
