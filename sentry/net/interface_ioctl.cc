#include "sentry/net/interface_ioctl.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string_view>

#include "compat/ioctl_names.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/net/interfaces.h"

namespace ward::net {
namespace {

constexpr int kCapNetAdmin = 12;

// The requests dev_ioctl serves on every socket.
bool is_device_request(uint32_t request) {
  switch (request) {
    case SIOCGIFNAME:
    case SIOCGIFINDEX:
    case SIOCGIFCONF:
    case SIOCGIFFLAGS:
    case SIOCGIFMETRIC:
    case SIOCGIFMTU:
    case SIOCGIFTXQLEN:
    case SIOCGIFHWADDR:
    case SIOCSIFFLAGS:
    case SIOCSIFMETRIC:
    case SIOCSIFMTU:
    case SIOCSIFHWADDR:
    case SIOCSIFTXQLEN:
    case SIOCSIFNAME:
      return true;
    default:
      return false;
  }
}

// The requests devinet_ioctl serves on AF_INET sockets.
bool is_inet_request(uint32_t request) {
  switch (request) {
    case SIOCGIFADDR:
    case SIOCGIFNETMASK:
    case SIOCGIFBRDADDR:
    case SIOCGIFDSTADDR:
      return true;
    default:
      return false;
  }
}

// The interface an ifreq names, as dev_ioctl reads it: cut at IFNAMSIZ - 1
// bytes, and at a colon, which starts an alias label ("lo:1").
std::string_view interface_name(ifreq& request) {
  request.ifr_name[IFNAMSIZ - 1] = '\0';
  std::string_view name(request.ifr_name);
  return name.substr(0, name.find(':'));
}

sockaddr ipv4_sockaddr(uint32_t address_host_order) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(address_host_order);
  sockaddr generic{};
  std::memcpy(&generic, &address, sizeof(address));
  return generic;
}

void record_ioctl_gap(kernel::Task& task, uint32_t request) {
  const std::string detail = compat::describe_ioctl_request(request);
  if (task.kernel().gaps().record(compat::GapHit{.kind = compat::GapKind::kIoctl,
                                                 .syscall = task.syscall_name(),
                                                 .detail = detail,
                                                 .program = task.thread_group().exe_path(),
                                                 .pid = task.pid(),
                                                 .tid = task.tid()})) {
    task.log(spdlog::level::warn, "unsupported: ioctl {}", detail);
  }
}

// dev_ifconf: one entry per IPv4 address, with the interface's label and
// the address, as many whole entries as ifc_len has room for. A null
// buffer gets the length of all of them instead.
Result<int64_t> list_addresses(kernel::Task& task, GuestAddr arg) {
  ifconf list = TRY(task.copy_in<ifconf>(arg));
  ifreq entry{};
  std::memcpy(entry.ifr_name, kLoopbackName.data(), kLoopbackName.size());
  entry.ifr_addr = ipv4_sockaddr(kLoopbackAddress4);

  const int entry_bytes = static_cast<int>(sizeof(ifreq));
  if (list.ifc_req == nullptr) {
    list.ifc_len = entry_bytes;
  } else if (list.ifc_len >= entry_bytes) {
    TRY(task.copy_out(GuestAddr(reinterpret_cast<uint64_t>(list.ifc_req)), entry));
    list.ifc_len = entry_bytes;
  } else {
    list.ifc_len = 0;
  }
  TRY(task.copy_out(arg, list));
  return 0;
}

// Fills `data` with the attribute of lo that `request` reads.
Result<void> read_attribute(uint32_t request, ifreq& data) {
  if (interface_name(data) != kLoopbackName) {
    return Errno{ENODEV};
  }
  switch (request) {
    case SIOCGIFINDEX:
      data.ifr_ifindex = kLoopbackIndex;
      return ok();
    case SIOCGIFFLAGS:
      // ifr_flags is a short, which cuts IFF_LOWER_UP off.
      data.ifr_flags = static_cast<short>(kLoopbackFlags & 0xffff);
      return ok();
    case SIOCGIFMETRIC:
      data.ifr_metric = 0;
      return ok();
    case SIOCGIFMTU:
      data.ifr_mtu = static_cast<int>(kLoopbackMtu);
      return ok();
    case SIOCGIFTXQLEN:
      data.ifr_qlen = static_cast<int>(kLoopbackTxQueueLength);
      return ok();
    case SIOCGIFHWADDR:
      std::memset(&data.ifr_hwaddr, 0, sizeof(data.ifr_hwaddr));
      data.ifr_hwaddr.sa_family = kLoopbackHardwareType;
      std::memcpy(data.ifr_hwaddr.sa_data, kLoopbackHardwareAddress.data(),
                  kLoopbackHardwareAddress.size());
      return ok();
    // devinet_ioctl for 127.0.0.1/8, which has no broadcast address.
    case SIOCGIFADDR:
    case SIOCGIFDSTADDR:
      data.ifr_addr = ipv4_sockaddr(kLoopbackAddress4);
      return ok();
    case SIOCGIFNETMASK:
      data.ifr_netmask = ipv4_sockaddr(~uint32_t{0} << (32 - kLoopbackPrefix4));
      return ok();
    case SIOCGIFBRDADDR:
      data.ifr_broadaddr = ipv4_sockaddr(INADDR_ANY);
      return ok();
    default:
      return Errno{ENOTTY};
  }
}

bool is_change(uint32_t request) {
  switch (request) {
    case SIOCSIFFLAGS:
    case SIOCSIFMETRIC:
    case SIOCSIFMTU:
    case SIOCSIFHWADDR:
    case SIOCSIFTXQLEN:
    case SIOCSIFNAME:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool is_interface_ioctl(int family, uint32_t request) {
  return is_device_request(request) || (family == AF_INET && is_inet_request(request));
}

Result<int64_t> interface_ioctl(kernel::Task& task, uint32_t request, GuestAddr arg) {
  if (request == SIOCGIFCONF) {
    return list_addresses(task, arg);
  }
  ifreq data = TRY(task.copy_in<ifreq>(arg));
  if (is_change(request)) {
    // NOTE: the sandbox's interfaces cannot change, so a caller with
    // CAP_NET_ADMIN gets EOPNOTSUPP where Linux would apply the change.
    if (!task.creds().has_capability(kCapNetAdmin)) {
      return Errno{EPERM};
    }
    record_ioctl_gap(task, request);
    return Errno{EOPNOTSUPP};
  }
  if (request == SIOCGIFNAME) {
    if (data.ifr_ifindex != kLoopbackIndex) {
      return Errno{ENODEV};
    }
    std::memset(data.ifr_name, 0, sizeof(data.ifr_name));
    std::memcpy(data.ifr_name, kLoopbackName.data(), kLoopbackName.size());
  } else {
    TRY(read_attribute(request, data));
  }
  TRY(task.copy_out(arg, data));
  return 0;
}

}  // namespace ward::net
