// Handlers of the socket syscalls, and the socket paths of read and write.
// Each handler has the table's Handler signature.
#pragma once

#include <cstdint>
#include <span>

#include "sentry/vfs/task_io.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::net {
class Socket;
}

namespace ward::syscalls {

struct SyscallArgs;

// sys_socket.cc: creating, naming and connecting sockets, and options.
Result<int64_t> sys_socket(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_socketpair(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_bind(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_connect(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_listen(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_accept(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_accept4(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getsockname(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getpeername(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_shutdown(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setsockopt(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getsockopt(kernel::Task& task, const SyscallArgs& args);

// sys_socket_msg.cc: sending and receiving.
Result<int64_t> sys_sendto(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_recvfrom(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sendmsg(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_recvmsg(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_sendmmsg(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_recvmmsg(kernel::Task& task, const SyscallArgs& args);

// read(2) and readv(2) on a socket: a receive without flags, which drops
// any ancillary data. write(2) and writev(2): a send without flags, whose
// EPIPE on a stream raises SIGPIPE.
Result<int64_t> socket_read(kernel::Task& task, net::Socket& socket,
                            std::span<const vfs::GuestSegment> segments);
Result<int64_t> socket_write(kernel::Task& task, net::Socket& socket,
                             std::span<const vfs::GuestSegment> segments);

}  // namespace ward::syscalls
