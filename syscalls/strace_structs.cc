// The --strace decoders of structs in guest memory, printed in strace's
// abbreviated form. The layouts are x86_64 Linux's, which the host's libc
// types share (the static_asserts check the sizes the kernel uses).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <ctime>

#include "syscalls/strace_detail.h"

namespace ward::syscalls::strace_detail {
namespace {

static_assert(sizeof(struct stat) == 144);
static_assert(sizeof(struct statx) == 256);
static_assert(sizeof(struct timespec) == 16);
static_assert(sizeof(struct timeval) == 16);
static_assert(sizeof(struct iovec) == 16);
static_assert(sizeof(struct msghdr) == 56);
static_assert(sizeof(struct pollfd) == 8);
static_assert(sizeof(struct rlimit) == 16);
static_assert(sizeof(struct epoll_event) == 12);  // packed on x86_64

// The kernel's struct sigaction on x86_64; glibc's own differs.
struct GuestSigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};

constexpr uint64_t kSigDefault = 0;
constexpr uint64_t kSigIgnore = 1;
constexpr uint64_t kSaRestorer = 0x04000000;

// In the order strace prints them.
constexpr FlagName kSigactionFlagNames[] = {
    {0x04000000, "SA_RESTORER"},  {0x08000000, "SA_ONSTACK"},   {0x10000000, "SA_RESTART"},
    {0x40000000, "SA_NODEFER"},   {0x80000000, "SA_RESETHAND"}, {0x4, "SA_SIGINFO"},
    {0x1, "SA_NOCLDSTOP"},        {0x2, "SA_NOCLDWAIT"},        {0x400, "SA_UNSUPPORTED"},
    {0x800, "SA_EXPOSE_TAGBITS"},
};

constexpr int kSignalCount = 64;

constexpr FlagName kStatxMaskNames[] = {
    {0x7ff, "STATX_BASIC_STATS"},
    {0x1, "STATX_TYPE"},
    {0x2, "STATX_MODE"},
    {0x4, "STATX_NLINK"},
    {0x8, "STATX_UID"},
    {0x10, "STATX_GID"},
    {0x20, "STATX_ATIME"},
    {0x40, "STATX_MTIME"},
    {0x80, "STATX_CTIME"},
    {0x100, "STATX_INO"},
    {0x200, "STATX_SIZE"},
    {0x400, "STATX_BLOCKS"},
    {0x800, "STATX_BTIME"},
    {0x1000, "STATX_MNT_ID"},
    {0x2000, "STATX_DIOALIGN"},
    {0x4000, "STATX_MNT_ID_UNIQUE"},
    {0x8000, "STATX_SUBVOL"},
    {0x10000, "STATX_WRITE_ATOMIC"},
    {0x20000, "STATX_DIO_READ_ALIGN"},
};

constexpr FlagName kStatxAttributeNames[] = {
    {0x4, "STATX_ATTR_COMPRESSED"},    {0x10, "STATX_ATTR_IMMUTABLE"},
    {0x20, "STATX_ATTR_APPEND"},       {0x40, "STATX_ATTR_NODUMP"},
    {0x800, "STATX_ATTR_ENCRYPTED"},   {0x1000, "STATX_ATTR_AUTOMOUNT"},
    {0x2000, "STATX_ATTR_MOUNT_ROOT"}, {0x100000, "STATX_ATTR_VERITY"},
    {0x200000, "STATX_ATTR_DAX"},      {0x400000, "STATX_ATTR_WRITE_ATOMIC"},
};

// utimensat's special tv_nsec values.
constexpr int64_t kUtimeNow = (1L << 30) - 1;
constexpr int64_t kUtimeOmit = (1L << 30) - 2;

constexpr ValueName kAddressFamilyNames[] = {
    {0, "AF_UNSPEC"}, {1, "AF_UNIX"},     {2, "AF_INET"},
    {10, "AF_INET6"}, {16, "AF_NETLINK"}, {17, "AF_PACKET"},
};

constexpr FlagName kMsgFlagNames[] = {
    {0x1, "MSG_OOB"},
    {0x2, "MSG_PEEK"},
    {0x4, "MSG_DONTROUTE"},
    {0x8, "MSG_CTRUNC"},
    {0x10, "MSG_PROXY"},
    {0x20, "MSG_TRUNC"},
    {0x40, "MSG_DONTWAIT"},
    {0x80, "MSG_EOR"},
    {0x100, "MSG_WAITALL"},
    {0x200, "MSG_FIN"},
    {0x400, "MSG_SYN"},
    {0x800, "MSG_CONFIRM"},
    {0x1000, "MSG_RST"},
    {0x2000, "MSG_ERRQUEUE"},
    {0x4000, "MSG_NOSIGNAL"},
    {0x8000, "MSG_MORE"},
    {0x10000, "MSG_WAITFORONE"},
    {0x20000, "MSG_SENDPAGE_NOTLAST"},
    {0x40000, "MSG_BATCH"},
    {0x4000000, "MSG_ZEROCOPY"},
    {0x20000000, "MSG_FASTOPEN"},
    {0x40000000, "MSG_CMSG_CLOEXEC"},
};

constexpr FlagName kPollEventNames[] = {
    {0x1, "POLLIN"},       {0x2, "POLLPRI"},      {0x4, "POLLOUT"},     {0x8, "POLLERR"},
    {0x10, "POLLHUP"},     {0x20, "POLLNVAL"},    {0x40, "POLLRDNORM"}, {0x80, "POLLRDBAND"},
    {0x100, "POLLWRNORM"}, {0x200, "POLLWRBAND"}, {0x400, "POLLMSG"},   {0x1000, "POLLREMOVE"},
    {0x2000, "POLLRDHUP"},
};

constexpr FlagName kEpollEventNames[] = {
    {0x1, "EPOLLIN"},
    {0x2, "EPOLLPRI"},
    {0x4, "EPOLLOUT"},
    {0x8, "EPOLLERR"},
    {0x10, "EPOLLHUP"},
    {0x20, "EPOLLNVAL"},
    {0x40, "EPOLLRDNORM"},
    {0x80, "EPOLLRDBAND"},
    {0x100, "EPOLLWRNORM"},
    {0x200, "EPOLLWRBAND"},
    {0x400, "EPOLLMSG"},
    {0x2000, "EPOLLRDHUP"},
    {1U << 28, "EPOLLEXCLUSIVE"},
    {1U << 29, "EPOLLWAKEUP"},
    {1U << 30, "EPOLLONESHOT"},
    {1U << 31, "EPOLLET"},
};

constexpr ValueName kEpollCtlOps[] = {
    {1, "EPOLL_CTL_ADD"},
    {2, "EPOLL_CTL_DEL"},
    {3, "EPOLL_CTL_MOD"},
};

constexpr ValueName kSocketTypes[] = {
    {1, "SOCK_STREAM"},    {2, "SOCK_DGRAM"}, {3, "SOCK_RAW"},     {4, "SOCK_RDM"},
    {5, "SOCK_SEQPACKET"}, {6, "SOCK_DCCP"},  {10, "SOCK_PACKET"},
};
constexpr uint64_t kSocketTypeMask = 0xf;

constexpr FlagName kSocketTypeFlagNames[] = {
    {02000000, "SOCK_CLOEXEC"},
    {04000, "SOCK_NONBLOCK"},
};

// statx's AT_* flags. The sync mode (AT_STATX_*) is a two-bit value in
// 0x6000 rather than a flag, and prints first.
constexpr FlagName kStatxFlagNames[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"},
    {0x800, "AT_NO_AUTOMOUNT"},
    {0x1000, "AT_EMPTY_PATH"},
};
constexpr uint64_t kStatxSyncMask = 0x6000;
constexpr ValueName kStatxSyncModes[] = {
    {0, "AT_STATX_SYNC_AS_STAT"},
    {0x2000, "AT_STATX_FORCE_SYNC"},
    {0x4000, "AT_STATX_DONT_SYNC"},
};

constexpr FlagName kWaitOptionNames[] = {
    {0x1, "WNOHANG"},       {0x2, "WUNTRACED"},       {0x4, "WEXITED"},
    {0x8, "WCONTINUED"},    {0x1000000, "WNOWAIT"},   {0x20000000, "__WNOTHREAD"},
    {0x40000000, "__WALL"}, {0x80000000, "__WCLONE"},
};

constexpr ValueName kSigprocmaskHows[] = {
    {0, "SIG_BLOCK"},
    {1, "SIG_UNBLOCK"},
    {2, "SIG_SETMASK"},
};

constexpr ValueName kRlimitResources[] = {
    {0, "RLIMIT_CPU"},       {1, "RLIMIT_FSIZE"}, {2, "RLIMIT_DATA"},    {3, "RLIMIT_STACK"},
    {4, "RLIMIT_CORE"},      {5, "RLIMIT_RSS"},   {6, "RLIMIT_NPROC"},   {7, "RLIMIT_NOFILE"},
    {8, "RLIMIT_MEMLOCK"},   {9, "RLIMIT_AS"},    {10, "RLIMIT_LOCKS"},  {11, "RLIMIT_SIGPENDING"},
    {12, "RLIMIT_MSGQUEUE"}, {13, "RLIMIT_NICE"}, {14, "RLIMIT_RTPRIO"}, {15, "RLIMIT_RTTIME"},
};

// Reads a struct, or nullopt when any byte of it is unreadable.
template <typename T>
std::optional<T> read_struct(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<std::string> bytes = read_guest_bytes(addr, sizeof(T), memory);
  if (!bytes) {
    return std::nullopt;
  }
  T value;
  std::memcpy(&value, bytes->data(), sizeof(T));
  return value;
}

// Reads element `index` of an array of T at addr.
template <typename T>
std::optional<T> read_element(uint64_t addr, uint64_t index, const GuestMemoryReader& memory) {
  const std::optional<GuestAddr> element = GuestAddr(addr).checked_add(index * sizeof(T));
  if (!element) {
    return std::nullopt;
  }
  return read_struct<T>(element->value(), memory);
}

// Guest bytes as strace prints a buffer: up to kMaxPrintedStringBytes in
// quotes, "..." after a longer one, and the address when unreadable.
std::string format_guest_buffer(uint64_t addr, uint64_t length, const GuestMemoryReader& memory) {
  if (addr == 0 && length == 0) {
    return "NULL";
  }
  const size_t read_length = std::min<uint64_t>(length, kMaxPrintedStringBytes);
  const std::optional<std::string> bytes = read_guest_bytes(addr, read_length, memory);
  if (!bytes) {
    return pointer(addr);
  }
  return length > kMaxPrintedStringBytes ? quote(*bytes) + "..." : quote(*bytes);
}

std::string format_timespec_fields(const struct timespec& time) {
  return fmt::format("{{tv_sec={}, tv_nsec={}}}", time.tv_sec, time.tv_nsec);
}

std::string format_address_family(int family) {
  if (const ValueName* match = find_name(kAddressFamilyNames, family)) {
    return std::string(match->name);
  }
  return fmt::format("{}", family);
}

// sun_path up to its NUL or the address length. An abstract name (leading
// NUL) prints with '@' in front, as strace prints it.
std::string format_unix_path(std::string_view path) {
  if (path.empty()) {
    return "";
  }
  if (path.front() == '\0') {
    return fmt::format(", sun_path=@{}", quote(path.substr(1)));
  }
  return fmt::format(", sun_path={}", quote(path.substr(0, path.find('\0'))));
}

std::string format_sockaddr_bytes(std::string_view bytes) {
  uint16_t family = 0;
  std::memcpy(&family, bytes.data(), sizeof(family));
  const std::string family_text = format_address_family(family);

  if (family == AF_UNIX) {
    return fmt::format("{{sa_family={}{}}}", family_text,
                       format_unix_path(bytes.substr(offsetof(sockaddr_un, sun_path))));
  }
  if (family == AF_INET && bytes.size() >= sizeof(sockaddr_in)) {
    sockaddr_in address{};
    std::memcpy(&address, bytes.data(), sizeof(address));
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &address.sin_addr, text, sizeof(text));
    return fmt::format("{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"{}\")}}",
                       ntohs(address.sin_port), text);
  }
  if (family == AF_INET6 && bytes.size() >= sizeof(sockaddr_in6)) {
    sockaddr_in6 address{};
    std::memcpy(&address, bytes.data(), sizeof(address));
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &address.sin6_addr, text, sizeof(text));
    return fmt::format(
        "{{sa_family=AF_INET6, sin6_port=htons({}), sin6_flowinfo=htonl({}), "
        "inet_pton(AF_INET6, \"{}\", &sin6_addr), sin6_scope_id={}}}",
        ntohs(address.sin6_port), ntohl(address.sin6_flowinfo), text, address.sin6_scope_id);
  }
  return fmt::format("{{sa_family={}, sa_data={}}}", family_text,
                     format_buffer(bytes.substr(sizeof(family))));
}

