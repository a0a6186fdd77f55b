// prctl: the thread's name, parent-death signal, dumpable flag,
// no_new_privs, child-subreaper flag, capability bounding and ambient sets,
// securebits, timer slack and THP setting.
#include <linux/capability.h>
#include <sys/prctl.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sentry/kernel/credentials.h"
#include "sentry/kernel/signals.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_attributes.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_cred.h"
#include "syscalls/handlers_seccomp.h"

namespace ward::syscalls {
namespace {

using kernel::Task;

// TASK_COMM_LEN: the name buffer is 16 bytes with its NUL.
constexpr size_t kCommBufferBytes = 16;

// PR_SET_THP_DISABLE's flag (Linux 6.18): disable THP except where
// madvise requests it.
constexpr uint64_t kThpDisableExceptAdvised = 1 << 1;

// Names of the options that ward does not implement, for the gap report.
// The numbers are Linux 6.18's.
constexpr std::pair<int, std::string_view> kUnimplementedOptions[] = {
    {5, "PR_GET_UNALIGN"},
    {6, "PR_SET_UNALIGN"},
    {9, "PR_GET_FPEMU"},
    {10, "PR_SET_FPEMU"},
    {11, "PR_GET_FPEXC"},
    {12, "PR_SET_FPEXC"},
    {13, "PR_GET_TIMING"},
    {14, "PR_SET_TIMING"},
    {19, "PR_GET_ENDIAN"},
    {20, "PR_SET_ENDIAN"},
    {25, "PR_GET_TSC"},
    {26, "PR_SET_TSC"},
    {31, "PR_TASK_PERF_EVENTS_DISABLE"},
    {32, "PR_TASK_PERF_EVENTS_ENABLE"},
    {33, "PR_MCE_KILL"},
    {34, "PR_MCE_KILL_GET"},
    {35, "PR_SET_MM"},
    {43, "PR_MPX_ENABLE_MANAGEMENT"},
    {44, "PR_MPX_DISABLE_MANAGEMENT"},
    {45, "PR_SET_FP_MODE"},
    {46, "PR_GET_FP_MODE"},
    {52, "PR_GET_SPECULATION_CTRL"},
    {53, "PR_SET_SPECULATION_CTRL"},
    {55, "PR_SET_TAGGED_ADDR_CTRL"},
    {56, "PR_GET_TAGGED_ADDR_CTRL"},
    {57, "PR_SET_IO_FLUSHER"},
    {58, "PR_GET_IO_FLUSHER"},
    {59, "PR_SET_SYSCALL_USER_DISPATCH"},
    {62, "PR_SCHED_CORE"},
    {65, "PR_SET_MDWE"},
    {66, "PR_GET_MDWE"},
    {67, "PR_SET_MEMORY_MERGE"},
    {68, "PR_GET_MEMORY_MERGE"},
    {74, "PR_GET_SHADOW_STACK_STATUS"},
    {75, "PR_SET_SHADOW_STACK_STATUS"},
    {76, "PR_LOCK_SHADOW_STACK_STATUS"},
    {77, "PR_TIMER_CREATE_RESTORE_IDS"},
    {78, "PR_FUTEX_HASH"},
    {0x41555856, "PR_GET_AUXV"},
    {0x53564d41, "PR_SET_VMA"},
    {0x59616d61, "PR_SET_PTRACER"},
};

std::string option_name(int option) {
  for (const auto& [value, name] : kUnimplementedOptions) {
    if (value == option) {
      return std::string(name);
    }
  }
  return fmt::format("option {}", option);
}

// The five prctl arguments, decoded once.
struct PrctlArgs {
  int option;
  uint64_t arg2;
  uint64_t arg3;
  uint64_t arg4;
  uint64_t arg5;
};

Result<int64_t> set_name(Task& task, GuestAddr name_addr) {
  char name[kCommBufferBytes] = {};
  // Linux reads up to 15 bytes and stops at the first NUL; a shorter
  // readable string near an unmapped page still works.
  auto text = task.copy_in_string(name_addr, kCommBufferBytes);
  if (!text.ok() && text.error().value != ENAMETOOLONG) {
    return text.error();
  }
  if (!text.ok()) {
    TRY(task.copy_in(name_addr, std::as_writable_bytes(std::span(name, kCommBufferBytes - 1))));
    task.set_comm(std::string_view(name, kCommBufferBytes - 1));
  } else {
    task.set_comm(*text);
  }
  return 0;
}

Result<int64_t> get_name(Task& task, GuestAddr name_addr) {
  char name[kCommBufferBytes] = {};
  task.comm().copy(name, kCommBufferBytes - 1);
  TRY(task.copy_out(name_addr, std::as_bytes(std::span(name))));
  return 0;
}

// PR_SET_SECUREBITS: a locked bit may not change and a lock may not be
// released, unknown bits are rejected, and without CAP_SETPCAP only the
// unprivileged bits may change. Every failure is EPERM.
Result<int64_t> set_securebits(Task& task, uint64_t requested) {
  const kernel::Credentials& old = task.creds();
  uint64_t current = old.securebits;
  uint64_t locked = (current & kernel::kSecureAllLocks) >> 1;
  bool changes_locked = (locked & (current ^ requested)) != 0;
  bool releases_lock = (current & kernel::kSecureAllLocks & ~requested) != 0;
  bool unknown = (requested & ~uint64_t{kernel::kSecureAllLocks | kernel::kSecureAllBits}) != 0;
  bool needs_setpcap = ((current ^ requested) & ~uint64_t{kernel::kSecureAllUnprivileged}) != 0;
  if (changes_locked || releases_lock || unknown ||
      (needs_setpcap && !old.has_capability(CAP_SETPCAP))) {
    return Errno{EPERM};
  }
  kernel::Credentials now = old;
  now.securebits = static_cast<uint32_t>(requested);
  kernel::commit_credentials(task, std::move(now));
  return 0;
}

// PR_CAP_AMBIENT: raise, lower, test or clear the ambient set. A raised
// capability must be permitted and inheritable, and SECBIT_NO_CAP_AMBIENT_RAISE
// forbids raising.
Result<int64_t> change_ambient(Task& task, const PrctlArgs& args) {
  const kernel::Credentials& old = task.creds();
  if (args.arg2 == PR_CAP_AMBIENT_CLEAR_ALL) {
    if ((args.arg3 | args.arg4 | args.arg5) != 0) {
      return Errno{EINVAL};
    }
    kernel::Credentials now = old;
    now.cap_ambient = {};
    kernel::commit_credentials(task, std::move(now));
    return 0;
  }
  if (!kernel::is_valid_capability(args.arg3) || (args.arg4 | args.arg5) != 0) {
    return Errno{EINVAL};
  }
  int cap = static_cast<int>(args.arg3);
  switch (args.arg2) {
    case PR_CAP_AMBIENT_IS_SET:
      return old.cap_ambient.has(cap) ? 1 : 0;
    case PR_CAP_AMBIENT_RAISE:
    case PR_CAP_AMBIENT_LOWER: {
      bool raise = args.arg2 == PR_CAP_AMBIENT_RAISE;
      if (raise && (!old.cap_permitted.has(cap) || !old.cap_inheritable.has(cap) ||
                    old.has_securebit(kernel::kSecureNoCapAmbientRaise))) {
        return Errno{EPERM};
      }
      kernel::Credentials now = old;
      raise ? now.cap_ambient.add(cap) : now.cap_ambient.remove(cap);
      kernel::commit_credentials(task, std::move(now));
      return 0;
    }
    default:
      return Errno{EINVAL};
  }
}

// The options Linux's capability module handles before prctl's own
// switch. Returns nothing for any other option.
std::optional<Result<int64_t>> capability_prctl(Task& task, const PrctlArgs& args) {
  const kernel::Credentials& old = task.creds();
  switch (args.option) {
    case PR_CAPBSET_READ:
      if (!kernel::is_valid_capability(args.arg2)) {
        return Errno{EINVAL};
      }
      return old.cap_bset.has(static_cast<int>(args.arg2)) ? 1 : 0;
    case PR_CAPBSET_DROP: {
      if (!old.has_capability(CAP_SETPCAP)) {
        return Errno{EPERM};
      }
      if (!kernel::is_valid_capability(args.arg2)) {
        return Errno{EINVAL};
      }
      kernel::Credentials now = old;
      now.cap_bset.remove(static_cast<int>(args.arg2));
      kernel::commit_credentials(task, std::move(now));
      return 0;
    }
    case PR_GET_SECUREBITS:
      return old.securebits;
    case PR_SET_SECUREBITS:
      return set_securebits(task, args.arg2);
    case PR_GET_KEEPCAPS:
      return old.has_securebit(kernel::kSecureKeepCaps) ? 1 : 0;
    case PR_SET_KEEPCAPS: {
      if (args.arg2 > 1) {
        return Errno{EINVAL};
      }
      if (old.has_securebit(kernel::kSecureKeepCapsLocked)) {
        return Errno{EPERM};
      }
      kernel::Credentials now = old;
      now.securebits = args.arg2 != 0 ? now.securebits | kernel::kSecureKeepCaps
                                      : now.securebits & ~kernel::kSecureKeepCaps;
      kernel::commit_credentials(task, std::move(now));
      return 0;
    }
    case PR_CAP_AMBIENT:
      return change_ambient(task, args);
    default:
      return std::nullopt;
  }
}

Result<int64_t> set_thp_disable(Task& task, const PrctlArgs& args) {
  bool disable = args.arg2 != 0;
  uint64_t flags = args.arg3;
  if ((args.arg4 | args.arg5) != 0) {
    return Errno{EINVAL};
  }
  // Flags are allowed only when disabling.
  if ((!disable && flags != 0) || (flags & ~kThpDisableExceptAdvised) != 0) {
    return Errno{EINVAL};
  }
  task.attributes().mm->thp_disable = disable ? static_cast<int>(1 | flags) : 0;
  return 0;
}

}  // namespace

// prctl(option, arg2, arg3, arg4, arg5)
Result<int64_t> sys_prctl(Task& task, const SyscallArgs& args) {
  PrctlArgs prctl{.option = args.i32(0),
                  .arg2 = args.u64(1),
                  .arg3 = args.u64(2),
                  .arg4 = args.u64(3),
                  .arg5 = args.u64(4)};
  if (auto result = capability_prctl(task, prctl)) {
    return *result;
  }

  kernel::TaskAttributes& attributes = task.attributes();
  GuestAddr arg2_addr = args.addr(1);
  switch (prctl.option) {
    case PR_SET_NAME:
      return set_name(task, arg2_addr);
    case PR_GET_NAME:
      return get_name(task, arg2_addr);

    case PR_SET_PDEATHSIG:
      if (prctl.arg2 > static_cast<uint64_t>(kernel::kSignalCount)) {
        return Errno{EINVAL};
      }
      attributes.pdeath_signal = static_cast<int>(prctl.arg2);
      return 0;
    case PR_GET_PDEATHSIG:
      TRY(task.copy_out<int32_t>(arg2_addr, attributes.pdeath_signal));
      return 0;

    case PR_GET_DUMPABLE:
      return attributes.mm->dumpable;
    case PR_SET_DUMPABLE:
      if (prctl.arg2 != kernel::kSuidDumpDisable && prctl.arg2 != kernel::kSuidDumpUser) {
        return Errno{EINVAL};
      }
      attributes.mm->dumpable = static_cast<int>(prctl.arg2);
      return 0;

    case PR_SET_NO_NEW_PRIVS:
      if (prctl.arg2 != 1 || (prctl.arg3 | prctl.arg4 | prctl.arg5) != 0) {
        return Errno{EINVAL};
      }
      attributes.no_new_privs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      if ((prctl.arg2 | prctl.arg3 | prctl.arg4 | prctl.arg5) != 0) {
        return Errno{EINVAL};
      }
      return attributes.no_new_privs ? 1 : 0;

    case PR_SET_CHILD_SUBREAPER:
      task.thread_group().set_child_subreaper(prctl.arg2 != 0);
      return 0;
    case PR_GET_CHILD_SUBREAPER:
      TRY(task.copy_out<int32_t>(arg2_addr, task.thread_group().child_subreaper() ? 1 : 0));
      return 0;

    case PR_SET_TIMERSLACK:
      // A real-time or deadline thread keeps its zero slack.
      if (attributes.sched.is_realtime() || attributes.sched.is_deadline()) {
        return 0;
      }
      attributes.timer_slack_ns =
          prctl.arg2 == 0 ? attributes.default_timer_slack_ns : prctl.arg2;
      return 0;
    case PR_GET_TIMERSLACK:
      return static_cast<int64_t>(attributes.timer_slack_ns);

    case PR_SET_THP_DISABLE:
      return set_thp_disable(task, prctl);
    case PR_GET_THP_DISABLE:
      if ((prctl.arg2 | prctl.arg3 | prctl.arg4 | prctl.arg5) != 0) {
        return Errno{EINVAL};
      }
      return attributes.mm->thp_disable;

    case PR_GET_TID_ADDRESS:
      TRY(task.copy_out<uint64_t>(arg2_addr, task.clear_child_tid().value()));
      return 0;

    case PR_GET_SECCOMP:
      return prctl_get_seccomp(task, args);
    case PR_SET_SECCOMP:
      return prctl_set_seccomp(task, args);

    default:
      record_gap(task, option_name(prctl.option));
      return Errno{EINVAL};
  }
}

}  // namespace ward::syscalls
