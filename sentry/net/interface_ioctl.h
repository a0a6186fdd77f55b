// The network interface ioctls (SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFCONF,
// SIOCGIFFLAGS...), which Linux serves on a socket of any family through
// dev_ioctl and, for AF_INET sockets, devinet_ioctl. They describe the
// sandbox's interfaces (interfaces.h).
#pragma once

#include <cstdint>

#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::net {

// Whether `request` is an interface ioctl that a socket of `family`
// serves here rather than through its own ioctl method.
bool is_interface_ioctl(int family, uint32_t request);

// Serves interface ioctl `request` with the struct ifreq or struct ifconf
// at `arg`: EFAULT for a bad pointer, ENODEV for an interface other than
// lo, EPERM for a change without CAP_NET_ADMIN.
Result<int64_t> interface_ioctl(kernel::Task& task, uint32_t request, GuestAddr arg);

}  // namespace ward::net