std::string format_rlimit_value(uint64_t value, std::string_view infinity_name) {
  if (value == RLIM_INFINITY) {
    return std::string(infinity_name);
  }
  if (value > 1024 && value % 1024 == 0) {
    return fmt::format("{}*1024", value / 1024);
  }
  return fmt::format("{}", value);
}

// Signal names inside a set drop the "SIG" prefix: [INT TERM RTMIN RT_1].
std::string signal_name_in_set(int signal) {
  const std::string name = format_signal(static_cast<uint64_t>(signal));
  return name.starts_with("SIG") ? name.substr(3) : name;
}

std::string format_sigset_bits(uint64_t set) {
  // strace prints a set with more than half the signals as the complement.
  const bool complement = std::popcount(set) > kSignalCount / 2;
  const uint64_t printed = complement ? ~set : set;

  std::vector<std::string> names;
  for (int signal = 1; signal <= kSignalCount; ++signal) {
    if ((printed & (uint64_t{1} << (signal - 1))) != 0) {
      names.push_back(signal_name_in_set(signal));
    }
  }
  return fmt::format("{}[{}]", complement ? "~" : "", fmt::join(names, " "));
}

std::string format_epoll_event_fields(const epoll_event& event) {
  const uint64_t data = event.data.u64;
  return fmt::format("{{events={}, data={{u32={}, u64={}}}}}",
                     format_flags(event.events, kEpollEventNames), static_cast<uint32_t>(data),
                     data);
}

}  // namespace

