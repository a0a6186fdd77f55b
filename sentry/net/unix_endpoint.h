// The state of one AF_UNIX socket, after Linux's net/unix/af_unix.c: its
// receive queue, its peer, its name and its options. A socket file owns
// one endpoint. A connection waiting on a listener for accept(2) is an
// endpoint without a file yet, as Linux's embryo socks are.
//
// Every operation here is the sentry's: no endpoint is backed by a host
// socket.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sentry/kernel/wait_queue.h"
#include "sentry/net/socket.h"
#include "sentry/vfs/inode.h"
#include "ward/result.h"

namespace ward::kernel {
class Kernel;
class Task;
}  // namespace ward::kernel

namespace ward::net {

class UnixEndpoint;

// Linux's shutdown bits: RCV_SHUTDOWN and SEND_SHUTDOWN.
inline constexpr int kReceiveShutdown = 1;
inline constexpr int kSendShutdown = 2;
inline constexpr int kShutdownBoth = kReceiveShutdown | kSendShutdown;

// Linux's net.unix.max_dgram_qlen default: a datagram receiver that is not
// connected back to the sender takes one more than this many messages.
inline constexpr size_t kMaxDatagramQueue = 10;

// Linux's net.core.wmem_default and rmem_default, which are also the
// default wmem_max and rmem_max that cap SO_SNDBUF and SO_RCVBUF requests.
inline constexpr int kDefaultBufferBytes = 212992;
inline constexpr int kMaxBufferRequestBytes = 212992;

// Linux's SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF on x86_64.
inline constexpr int kMinSendBufferBytes = 4608;
inline constexpr int kMinReceiveBufferBytes = 2304;

// The charge of each queued message to its sender's send buffer on top of
// its data, in place of the sk_buff overhead Linux counts.
// NOTE: Linux's overhead depends on the allocation (about 768 bytes for a
// small message), so exactly how much fits before EAGAIN differs.
inline constexpr size_t kMessageOverheadBytes = 512;

// The credentials a message carries for SCM_CREDENTIALS.
struct MessageCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool operator==(const MessageCredentials&) const = default;
};

// One message on a receive queue: a datagram, or a piece of a stream.
// Destroying it returns its charge to the sender's send buffer.
struct UnixMessage {
  UnixMessage() = default;
  UnixMessage(UnixMessage&&) = default;
  UnixMessage& operator=(UnixMessage&&) = default;
  ~UnixMessage();

  size_t remaining() const { return data.size() - consumed; }

  std::vector<std::byte> data;
  size_t consumed = 0;  // bytes a stream reader already took
  std::vector<vfs::FileRef> rights;
  std::optional<MessageCredentials> credentials;
  // The sending endpoint, kept alive while the message is queued, as
  // Linux's skb keeps its sock: recvfrom reports its name.
  std::shared_ptr<UnixEndpoint> sender;
  size_t charge = 0;
};

// The AF_UNIX names of one sandbox: abstract names (per socket type, as
// Linux hashes them) and the sockets bound to filesystem inodes.
class UnixNamespace {
 public:
  // The namespace of `kernel`, made on first use.
  static std::shared_ptr<UnixNamespace> of(kernel::Kernel& kernel);

  bool abstract_in_use(int type, const SocketAddress& address) const;
  void add_abstract(int type, const SocketAddress& address,
                    const std::shared_ptr<UnixEndpoint>& endpoint);
  std::shared_ptr<UnixEndpoint> find_abstract(int type, const SocketAddress& address) const;

  void add_path(const std::shared_ptr<vfs::Inode>& inode,
                const std::shared_ptr<UnixEndpoint>& endpoint);
  std::shared_ptr<UnixEndpoint> find_path(const vfs::Inode& inode) const;

  // Forgets every name of `endpoint`.
  void remove(const UnixEndpoint& endpoint);

  // A counter for autobind's names; Linux starts it at a random value.
  uint32_t next_autobind_number();

  // Every endpoint not yet released, oldest first, for /proc/net/unix.
  void add_endpoint(const UnixEndpoint* endpoint) { endpoints_.push_back(endpoint); }
  void remove_endpoint(const UnixEndpoint* endpoint) { std::erase(endpoints_, endpoint); }
  const std::vector<const UnixEndpoint*>& endpoints() const { return endpoints_; }

 private:
  std::map<std::pair<int, SocketAddress>, std::weak_ptr<UnixEndpoint>> abstract_;
  std::map<const vfs::Inode*, std::weak_ptr<UnixEndpoint>> paths_;
  std::optional<uint32_t> autobind_number_;
  std::vector<const UnixEndpoint*> endpoints_;
};

enum class UnixState { kUnconnected, kListening, kConnected };

class UnixEndpoint : public std::enable_shared_from_this<UnixEndpoint> {
 public:
  UnixEndpoint(int type, std::shared_ptr<UnixNamespace> names);
  ~UnixEndpoint();
  UnixEndpoint(const UnixEndpoint&) = delete;
  UnixEndpoint& operator=(const UnixEndpoint&) = delete;

  int type() const { return type_; }
  bool connection_oriented() const { return type_ != SOCK_DGRAM; }
  UnixState state() const { return state_; }
  kernel::WaitQueue& queue() { return queue_; }

  // Joins two new endpoints back to back (socketpair), each with the
  // creator's credentials as SO_PEERCRED.
  static void join_pair(const std::shared_ptr<UnixEndpoint>& first,
                        const std::shared_ptr<UnixEndpoint>& second,
                        const MessageCredentials& creator);

