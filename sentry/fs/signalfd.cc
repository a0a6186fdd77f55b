#include "sentry/fs/signalfd.h"

#include <poll.h>

#include <cstring>
#include <optional>

#include "sentry/fs/eventfd.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// Which union member of a siginfo contains its data, as Linux's
// siginfo_layout decides it.
enum class SiginfoLayout { kKill, kTimer, kPoll, kFault, kFaultMceErr, kChild, kRealtime, kSys };

// The highest si_code of each signal with codes of its own, as Linux's
// uapi asm-generic/siginfo.h has them since SEGV_CPERR (10) was added:
// NSIGILL, NSIGFPE, NSIGSEGV, NSIGBUS, NSIGTRAP, NSIGCHLD, NSIGPOLL and
// NSIGSYS.
constexpr int kIllCodes = 11;
constexpr int kFpeCodes = 15;
constexpr int kSegvCodes = 10;
constexpr int kBusCodes = 5;
constexpr int kTrapCodes = 6;
constexpr int kChildCodes = 6;
constexpr int kPollCodes = 6;
constexpr int kSysCodes = 2;

// The si_codes a signal has of its own, up to `max_code`, and the layout
// they use.
struct SignalCodes {
  int max_code;
  SiginfoLayout layout;
};

std::optional<SignalCodes> codes_of(int signal) {
  switch (signal) {
    case SIGILL:
      return SignalCodes{kIllCodes, SiginfoLayout::kFault};
    case SIGFPE:
      return SignalCodes{kFpeCodes, SiginfoLayout::kFault};
    case SIGSEGV:
      return SignalCodes{kSegvCodes, SiginfoLayout::kFault};
    case SIGBUS:
      return SignalCodes{kBusCodes, SiginfoLayout::kFault};
    case SIGTRAP:
      return SignalCodes{kTrapCodes, SiginfoLayout::kFault};
    case SIGCHLD:
      return SignalCodes{kChildCodes, SiginfoLayout::kChild};
    case SIGPOLL:
      return SignalCodes{kPollCodes, SiginfoLayout::kPoll};
    case SIGSYS:
      return SignalCodes{kSysCodes, SiginfoLayout::kSys};
    default:
      return std::nullopt;
  }
}

SiginfoLayout siginfo_layout(int signal, int code) {
  if (code <= SI_USER || code >= SI_KERNEL) {
    switch (code) {
      case SI_TIMER:
        return SiginfoLayout::kTimer;
      case SI_SIGIO:
        return SiginfoLayout::kPoll;
      default:
        return code < 0 ? SiginfoLayout::kRealtime : SiginfoLayout::kKill;
    }
  }

  // A positive code is one a kernel sets, whose meaning depends on the
  // signal.
  const std::optional<SignalCodes> codes = codes_of(signal);
  if (codes && code <= codes->max_code) {
    if (signal == SIGBUS && (code == BUS_MCEERR_AR || code == BUS_MCEERR_AO)) {
      return SiginfoLayout::kFaultMceErr;
    }
    return codes->layout;
  }
  // Linux takes any other small positive code for a SIGPOLL one.
  return code <= kPollCodes ? SiginfoLayout::kPoll : SiginfoLayout::kKill;
}

}  // namespace