std::optional<std::string> read_guest_bytes(uint64_t addr, size_t size,
                                            const GuestMemoryReader& memory) {
  if (addr == 0) {
    return std::nullopt;
  }
  if (size == 0) {
    return std::string();
  }
  return memory.read_bytes(GuestAddr(addr), size);
}

std::optional<int32_t> read_guest_int(uint64_t addr, const GuestMemoryReader& memory) {
  return read_struct<int32_t>(addr, memory);
}

std::string format_guest_bytes(uint64_t addr, uint64_t length, const GuestMemoryReader& memory) {
  return format_guest_buffer(addr, length, memory);
}

std::string format_stat(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<struct stat> st = read_struct<struct stat>(addr, memory);
  if (!st) {
    return pointer(addr);
  }

  // The abbreviated form: a device's number in place of its size.
  const std::string mode = format_mode(st->st_mode);
  if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
    return fmt::format("{{st_mode={}, st_rdev=makedev({:#x}, {:#x}), ...}}", mode,
                       major(st->st_rdev), minor(st->st_rdev));
  }
  return fmt::format("{{st_mode={}, st_size={}, ...}}", mode, st->st_size);
}

std::string format_statx(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<struct statx> stx = read_struct<struct statx>(addr, memory);
  if (!stx) {
    return pointer(addr);
  }
  return fmt::format("{{stx_mask={}, stx_attributes={}, stx_mode={}, stx_size={}, ...}}",
                     format_flags(stx->stx_mask, kStatxMaskNames),
                     format_flags(stx->stx_attributes, kStatxAttributeNames),
                     format_mode(stx->stx_mode), stx->stx_size);
}

