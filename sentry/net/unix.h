// AF_UNIX sockets: stream, datagram and seqpacket sockets kept entirely in
// the sentry, with filesystem and abstract names, SCM_RIGHTS and
// SCM_CREDENTIALS (unix_endpoint.h has the model).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "sentry/vfs/file.h"

namespace ward::kernel {
class Kernel;
class Task;
}  // namespace ward::kernel

namespace ward::net {

// Makes an unconnected AF_UNIX socket of `type` (SOCK_STREAM, SOCK_DGRAM
// or SOCK_SEQPACKET; the caller maps SOCK_RAW to SOCK_DGRAM as Linux
// does). `file_flags` may hold O_NONBLOCK.
vfs::FileRef make_unix_socket(kernel::Task& task, int type, uint32_t file_flags);

// Makes two AF_UNIX sockets of `type` connected to each other
// (socketpair(2)).
std::pair<vfs::FileRef, vfs::FileRef> make_unix_socketpair(kernel::Task& task, int type,
                                                           uint32_t file_flags);

// The text of /proc/net/unix: a header, then a line per AF_UNIX socket of
// `kernel`'s sandbox.
std::string proc_net_unix_text(kernel::Kernel& kernel);

}  // namespace ward::net