  // Closes the endpoint when its file goes (unix_release_sock): removes
  // its names, hangs up a connected peer, drops its queue and any pending
  // connections. `embryo` marks a connection that was never accepted, whose
  // peer then sees ECONNRESET.
  void release(bool embryo = false);

  // Marks that a file owns the endpoint (Linux's sk_socket), which decides
  // whether messages to it carry credentials. `ino` is the file's inode
  // number, which /proc/net/unix shows.
  void set_has_file(uint64_t ino) {
    has_file_ = true;
    file_ino_ = ino;
  }

  // The line of /proc/net/unix for this endpoint (unix_proc_net.cc).
  std::string proc_net_unix_line() const;

  // Naming (unix_names.cc). `address` is a whole sockaddr_un.
  Result<void> bind(kernel::Task& task, const SocketAddress& address);
  SocketAddress local_address() const;
  Result<SocketAddress> peer_address() const;

  // Connections (unix_connect.cc).
  Result<void> connect(kernel::Task& task, const SocketAddress& address, bool nonblocking);
  Result<void> listen(kernel::Task& task, int backlog);
  Result<std::shared_ptr<UnixEndpoint>> accept(kernel::Task& task, bool nonblocking);
  Result<void> shutdown(int how);
  uint32_t readiness(uint32_t mask);

  // Data (unix_io.cc).
  Result<size_t> send(kernel::Task& task, SendRequest& request, bool nonblocking);
  Result<ReceiveResult> receive(kernel::Task& task, const SocketBuffer& data,
                                int flags, bool nonblocking);
  // SIOCINQ: EINVAL on a listener.
  Result<int> input_bytes() const;
  // SIOCOUTQ: what this endpoint's queued messages charge.
  int output_bytes() const { return static_cast<int>(charged_bytes_); }

  // Options (unix_socket.cc keeps the SOL_SOCKET rules).
  bool passcred = false;
  int send_buffer_bytes = kDefaultBufferBytes;
  int receive_buffer_bytes = kDefaultBufferBytes;
  int receive_low_water = 1;
  SocketTimeout send_timeout;
  SocketTimeout receive_timeout;
  std::optional<ucred> peer_credentials() const;
  bool listening() const { return state_ == UnixState::kListening; }
  // SO_ERROR: returns and clears the pending error.
  int take_error() { return std::exchange(error_, 0); }

  // Wakes writers after SO_SNDBUF grew.
  void notify_write_space();

 private:
  friend struct UnixMessage;

  // Finds the socket `address` names for a connect or send (unix_find_other):
  // ENOENT or EACCES from the path walk, ECONNREFUSED when nothing listens
  // there, EPROTOTYPE for a path-bound socket of another type.
  Result<std::shared_ptr<UnixEndpoint>> find_other(kernel::Task& task,
                                                   const SocketAddress& address) const;
  Result<void> bind_path(kernel::Task& task, const SocketAddress& address);
  Result<void> bind_abstract(const SocketAddress& address);
  Result<void> autobind();

  Result<size_t> send_stream(kernel::Task& task, SendRequest& request, bool nonblocking);
  Result<size_t> send_datagram(kernel::Task& task, SendRequest& request, bool nonblocking);
  Result<ReceiveResult> receive_stream(kernel::Task& task,
                                       const SocketBuffer& data, int flags,
                                       bool nonblocking);
  Result<ReceiveResult> receive_datagram(kernel::Task& task,
                                         const SocketBuffer& data, int flags,
                                         bool nonblocking);
  // Whether a message to `receiver` should carry the sender's credentials
  // (maybe_add_creds).
  bool adds_credentials(const UnixEndpoint& receiver) const;
  void enqueue(UnixMessage message);
  void uncharge(size_t bytes);
  // A datagram receiver's queue is full for this sender.
  bool receiver_full(const UnixEndpoint& receiver) const;
  // Drops the connected datagram peer and the messages it sent.
  void disconnect_datagram_peer();

  const int type_;
  std::weak_ptr<UnixNamespace> names_;
  UnixState state_ = UnixState::kUnconnected;
  bool dead_ = false;
  bool has_file_ = false;
  uint64_t file_ino_ = 0;
  int shutdown_ = 0;
  int error_ = 0;
  std::shared_ptr<UnixEndpoint> peer_;
  std::deque<UnixMessage> messages_;
  // A listener's connections not yet accepted; Linux keeps them on the
  // receive queue.
  std::deque<std::shared_ptr<UnixEndpoint>> pending_;
  uint32_t backlog_ = 0;
  std::optional<SocketAddress> address_;
  std::shared_ptr<vfs::Inode> bound_inode_;
  std::optional<MessageCredentials> peer_credentials_;
  size_t charged_bytes_ = 0;
  kernel::WaitQueue queue_;
};

// unix_validate_addr: EINVAL for an address without a path byte, longer
// than a sockaddr_un, or of another family than AF_UNIX.
Result<void> validate_unix_address(const SocketAddress& address);

// The credentials of `task` as a message or SO_PEERCRED carries them: its
// process id in the sandbox, its effective ids for SO_PEERCRED or its real
// ids for SCM_CREDENTIALS.
MessageCredentials peer_credentials_of(const kernel::Task& task);
MessageCredentials message_credentials_of(const kernel::Task& task);

}  // namespace ward::net