std::string format_timespec(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<struct timespec> time = read_struct<struct timespec>(addr, memory);
  return time ? format_timespec_fields(*time) : pointer(addr);
}

std::string format_timespec_pair(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<std::array<struct timespec, 2>> times =
      read_struct<std::array<struct timespec, 2>>(addr, memory);
  if (!times) {
    return pointer(addr);
  }

  std::vector<std::string> printed;
  for (const struct timespec& time : *times) {
    if (time.tv_nsec == kUtimeNow) {
      printed.emplace_back("UTIME_NOW");
    } else if (time.tv_nsec == kUtimeOmit) {
      printed.emplace_back("UTIME_OMIT");
    } else {
      printed.push_back(format_timespec_fields(time));
    }
  }
  return fmt::format("[{}]", fmt::join(printed, ", "));
}

std::string format_timeval(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<struct timeval> time = read_struct<struct timeval>(addr, memory);
  if (!time) {
    return pointer(addr);
  }
  return fmt::format("{{tv_sec={}, tv_usec={}}}", time->tv_sec, time->tv_usec);
}

std::string format_sockaddr(uint64_t addr, uint64_t length, const GuestMemoryReader& memory) {
  // The kernel copies at most a sockaddr_storage, and nothing shorter than
  // sa_family has a family to decode.
  const uint32_t address_length = static_cast<uint32_t>(length);
  if (address_length < sizeof(sa_family_t)) {
    return pointer(addr);
  }
  const size_t read_length = std::min<size_t>(address_length, sizeof(sockaddr_storage));
  const std::optional<std::string> bytes = read_guest_bytes(addr, read_length, memory);
  return bytes ? format_sockaddr_bytes(*bytes) : pointer(addr);
}

