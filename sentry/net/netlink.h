// AF_NETLINK sockets, after Linux's net/netlink/af_netlink.c. ward serves
// NETLINK_ROUTE only, from the sentry: dumps and queries of the sandbox's
// links and addresses (netlink_route.h), which are the loopback device's.
// Other protocols fail at socket(2).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "sentry/vfs/file.h"
#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::net {

// The first checks of Linux's netlink_create: ESOCKTNOSUPPORT for a type
// other than SOCK_RAW and SOCK_DGRAM, EPROTONOSUPPORT for a protocol
// outside 0 to 31. Any protocol but NETLINK_ROUTE is EPROTONOSUPPORT
// after them, as Linux returns for a protocol it does not serve.
Result<void> check_netlink_kind(int type, int protocol);

// The name of `protocol` ("NETLINK_AUDIT") when Linux serves it but ward
// does not; nullopt for NETLINK_ROUTE and for numbers Linux leaves unused.
std::optional<std::string_view> unsupported_netlink_protocol(int protocol);

// setsockopt(2) and getsockopt(2) of a netlink socket at a level other
// than SOL_SOCKET, as Linux's netlink_setsockopt and netlink_getsockopt:
// ENOPROTOOPT for a level other than SOL_NETLINK and for an option ward
// lacks, which is recorded as a gap.
Result<int64_t> set_netlink_option(kernel::Task& task, vfs::FileDescription& file, int level,
                                   int name, GuestAddr value_addr, int length);
Result<int64_t> get_netlink_option(kernel::Task& task, vfs::FileDescription& file, int level,
                                   int name, GuestAddr value_addr, GuestAddr length_addr);

// Makes an unbound NETLINK_ROUTE socket of `type` (SOCK_RAW or SOCK_DGRAM,
// which behave alike). `file_flags` may hold O_NONBLOCK.
vfs::FileRef make_netlink_socket(kernel::Task& task, int type, uint32_t file_flags);

}  // namespace ward::net
