// Decoders for --strace. The constants are the Linux x86_64 UAPI values,
// written out here rather than taken from the host's libc headers, which
// lag behind the kernel and differ from it in places (glibc defines
// O_LARGEFILE as 0 on x86_64, for example).
#include "syscalls/strace.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "syscalls/strace_detail.h"
#include "ward/errno_name.h"

namespace ward::syscalls {
namespace {

using namespace strace_detail;

// ---------------------------------------------------------------------------
// Linux x86_64 constants, each table in the order strace prints the names.

constexpr int kAtFdcwd = -100;

// PATH_MAX, the longest path the kernel copies in. Longer paths are cut.
constexpr size_t kPathMaxBytes = 4096;

// Stop counting envp entries here, so that a hostile or corrupt array costs
// a bounded number of guest memory reads.
constexpr size_t kMaxCountedArrayElements = 65536;

constexpr uint64_t kOpenAccessModeMask = 03;
constexpr uint64_t kOpenCreate = 0100;
constexpr uint64_t kOpenTmpfileBit = 020000000;  // __O_TMPFILE

constexpr ValueName kOpenAccessModes[] = {
    {0, "O_RDONLY"},
    {1, "O_WRONLY"},
    {2, "O_RDWR"},
    {3, "O_ACCMODE"},
};

// Multi-bit names (O_SYNC, O_TMPFILE) come before the bits they contain.
constexpr FlagName kOpenFlagNames[] = {
    {0100, "O_CREAT"},        {0200, "O_EXCL"},           {0400, "O_NOCTTY"},
    {01000, "O_TRUNC"},       {02000, "O_APPEND"},        {04000, "O_NONBLOCK"},
    {04010000, "O_SYNC"},     {04000000, "__O_SYNC"},     {010000, "O_DSYNC"},
    {040000, "O_DIRECT"},     {0100000, "O_LARGEFILE"},   {0400000, "O_NOFOLLOW"},
    {01000000, "O_NOATIME"},  {02000000, "O_CLOEXEC"},    {010000000, "O_PATH"},
    {020200000, "O_TMPFILE"}, {020000000, "__O_TMPFILE"}, {0200000, "O_DIRECTORY"},
    {020000, "O_ASYNC"},
};

constexpr FlagName kAtFlagNames[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x400, "AT_SYMLINK_FOLLOW"},    {0x800, "AT_NO_AUTOMOUNT"},
    {0x1000, "AT_EMPTY_PATH"},      {0x2000, "AT_STATX_FORCE_SYNC"}, {0x4000, "AT_STATX_DONT_SYNC"},
    {0x8000, "AT_RECURSIVE"},       {0x10000, "AT_EXECVE_CHECK"},
};

constexpr FlagName kUnlinkatFlagNames[] = {
    {0x200, "AT_REMOVEDIR"},
};

constexpr FlagName kFaccessatFlagNames[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"},
    {0x200, "AT_EACCESS"},
    {0x1000, "AT_EMPTY_PATH"},
};

constexpr FlagName kProtFlagNames[] = {
    {0x1, "PROT_READ"},
    {0x2, "PROT_WRITE"},
    {0x4, "PROT_EXEC"},
    {0x8, "PROT_SEM"},
    {0x01000000, "PROT_GROWSDOWN"},
    {0x02000000, "PROT_GROWSUP"},
};

constexpr uint64_t kMapTypeMask = 0x0f;
constexpr uint64_t kMapHugetlb = 0x40000;
constexpr int kMapHugeShift = 26;
constexpr uint64_t kMapHugeSizeMask = 0x3f;  // log2 of the huge page size, above kMapHugeShift

constexpr ValueName kMapTypes[] = {
    {0x1, "MAP_SHARED"},
    {0x2, "MAP_PRIVATE"},
    {0x3, "MAP_SHARED_VALIDATE"},
    {0x8, "MAP_DROPPABLE"},
};

// MAP_UNINITIALIZED shares bit 26 with the huge page size, which the kernel
// reads only with MAP_HUGETLB.
constexpr FlagName kMapFlagNames[] = {
    {0x10, "MAP_FIXED"},      {0x20, "MAP_ANONYMOUS"},
    {0x40, "MAP_32BIT"},      {0x100, "MAP_GROWSDOWN"},
    {0x800, "MAP_DENYWRITE"}, {0x1000, "MAP_EXECUTABLE"},
    {0x2000, "MAP_LOCKED"},   {0x4000, "MAP_NORESERVE"},
    {0x8000, "MAP_POPULATE"}, {0x10000, "MAP_NONBLOCK"},
    {0x20000, "MAP_STACK"},   {0x40000, "MAP_HUGETLB"},
    {0x80000, "MAP_SYNC"},    {0x100000, "MAP_FIXED_NOREPLACE"},
};
constexpr FlagName kMapUninitialized = {0x4000000, "MAP_UNINITIALIZED"};

constexpr ValueName kClockNames[] = {
    {0, "CLOCK_REALTIME"},          {1, "CLOCK_MONOTONIC"},     {2, "CLOCK_PROCESS_CPUTIME_ID"},
    {3, "CLOCK_THREAD_CPUTIME_ID"}, {4, "CLOCK_MONOTONIC_RAW"}, {5, "CLOCK_REALTIME_COARSE"},
    {6, "CLOCK_MONOTONIC_COARSE"},  {7, "CLOCK_BOOTTIME"},      {8, "CLOCK_REALTIME_ALARM"},
    {9, "CLOCK_BOOTTIME_ALARM"},    {10, "CLOCK_SGI_CYCLE"},    {11, "CLOCK_TAI"},
};

// A negative clock id names the CPU-time clock of a process or thread, or
// a dynamic clock behind a file descriptor (a PTP device). The low three
// bits select the kind, and the other bits are the bitwise NOT of the pid
// or fd.
constexpr int32_t kCpuClockWhichMask = 3;
constexpr int32_t kCpuClockPerThreadBit = 4;
constexpr int32_t kClockFdTag = 3;  // CLOCKFD, in the three low bits
constexpr int32_t kClockTypeMask = 7;

constexpr std::string_view kCpuClockNames[] = {"CPUCLOCK_PROF", "CPUCLOCK_VIRT", "CPUCLOCK_SCHED"};

constexpr ValueName kWhenceNames[] = {
    {0, "SEEK_SET"}, {1, "SEEK_CUR"}, {2, "SEEK_END"}, {3, "SEEK_DATA"}, {4, "SEEK_HOLE"},
};

constexpr int64_t kFcntlDupfd = 0;
constexpr int64_t kFcntlGetfd = 1;
constexpr int64_t kFcntlSetfd = 2;
constexpr int64_t kFcntlGetfl = 3;
constexpr int64_t kFcntlSetfl = 4;
constexpr int64_t kFcntlSetown = 8;
constexpr int64_t kFcntlGetown = 9;
constexpr int64_t kFcntlSetsig = 10;
constexpr int64_t kFcntlGetsig = 11;
constexpr int64_t kFcntlGetlease = 1025;
constexpr int64_t kFcntlNotify = 1026;
constexpr int64_t kFcntlDupfdQuery = 1027;
constexpr int64_t kFcntlDupfdCloexec = 1030;
constexpr int64_t kFcntlSetpipeSize = 1031;
constexpr int64_t kFcntlGetpipeSize = 1032;
constexpr int64_t kFcntlGetSeals = 1034;

constexpr ValueName kFcntlCommands[] = {
    {0, "F_DUPFD"},
    {1, "F_GETFD"},
    {2, "F_SETFD"},
    {3, "F_GETFL"},
    {4, "F_SETFL"},
    {5, "F_GETLK"},
    {6, "F_SETLK"},
    {7, "F_SETLKW"},
    {8, "F_SETOWN"},
    {9, "F_GETOWN"},
    {10, "F_SETSIG"},
    {11, "F_GETSIG"},
    {15, "F_SETOWN_EX"},
    {16, "F_GETOWN_EX"},
    {17, "F_GETOWNER_UIDS"},
    {36, "F_OFD_GETLK"},
    {37, "F_OFD_SETLK"},
    {38, "F_OFD_SETLKW"},
    {1024, "F_SETLEASE"},
    {1025, "F_GETLEASE"},
    {1026, "F_NOTIFY"},
    {1027, "F_DUPFD_QUERY"},
    {1028, "F_CREATED_QUERY"},
    {1029, "F_CANCELLK"},
    {1030, "F_DUPFD_CLOEXEC"},
    {1031, "F_SETPIPE_SZ"},
    {1032, "F_GETPIPE_SZ"},
    {1033, "F_ADD_SEALS"},
    {1034, "F_GET_SEALS"},
    {1035, "F_GET_RW_HINT"},
    {1036, "F_SET_RW_HINT"},
    {1037, "F_GET_FILE_RW_HINT"},
    {1038, "F_SET_FILE_RW_HINT"},
};

constexpr FlagName kFdFlagNames[] = {
    {1, "FD_CLOEXEC"},
};

constexpr ValueName kIoctlRequests[] = {
    {0x5401, "TCGETS"},
    {0x5402, "TCSETS"},
    {0x5403, "TCSETSW"},
    {0x5404, "TCSETSF"},
    {0x5405, "TCGETA"},
    {0x5406, "TCSETA"},
    {0x5407, "TCSETAW"},
    {0x5408, "TCSETAF"},
    {0x5409, "TCSBRK"},
    {0x540a, "TCXONC"},
    {0x540b, "TCFLSH"},
    {0x540c, "TIOCEXCL"},
    {0x540d, "TIOCNXCL"},
    {0x540e, "TIOCSCTTY"},
    {0x540f, "TIOCGPGRP"},
    {0x5410, "TIOCSPGRP"},
    {0x5411, "TIOCOUTQ"},
    {0x5412, "TIOCSTI"},
    {0x5413, "TIOCGWINSZ"},
    {0x5414, "TIOCSWINSZ"},
    {0x5415, "TIOCMGET"},
    {0x5416, "TIOCMBIS"},
    {0x5417, "TIOCMBIC"},
    {0x5418, "TIOCMSET"},
    {0x5419, "TIOCGSOFTCAR"},
    {0x541a, "TIOCSSOFTCAR"},
    {0x541b, "FIONREAD"},
    {0x541c, "TIOCLINUX"},
    {0x541d, "TIOCCONS"},
    {0x541e, "TIOCGSERIAL"},
    {0x541f, "TIOCSSERIAL"},
    {0x5420, "TIOCPKT"},
    {0x5421, "FIONBIO"},
    {0x5422, "TIOCNOTTY"},
    {0x5423, "TIOCSETD"},
    {0x5424, "TIOCGETD"},
    {0x5425, "TCSBRKP"},
    {0x5427, "TIOCSBRK"},
    {0x5428, "TIOCCBRK"},
    {0x5429, "TIOCGSID"},
    {0x802c542a, "TCGETS2"},
    {0x402c542b, "TCSETS2"},
    {0x402c542c, "TCSETSW2"},
    {0x402c542d, "TCSETSF2"},
    {0x80045430, "TIOCGPTN"},
    {0x40045431, "TIOCSPTLCK"},
    {0x80045432, "TIOCGDEV"},
    {0x40045436, "TIOCSIG"},
    {0x5437, "TIOCVHANGUP"},
    {0x80045438, "TIOCGPKT"},
    {0x80045439, "TIOCGPTLCK"},
    {0x80045440, "TIOCGEXCL"},
    {0x5441, "TIOCGPTPEER"},
    {0x5450, "FIONCLEX"},
    {0x5451, "FIOCLEX"},
    {0x5452, "FIOASYNC"},
    {0x5460, "FIOQSIZE"},
    {0x8901, "FIOSETOWN"},
    {0x8903, "FIOGETOWN"},
    {0x8905, "SIOCATMARK"},
    {0x8912, "SIOCGIFCONF"},
    {0x8913, "SIOCGIFFLAGS"},
    {0x8914, "SIOCSIFFLAGS"},
    {0x8915, "SIOCGIFADDR"},
    {0x8921, "SIOCGIFMTU"},
    {0x8927, "SIOCGIFHWADDR"},
    {0x8933, "SIOCGIFINDEX"},
    {0x1, "FIBMAP"},
    {0x2, "FIGETBSZ"},
    {0x40049409, "FICLONE"},
    {0x4020940d, "FICLONERANGE"},
    {0x80086601, "FS_IOC_GETFLAGS"},
    {0x40086602, "FS_IOC_SETFLAGS"},
    {0x80081272, "BLKGETSIZE64"},
    {0x1260, "BLKGETSIZE"},
    {0x80045200, "RNDGETENTCNT"},
};

// Exit signal of clone(2), in the low byte of its flags.
constexpr uint64_t kCloneSignalMask = 0xff;

constexpr FlagName kCloneFlagNames[] = {
    {0x100, "CLONE_VM"},
    {0x200, "CLONE_FS"},
    {0x400, "CLONE_FILES"},
    {0x800, "CLONE_SIGHAND"},
    {0x1000, "CLONE_PIDFD"},
    {0x2000, "CLONE_PTRACE"},
    {0x4000, "CLONE_VFORK"},
    {0x8000, "CLONE_PARENT"},
    {0x10000, "CLONE_THREAD"},
    {0x20000, "CLONE_NEWNS"},
    {0x40000, "CLONE_SYSVSEM"},
    {0x80000, "CLONE_SETTLS"},
    {0x100000, "CLONE_PARENT_SETTID"},
    {0x200000, "CLONE_CHILD_CLEARTID"},
    {0x400000, "CLONE_DETACHED"},
    {0x800000, "CLONE_UNTRACED"},
    {0x1000000, "CLONE_CHILD_SETTID"},
    {0x2000000, "CLONE_NEWCGROUP"},
    {0x4000000, "CLONE_NEWUTS"},
    {0x8000000, "CLONE_NEWIPC"},
    {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"},
    {0x40000000, "CLONE_NEWNET"},
    {0x80000000, "CLONE_IO"},
    {0x100000000, "CLONE_CLEAR_SIGHAND"},
    {0x200000000, "CLONE_INTO_CGROUP"},
};

// unshare and setns take CLONE_NEWTIME in the bit clone(2) uses for the
// exit signal.
constexpr FlagName kCloneNewTime = {0x80, "CLONE_NEWTIME"};

constexpr int64_t kFutexPrivateFlag = 128;
constexpr int64_t kFutexClockRealtime = 256;
constexpr uint64_t kFutexBitsetMatchAny = 0xffffffff;

enum FutexCommand : int64_t {
  kFutexWait = 0,
  kFutexWake = 1,
  kFutexFd = 2,
  kFutexRequeue = 3,
  kFutexCmpRequeue = 4,
  kFutexWakeOp = 5,
  kFutexLockPi = 6,
  kFutexUnlockPi = 7,
  kFutexTrylockPi = 8,
  kFutexWaitBitset = 9,
  kFutexWakeBitset = 10,
  kFutexWaitRequeuePi = 11,
  kFutexCmpRequeuePi = 12,
  kFutexLockPi2 = 13,
};

constexpr ValueName kFutexCommands[] = {
    {kFutexWait, "FUTEX_WAIT"},
    {kFutexWake, "FUTEX_WAKE"},
    {kFutexFd, "FUTEX_FD"},
    {kFutexRequeue, "FUTEX_REQUEUE"},
    {kFutexCmpRequeue, "FUTEX_CMP_REQUEUE"},
    {kFutexWakeOp, "FUTEX_WAKE_OP"},
    {kFutexLockPi, "FUTEX_LOCK_PI"},
    {kFutexUnlockPi, "FUTEX_UNLOCK_PI"},
    {kFutexTrylockPi, "FUTEX_TRYLOCK_PI"},
    {kFutexWaitBitset, "FUTEX_WAIT_BITSET"},
    {kFutexWakeBitset, "FUTEX_WAKE_BITSET"},
    {kFutexWaitRequeuePi, "FUTEX_WAIT_REQUEUE_PI"},
    {kFutexCmpRequeuePi, "FUTEX_CMP_REQUEUE_PI"},
    {kFutexLockPi2, "FUTEX_LOCK_PI2"},
};

constexpr FlagName kAccessModeNames[] = {
    {4, "R_OK"},
    {2, "W_OK"},
    {1, "X_OK"},
};

// ---------------------------------------------------------------------------
// Strings in guest memory.

// Returns a guest string in quotes, cut after max_bytes with "..." after
// the closing quote. A null pointer prints as NULL, and an unreadable one as
// its address in hex.
std::string format_guest_string(uint64_t addr, size_t max_bytes, const GuestMemoryReader& memory) {
  if (addr == 0) {
    return "NULL";
  }

  // The byte beyond max_bytes distinguishes a string of exactly max_bytes
  // from a longer one.
  const std::optional<std::string> text = memory.read_string(GuestAddr(addr), max_bytes + 1);
  if (!text) {
    return hex(addr);
  }

  if (text->size() > max_bytes) {
    return quote(std::string_view(*text).substr(0, max_bytes)) + "...";
  }
  return quote(*text);
}

std::optional<uint64_t> read_array_element(uint64_t array_addr, size_t index,
                                           const GuestMemoryReader& memory) {
  const std::optional<GuestAddr> element_addr =
      GuestAddr(array_addr).checked_add(index * sizeof(uint64_t));
  if (!element_addr) {
    return std::nullopt;
  }
  return memory.read_word(*element_addr);
}

// argv as strace prints it: `["ls", "-la"]`, with "..." after the first
// kMaxPrintedStringBytes elements. An element slot that cannot be read ends
// the list with "???".
std::string format_string_array(uint64_t addr, const GuestMemoryReader& memory) {
  if (addr == 0) {
    return "NULL";
  }

  std::vector<std::string> elements;
  for (size_t index = 0;; ++index) {
    const std::optional<uint64_t> element = read_array_element(addr, index, memory);
    if (!element) {
      if (index == 0) {
        return hex(addr);
      }
      elements.emplace_back("???");
      break;
    }

    if (*element == 0) {
      break;
    }
    if (index == kMaxPrintedStringBytes) {
      elements.emplace_back("...");
      break;
    }
    elements.push_back(format_guest_string(*element, kMaxPrintedStringBytes, memory));
  }
  return fmt::format("[{}]", fmt::join(elements, ", "));
}

// envp as strace prints it: the address and a count, `0x7ffd1000 /* 12 vars */`.
// "12+" means the count stopped early, at an unreadable slot or at
// kMaxCountedArrayElements.
std::string format_env_array(uint64_t addr, const GuestMemoryReader& memory) {
  if (addr == 0) {
    return "NULL";
  }

  size_t count = 0;
  bool complete = false;
  while (count < kMaxCountedArrayElements) {
    const std::optional<uint64_t> element = read_array_element(addr, count, memory);
    if (!element) {
      if (count == 0) {
        return hex(addr);
      }
      break;
    }
    if (*element == 0) {
      complete = true;
      break;
    }
    ++count;
  }

  const std::string_view plural = count == 1 && complete ? "" : "s";
  return fmt::format("{} /* {}{} var{} */", hex(addr), count, complete ? "" : "+", plural);
}

// ---------------------------------------------------------------------------
// Decoders, one per ArgFormat.

std::string format_open_flags(uint64_t value) {
  const uint64_t flags = low_bits(value);
  const int64_t access_mode = static_cast<int64_t>(flags & kOpenAccessModeMask);

  std::vector<std::string> parts;
  parts.emplace_back(find_name(kOpenAccessModes, access_mode)->name);
  const uint64_t unknown_bits =
      append_flag_names(flags & ~kOpenAccessModeMask, kOpenFlagNames, parts);
  if (unknown_bits != 0) {
    parts.push_back(hex(unknown_bits));
  }
  return join_flags(parts);
}

std::string format_mmap_flags(uint64_t flags) {
  std::vector<std::string> parts;

  const uint64_t map_type = flags & kMapTypeMask;
  if (const ValueName* type_name = find_name(kMapTypes, static_cast<int64_t>(map_type))) {
    parts.emplace_back(type_name->name);
  } else {
    parts.push_back(hex(map_type));
  }

  uint64_t rest = append_flag_names(flags & ~kMapTypeMask, kMapFlagNames, parts);

  const uint64_t huge_size_bits = kMapHugeSizeMask << kMapHugeShift;
  if ((flags & kMapHugetlb) != 0) {
    const uint64_t huge_page_shift = (rest & huge_size_bits) >> kMapHugeShift;
    if (huge_page_shift != 0) {
      parts.push_back(fmt::format("{}<<MAP_HUGE_SHIFT", huge_page_shift));
    }
    rest &= ~huge_size_bits;
  } else {
    rest = append_flag_names(rest, std::span(&kMapUninitialized, 1), parts);
  }

  if (rest != 0) {
    parts.push_back(hex(rest));
  }
  return join_flags(parts);
}

std::string format_clock_id(uint64_t value) {
  const int32_t clock_id = low_int(value);
  if (clock_id >= 0) {
    return format_value(kClockNames, clock_id, "CLOCK_");
  }

  // An arithmetic shift, as the kernel's CPUCLOCK_PID() does.
  const int32_t owner = ~(clock_id >> 3);
  if ((clock_id & kClockTypeMask) == kClockFdTag) {
    return fmt::format("FD_TO_CLOCKID({})", owner);
  }

  const int32_t cpu_clock = clock_id & kCpuClockWhichMask;
  if (static_cast<size_t>(cpu_clock) >= std::size(kCpuClockNames)) {
    return fmt::format("{} /* CLOCK_??? */", hex(low_bits(value)));
  }
  const bool per_thread = (clock_id & kCpuClockPerThreadBit) != 0;
  return fmt::format("{}({}, {})", per_thread ? "MAKE_THREAD_CPUCLOCK" : "MAKE_PROCESS_CPUCLOCK",
                     owner, kCpuClockNames[cpu_clock]);
}

// clone(2) flags: the CLONE_* names, then the exit signal from the low byte.
std::string format_clone_flags(uint64_t value) {
  const uint64_t exit_signal = value & kCloneSignalMask;
  const uint64_t flags = value & ~kCloneSignalMask;
  if (flags == 0) {
    return format_signal(exit_signal);
  }

  std::vector<std::string> parts;
  const uint64_t unknown_bits = append_flag_names(flags, kCloneFlagNames, parts);
  if (unknown_bits != 0) {
    parts.push_back(hex(unknown_bits));
  }
  if (exit_signal != 0) {
    parts.push_back(format_signal(exit_signal));
  }
  return join_flags(parts);
}

std::string format_namespace_flags(uint64_t value) {
  if (value == 0) {
    return "0";
  }

  std::vector<std::string> parts;
  uint64_t rest = append_flag_names(value, std::span(&kCloneNewTime, 1), parts);
  rest = append_flag_names(rest, kCloneFlagNames, parts);
  if (rest != 0) {
    parts.push_back(hex(rest));
  }
  return join_flags(parts);
}

int64_t futex_command(uint64_t op) {
  return low_int(op) & ~(kFutexPrivateFlag | kFutexClockRealtime);
}

// FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME: the command, "_PRIVATE"
// for the private flag, then the clock flag.
std::string format_futex_op(uint64_t value) {
  const int32_t op = low_int(value);
  const ValueName* command = find_name(kFutexCommands, futex_command(value));
  if (command == nullptr) {
    return fmt::format("{} /* FUTEX_??? */", hex(low_bits(value)));
  }

  std::string text(command->name);
  if ((op & kFutexPrivateFlag) != 0) {
    text += "_PRIVATE";
  }
  if ((op & kFutexClockRealtime) != 0) {
    text += "|FUTEX_CLOCK_REALTIME";
  }
  return text;
}

std::string format_ioctl_request(uint64_t value) {
  const int64_t request = static_cast<int64_t>(low_bits(value));
  if (const ValueName* match = find_name(kIoctlRequests, request)) {
    return std::string(match->name);
  }
  return hex(low_bits(value));
}

std::string format_access_mode(uint64_t value) {
  return format_flags(low_bits(value), kAccessModeNames, "F_OK");
}

// ---------------------------------------------------------------------------
// Arguments whose printing depends on another argument.

bool open_flags_take_mode(uint64_t flags) {
  return (flags & kOpenCreate) != 0 || (flags & kOpenTmpfileBit) != 0;
}

// The fcntl argument after `command`, or nullopt for a command that takes
// none, which strace leaves out.
std::optional<std::string> format_fcntl_argument(uint64_t command_value, uint64_t value,
                                                 ArgFormat row_format,
                                                 const GuestMemoryReader& memory) {
  switch (low_int(command_value)) {
    case kFcntlGetfd:
    case kFcntlGetfl:
    case kFcntlGetown:
    case kFcntlGetsig:
    case kFcntlGetlease:
    case kFcntlGetpipeSize:
    case kFcntlGetSeals:
      return std::nullopt;
    case kFcntlSetfd:
      return format_flags(low_bits(value), kFdFlagNames);
    case kFcntlSetfl:
      return format_open_flags(value);
    case kFcntlSetsig:
      return format_signal(value);
    case kFcntlDupfd:
    case kFcntlDupfdCloexec:
    case kFcntlDupfdQuery:
    case kFcntlSetown:
    case kFcntlNotify:
    case kFcntlSetpipeSize:
      return fmt::format("{}", low_int(value));
    default:
      return format_argument(row_format, value, memory);
  }
}

// The futex(2) arguments that an operation reads. uaddr and op are always
// printed. The fourth register is a timeout pointer for some commands and
// the count val2 for others. The sixth is val3, the operation FUTEX_WAKE_OP
// encodes, or a wait/wake bitset.
struct FutexLayout {
  bool val = true;
  enum class Fourth { kNone, kTimeout, kVal2 } fourth = Fourth::kNone;
  bool uaddr2 = false;
  enum class Sixth { kNone, kVal3, kEncodedOp, kBitset } sixth = Sixth::kNone;
};

std::optional<FutexLayout> futex_layout(int64_t command) {
  using Fourth = FutexLayout::Fourth;
  using Sixth = FutexLayout::Sixth;
  switch (command) {
    case kFutexWait:
      return FutexLayout{.fourth = Fourth::kTimeout};
    case kFutexWake:
    case kFutexFd:
      return FutexLayout{};
    case kFutexRequeue:
      return FutexLayout{.fourth = Fourth::kVal2, .uaddr2 = true};
    case kFutexCmpRequeue:
    case kFutexCmpRequeuePi:
      return FutexLayout{.fourth = Fourth::kVal2, .uaddr2 = true, .sixth = Sixth::kVal3};
    case kFutexWakeOp:
      return FutexLayout{.fourth = Fourth::kVal2, .uaddr2 = true, .sixth = Sixth::kEncodedOp};
    case kFutexLockPi:
    case kFutexLockPi2:
      return FutexLayout{.val = false, .fourth = Fourth::kTimeout};
    case kFutexUnlockPi:
    case kFutexTrylockPi:
      return FutexLayout{.val = false};
    case kFutexWaitBitset:
      return FutexLayout{.fourth = Fourth::kTimeout, .sixth = Sixth::kBitset};
    case kFutexWakeBitset:
      return FutexLayout{.sixth = Sixth::kBitset};
    case kFutexWaitRequeuePi:
      return FutexLayout{.fourth = Fourth::kTimeout, .uaddr2 = true};
    default:
      return std::nullopt;
  }
}

std::string format_futex_bitset(uint64_t value) {
  const uint64_t bitset = low_bits(value);
  return bitset == kFutexBitsetMatchAny ? "FUTEX_BITSET_MATCH_ANY" : hex(bitset);
}

// ---------------------------------------------------------------------------
// Arguments decoded with the other arguments, and output arguments.

// An argument whose text is final at entry.
TracedArgument decoded_argument(size_t index, std::string text) {
  return {.index = index, .text = std::move(text), .decoded_at_exit = false, .int_at_entry = {}};
}

bool is_output_format(ArgFormat format) {
  switch (format) {
    case ArgFormat::kReadBuffer:
    case ArgFormat::kStatOut:
    case ArgFormat::kStatxOut:
    case ArgFormat::kTimespecOut:
    case ArgFormat::kTimevalOut:
    case ArgFormat::kSockaddrOut:
    case ArgFormat::kSocklenInOut:
    case ArgFormat::kIovecOut:
    case ArgFormat::kMsghdrOut:
    case ArgFormat::kRlimitOut:
    case ArgFormat::kSigactionOut:
    case ArgFormat::kSigsetOut:
    case ArgFormat::kEpollEventsOut:
    case ArgFormat::kWaitStatusOut:
      return true;
    default:
      return false;
  }
}

std::string_view rlimit_infinity_name(const SyscallEntry& entry) {
  return entry.name == "prlimit64" ? "RLIM64_INFINITY" : "RLIM_INFINITY";
}

// The register after `index`, which contains the length or count of formats
// such as kWriteBuffer and kIovec.
uint64_t next_argument(const std::array<uint64_t, 6>& args, size_t index) {
  return index + 1 < args.size() ? args[index + 1] : 0;
}

// Decodes an input argument at entry.
std::string format_input_argument(const SyscallEntry& entry, size_t index,
                                  const std::array<uint64_t, 6>& args,
                                  const GuestMemoryReader& memory) {
  const uint64_t value = args[index];
  switch (entry.args[index]) {
    case ArgFormat::kWriteBuffer:
      return format_guest_bytes(value, next_argument(args, index), memory);
    case ArgFormat::kSockaddr:
      return value == 0 ? "NULL" : format_sockaddr(value, next_argument(args, index), memory);
    case ArgFormat::kIovec:
      return format_iovec_array(value, next_argument(args, index), std::nullopt, memory);
    case ArgFormat::kPollFds:
      return format_pollfd_array(value, next_argument(args, index), memory);
    case ArgFormat::kRlimit:
      return format_rlimit(value, rlimit_infinity_name(entry), memory);
    default:
      return format_argument(entry.args[index], value, memory);
  }
}

// Decodes one argument at entry. An output argument keeps its pointer,
// and an in-out length also the value it held.
TracedArgument trace_argument(const SyscallEntry& entry, size_t index,
                              const std::array<uint64_t, 6>& args,
                              const GuestMemoryReader& memory) {
  const ArgFormat format = entry.args[index];
  const uint64_t value = args[index];
  if (!is_output_format(format)) {
    return decoded_argument(index, format_input_argument(entry, index, args, memory));
  }

  TracedArgument argument{
      .index = index, .text = pointer(value), .decoded_at_exit = true, .int_at_entry = {}};
  if (format == ArgFormat::kSocklenInOut) {
    argument.int_at_entry = read_guest_int(value, memory);
    if (argument.int_at_entry) {
      argument.text = fmt::format("[{}]", *argument.int_at_entry);
    }
  }
  return argument;
}

// Decodes an output argument after the call succeeded with `result`.
std::string format_output_argument(const SyscallEntry& entry, const TracedArgument& argument,
                                   const std::array<uint64_t, 6>& args, int64_t result,
                                   const GuestMemoryReader& memory) {
  const size_t index = argument.index;
  const uint64_t value = args[index];
  const uint64_t returned = static_cast<uint64_t>(result);

  switch (entry.args[index]) {
    case ArgFormat::kReadBuffer:
      return format_guest_bytes(value, returned, memory);
    case ArgFormat::kStatOut:
      return format_stat(value, memory);
    case ArgFormat::kStatxOut:
      return format_statx(value, memory);
    case ArgFormat::kTimespecOut:
      return format_timespec(value, memory);
    case ArgFormat::kTimevalOut:
      return format_timeval(value, memory);
    case ArgFormat::kSockaddrOut: {
      if (value == 0) {
        return "NULL";
      }
      const std::optional<int32_t> length = read_guest_int(next_argument(args, index), memory);
      return length ? format_sockaddr(value, static_cast<uint32_t>(*length), memory)
                    : pointer(value);
    }
    case ArgFormat::kSocklenInOut: {
      const std::optional<int32_t> length = read_guest_int(value, memory);
      if (!length) {
        return argument.text;
      }
      if (argument.int_at_entry && *argument.int_at_entry != *length) {
        return fmt::format("[{} => {}]", *argument.int_at_entry, *length);
      }
      return fmt::format("[{}]", *length);
    }
    case ArgFormat::kIovecOut:
      return format_iovec_array(value, next_argument(args, index), returned, memory);
    case ArgFormat::kMsghdrOut:
      return format_msghdr(value, returned, memory);
    case ArgFormat::kRlimitOut:
      return format_rlimit(value, rlimit_infinity_name(entry), memory);
    case ArgFormat::kSigactionOut:
      return format_sigaction(value, memory);
    case ArgFormat::kSigsetOut:
      return format_sigset(value, memory);
    case ArgFormat::kEpollEventsOut:
      return format_epoll_event_array(value, returned, memory);
    case ArgFormat::kWaitStatusOut:
      // wait4 stores no status when WNOHANG finds no child (result 0).
      return returned == 0 ? argument.text : format_wait_status(value, memory);
    default:
      return argument.text;
  }
}

// futex(2)'s arguments in the order uaddr, op, val, timeout or val2, uaddr2,
// val3, leaving out those the operation does not read.
std::vector<TracedArgument> format_futex_arguments(const SyscallEntry& entry,
                                                   const std::array<uint64_t, 6>& args,
                                                   const GuestMemoryReader& memory) {
  const std::optional<FutexLayout> layout = futex_layout(futex_command(args[1]));
  std::vector<TracedArgument> printed;
  const auto print_in_row_format = [&](size_t index) {
    printed.push_back(trace_argument(entry, index, args, memory));
  };

  if (!layout) {
    for (size_t index = 0; index < entry.arg_count; ++index) {
      print_in_row_format(index);
    }
    return printed;
  }

  print_in_row_format(0);
  print_in_row_format(1);
  if (layout->val) {
    print_in_row_format(2);
  }

  switch (layout->fourth) {
    case FutexLayout::Fourth::kNone:
      break;
    case FutexLayout::Fourth::kTimeout:
      print_in_row_format(3);
      break;
    case FutexLayout::Fourth::kVal2:
      printed.push_back(decoded_argument(3, fmt::format("{}", low_bits(args[3]))));
      break;
  }

  if (layout->uaddr2) {
    print_in_row_format(4);
  }

  switch (layout->sixth) {
    case FutexLayout::Sixth::kNone:
      break;
    case FutexLayout::Sixth::kVal3:
      printed.push_back(decoded_argument(5, fmt::format("{}", low_bits(args[5]))));
      break;
    case FutexLayout::Sixth::kEncodedOp:
      print_in_row_format(5);
      break;
    case FutexLayout::Sixth::kBitset:
      printed.push_back(decoded_argument(5, format_futex_bitset(args[5])));
      break;
  }
  return printed;
}

std::vector<TracedArgument> format_arguments(const SyscallEntry& entry,
                                             const std::array<uint64_t, 6>& args,
                                             const GuestMemoryReader& memory) {
  // futex(2) is the one call with kFutexOp, always its second argument.
  if (entry.arg_count == 6 && entry.args[1] == ArgFormat::kFutexOp) {
    return format_futex_arguments(entry, args, memory);
  }

  std::vector<TracedArgument> printed;
  for (size_t index = 0; index < entry.arg_count; ++index) {
    const ArgFormat format = entry.args[index];

    if (index > 0) {
      const ArgFormat previous_format = entry.args[index - 1];
      const uint64_t previous_value = args[index - 1];

      // open(2): the mode is read only when a file may be created.
      if (format == ArgFormat::kMode && previous_format == ArgFormat::kOpenFlags &&
          !open_flags_take_mode(previous_value)) {
        continue;
      }

      if (previous_format == ArgFormat::kFcntlCmd) {
        std::optional<std::string> text =
            format_fcntl_argument(previous_value, args[index], format, memory);
        if (text) {
          printed.push_back(decoded_argument(index, std::move(*text)));
        }
        continue;
      }
    }

    printed.push_back(trace_argument(entry, index, args, memory));
  }
  return printed;
}

// ---------------------------------------------------------------------------
// Results.

// Linux returns -1 to -4095 for an error. Every other value is a result.
constexpr int64_t kMaxErrno = 4095;

// Calls whose result is an address, which strace prints in hex.
bool returns_address(const SyscallEntry& entry) {
  return entry.name == "mmap" || entry.name == "mremap" || entry.name == "brk" ||
         entry.name == "shmat" || entry.name == "map_shadow_stack";
}

// Describes what the syscall exit path does with a kernel restart code, or
// returns nullopt for any other errno. These codes never reach a guest, and
// --strace shows them as "?" because the call has not returned yet.
std::optional<std::string_view> describe_restart_code(int code) {
  switch (code) {
    case ERESTARTSYS:
      return "restarted unless a handler without SA_RESTART runs";
    case ERESTARTNOINTR:
      return "always restarted";
    case ERESTARTNOHAND:
      return "restarted unless a handler runs";
    case ERESTART_RESTARTBLOCK:
      return "restarted through restart_syscall unless a handler runs";
    default:
      return std::nullopt;
  }
}

// Returns the host's message for an errno. The host is Linux on x86_64 too,
// so its errno values are the guest's. strerrordesc_np ignores the locale.
std::string describe_errno(int error) {
  const char* description = strerrordesc_np(error);
  if (description == nullptr) {
    return fmt::format("Unknown error {}", error);
  }
  return description;
}

std::string format_error_result(int error) {
  const std::string_view name = errno_name(error);
  if (std::optional<std::string_view> restart = describe_restart_code(error)) {
    return fmt::format("= ? {} ({})", name, *restart);
  }

  // errno_name returns "E?" for a value it does not know, and strace prints
  // the number in that case.
  if (name == "E?") {
    return fmt::format("= -1 {} ({})", error, describe_errno(error));
  }
  return fmt::format("= -1 {} ({})", name, describe_errno(error));
}

}  // namespace

std::string format_argument(ArgFormat format, uint64_t value, const GuestMemoryReader& memory) {
  switch (format) {
    case ArgFormat::kInt:
      return fmt::format("{}", low_int(value));
    case ArgFormat::kLong:
      return fmt::format("{}", static_cast<int64_t>(value));
    case ArgFormat::kUint:
      return fmt::format("{}", value);
    case ArgFormat::kHex:
      return hex(value);
    case ArgFormat::kPtr:
      return pointer(value);
    case ArgFormat::kFd:
      return fmt::format("{}", low_int(value));
    case ArgFormat::kDirFd:
      return low_int(value) == kAtFdcwd ? "AT_FDCWD" : fmt::format("{}", low_int(value));
    case ArgFormat::kPath:
      return format_guest_string(value, kPathMaxBytes, memory);
    case ArgFormat::kString:
      return format_guest_string(value, kMaxPrintedStringBytes, memory);
    case ArgFormat::kStringArray:
      return format_string_array(value, memory);
    case ArgFormat::kEnvArray:
      return format_env_array(value, memory);
    case ArgFormat::kOpenFlags:
      return format_open_flags(value);
    case ArgFormat::kNewFdFlags:
      return format_flags(low_bits(value), kOpenFlagNames);
    case ArgFormat::kMode:
      return format_mode(value);
    case ArgFormat::kAtFlags:
      return format_flags(low_bits(value), kAtFlagNames);
    case ArgFormat::kUnlinkatFlags:
      return format_flags(low_bits(value), kUnlinkatFlagNames);
    case ArgFormat::kFaccessatFlags:
      return format_flags(low_bits(value), kFaccessatFlagNames);
    case ArgFormat::kProt:
      return format_flags(value, kProtFlagNames, "PROT_NONE");
    case ArgFormat::kMmapFlags:
      return format_mmap_flags(value);
    case ArgFormat::kSignal:
      return format_signal(value);
    case ArgFormat::kClockId:
      return format_clock_id(value);
    case ArgFormat::kWhence:
      return format_value(kWhenceNames, low_int(value), "SEEK_");
    case ArgFormat::kFcntlCmd:
      return format_value(kFcntlCommands, low_int(value), "F_");
    case ArgFormat::kIoctlCmd:
      return format_ioctl_request(value);
    case ArgFormat::kCloneFlags:
      return format_clone_flags(value);
    case ArgFormat::kNamespaceFlags:
      return format_namespace_flags(value);
    case ArgFormat::kFutexOp:
      return format_futex_op(value);
    case ArgFormat::kAccessMode:
      return format_access_mode(value);
    case ArgFormat::kTimespec:
      return format_timespec(value, memory);
    case ArgFormat::kTimespecPair:
      return format_timespec_pair(value, memory);
    case ArgFormat::kTimeval:
      return format_timeval(value, memory);
    case ArgFormat::kMsghdr:
      return format_msghdr(value, std::nullopt, memory);
    case ArgFormat::kRlimit:
      return format_rlimit(value, "RLIM_INFINITY", memory);
    case ArgFormat::kRlimitResource:
      return format_rlimit_resource(value);
    case ArgFormat::kSigaction:
      return format_sigaction(value, memory);
    case ArgFormat::kSigset:
      return format_sigset(value, memory);
    case ArgFormat::kSigprocmaskHow:
      return format_sigprocmask_how(value);
    case ArgFormat::kEpollEvent:
      return format_epoll_event(value, memory);
    case ArgFormat::kEpollCtlOp:
      return format_epoll_ctl_op(value);
    case ArgFormat::kMsgFlags:
      return format_msg_flags(value);
    case ArgFormat::kSocketFamily:
      return format_socket_family(value);
    case ArgFormat::kSocketType:
      return format_socket_type(value);
    case ArgFormat::kStatxFlags:
      return format_statx_flags(value);
    case ArgFormat::kStatxMask:
      return format_statx_mask(value);
    case ArgFormat::kWaitOptions:
      return format_wait_options(value);
    // These need another argument, or the call's result, to be decoded.
    case ArgFormat::kWriteBuffer:
    case ArgFormat::kReadBuffer:
    case ArgFormat::kStatOut:
    case ArgFormat::kStatxOut:
    case ArgFormat::kTimespecOut:
    case ArgFormat::kTimevalOut:
    case ArgFormat::kSockaddr:
    case ArgFormat::kSockaddrOut:
    case ArgFormat::kSocklenInOut:
    case ArgFormat::kIovec:
    case ArgFormat::kIovecOut:
    case ArgFormat::kMsghdrOut:
    case ArgFormat::kPollFds:
    case ArgFormat::kRlimitOut:
    case ArgFormat::kSigactionOut:
    case ArgFormat::kSigsetOut:
    case ArgFormat::kEpollEventsOut:
    case ArgFormat::kWaitStatusOut:
      return pointer(value);
  }
  return hex(value);
}

SyscallTrace::SyscallTrace(const SyscallEntry& entry, const std::array<uint64_t, 6>& args,
                           const GuestMemoryReader& memory)
    : entry_(&entry), args_(args), arguments_(format_arguments(entry, args, memory)) {}

std::string SyscallTrace::call_at_entry() const {
  std::vector<std::string_view> texts;
  for (const TracedArgument& argument : arguments_) {
    texts.push_back(argument.text);
  }
  return fmt::format("{}({})", entry_->name, fmt::join(texts, ", "));
}

std::string SyscallTrace::line_at_exit(int64_t result, const GuestMemoryReader& memory) const {
  const bool succeeded = !(result < 0 && result >= -kMaxErrno);
  std::vector<std::string> texts;
  for (const TracedArgument& argument : arguments_) {
    if (argument.decoded_at_exit && succeeded) {
      texts.push_back(format_output_argument(*entry_, argument, args_, result, memory));
    } else {
      texts.push_back(argument.text);
    }
  }

  std::string line = fmt::format("{}({}) {}", entry_->name, fmt::join(texts, ", "),
                                 format_syscall_result(*entry_, result));

  // poll and ppoll: strace follows a positive result with the fds that
  // have events, `= 1 ([{fd=5, revents=POLLOUT}])`.
  if (entry_->arg_count > 1 && entry_->args[0] == ArgFormat::kPollFds && result > 0) {
    if (std::optional<std::string> revents = format_poll_revents(args_[0], args_[1], memory)) {
      line += fmt::format(" ({})", *revents);
    }
  }
  return line;
}

std::string format_syscall_entry(const SyscallEntry& entry, const std::array<uint64_t, 6>& args,
                                 const GuestMemoryReader& memory) {
  return SyscallTrace(entry, args, memory).call_at_entry();
}

std::string format_syscall_result(const SyscallEntry& entry, int64_t result) {
  if (result < 0 && result >= -kMaxErrno) {
    return format_error_result(static_cast<int>(-result));
  }

  if (returns_address(entry)) {
    return fmt::format("= {}", hex(static_cast<uint64_t>(result)));
  }
  // umask returns the previous mask, which strace prints in octal.
  if (entry.name == "umask") {
    return fmt::format("= {:#03o}", result);
  }
  return fmt::format("= {}", result);
}

}  // namespace ward::syscalls
