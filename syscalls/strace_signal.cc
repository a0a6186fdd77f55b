// The --strace line for a signal a task takes, in strace's form:
// `--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---`.
// The si_code values are Linux's (include/uapi/asm-generic/siginfo.h).
#include <fmt/format.h>

#include <span>
#include <string>

#include "syscalls/strace.h"
#include "syscalls/strace_detail.h"
#include "syscalls/table.h"

namespace ward::syscalls {
namespace {

using namespace strace_detail;

// si_code values every signal may carry. Codes of 0 and below mark a signal
// a process sent or asked for (kill, sigqueue, tgkill, POSIX timers, async
// I/O), and SI_KERNEL one the kernel sent.
constexpr ValueName kSignalCodeNames[] = {
    {0, "SI_USER"},   {0x80, "SI_KERNEL"}, {-1, "SI_QUEUE"}, {-2, "SI_TIMER"},
    {-3, "SI_MESGQ"}, {-4, "SI_ASYNCIO"},  {-5, "SI_SIGIO"}, {-6, "SI_TKILL"},
};
constexpr int kSiKernel = 0x80;

constexpr ValueName kIllCodeNames[] = {
    {1, "ILL_ILLOPC"}, {2, "ILL_ILLOPN"}, {3, "ILL_ILLADR"}, {4, "ILL_ILLTRP"},   {5, "ILL_PRVOPC"},
    {6, "ILL_PRVREG"}, {7, "ILL_COPROC"}, {8, "ILL_BADSTK"}, {9, "ILL_BADIADDR"},
};
constexpr ValueName kFpeCodeNames[] = {
    {1, "FPE_INTDIV"},  {2, "FPE_INTOVF"},    {3, "FPE_FLTDIV"}, {4, "FPE_FLTOVF"},
    {5, "FPE_FLTUND"},  {6, "FPE_FLTRES"},    {7, "FPE_FLTINV"}, {8, "FPE_FLTSUB"},
    {14, "FPE_FLTUNK"}, {15, "FPE_CONDTRAP"},
};
constexpr ValueName kSegvCodeNames[] = {
    {1, "SEGV_MAPERR"},  {2, "SEGV_ACCERR"},  {3, "SEGV_BNDERR"},  {4, "SEGV_PKUERR"},
    {5, "SEGV_ACCADI"},  {6, "SEGV_ADIDERR"}, {7, "SEGV_ADIPERR"}, {8, "SEGV_MTEAERR"},
    {9, "SEGV_MTESERR"}, {10, "SEGV_CPERR"},
};
constexpr ValueName kBusCodeNames[] = {
    {1, "BUS_ADRALN"},    {2, "BUS_ADRERR"},    {3, "BUS_OBJERR"},
    {4, "BUS_MCEERR_AR"}, {5, "BUS_MCEERR_AO"},
};
constexpr ValueName kTrapCodeNames[] = {
    {1, "TRAP_BRKPT"},  {2, "TRAP_TRACE"}, {3, "TRAP_BRANCH"},
    {4, "TRAP_HWBKPT"}, {5, "TRAP_UNK"},   {6, "TRAP_PERF"},
};
constexpr ValueName kChildCodeNames[] = {
    {1, "CLD_EXITED"},  {2, "CLD_KILLED"},  {3, "CLD_DUMPED"},
    {4, "CLD_TRAPPED"}, {5, "CLD_STOPPED"}, {6, "CLD_CONTINUED"},
};
constexpr ValueName kPollCodeNames[] = {
    {1, "POLL_IN"},  {2, "POLL_OUT"}, {3, "POLL_MSG"},
    {4, "POLL_ERR"}, {5, "POLL_PRI"}, {6, "POLL_HUP"},
};
constexpr ValueName kSysCodeNames[] = {
    {1, "SYS_SECCOMP"},
    {2, "SYS_USER_DISPATCH"},
};

constexpr int kCldExited = 1;

// AUDIT_ARCH_X86_64, the si_arch of a SIGSYS from a 64-bit call.
constexpr uint32_t kAuditArchX86_64 = 0xc000003e;

// The si_code names of one signal, for the codes above 0 that the kernel
// gives only to that signal.
std::span<const ValueName> signal_specific_codes(int signal) {
  switch (signal) {
    case SIGILL:
      return kIllCodeNames;
    case SIGFPE:
      return kFpeCodeNames;
    case SIGSEGV:
      return kSegvCodeNames;
    case SIGBUS:
      return kBusCodeNames;
    case SIGTRAP:
      return kTrapCodeNames;
    case SIGCHLD:
      return kChildCodeNames;
    case SIGIO:
      return kPollCodeNames;
    case SIGSYS:
      return kSysCodeNames;
    default:
      return {};
  }
}

std::string format_signal_code(int signal, int code) {
  const std::span<const ValueName> names =
      code > 0 && code != kSiKernel ? signal_specific_codes(signal) : kSignalCodeNames;
  if (const ValueName* match = find_name(names, code)) {
    return std::string(match->name);
  }
  return fmt::format("{}", code);
}

std::string format_fault_address(const siginfo_t& info) {
  return pointer(reinterpret_cast<uint64_t>(info.si_addr));
}

// The fields after si_code, which the code and the signal decide, in the
// order strace prints them.
std::string format_signal_fields(int signal, const siginfo_t& info) {
  // A code of 0 or below means a process sent the signal.
  if (info.si_code <= 0) {
    switch (info.si_code) {
      case SI_QUEUE:
      case SI_MESGQ:
        return fmt::format(", si_pid={}, si_uid={}, si_int={}, si_ptr={}", info.si_pid, info.si_uid,
                           info.si_int, pointer(reinterpret_cast<uint64_t>(info.si_ptr)));
      case SI_TIMER:
        return fmt::format(", si_timerid={:#x}, si_overrun={}, si_int={}, si_ptr={}",
                           static_cast<uint32_t>(info.si_timerid), info.si_overrun, info.si_int,
                           pointer(reinterpret_cast<uint64_t>(info.si_ptr)));
      default:
        return fmt::format(", si_pid={}, si_uid={}", info.si_pid, info.si_uid);
    }
  }

  switch (signal) {
    case SIGCHLD: {
      // si_status is the exit code after CLD_EXITED and a signal otherwise.
      const std::string status = info.si_code == kCldExited
                                     ? fmt::format("{}", info.si_status)
                                     : format_signal(static_cast<uint32_t>(info.si_status));
      return fmt::format(", si_pid={}, si_uid={}, si_status={}, si_utime={}, si_stime={}",
                         info.si_pid, info.si_uid, status, info.si_utime, info.si_stime);
    }
    case SIGILL:
    case SIGFPE:
    case SIGSEGV:
    case SIGBUS:
    case SIGTRAP:
      return fmt::format(", si_addr={}", format_fault_address(info));
    case SIGIO:
      return fmt::format(", si_band={}, si_fd={}", info.si_band, info.si_fd);
    case SIGSYS: {
      const SyscallEntry* entry = find_syscall(static_cast<uint32_t>(info.si_syscall));
      const std::string number = entry != nullptr ? fmt::format("__NR_{}", entry->name)
                                                  : fmt::format("{}", info.si_syscall);
      const std::string arch =
          info.si_arch == kAuditArchX86_64 ? "AUDIT_ARCH_X86_64" : hex(info.si_arch);
      return fmt::format(", si_call_addr={}, si_syscall={}, si_arch={}",
                         pointer(reinterpret_cast<uint64_t>(info.si_call_addr)), number, arch);
    }
    default:
      return "";
  }
}

}  // namespace

std::string format_signal_delivery(int signal, const siginfo_t& info) {
  const std::string name = format_signal(static_cast<uint32_t>(signal));
  return fmt::format("--- {} {{si_signo={}, si_code={}{}}} ---", name, name,
                     format_signal_code(signal, info.si_code), format_signal_fields(signal, info));
}

}  // namespace ward::syscalls
