// sendto, recvfrom, sendmsg, recvmsg, sendmmsg and recvmmsg, and read and
// write on sockets. The msghdr checks follow Linux's net/socket.c and the
// ancillary data its net/core/scm.c: SCM_RIGHTS and SCM_CREDENTIALS.
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/net/socket.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/task_io.h"
#include "syscalls/args.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_socket.h"
#include "syscalls/socket_args.h"

namespace ward::syscalls {
namespace {

// struct msghdr, struct mmsghdr and struct cmsghdr as an x86_64 guest lays
// them out.
struct GuestMsghdr {
  uint64_t name;
  int32_t name_length;
  uint32_t padding;
  uint64_t iov;
  uint64_t iov_count;
  uint64_t control;
  uint64_t control_length;
  int32_t flags;
  uint32_t padding2;
};
static_assert(sizeof(GuestMsghdr) == 56);
constexpr uint64_t kNameLengthOffset = offsetof(GuestMsghdr, name_length);
constexpr uint64_t kControlLengthOffset = offsetof(GuestMsghdr, control_length);
constexpr uint64_t kFlagsOffset = offsetof(GuestMsghdr, flags);

struct GuestMmsghdr {
  GuestMsghdr header;
  uint32_t length;
  uint32_t padding;
};
static_assert(sizeof(GuestMmsghdr) == 64);

struct GuestCmsghdr {
  uint64_t length;
  int32_t level;
  int32_t type;
};
constexpr size_t kCmsgHeaderBytes = sizeof(GuestCmsghdr);

// Linux's net.core.optmem_max default since 6.9: the largest control
// buffer sendmsg copies in (ENOBUFS beyond).
constexpr uint64_t kMaxControlBytes = 131072;

// The capabilities that let a sender claim other SCM_CREDENTIALS.
constexpr int kCapSetgid = 6;
constexpr int kCapSetuid = 7;
constexpr int kCapSysAdmin = 21;

// recvmmsg's flag to stop waiting after the first message.
constexpr int kMsgWaitforone = 0x10000;

constexpr size_t cmsg_align(size_t length) { return (length + 7) & ~size_t{7}; }

// Checks one control message of an inet send, as ip_cmsg_send and
// __sock_cmsg_send do: SCM_RIGHTS and SCM_CREDENTIALS are ignored, other
// SOL_SOCKET types but SO_MARK, SO_TIMESTAMPING and SCM_TXTIME are EINVAL.
Result<void> check_inet_control(kernel::Task& task, const GuestCmsghdr& header) {
  if (header.level == SOL_SOCKET) {
    switch (header.type) {
      case SCM_RIGHTS:
      case SCM_CREDENTIALS:
        return ok();
      case SO_MARK:
      case SO_TIMESTAMPING_OLD:
      case SCM_TXTIME:
        break;
      default:
        return Errno{EINVAL};
    }
  }
  // NOTE: the remaining ancillary data (SO_MARK, IP_PKTINFO, IP_TOS,
  // IPV6_HOPLIMIT...) shapes packet headers, routing or the source
  // address, which a loopback send through the sentry does not have, so
  // it is skipped.
  record_gap(task, "sendmsg ancillary data of level " + std::to_string(header.level) + " type " +
                       std::to_string(header.type));
  return ok();
}

// Parses the control buffer of a send, as __scm_send does: EINVAL for a
// malformed header, an unknown SOL_SOCKET type or more than SCM_MAX_FD
// descriptors; EBADF for a closed descriptor; EPERM and ESRCH for
// credentials the sender may not claim. Other levels are skipped. An
// inet socket's messages go through check_inet_control instead.
Result<void> parse_control(kernel::Task& task, net::Socket& socket,
                           std::span<const std::byte> control, net::SendRequest& request) {
  size_t offset = 0;
  while (offset + kCmsgHeaderBytes <= control.size()) {
    GuestCmsghdr header;
    std::memcpy(&header, control.data() + offset, sizeof(header));
    if (header.length < kCmsgHeaderBytes || header.length > control.size() - offset) {
      return Errno{EINVAL};
    }
    const std::span<const std::byte> payload =
        control.subspan(offset + kCmsgHeaderBytes, header.length - kCmsgHeaderBytes);

    if (socket.family() == AF_INET || socket.family() == AF_INET6) {
      TRY(check_inet_control(task, header));
    } else if (header.level == SOL_SOCKET) {
      switch (header.type) {
        case SCM_RIGHTS: {
          if (socket.family() != AF_UNIX) {
            return Errno{EINVAL};
          }
          const size_t count = payload.size() / sizeof(int);
          if (count > net::kMaxRightsPerMessage ||
              request.rights.size() + count > net::kMaxRightsPerMessage) {
            return Errno{EINVAL};
          }
          for (size_t i = 0; i < count; ++i) {
            int fd = 0;
            std::memcpy(&fd, payload.data() + i * sizeof(int), sizeof(int));
            // O_PATH descriptors travel too, as Linux's fget_raw allows.
            request.rights.push_back(TRY(task.fdtable().get(fd)));
          }
          break;
        }
        case SCM_CREDENTIALS: {
          if (header.length != kCmsgHeaderBytes + sizeof(ucred)) {
            return Errno{EINVAL};
          }
          ucred claimed{};
          std::memcpy(&claimed, payload.data(), sizeof(claimed));
          const kernel::Credentials& creds = task.creds();
          const bool pid_ok = claimed.pid == task.thread_group().tgid() ||
                              creds.has_capability(kCapSysAdmin);
          const bool uid_ok = claimed.uid == creds.real_uid ||
                              claimed.uid == creds.effective_uid ||
                              claimed.uid == creds.saved_uid || creds.has_capability(kCapSetuid);
          const bool gid_ok = claimed.gid == creds.real_gid ||
                              claimed.gid == creds.effective_gid ||
                              claimed.gid == creds.saved_gid || creds.has_capability(kCapSetgid);
          if (!pid_ok || !uid_ok || !gid_ok) {
            return Errno{EPERM};
          }
          if (task.kernel().find_thread_group(claimed.pid) == nullptr) {
            return Errno{ESRCH};
          }
          if (claimed.uid == static_cast<uid_t>(-1) || claimed.gid == static_cast<gid_t>(-1)) {
            return Errno{EINVAL};
          }
          request.credentials = claimed;
          break;
        }
        default:
          return Errno{EINVAL};
      }
    }
    offset += cmsg_align(header.length);
  }
  return ok();
}

// Writes the ancillary data of a receive into the guest's control buffer,
// as Linux's put_cmsg and scm_detach_fds do: what does not fit is cut and
// marked with MSG_CTRUNC, and descriptors without room are closed.
class ControlWriter {
 public:
  ControlWriter(kernel::Task& task, GuestAddr base, uint64_t capacity, int& msg_flags)
      : task_(task), base_(base), capacity_(base.is_null() ? 0 : capacity),
        msg_flags_(msg_flags) {}

