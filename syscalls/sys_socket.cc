// socket, socketpair, bind, connect, listen, accept, accept4, getsockname,
// getpeername, shutdown, setsockopt and getsockopt. AF_UNIX, loopback
// AF_INET and AF_INET6, and NETLINK_ROUTE sockets exist; other families
// are EAFNOSUPPORT and a compatibility gap.
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <string>

#include "sentry/kernel/task.h"
#include "sentry/net/inet.h"
#include "sentry/net/netlink.h"
#include "sentry/net/socket.h"
#include "sentry/net/unix.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/args.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_socket.h"
#include "syscalls/socket_args.h"

namespace ward::syscalls {
namespace {

// The type bits of socket(2)'s type argument; the rest are flags.
constexpr int kSocketTypeMask = 0xf;

// Linux's SOCK_MAX: types at or above it are EINVAL.
constexpr int kSocketTypeLimit = 11;

// The largest option value any supported option reads: a struct timeval.
constexpr size_t kMaxOptionBytes = 16;

struct SocketKind {
  int type;
  uint32_t file_flags;  // O_NONBLOCK
  bool close_on_exec;
};

std::string option_level_name(int level) {
  switch (level) {
    case SOL_SOCKET:
      return "SOL_SOCKET";
    case IPPROTO_IP:
      return "IPPROTO_IP";
    case IPPROTO_IPV6:
      return "IPPROTO_IPV6";
    case IPPROTO_TCP:
      return "IPPROTO_TCP";
    case IPPROTO_UDP:
      return "IPPROTO_UDP";
    default:
      return "level " + std::to_string(level);
  }
}

std::string family_name(int domain) {
  switch (domain) {
    case AF_INET:
      return "AF_INET";
    case AF_INET6:
      return "AF_INET6";
    case AF_NETLINK:
      return "AF_NETLINK";
    case AF_PACKET:
      return "AF_PACKET";
    default:
      return "family " + std::to_string(domain);
  }
}

// The checks socket(2) and socketpair(2) share, in Linux's order: EINVAL
// for unknown flags, EAFNOSUPPORT for a family out of range, EINVAL for a
// type out of range.
Result<SocketKind> decode_kind(int domain, int raw_type) {
  const int flags = raw_type & ~kSocketTypeMask;
  if ((flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) != 0) {
    return Errno{EINVAL};
  }
  if (domain < 0 || domain >= AF_MAX) {
    return Errno{EAFNOSUPPORT};
  }
  const int type = raw_type & kSocketTypeMask;
  if (type >= kSocketTypeLimit) {
    return Errno{EINVAL};
  }
  return SocketKind{.type = type,
                    .file_flags = (flags & SOCK_NONBLOCK) != 0 ? uint32_t{O_NONBLOCK} : 0,
                    .close_on_exec = (flags & SOCK_CLOEXEC) != 0};
}

// unix_create's checks: EPROTONOSUPPORT for a protocol other than 0 or
// PF_UNIX, ESOCKTNOSUPPORT for a type AF_UNIX lacks; SOCK_RAW is a
// datagram socket.
Result<int> unix_type(int type, int protocol) {
  if (protocol != 0 && protocol != PF_UNIX) {
    return Errno{EPROTONOSUPPORT};
  }
  switch (type) {
    case SOCK_STREAM:
    case SOCK_DGRAM:
    case SOCK_SEQPACKET:
      return type;
    case SOCK_RAW:
      return SOCK_DGRAM;
    default:
      return Errno{ESOCKTNOSUPPORT};
  }
}

Result<int64_t> accept_on(kernel::Task& task, int fd, GuestAddr address, GuestAddr length_addr,
                          uint32_t flags) {
  if ((flags & ~static_cast<uint32_t>(SOCK_CLOEXEC | SOCK_NONBLOCK)) != 0) {
    return Errno{EINVAL};
  }
  const SocketRef ref = TRY(socket_at(task, fd));
  // Linux takes the new descriptor before it waits for a connection.
  TRY(task.fdtable().check_free_slot());

  const uint32_t file_flags = (flags & SOCK_NONBLOCK) != 0 ? O_NONBLOCK : 0;
  auto [file, peer] = TRY(ref.socket->accept(task, file_flags));
  if (!address.is_null()) {
    // A failed copy drops the new connection, as in Linux.
    TRY(copy_out_address(task, peer, address, length_addr));
  }
  return TRY(task.fdtable().install(std::move(file), (flags & SOCK_CLOEXEC) != 0));
}

Result<int64_t> socket_name(kernel::Task& task, const SyscallArgs& args, bool peer) {
  const int fd = args.fd(0);
  const GuestAddr address = args.addr(1);
  const GuestAddr length_addr = args.addr(2);
  const SocketRef ref = TRY(socket_at(task, fd));
  const net::SocketAddress name =
      peer ? TRY(ref.socket->peer_address()) : ref.socket->local_address();
  TRY(copy_out_address(task, name, address, length_addr));
  return 0;
}

}  // namespace

Result<SocketRef> socket_at(kernel::Task& task, int fd) {
  vfs::FileRef file = TRY(task.fdtable().get(fd));
  net::Socket* socket = net::as_socket(*file);
  if (socket == nullptr) {
    return Errno{ENOTSOCK};
  }
  return SocketRef{.file = std::move(file), .socket = socket};
}

Result<net::SocketAddress> copy_in_address(kernel::Task& task, GuestAddr address, int length) {
  if (length < 0 || static_cast<size_t>(length) > net::kMaxAddressBytes) {
    return Errno{EINVAL};
  }
  net::SocketAddress bytes(static_cast<size_t>(length), '\0');
  if (length > 0) {
    TRY(task.copy_in(address, std::as_writable_bytes(std::span(bytes.data(), bytes.size()))));
  }
  return bytes;
}

Result<void> copy_out_address(kernel::Task& task, const net::SocketAddress& address,
                              GuestAddr buffer, GuestAddr length_addr) {
  int length = TRY(task.copy_in<int>(length_addr));
  const int full_length = static_cast<int>(address.size());
  length = std::min(length, full_length);
  if (length < 0) {
    return Errno{EINVAL};
  }
  if (length > 0) {
    TRY(task.copy_out(buffer, std::as_bytes(std::span(address.data(), static_cast<size_t>(length)))));
  }
  return task.copy_out(length_addr, full_length);
}

// socket(2)
Result<int64_t> sys_socket(kernel::Task& task, const SyscallArgs& args) {
  const int domain = args.i32(0);
  const int raw_type = args.i32(1);
  const int protocol = args.i32(2);

  const SocketKind kind = TRY(decode_kind(domain, raw_type));
  if (domain == AF_INET || domain == AF_INET6) {
    vfs::FileRef file =
        TRY(net::make_inet_socket(task, domain, kind.type, protocol, kind.file_flags));
    return TRY(task.fdtable().install(std::move(file), kind.close_on_exec));
  }
  if (domain == AF_NETLINK) {
    TRY(net::check_netlink_kind(kind.type, protocol));
    if (protocol != NETLINK_ROUTE) {
      if (auto name = net::unsupported_netlink_protocol(protocol)) {
        record_gap(task, compat::GapKind::kSocket, "AF_NETLINK protocol " + std::string(*name));
      }
      return Errno{EPROTONOSUPPORT};
    }
    vfs::FileRef file = net::make_netlink_socket(task, kind.type, kind.file_flags);
    return TRY(task.fdtable().install(std::move(file), kind.close_on_exec));
  }
  if (domain != AF_UNIX) {
    record_gap(task, "socket " + family_name(domain));
    return Errno{EAFNOSUPPORT};
  }
  const int type = TRY(unix_type(kind.type, protocol));
  vfs::FileRef file = net::make_unix_socket(task, type, kind.file_flags);
  return TRY(task.fdtable().install(std::move(file), kind.close_on_exec));
}

// socketpair(2)
Result<int64_t> sys_socketpair(kernel::Task& task, const SyscallArgs& args) {
  const int domain = args.i32(0);
  const int raw_type = args.i32(1);
  const int protocol = args.i32(2);
  const GuestAddr fds_addr = args.addr(3);

  const SocketKind kind = TRY(decode_kind(domain, raw_type));
  if (domain == AF_INET || domain == AF_INET6 || domain == AF_NETLINK) {
    return Errno{EOPNOTSUPP};  // as in Linux, whose inet and netlink have no pairs
  }
  if (domain != AF_UNIX) {
    record_gap(task, "socketpair " + family_name(domain));
    return Errno{EAFNOSUPPORT};
  }
  const int type = TRY(unix_type(kind.type, protocol));

  // NOTE: Linux stores both descriptor numbers before it makes the
  // sockets. A bad `fds_addr` then fails with EFAULT before a bad protocol
  // or type would, where here the sockets come first.
  auto [first, second] = net::make_unix_socketpair(task, type, kind.file_flags);
  vfs::FdTable& fdtable = task.fdtable();
  const int first_fd = TRY(fdtable.install(std::move(first), kind.close_on_exec));
  auto second_fd = fdtable.install(std::move(second), kind.close_on_exec);
  if (!second_fd.ok()) {
    (void)fdtable.remove(first_fd);
    return second_fd.error();
  }
  const std::array<int, 2> fds{first_fd, *second_fd};
  auto copied = task.copy_out(fds_addr, fds);
  if (!copied.ok()) {
    (void)fdtable.remove(first_fd);
    (void)fdtable.remove(*second_fd);
    return copied.error();
  }
  return 0;
}

// bind(2)
Result<int64_t> sys_bind(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr address = args.addr(1);
  const int length = args.i32(2);
  const SocketRef ref = TRY(socket_at(task, fd));
  const net::SocketAddress name = TRY(copy_in_address(task, address, length));
  TRY(ref.socket->bind(task, name));
  return 0;
}

// connect(2)
Result<int64_t> sys_connect(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr address = args.addr(1);
  const int length = args.i32(2);
  const SocketRef ref = TRY(socket_at(task, fd));
  const net::SocketAddress name = TRY(copy_in_address(task, address, length));
  TRY(ref.socket->connect(task, name));
  return 0;
}

// listen(2): a backlog above somaxconn, or negative, becomes somaxconn.
Result<int64_t> sys_listen(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  int backlog = args.i32(1);
  const SocketRef ref = TRY(socket_at(task, fd));
  if (static_cast<unsigned>(backlog) > static_cast<unsigned>(net::kSomaxconn)) {
    backlog = net::kSomaxconn;
  }
  TRY(ref.socket->listen(task, backlog));
  return 0;
}

// accept(2)
Result<int64_t> sys_accept(kernel::Task& task, const SyscallArgs& args) {
  return accept_on(task, args.fd(0), args.addr(1), args.addr(2), 0);
}

// accept4(2): SOCK_NONBLOCK and SOCK_CLOEXEC.
Result<int64_t> sys_accept4(kernel::Task& task, const SyscallArgs& args) {
  return accept_on(task, args.fd(0), args.addr(1), args.addr(2), args.u32(3));
}

// getsockname(2)
Result<int64_t> sys_getsockname(kernel::Task& task, const SyscallArgs& args) {
  return socket_name(task, args, /*peer=*/false);
}

// getpeername(2): ENOTCONN without a peer.
Result<int64_t> sys_getpeername(kernel::Task& task, const SyscallArgs& args) {
  return socket_name(task, args, /*peer=*/true);
}

// shutdown(2)
Result<int64_t> sys_shutdown(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int how = args.i32(1);
  const SocketRef ref = TRY(socket_at(task, fd));
  TRY(ref.socket->shutdown(task, how));
  return 0;
}

// setsockopt(2): a level the socket does not take is EOPNOTSUPP, as
// Linux's AF_UNIX returns for any level but SOL_SOCKET. Every option reads
// at least an int.
Result<int64_t> sys_setsockopt(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int level = args.i32(1);
  const int name = args.i32(2);
  const GuestAddr value_addr = args.addr(3);
  const int length = args.i32(4);

  const SocketRef ref = TRY(socket_at(task, fd));
  if (length < 0) {
    return Errno{EINVAL};
  }
  if (level != SOL_SOCKET && ref.socket->family() == AF_NETLINK) {
    return net::set_netlink_option(task, *ref.file, level, name, value_addr, length);
  }
  if (!ref.socket->takes_option_level(level)) {
    return Errno{EOPNOTSUPP};
  }
  if (static_cast<size_t>(length) < sizeof(int)) {
    return Errno{EINVAL};
  }
  std::vector<std::byte> value(sizeof(int));
  TRY(task.copy_in(value_addr, std::span(value)));
  if (!ref.socket->supports_option(level, name)) {
    record_gap(task, "setsockopt " + option_level_name(level) + " option " + std::to_string(name));
    return Errno{ENOPROTOOPT};
  }
  // Options wider than an int read more; an int option reads only its int.
  const size_t option_bytes = std::min(static_cast<size_t>(length), kMaxOptionBytes);
  if (option_bytes > value.size()) {
    std::vector<std::byte> wider(option_bytes);
    if (task.copy_in(value_addr, std::span(wider)).ok()) {
      value = std::move(wider);
    }
  }
  TRY(ref.socket->set_option(task, level, name, value));
  return 0;
}

// getsockopt(2): the value is cut to the guest's length, which is then set
// to what was copied.
Result<int64_t> sys_getsockopt(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int level = args.i32(1);
  const int name = args.i32(2);
  const GuestAddr value_addr = args.addr(3);
  const GuestAddr length_addr = args.addr(4);

  const SocketRef ref = TRY(socket_at(task, fd));
  if (level != SOL_SOCKET && ref.socket->family() == AF_NETLINK) {
    return net::get_netlink_option(task, *ref.file, level, name, value_addr, length_addr);
  }
  if (!ref.socket->takes_option_level(level)) {
    return Errno{EOPNOTSUPP};
  }
  const int length = TRY(task.copy_in<int>(length_addr));
  if (length < 0) {
    return Errno{EINVAL};
  }
  if (!ref.socket->supports_option(level, name)) {
    record_gap(task, "getsockopt " + option_level_name(level) + " option " + std::to_string(name));
    return Errno{ENOPROTOOPT};
  }
  const std::vector<std::byte> value = TRY(ref.socket->get_option(task, level, name));
  const size_t copied = std::min(static_cast<size_t>(length), value.size());
  TRY(task.copy_out(value_addr, std::span<const std::byte>(value.data(), copied)));
  TRY(task.copy_out(length_addr, static_cast<int>(copied)));
  return 0;
}

}  // namespace ward::syscalls
