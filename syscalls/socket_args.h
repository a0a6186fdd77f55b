// Argument helpers shared by the socket syscalls: the socket behind a
// descriptor and addresses copied in and out as Linux's
// move_addr_to_kernel and move_addr_to_user do.
#pragma once

#include <cstdint>

#include "sentry/net/socket.h"
#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

// The socket open at `fd`, and a reference that keeps it open: EBADF when
// nothing is open there, ENOTSOCK for another file.
struct SocketRef {
  vfs::FileRef file;
  net::Socket* socket;
};
Result<SocketRef> socket_at(kernel::Task& task, int fd);

// EINVAL for a negative length or one over sizeof(sockaddr_storage),
// EFAULT for an unreadable address; a zero length gives no bytes.
Result<net::SocketAddress> copy_in_address(kernel::Task& task, GuestAddr address, int length);

// Copies `address` to `buffer`, cut to the length at `length_addr`, and
// stores its whole length there: EINVAL when that length is negative.
Result<void> copy_out_address(kernel::Task& task, const net::SocketAddress& address,
                              GuestAddr buffer, GuestAddr length_addr);

}  // namespace ward::syscalls