std::string format_iovec_array(uint64_t addr, uint64_t count, std::optional<uint64_t> data_limit,
                               const GuestMemoryReader& memory) {
  if (addr == 0) {
    return "NULL";
  }

  std::vector<std::string> elements;
  for (uint64_t index = 0; index < count; ++index) {
    if (index == kMaxPrintedStringBytes) {
      elements.emplace_back("...");
      break;
    }
    const std::optional<struct iovec> iov = read_element<struct iovec>(addr, index, memory);
    if (!iov) {
      if (index == 0) {
        return pointer(addr);
      }
      elements.emplace_back("...");
      break;
    }

    const uint64_t base = reinterpret_cast<uint64_t>(iov->iov_base);
    uint64_t shown_length = iov->iov_len;
    if (data_limit) {
      shown_length = std::min(shown_length, *data_limit);
      *data_limit -= shown_length;
    }
    elements.push_back(fmt::format("{{iov_base={}, iov_len={}}}",
                                   format_guest_buffer(base, shown_length, memory), iov->iov_len));
  }
  return fmt::format("[{}]", fmt::join(elements, ", "));
}

std::string format_msghdr(uint64_t addr, std::optional<uint64_t> data_limit,
                          const GuestMemoryReader& memory) {
  const std::optional<struct msghdr> header = read_struct<struct msghdr>(addr, memory);
  if (!header) {
    return pointer(addr);
  }

  const uint64_t name = reinterpret_cast<uint64_t>(header->msg_name);
  const std::string name_text =
      name == 0 ? "NULL" : format_sockaddr(name, header->msg_namelen, memory);
  const std::string iov_text = format_iovec_array(reinterpret_cast<uint64_t>(header->msg_iov),
                                                  header->msg_iovlen, data_limit, memory);
  // NOTE: control messages are not decoded. msg_control prints as its
  // address when the buffer is set.
  std::string control_text;
  if (header->msg_control != nullptr) {
    control_text =
        fmt::format("msg_control={}, ", pointer(reinterpret_cast<uint64_t>(header->msg_control)));
  }
  return fmt::format(
      "{{msg_name={}, msg_namelen={}, msg_iov={}, msg_iovlen={}, {}msg_controllen={}, "
      "msg_flags={}}}",
      name_text, header->msg_namelen, iov_text, header->msg_iovlen, control_text,
      header->msg_controllen, format_msg_flags(static_cast<uint32_t>(header->msg_flags)));
}