  uint64_t used() const { return used_; }

  void put(int level, int type, std::span<const std::byte> data) {
    const uint64_t room = capacity_ - used_;
    if (room < kCmsgHeaderBytes) {
      msg_flags_ |= MSG_CTRUNC;
      return;
    }
    uint64_t length = kCmsgHeaderBytes + data.size();
    if (room < length) {
      msg_flags_ |= MSG_CTRUNC;
      length = room;
    }
    const GuestCmsghdr header{.length = length, .level = level, .type = type};
    if (!task_.copy_out(base_ + used_, header).ok() ||
        !task_.copy_out(base_ + used_ + kCmsgHeaderBytes,
                        data.first(length - kCmsgHeaderBytes))
             .ok()) {
      return;
    }
    used_ += std::min<uint64_t>(kCmsgHeaderBytes + cmsg_align(data.size()), room);
  }

  void put_rights(std::vector<vfs::FileRef>& rights, bool close_on_exec) {
    if (rights.empty()) {
      return;
    }
    const uint64_t room = capacity_ - used_;
    const size_t room_for = room <= kCmsgHeaderBytes ? 0 : (room - kCmsgHeaderBytes) / sizeof(int);
    const size_t fitting = std::min(room_for, rights.size());
    vfs::FdTable& fdtable = task_.fdtable();
    size_t installed = 0;
    for (; installed < fitting; ++installed) {
      auto fd = fdtable.install(rights[installed], close_on_exec);
      if (!fd.ok()) {
        break;
      }
      const GuestAddr slot = base_ + used_ + kCmsgHeaderBytes + installed * sizeof(int);
      if (!task_.copy_out(slot, *fd).ok()) {
        (void)fdtable.remove(*fd);
        break;
      }
    }
    if (installed > 0) {
      const GuestCmsghdr header{.length = kCmsgHeaderBytes + installed * sizeof(int),
                                .level = SOL_SOCKET,
                                .type = SCM_RIGHTS};
      if (task_.copy_out(base_ + used_, header).ok()) {
        used_ += std::min<uint64_t>(
            kCmsgHeaderBytes + cmsg_align(installed * sizeof(int)), room);
      }
    }
    if (installed < rights.size()) {
      msg_flags_ |= MSG_CTRUNC;
    }
    rights.clear();  // the rest close here
  }

