// AF_UNIX data: stream sends split into messages and reads that join
// them, datagram and seqpacket sends and receives that keep message
// boundaries, SCM_RIGHTS and SCM_CREDENTIALS riding along, after Linux's
// unix_stream_sendmsg, unix_dgram_sendmsg and their receive halves.
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <array>

#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/net/unix_endpoint.h"

namespace ward::net {
namespace {

constexpr uint32_t kReadableEvents = POLLIN | POLLRDNORM;
constexpr uint32_t kWritableEvents = POLLOUT | POLLWRNORM | POLLWRBAND;

// The largest piece a stream send queues at once; Linux's limit is about
// 32 KiB plus a page.
constexpr size_t kMaxStreamPieceBytes = 64 * 1024;

// Linux leaves this much of the send buffer out of a datagram's maximum.
constexpr size_t kDatagramHeadroomBytes = 32;

// The credentials delivered to a receiver with SO_PASSCRED for a message
// sent without any: Linux's invalid ids, shown as the overflow id 65534.
constexpr MessageCredentials kNoCredentials{.pid = 0, .uid = 65534, .gid = 65534};

void raise_sigpipe(kernel::Task& task, int flags) {
  if ((flags & MSG_NOSIGNAL) == 0) {
    kernel::send_signal_to_task(task, kernel::user_siginfo(SIGPIPE, task));
  }
}

// Returns `done` when some bytes moved, else `error`: the rule of a
// transfer cut short.
template <typename T>
Result<T> progress_or(T done, Errno error) {
  if (done > 0) {
    return done;
  }
  return error;
}

}  // namespace

bool UnixEndpoint::adds_credentials(const UnixEndpoint& receiver) const {
  return passcred || !receiver.has_file_ || receiver.passcred;
}

Result<size_t> UnixEndpoint::send(kernel::Task& task, SendRequest& request, bool nonblocking) {
  if ((request.flags & MSG_OOB) != 0) {
    return Errno{EOPNOTSUPP};
  }
  if (type_ == SOCK_STREAM) {
    return send_stream(task, request, nonblocking);
  }
  if (type_ == SOCK_SEQPACKET) {
    if (error_ != 0) {
      return Errno{take_error()};
    }
    if (state_ != UnixState::kConnected) {
      return Errno{ENOTCONN};
    }
    request.address.reset();  // a seqpacket send ignores any address
  }
  return send_datagram(task, request, nonblocking);
}

Result<size_t> UnixEndpoint::send_stream(kernel::Task& task, SendRequest& request,
                                         bool nonblocking) {
  if (request.address) {
    return Errno{state_ == UnixState::kConnected ? EISCONN : EOPNOTSUPP};
  }
  std::shared_ptr<UnixEndpoint> other = peer_;
  if (!other) {
    return Errno{ENOTCONN};
  }
  if ((shutdown_ & kSendShutdown) != 0) {
    raise_sigpipe(task, request.flags);
    return Errno{EPIPE};
  }

  const size_t total = segments_length(request.data);
  const auto deadline = send_timeout.deadline();
  const std::array<kernel::WaitQueue*, 1> own_queue{&queue_};
  size_t sent = 0;
  bool rights_sent = false;
  while (sent < total) {
    // Like sock_alloc_send_pskb, wait while the send buffer is full.
    if (charged_bytes_ >= static_cast<size_t>(send_buffer_bytes)) {
      if (error_ != 0) {
        return progress_or(sent, Errno{take_error()});
      }
      if ((shutdown_ & kSendShutdown) != 0) {
        return progress_or(sent, Errno{EPIPE});
      }
      if (nonblocking) {
        return progress_or(sent, Errno{EAGAIN});
      }
      auto waited = wait_for_events(task, own_queue, kWritableEvents, deadline);
      if (!waited.ok()) {
        return progress_or(sent, waited.error());
      }
      continue;
    }

    const size_t half_buffer = static_cast<size_t>(send_buffer_bytes) / 2 - 64;
    const size_t size = std::min({total - sent, half_buffer, kMaxStreamPieceBytes});
    auto data = copy_from_segments(task, request.data, sent, size);
    if (!data.ok()) {
      return progress_or(sent, data.error());
    }
    if (other->dead_ || (other->shutdown_ & kReceiveShutdown) != 0) {
      if (sent == 0) {
        raise_sigpipe(task, request.flags);
      }
      return progress_or(sent, Errno{EPIPE});
    }

    UnixMessage message;
    message.data = std::move(*data);
    if (!rights_sent) {
      message.rights = std::move(request.rights);
      rights_sent = true;
    }
    if (request.credentials) {
      message.credentials = MessageCredentials{
          .pid = request.credentials->pid, .uid = request.credentials->uid,
          .gid = request.credentials->gid};
    } else if (adds_credentials(*other)) {
      message.credentials = message_credentials_of(task);
    }
    message.charge = size + kMessageOverheadBytes;
    message.sender = shared_from_this();
    charged_bytes_ += message.charge;
    other->enqueue(std::move(message));
    sent += size;
  }
  return sent;
}

Result<size_t> UnixEndpoint::send_datagram(kernel::Task& task, SendRequest& request,
                                           bool nonblocking) {
  std::shared_ptr<UnixEndpoint> other;
  if (request.address) {
    TRY(validate_unix_address(*request.address));
  } else {
    other = peer_;
    if (!other) {
      return Errno{ENOTCONN};
    }
  }
  if (passcred) {
    TRY(autobind());
  }
  const size_t total = segments_length(request.data);
  if (total + kDatagramHeadroomBytes > static_cast<size_t>(send_buffer_bytes)) {
    return Errno{EMSGSIZE};
  }

  const auto deadline = nonblocking ? std::optional(kernel::monotonic_now())
                                    : send_timeout.deadline();
  const std::array<kernel::WaitQueue*, 1> own_queue{&queue_};
  for (;;) {
    if (error_ != 0) {
      return Errno{take_error()};
    }
    if ((shutdown_ & kSendShutdown) != 0) {
      return Errno{EPIPE};
    }
    if (charged_bytes_ < static_cast<size_t>(send_buffer_bytes)) {
      break;
    }
    if (nonblocking) {
      return Errno{EAGAIN};
    }
    TRY(wait_for_events(task, own_queue, kWritableEvents, deadline));
  }
  std::vector<std::byte> data = TRY(copy_from_segments(task, request.data, 0, total));

  for (;;) {
    if (!other) {
      if (!request.address) {
        return Errno{ECONNRESET};
      }
      other = TRY(find_other(task, *request.address));
    }
    if (other->peer_ != nullptr && other->peer_.get() != this) {
      return Errno{EPERM};
    }
    if (other->dead_) {
      if (type_ == SOCK_SEQPACKET) {
        return Errno{EPIPE};
      }
      if (peer_ == other) {
        disconnect_datagram_peer();
        return Errno{ECONNREFUSED};
      }
      other = nullptr;
      continue;
    }
    if ((other->shutdown_ & kReceiveShutdown) != 0) {
      return Errno{EPIPE};
    }
    if (receiver_full(*other)) {
      if (nonblocking) {
        return Errno{EAGAIN};
      }
      const std::array<kernel::WaitQueue*, 1> receiver_queue{&other->queue_};
      TRY(wait_for_events(task, receiver_queue, kWritableEvents, deadline));
      continue;
    }
    break;
  }

  UnixMessage message;
  message.data = std::move(data);
  message.rights = std::move(request.rights);
  if (request.credentials) {
    message.credentials = MessageCredentials{
        .pid = request.credentials->pid, .uid = request.credentials->uid,
        .gid = request.credentials->gid};
  } else if (adds_credentials(*other)) {
    message.credentials = message_credentials_of(task);
  }
  message.charge = total + kMessageOverheadBytes;
  message.sender = shared_from_this();
  charged_bytes_ += message.charge;
  other->enqueue(std::move(message));
  return total;
}

Result<ReceiveResult> UnixEndpoint::receive(kernel::Task& task,
                                            const SocketBuffer& data, int flags,
                                            bool nonblocking) {
  if ((flags & MSG_OOB) != 0) {
    return Errno{EOPNOTSUPP};
  }
  if (type_ == SOCK_STREAM) {
    return receive_stream(task, data, flags, nonblocking);
  }
  if (type_ == SOCK_SEQPACKET && state_ != UnixState::kConnected) {
    return Errno{ENOTCONN};
  }
  return receive_datagram(task, data, flags, nonblocking);
}

Result<ReceiveResult> UnixEndpoint::receive_stream(kernel::Task& task,
                                                   const SocketBuffer& data,
                                                   int flags, bool nonblocking) {
  if (state_ != UnixState::kConnected) {
    return Errno{EINVAL};
  }
  const bool peek = (flags & MSG_PEEK) != 0;
  const size_t size = segments_length(data);
  // sock_rcvlowat: all of it under MSG_WAITALL, else SO_RCVLOWAT, at
  // least one byte.
  const size_t low_water = static_cast<size_t>(std::max(receive_low_water, 1));
  const size_t target = std::max<size_t>(
      (flags & MSG_WAITALL) != 0 ? size : std::min(low_water, size), 1);
  const auto deadline = receive_timeout.deadline();
  const std::array<kernel::WaitQueue*, 1> own_queue{&queue_};

  ReceiveResult result;
  std::optional<MessageCredentials> credentials;
  bool check_credentials = false;
  size_t copied = 0;
  while (copied < size) {
    if (messages_.empty()) {
      if (copied >= target) {
        break;
      }
      if (error_ != 0) {
        const Errno error{take_error()};
        if (copied == 0) {
          return error;
        }
        break;
      }
      if ((shutdown_ & kReceiveShutdown) != 0) {
        break;
      }
      if (nonblocking) {
        if (copied == 0) {
          return Errno{EAGAIN};
        }
        break;
      }
      auto waited = wait_for_events(task, own_queue, kReadableEvents, deadline);
      if (!waited.ok()) {
        if (copied == 0) {
          return waited.error();
        }
        break;
      }
      continue;
    }

    // Under MSG_PEEK the queue stays as it is, so the walk moves an index.
    bool stop = false;
    for (size_t index = 0; index < messages_.size() && copied < size; ++index) {
      UnixMessage& message = messages_[index];
      if (check_credentials) {
        // Linux never joins the data of different writers.
        if (message.credentials != credentials) {
          stop = true;
          break;
        }
      } else if (passcred) {
        credentials = message.credentials ? message.credentials : kNoCredentials;
        check_credentials = true;
      }
      if (message.sender && message.sender->address_) {
        result.address = message.sender->address_;
      }

      const size_t chunk = std::min(message.remaining(), size - copied);
      const std::span<const std::byte> bytes(message.data.data() + message.consumed, chunk);
      auto written = copy_to_segments(task, data, copied, bytes);
      if (!written.ok()) {
        if (copied == 0) {
          return written.error();
        }
        stop = true;
        break;
      }
      copied += chunk;

      if (peek) {
        if (!message.rights.empty()) {
          result.rights = message.rights;
          stop = true;
          break;
        }
        if (index + 1 == messages_.size()) {
          stop = true;  // a peek does not wait for more
        }
        continue;
      }

      message.consumed += chunk;
      const bool had_rights = !message.rights.empty();
      if (had_rights) {
        result.rights = std::move(message.rights);
        message.rights.clear();
      }
      if (message.remaining() > 0) {
        stop = true;
        break;
      }
      messages_.pop_front();
      --index;  // the next message moved to this index
      if (had_rights) {
        stop = true;
        break;
      }
    }
    if (stop) {
      break;
    }
  }

  result.length = copied;
  if (passcred) {
    // A read that took no message reports Linux's zeroed credentials.
    const MessageCredentials shown = credentials.value_or(MessageCredentials{});
    result.credentials = ucred{.pid = shown.pid, .uid = shown.uid, .gid = shown.gid};
  }
  return result;
}

Result<ReceiveResult> UnixEndpoint::receive_datagram(kernel::Task& task,
                                                     const SocketBuffer& data,
                                                     int flags, bool nonblocking) {
  const auto deadline = receive_timeout.deadline();
  const std::array<kernel::WaitQueue*, 1> own_queue{&queue_};
  while (messages_.empty()) {
    if (error_ != 0) {
      return Errno{take_error()};
    }
    if (nonblocking) {
      // A non-blocking seqpacket read past the peer's close is EOF, a
      // datagram one EAGAIN.
      if (type_ == SOCK_SEQPACKET && (shutdown_ & kReceiveShutdown) != 0) {
        return ReceiveResult{};
      }
      return Errno{EAGAIN};
    }
    if ((shutdown_ & kReceiveShutdown) != 0) {
      return ReceiveResult{};
    }
    TRY(wait_for_events(task, own_queue, kReadableEvents, deadline));
  }

  UnixMessage& message = messages_.front();
  ReceiveResult result;
  if (message.sender && message.sender->address_) {
    result.address = message.sender->address_;
  }
  const size_t size = segments_length(data);
  const size_t length = std::min(size, message.data.size());
  if (size < message.data.size()) {
    result.msg_flags |= MSG_TRUNC;
  }
  TRY(copy_to_segments(task, data, 0, std::span(message.data.data(), length)));
  if (passcred) {
    const MessageCredentials shown = message.credentials.value_or(kNoCredentials);
    result.credentials = ucred{.pid = shown.pid, .uid = shown.uid, .gid = shown.gid};
  }
  result.length = (flags & MSG_TRUNC) != 0 ? message.data.size() : length;

  if ((flags & MSG_PEEK) != 0) {
    result.rights = message.rights;
    return result;
  }
  result.rights = std::move(message.rights);
  messages_.pop_front();
  queue_.notify(kWritableEvents);  // senders waiting for room in this queue
  return result;
}

Result<int> UnixEndpoint::input_bytes() const {
  if (state_ == UnixState::kListening) {
    return Errno{EINVAL};
  }
  if (type_ == SOCK_DGRAM) {
    return messages_.empty() ? 0 : static_cast<int>(messages_.front().data.size());
  }
  size_t total = 0;
  for (const auto& message : messages_) {
    total += message.remaining();
  }
  return static_cast<int>(total);
}

}  // namespace ward::net