std::string format_msg_flags(uint64_t value) {
  return format_flags(low_bits(value), kMsgFlagNames);
}

std::string format_pollfd_array(uint64_t addr, uint64_t count, const GuestMemoryReader& memory) {
  if (addr == 0) {
    return "NULL";
  }

  std::vector<std::string> elements;
  for (uint64_t index = 0; index < count; ++index) {
    if (index == kMaxPrintedStringBytes) {
      elements.emplace_back("...");
      break;
    }
    const std::optional<struct pollfd> entry = read_element<struct pollfd>(addr, index, memory);
    if (!entry) {
      if (index == 0) {
        return pointer(addr);
      }
      elements.emplace_back("...");
      break;
    }
    elements.push_back(
        fmt::format("{{fd={}, events={}}}", entry->fd,
                    format_flags(static_cast<uint16_t>(entry->events), kPollEventNames)));
  }
  return fmt::format("[{}]", fmt::join(elements, ", "));
}

std::optional<std::string> format_poll_revents(uint64_t addr, uint64_t count,
                                               const GuestMemoryReader& memory) {
  std::vector<std::string> elements;
  for (uint64_t index = 0; index < count && index < kMaxPrintedStringBytes; ++index) {
    const std::optional<struct pollfd> entry = read_element<struct pollfd>(addr, index, memory);
    if (!entry) {
      return std::nullopt;
    }
    if (entry->revents != 0) {
      elements.push_back(
          fmt::format("{{fd={}, revents={}}}", entry->fd,
                      format_flags(static_cast<uint16_t>(entry->revents), kPollEventNames)));
    }
  }
  return fmt::format("[{}]", fmt::join(elements, ", "));
}

std::string format_rlimit(uint64_t addr, std::string_view infinity_name,
                          const GuestMemoryReader& memory) {
  const std::optional<struct rlimit> limit = read_struct<struct rlimit>(addr, memory);
  if (!limit) {
    return pointer(addr);
  }
  return fmt::format("{{rlim_cur={}, rlim_max={}}}",
                     format_rlimit_value(limit->rlim_cur, infinity_name),
                     format_rlimit_value(limit->rlim_max, infinity_name));
}

std::string format_rlimit_resource(uint64_t value) {
  return format_value(kRlimitResources, low_int(value), "RLIMIT_");
}

std::string format_sigaction(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<GuestSigaction> action = read_struct<GuestSigaction>(addr, memory);
  if (!action) {
    return pointer(addr);
  }

  std::string handler;
  if (action->handler == kSigDefault) {
    handler = "SIG_DFL";
  } else if (action->handler == kSigIgnore) {
    handler = "SIG_IGN";
  } else {
    handler = hex(action->handler);
  }
  std::string text = fmt::format("{{sa_handler={}, sa_mask={}, sa_flags={}", handler,
                                 format_sigset_bits(action->mask),
                                 format_flags(action->flags, kSigactionFlagNames));
  if ((action->flags & kSaRestorer) != 0) {
    text += fmt::format(", sa_restorer={}", pointer(action->restorer));
  }
  return text + "}";
}

