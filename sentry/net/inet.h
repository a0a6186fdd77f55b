// AF_INET and AF_INET6 sockets on loopback: TCP and UDP kept entirely in
// the sentry (inet_endpoint.h has the model). Guests of one sandbox talk
// over 127.0.0.0/8 and ::1; no guest socket is ever a host socket, and
// every other destination is ENETUNREACH and a compatibility gap.
#pragma once

#include <cstdint>

#include "sentry/vfs/file.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::net {

// Makes an unconnected socket of `family` (AF_INET or AF_INET6), `type`
// (the type bits of socket(2)) and `protocol`, after Linux's inet_create
// and inet6_create: SOCK_STREAM is TCP and SOCK_DGRAM is UDP. Other types
// and protocols fail with Linux's errno (ESOCKTNOSUPPORT, EPROTONOSUPPORT,
// EPERM for SOCK_RAW, EACCES for ICMP datagram sockets) and those Linux
// would serve are recorded as compatibility gaps. `file_flags` may hold
// O_NONBLOCK.
Result<vfs::FileRef> make_inet_socket(kernel::Task& task, int family, int type, int protocol,
                                      uint32_t file_flags);

}  // namespace ward::net