signalfd_siginfo signalfd_record(const siginfo_t& info) {
  signalfd_siginfo record{};
  record.ssi_signo = static_cast<uint32_t>(info.si_signo);
  record.ssi_errno = info.si_errno;
  record.ssi_code = info.si_code;
  switch (siginfo_layout(info.si_signo, info.si_code)) {
    case SiginfoLayout::kKill:
      record.ssi_pid = static_cast<uint32_t>(info.si_pid);
      record.ssi_uid = info.si_uid;
      break;
    case SiginfoLayout::kTimer:
      record.ssi_tid = static_cast<uint32_t>(info.si_timerid);
      record.ssi_overrun = static_cast<uint32_t>(info.si_overrun);
      record.ssi_ptr = reinterpret_cast<uint64_t>(info.si_ptr);
      record.ssi_int = info.si_int;
      break;
    case SiginfoLayout::kPoll:
      record.ssi_band = static_cast<uint32_t>(info.si_band);
      record.ssi_fd = info.si_fd;
      break;
    case SiginfoLayout::kFault:
      record.ssi_addr = reinterpret_cast<uint64_t>(info.si_addr);
      break;
    case SiginfoLayout::kFaultMceErr:
      record.ssi_addr = reinterpret_cast<uint64_t>(info.si_addr);
      record.ssi_addr_lsb = static_cast<uint16_t>(info.si_addr_lsb);
      break;
    case SiginfoLayout::kChild:
      record.ssi_pid = static_cast<uint32_t>(info.si_pid);
      record.ssi_uid = info.si_uid;
      record.ssi_status = info.si_status;
      record.ssi_utime = static_cast<uint64_t>(info.si_utime);
      record.ssi_stime = static_cast<uint64_t>(info.si_stime);
      break;
    case SiginfoLayout::kRealtime:
      record.ssi_pid = static_cast<uint32_t>(info.si_pid);
      record.ssi_uid = info.si_uid;
      record.ssi_ptr = reinterpret_cast<uint64_t>(info.si_ptr);
      record.ssi_int = info.si_int;
      break;
    case SiginfoLayout::kSys:
      record.ssi_call_addr = reinterpret_cast<uint64_t>(info.si_call_addr);
      record.ssi_syscall = info.si_syscall;
      record.ssi_arch = info.si_arch;
      break;
  }
  return record;
}

SignalfdFile::SignalfdFile(VirtualDentry location, uint32_t flags, kernel::Kernel& kernel,
                           kernel::SignalSet mask)
    : FileDescription(std::move(location), flags), kernel_(kernel) {
  set_mask(mask);
}

void SignalfdFile::set_mask(kernel::SignalSet mask) { mask_ = mask & ~kernel::kUnblockableSignals; }

Result<size_t> SignalfdFile::read(std::span<std::byte> buffer, std::optional<int64_t>) {
  const size_t capacity = buffer.size() / sizeof(signalfd_siginfo);
  if (capacity == 0) {
    return Errno{EINVAL};
  }
  kernel::Task* task = kernel_.current_task();
  if (task == nullptr) {
    return Errno{EAGAIN};
  }

  size_t records = 0;
  while (records < capacity) {
    siginfo_t info{};
    if (task->take_signal(mask_, info) == 0) {
      break;
    }
    const signalfd_siginfo record = signalfd_record(info);
    std::memcpy(buffer.data() + records * sizeof(record), &record, sizeof(record));
    ++records;
  }
  if (records == 0) {
    return Errno{EAGAIN};
  }
  return records * sizeof(signalfd_siginfo);
}

uint32_t SignalfdFile::readiness(uint32_t mask) {
  kernel::Task* task = kernel_.current_task();
  if (task == nullptr) {
    return 0;
  }
  const kernel::SignalSet pending =
      task->pending().set() | task->thread_group().shared_pending().set();
  // Linux's signalfd_poll reports POLLIN alone, without POLLRDNORM.
  const uint32_t events = (pending & mask_) != 0 ? POLLIN : 0;
  return events & mask;
}

kernel::WaitQueue* SignalfdFile::wait_queue() {
  kernel::Task* task = kernel_.current_task();
  if (task == nullptr) {
    return &idle_queue_;
  }
  return &task->thread_group().signalfd_queue();
}

SignalfdFile* as_signalfd(FileDescription& file) { return dynamic_cast<SignalfdFile*>(&file); }

FileRef make_signalfd(kernel::Kernel& kernel, kernel::SignalSet mask,
                      const kernel::Credentials& creds, uint32_t status_flags) {
  VirtualDentry location = make_anonymous_location(make_anon_inode("anon_inode:[signalfd]", creds));
  return std::make_shared<SignalfdFile>(std::move(location), O_RDWR | status_flags, kernel, mask);
}

}  // namespace ward::vfs