std::string format_sigset(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<uint64_t> set = read_struct<uint64_t>(addr, memory);
  return set ? format_sigset_bits(*set) : pointer(addr);
}

std::string format_sigprocmask_how(uint64_t value) {
  return format_value(kSigprocmaskHows, low_int(value), "SIG_");
}

std::string format_epoll_event(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<epoll_event> event = read_struct<epoll_event>(addr, memory);
  return event ? format_epoll_event_fields(*event) : pointer(addr);
}

std::string format_epoll_event_array(uint64_t addr, uint64_t count,
                                     const GuestMemoryReader& memory) {
  std::vector<std::string> elements;
  for (uint64_t index = 0; index < count; ++index) {
    if (index == kMaxPrintedStringBytes) {
      elements.emplace_back("...");
      break;
    }
    const std::optional<epoll_event> event = read_element<epoll_event>(addr, index, memory);
    if (!event) {
      if (index == 0) {
        return pointer(addr);
      }
      elements.emplace_back("...");
      break;
    }
    elements.push_back(format_epoll_event_fields(*event));
  }
  return fmt::format("[{}]", fmt::join(elements, ", "));
}

std::string format_epoll_ctl_op(uint64_t value) {
  return format_value(kEpollCtlOps, low_int(value), "EPOLL_CTL_");
}

std::string format_socket_family(uint64_t value) {
  return format_value(kAddressFamilyNames, low_int(value), "AF_");
}

std::string format_socket_type(uint64_t value) {
  const uint64_t type = low_bits(value);
  std::vector<std::string> parts;
  parts.push_back(
      format_value(kSocketTypes, static_cast<int32_t>(type & kSocketTypeMask), "SOCK_"));
  const uint64_t unknown_bits =
      append_flag_names(type & ~kSocketTypeMask, kSocketTypeFlagNames, parts);
  if (unknown_bits != 0) {
    parts.push_back(hex(unknown_bits));
  }
  return join_flags(parts);
}

std::string format_statx_flags(uint64_t value) {
  const uint64_t flags = low_bits(value);
  std::vector<std::string> parts;
  parts.push_back(
      format_value(kStatxSyncModes, static_cast<int32_t>(flags & kStatxSyncMask), "AT_STATX_"));
  const uint64_t unknown_bits = append_flag_names(flags & ~kStatxSyncMask, kStatxFlagNames, parts);
  if (unknown_bits != 0) {
    parts.push_back(hex(unknown_bits));
  }
  return join_flags(parts);
}

std::string format_statx_mask(uint64_t value) {
  return format_flags(low_bits(value), kStatxMaskNames);
}

std::string format_wait_options(uint64_t value) {
  return format_flags(low_bits(value), kWaitOptionNames);
}

std::string format_wait_status(uint64_t addr, const GuestMemoryReader& memory) {
  const std::optional<int32_t> status = read_guest_int(addr, memory);
  if (!status) {
    return pointer(addr);
  }

  const int value = *status;
  std::string text;
  if (WIFEXITED(value)) {
    text = fmt::format("WIFEXITED(s) && WEXITSTATUS(s) == {}", WEXITSTATUS(value));
  } else if (WIFSIGNALED(value)) {
    text = fmt::format("WIFSIGNALED(s) && WTERMSIG(s) == {}", format_signal(WTERMSIG(value)));
    if (WCOREDUMP(value)) {
      text += " && WCOREDUMP(s)";
    }
  } else if (WIFSTOPPED(value)) {
    text = fmt::format("WIFSTOPPED(s) && WSTOPSIG(s) == {}", format_signal(WSTOPSIG(value)));
  } else if (WIFCONTINUED(value)) {
    text = "WIFCONTINUED(s)";
  } else {
    text = hex(static_cast<uint32_t>(value));
  }
  return fmt::format("[{{{}}}]", text);
}

}  // namespace ward::syscalls::strace_detail
