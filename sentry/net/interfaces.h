// The network interfaces of a sandbox: the loopback device only, as Linux
// sets it up in a new network namespace once it is up. Netlink
// (netlink_route.cc), the interface ioctls (interface_ioctl.cc) and
// /proc/net (procfs_net.cc) all describe it from these values.
#pragma once

#include <net/if.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace ward::net {

// IFF_LOWER_UP from <linux/if.h>, which <net/if.h> lacks.
inline constexpr uint32_t kIffLowerUp = 0x10000;

inline constexpr int kLoopbackIndex = 1;
inline constexpr std::string_view kLoopbackName = "lo";
inline constexpr uint32_t kLoopbackFlags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING | kIffLowerUp;
// Linux's loopback device: an MTU of 64 KiB and a transmit queue of 1000.
inline constexpr uint32_t kLoopbackMtu = 65536;
inline constexpr uint32_t kLoopbackTxQueueLength = 1000;
// ARPHRD_LOOPBACK, the hardware type, and its all-zero 6-byte address.
inline constexpr uint16_t kLoopbackHardwareType = 772;
inline constexpr std::array<uint8_t, 6> kLoopbackHardwareAddress{};

// 127.0.0.1/8 and ::1/128, both of host scope.
inline constexpr uint32_t kLoopbackAddress4 = INADDR_LOOPBACK;  // host byte order
inline constexpr int kLoopbackPrefix4 = 8;
inline constexpr int kLoopbackPrefix6 = 128;

}  // namespace ward::net