 private:
  kernel::Task& task_;
  GuestAddr base_;
  uint64_t capacity_;
  uint64_t used_ = 0;
  int& msg_flags_;
};

// The iovecs of a msghdr: EMSGSIZE for more than UIO_MAXIOV, then
// import_iovecs' EINVAL and EFAULT.
Result<std::vector<vfs::GuestSegment>> message_segments(kernel::Task& task,
                                                        const GuestMsghdr& header) {
  if (header.iov_count > vfs::kMaxIovecs) {
    return Errno{EMSGSIZE};
  }
  return vfs::import_iovecs(task, GuestAddr(header.iov), header.iov_count);
}

void note_unsupported_flags(kernel::Task& task, int flags) {
  if ((flags & MSG_OOB) != 0) {
    record_gap(task, "MSG_OOB");
  }
}

// One sendmsg: the msghdr checks of copy_msghdr_from_user and
// ____sys_sendmsg, then the send.
Result<size_t> send_message(kernel::Task& task, net::Socket& socket, const GuestMsghdr& header,
                            int flags) {
  const int name_length = header.name == 0 ? 0 : header.name_length;
  if (name_length < 0) {
    return Errno{EINVAL};
  }
  net::SendRequest request;
  if (header.name != 0 && name_length > 0) {
    const int length = std::min(name_length, static_cast<int>(net::kMaxAddressBytes));
    request.address = TRY(copy_in_address(task, GuestAddr(header.name), length));
  }
  const std::vector<vfs::GuestSegment> segments = TRY(message_segments(task, header));
  request.data = segments;

  if (header.control_length > static_cast<uint64_t>(std::numeric_limits<int>::max()) ||
      header.control_length > kMaxControlBytes) {
    return Errno{ENOBUFS};
  }
  std::vector<std::byte> control(header.control_length);
  if (!control.empty()) {
    TRY(task.copy_in(GuestAddr(header.control), std::span(control)));
  }
  TRY(parse_control(task, socket, control, request));

  request.flags = flags;
  note_unsupported_flags(task, flags);
  return socket.send(task, request);
}

// One recvmsg: the receive, then the name, the ancillary data, msg_flags
// and msg_controllen written back into the guest's msghdr at `header_addr`.
Result<size_t> receive_message(kernel::Task& task, net::Socket& socket, GuestAddr header_addr,
                               const GuestMsghdr& header, int flags) {
  if (header.name != 0 && header.name_length < 0) {
    return Errno{EINVAL};
  }
  const std::vector<vfs::GuestSegment> segments = TRY(message_segments(task, header));
  note_unsupported_flags(task, flags);
  net::ReceiveResult result = TRY(socket.receive(task, segments, flags));

  if (header.name != 0) {
    TRY(copy_out_address(task, result.address.value_or(net::SocketAddress{}),
                         GuestAddr(header.name), header_addr + kNameLengthOffset));
  }
  int msg_flags = result.msg_flags;
  ControlWriter control(task, GuestAddr(header.control), header.control_length, msg_flags);
  if (result.credentials) {
    control.put(SOL_SOCKET, SCM_CREDENTIALS, std::as_bytes(std::span(&*result.credentials, 1)));
  }
  control.put_rights(result.rights, (flags & MSG_CMSG_CLOEXEC) != 0);
  TRY(task.copy_out(header_addr + kFlagsOffset, msg_flags));
  TRY(task.copy_out(header_addr + kControlLengthOffset, control.used()));
  return result.length;
}

// The buffer of send, sendto, recv and recvfrom as one segment; EFAULT for
// a range outside user addresses (import_ubuf).
Result<std::vector<vfs::GuestSegment>> single_segment(GuestAddr buffer, uint64_t length) {
  const uint64_t capped = std::min<uint64_t>(length, vfs::kMaxRwCount);
  if (!vfs::guest_range_ok(buffer, capped)) {
    return Errno{EFAULT};
  }
  return std::vector<vfs::GuestSegment>{{buffer, capped}};
}

}  // namespace

// sendto(2), and send(3) with a null address.
Result<int64_t> sys_sendto(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr buffer = args.addr(1);
  const uint64_t length = args.u64(2);
  const int flags = args.i32(3);
  const GuestAddr address = args.addr(4);
  const int address_length = args.i32(5);

  const std::vector<vfs::GuestSegment> segments = TRY(single_segment(buffer, length));
  const SocketRef ref = TRY(socket_at(task, fd));
  net::SendRequest request;
  request.data = segments;
  request.flags = flags;
  if (!address.is_null()) {
    net::SocketAddress name = TRY(copy_in_address(task, address, address_length));
    if (!name.empty()) {
      request.address = std::move(name);
    }
  }
  note_unsupported_flags(task, flags);
  return static_cast<int64_t>(TRY(ref.socket->send(task, request)));
}

// recvfrom(2), and recv(3) with a null address. Ancillary data is dropped.
Result<int64_t> sys_recvfrom(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr buffer = args.addr(1);
  const uint64_t length = args.u64(2);
  const int flags = args.i32(3);
  const GuestAddr address = args.addr(4);
  const GuestAddr length_addr = args.addr(5);

  const std::vector<vfs::GuestSegment> segments = TRY(single_segment(buffer, length));
  const SocketRef ref = TRY(socket_at(task, fd));
  note_unsupported_flags(task, flags);
  const net::ReceiveResult result = TRY(ref.socket->receive(task, segments, flags));
  if (!address.is_null()) {
    TRY(copy_out_address(task, result.address.value_or(net::SocketAddress{}), address,
                         length_addr));
  }
  return static_cast<int64_t>(result.length);
}

// sendmsg(2)
Result<int64_t> sys_sendmsg(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr header_addr = args.addr(1);
  const int flags = args.i32(2);
  const SocketRef ref = TRY(socket_at(task, fd));
  const GuestMsghdr header = TRY(task.copy_in<GuestMsghdr>(header_addr));
  return static_cast<int64_t>(TRY(send_message(task, *ref.socket, header, flags)));
}

// recvmsg(2): MSG_CMSG_CLOEXEC marks received descriptors FD_CLOEXEC.
Result<int64_t> sys_recvmsg(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr header_addr = args.addr(1);
  const int flags = args.i32(2);
  const SocketRef ref = TRY(socket_at(task, fd));
  const GuestMsghdr header = TRY(task.copy_in<GuestMsghdr>(header_addr));
  return static_cast<int64_t>(TRY(receive_message(task, *ref.socket, header_addr, header, flags)));
}

// sendmmsg(2): sends until the vector ends or a send fails, and reports the
// failure only when nothing was sent. At most UIO_MAXIOV messages.
Result<int64_t> sys_sendmmsg(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr vector_addr = args.addr(1);
  const uint32_t count = std::min<uint32_t>(args.u32(2), vfs::kMaxIovecs);
  const int flags = args.i32(3);

  const SocketRef ref = TRY(socket_at(task, fd));
  int64_t sent = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const GuestAddr entry = vector_addr + i * sizeof(GuestMmsghdr);
    auto header = task.copy_in<GuestMsghdr>(entry);
    if (!header.ok()) {
      return sent > 0 ? Result<int64_t>(sent) : header.error();
    }
    auto length = send_message(task, *ref.socket, *header, flags);
    if (!length.ok()) {
      return sent > 0 ? Result<int64_t>(sent) : length.error();
    }
    auto stored = task.copy_out(entry + offsetof(GuestMmsghdr, length),
                                static_cast<uint32_t>(*length));
    if (!stored.ok()) {
      return sent > 0 ? Result<int64_t>(sent) : stored.error();
    }
    ++sent;
  }
  return sent;
}

// recvmmsg(2): MSG_WAITFORONE stops waiting after the first message, and
// the timeout, as in Linux, is only checked after each message.
Result<int64_t> sys_recvmmsg(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr vector_addr = args.addr(1);
  const uint32_t count = args.u32(2);
  int flags = args.i32(3);
  const GuestAddr timeout_addr = args.addr(4);

  std::optional<kernel::TimePoint> deadline;
  if (!timeout_addr.is_null()) {
    const timespec timeout = TRY(task.copy_in<timespec>(timeout_addr));
    if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= 1'000'000'000) {
      return Errno{EINVAL};
    }
    deadline = kernel::monotonic_now() + std::chrono::seconds(timeout.tv_sec) +
               std::chrono::nanoseconds(timeout.tv_nsec);
  }
  const SocketRef ref = TRY(socket_at(task, fd));

  int64_t received = 0;
  std::optional<Errno> failure;
  for (uint32_t i = 0; i < count; ++i) {
    const GuestAddr entry = vector_addr + i * sizeof(GuestMmsghdr);
    auto header = task.copy_in<GuestMsghdr>(entry);
    if (!header.ok()) {
      failure = header.error();
      break;
    }
    auto length = receive_message(task, *ref.socket, entry, *header, flags & ~kMsgWaitforone);
    if (!length.ok()) {
      failure = length.error();
      break;
    }
    auto stored = task.copy_out(entry + offsetof(GuestMmsghdr, length),
                                static_cast<uint32_t>(*length));
    if (!stored.ok()) {
      failure = stored.error();
      break;
    }
    ++received;
    if ((flags & kMsgWaitforone) != 0) {
      flags |= MSG_DONTWAIT;
    }
    if (deadline && kernel::monotonic_now() >= *deadline) {
      break;
    }
  }

  if (deadline) {
    const auto left = std::max(*deadline - kernel::monotonic_now(), kernel::Duration{0});
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
    const timespec remaining{.tv_sec = seconds.count(), .tv_nsec = (left - seconds).count()};
    (void)task.copy_out(timeout_addr, remaining);
  }
  if (received > 0 || !failure) {
    return received;
  }
  return *failure;
}

Result<int64_t> socket_read(kernel::Task& task, net::Socket& socket,
                            std::span<const vfs::GuestSegment> segments) {
  if (net::segments_length(segments) == 0) {
    return 0;
  }
  const net::ReceiveResult result = TRY(socket.receive(task, segments, 0));
  return static_cast<int64_t>(result.length);
}

Result<int64_t> socket_write(kernel::Task& task, net::Socket& socket,
                             std::span<const vfs::GuestSegment> segments) {
  net::SendRequest request;
  request.data = segments;
  return static_cast<int64_t>(TRY(socket.send(task, request)));
}

}  // namespace ward::syscalls
