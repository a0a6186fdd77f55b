// seccomp(2) and prctl's PR_SET_SECCOMP and PR_GET_SECCOMP: guest programs
// install their own filters, and every later guest syscall passes them
// before it runs. The classic BPF checker and interpreter live in
// sentry/kernel/seccomp.h. ward's host-side filter on the stub is separate
// and never evaluates these.
//
// Only x86_64 syscalls exist in ward, so a filter always sees
// AUDIT_ARCH_X86_64; an x32 number (bit 30 set) reaches it as Linux passes
// it, and then fails with ENOSYS.
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/syscall.h>

#include <algorithm>
#include <vector>

#include "sentry/kernel/seccomp.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_seccomp.h"

namespace ward::syscalls {
namespace {

using kernel::SeccompFilter;
using kernel::SeccompMode;
using kernel::SeccompState;

// Linux's MAX_ERRNO: RET_ERRNO data above it is cut down to it.
constexpr uint32_t kMaxErrno = 4095;

// si_code of a SIGSYS that seccomp forces (asm-generic/siginfo.h).
constexpr int kSiCodeSysSeccomp = 1;

// __NR_uretprobe, which strict mode allows too since Linux 6.11.
constexpr int kUretprobeSyscall = 335;

constexpr uint32_t kFilterFlagMask =
    SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH |
    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

// Whether the task has CAP_SYS_ADMIN in its user namespace.
bool has_cap_sys_admin(const kernel::Task& task) {
  return task.creds().has_capability(CAP_SYS_ADMIN);
}

// Whether `mode` may be entered from the task's current mode. Once set,
// the mode never changes (seccomp_may_assign_mode).
bool may_assign_mode(const SeccompState& state, SeccompMode mode) {
  return state.mode == SeccompMode::kDisabled || state.mode == mode;
}

// Copies in a sock_fprog and checks its program, in the order of Linux's
// seccomp_prepare_user_filter: EFAULT for the sock_fprog, EINVAL for its
// length, EACCES without no_new_privs or CAP_SYS_ADMIN, EINVAL for a NULL
// program, EFAULT for the program, EINVAL for a program the checker
// rejects.
Result<std::vector<sock_filter>> copy_in_filter_program(kernel::Task& task, GuestAddr fprog_addr) {
  sock_fprog fprog = TRY(task.copy_in<sock_fprog>(fprog_addr));
  if (fprog.len == 0 || fprog.len > kernel::kBpfMaxInstructions) {
    return Errno{EINVAL};
  }
  if (!task.no_new_privs() && !has_cap_sys_admin(task)) {
    return Errno{EACCES};
  }
  if (fprog.filter == nullptr) {
    return Errno{EINVAL};
  }

  std::vector<sock_filter> program(fprog.len);
  GuestAddr program_addr(reinterpret_cast<uint64_t>(fprog.filter));
  TRY(task.copy_in(program_addr, std::as_writable_bytes(std::span(program))));
  TRY(kernel::check_seccomp_program(program));
  return program;
}

// The first other live thread that TSYNC cannot move onto the caller's
// chain: one in strict mode, or one whose filters are not an ancestor of
// the caller's. 0 when every thread can follow (seccomp_can_sync_threads).
pid_t first_unsyncable_thread(kernel::Task& caller) {
  const SeccompFilter* caller_filter = caller.seccomp().filter.get();
  for (kernel::Task* thread : caller.thread_group().tasks()) {
    if (thread == &caller || thread->exit_requested()) {
      continue;
    }
    const SeccompState& state = thread->seccomp();
    if (state.mode == SeccompMode::kDisabled) {
      continue;
    }
    if (state.mode == SeccompMode::kFilter &&
        kernel::is_seccomp_ancestor(state.filter.get(), caller_filter)) {
      continue;
    }
    return thread->tid();
  }
  return 0;
}

// Puts every other live thread on the caller's chain, with no_new_privs if
// the caller has it (seccomp_sync_threads).
void sync_threads(kernel::Task& caller) {
  if (caller.thread_group().exiting()) {
    return;
  }
  for (kernel::Task* thread : caller.thread_group().tasks()) {
    if (thread == &caller || thread->exit_requested()) {
      continue;
    }
    thread->seccomp().filter = caller.seccomp().filter;
    thread->seccomp().mode = SeccompMode::kFilter;
    if (caller.no_new_privs()) {
      thread->set_no_new_privs();
    }
  }
}

// SECCOMP_SET_MODE_STRICT.
// NOTE: Linux also makes rdtsc fault in strict mode (TIF_NOTSC); ward
// leaves rdtsc working.
Result<int64_t> set_mode_strict(kernel::Task& task, uint32_t flags, GuestAddr uargs) {
  if (flags != 0 || !uargs.is_null()) {
    return Errno{EINVAL};
  }
  if (!may_assign_mode(task.seccomp(), SeccompMode::kStrict)) {
    return Errno{EINVAL};
  }
  task.seccomp().mode = SeccompMode::kStrict;
  return 0;
}

// SECCOMP_SET_MODE_FILTER, in the order of Linux's seccomp_set_mode_filter.
Result<int64_t> set_mode_filter(kernel::Task& task, uint32_t flags, GuestAddr fprog_addr) {
  if ((flags & ~kFilterFlagMask) != 0) {
    return Errno{EINVAL};
  }
  // ward has no user notification, so it rejects NEW_LISTENER (and
  // WAIT_KILLABLE_RECV, which needs it) as an unknown flag, as Linux
  // before 5.0 did. libseccomp and runc probe for the flag that way and
  // fall back.
  if ((flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0) {
    record_gap(task, "SECCOMP_FILTER_FLAG_NEW_LISTENER (user notification)");
    return Errno{EINVAL};
  }
  if ((flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) != 0) {
    return Errno{EINVAL};
  }

  std::vector<sock_filter> program = TRY(copy_in_filter_program(task, fprog_addr));

  SeccompState& state = task.seccomp();
  if (!may_assign_mode(state, SeccompMode::kFilter)) {
    return Errno{EINVAL};
  }
  size_t ebpf_length = kernel::seccomp_ebpf_length(program);
  size_t total = ebpf_length + kernel::seccomp_chain_instructions(state.filter.get());
  if (total > kernel::kSeccompMaxPathInstructions) {
    return Errno{ENOMEM};
  }
  if ((flags & SECCOMP_FILTER_FLAG_TSYNC) != 0) {
    // A failed sync returns the tid of the thread that cannot follow, a
    // positive value, unless the caller asked for ESRCH instead.
    pid_t unsyncable = first_unsyncable_thread(task);
    if (unsyncable != 0) {
      if ((flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH) != 0) {
        return Errno{ESRCH};
      }
      return unsyncable;
    }
  }

  auto filter = std::make_shared<SeccompFilter>(SeccompFilter{
      .program = std::move(program),
      .ebpf_length = ebpf_length,
      .log = (flags & SECCOMP_FILTER_FLAG_LOG) != 0,
      .prev = state.filter,
  });
  state.filter = std::move(filter);
  // Without SPEC_ALLOW, Linux may turn on speculative store bypass
  // mitigation for the task; it does so only when booted with
  // spec_store_bypass_disable=seccomp, which has not been the default since
  // Linux 5.16. ward sets no speculation control on the host thread.
  state.mode = SeccompMode::kFilter;
  if ((flags & SECCOMP_FILTER_FLAG_TSYNC) != 0) {
    sync_threads(task);
  }
  task.log(spdlog::level::debug, "installed a seccomp filter of {} instructions (flags {:#x})",
           state.filter->program.size(), flags);
  return 0;
}

// SECCOMP_GET_ACTION_AVAIL: 0 for an action ward carries out.
Result<int64_t> get_action_avail(kernel::Task& task, GuestAddr action_addr) {
  uint32_t action = TRY(task.copy_in<uint32_t>(action_addr));
  switch (action) {
    case SECCOMP_RET_KILL_PROCESS:
    case SECCOMP_RET_KILL_THREAD:
    case SECCOMP_RET_TRAP:
    case SECCOMP_RET_ERRNO:
    case SECCOMP_RET_TRACE:
    case SECCOMP_RET_LOG:
    case SECCOMP_RET_ALLOW:
      return 0;
    default:
      // SECCOMP_RET_USER_NOTIF lands here too. Without listeners, ward
      // reports it as a kernel before 5.0 did, consistent with the
      // NEW_LISTENER flag.
      return Errno{EOPNOTSUPP};
  }
}

// SECCOMP_GET_NOTIF_SIZES: the sizes of the user notification structures,
// which are ABI facts even though ward creates no listener.
Result<int64_t> get_notif_sizes(kernel::Task& task, GuestAddr sizes_addr) {
  seccomp_notif_sizes sizes{
      .seccomp_notif = sizeof(seccomp_notif),
      .seccomp_notif_resp = sizeof(seccomp_notif_resp),
      .seccomp_data = sizeof(seccomp_data),
  };
  TRY(task.copy_out(sizes_addr, sizes));
  return 0;
}

// Linux's do_seccomp, shared by seccomp(2) and prctl.
Result<int64_t> do_seccomp(kernel::Task& task, uint32_t operation, uint32_t flags,
                           GuestAddr uargs) {
  switch (operation) {
    case SECCOMP_SET_MODE_STRICT:
      return set_mode_strict(task, flags, uargs);
    case SECCOMP_SET_MODE_FILTER:
      return set_mode_filter(task, flags, uargs);
    case SECCOMP_GET_ACTION_AVAIL:
      if (flags != 0) {
        return Errno{EINVAL};
      }
      return get_action_avail(task, uargs);
    case SECCOMP_GET_NOTIF_SIZES:
      if (flags != 0) {
        return Errno{EINVAL};
      }
      return get_notif_sizes(task, uargs);
    default:
      return Errno{EINVAL};
  }
}

// Strict mode (mode 1) allows read, write, exit and rt_sigreturn only, and
// uretprobe, as Linux 6.11 and later do.
bool allowed_in_strict_mode(int32_t number) {
  return number == SYS_read || number == SYS_write || number == SYS_exit ||
         number == SYS_rt_sigreturn || number == kUretprobeSyscall;
}

seccomp_data seccomp_data_of(kernel::Task& task, const SyscallArgs& args) {
  seccomp_data data{};
  data.nr = static_cast<int32_t>(args.number);
  data.arch = kernel::kAuditArchX86_64;
  data.instruction_pointer = task.regs().rip;
  std::copy(args.raw.begin(), args.raw.end(), data.args);
  return data;
}

// The SIGSYS of RET_TRAP and of the kill actions (force_sig_seccomp).
siginfo_t seccomp_siginfo(kernel::Task& task, int32_t number, uint32_t data) {
  siginfo_t info{};
  info.si_signo = SIGSYS;
  info.si_code = kSiCodeSysSeccomp;
  info.si_errno = static_cast<int>(data);
  info.si_call_addr = reinterpret_cast<void*>(task.regs().rip);
  info.si_syscall = number;
  info.si_arch = kernel::kAuditArchX86_64;
  return info;
}

int live_threads(kernel::ThreadGroup& group) {
  return static_cast<int>(
      std::count_if(group.tasks().begin(), group.tasks().end(),
                    [](kernel::Task* task) { return !task->exit_requested(); }));
}

// Carries out a filter verdict other than ALLOW and LOG.
SeccompDenial deny(kernel::Task& task, int32_t number, uint32_t value) {
  platform::Registers& regs = task.regs();
  uint32_t action = value & SECCOMP_RET_ACTION_FULL;
  uint32_t data = value & SECCOMP_RET_DATA;

  switch (action) {
    case SECCOMP_RET_ERRNO: {
      int64_t result = -static_cast<int64_t>(std::min(data, kMaxErrno));
      regs.rax = static_cast<uint64_t>(result);
      return SeccompDenial{.result = result, .reason = "SECCOMP_RET_ERRNO"};
    }
    case SECCOMP_RET_TRAP:
      // The handler gets the registers of the call, with rax holding its
      // number again, and the call never runs.
      regs.rax = regs.orig_rax;
      task.force_signal(seccomp_siginfo(task, number, data));
      return SeccompDenial{.result = std::nullopt, .reason = "SECCOMP_RET_TRAP"};
    case SECCOMP_RET_TRACE:
      // NOTE: ward has no guest ptrace, so no tracer ever waits for
      // PTRACE_EVENT_SECCOMP and the call fails as Linux fails it then.
      regs.rax = static_cast<uint64_t>(-ENOSYS);
      return SeccompDenial{.result = -ENOSYS, .reason = "SECCOMP_RET_TRACE without a tracer"};
    case SECCOMP_RET_USER_NOTIF:
      // No filter ever has a listener in ward (see set_mode_filter).
      regs.rax = static_cast<uint64_t>(-ENOSYS);
      return SeccompDenial{.result = -ENOSYS,
                           .reason = "SECCOMP_RET_USER_NOTIF without a listener"};
    default:
      break;
  }

  // KILL_THREAD, KILL_PROCESS and any unknown action. A thread killed
  // while others live exits alone; otherwise the whole process dies of
  // SIGSYS with a core dump, whatever its SIGSYS disposition.
  regs.rax = regs.orig_rax;
  kernel::ThreadGroup& group = task.thread_group();
  if (action == SECCOMP_RET_KILL_THREAD && live_threads(group) > 1) {
    task.log(spdlog::level::info, "seccomp filter killed the thread (syscall {})", number);
    task.exit_thread_by_signal(SIGSYS);
    return SeccompDenial{.result = std::nullopt, .reason = "SECCOMP_RET_KILL_THREAD"};
  }
  task.log(spdlog::level::info, "seccomp filter killed the process (syscall {})", number);
  group.begin_exit(kernel::signal_wait_status(SIGSYS));
  return SeccompDenial{.result = std::nullopt,
                       .reason = action == SECCOMP_RET_KILL_THREAD ? "SECCOMP_RET_KILL_THREAD"
                                                                   : "SECCOMP_RET_KILL_PROCESS"};
}

}  // namespace

// seccomp(operation, flags, args)
Result<int64_t> sys_seccomp(kernel::Task& task, const SyscallArgs& args) {
  uint32_t operation = args.u32(0);
  uint32_t flags = args.u32(1);
  GuestAddr uargs = args.addr(2);
  return do_seccomp(task, operation, flags, uargs);
}

// prctl(PR_SET_SECCOMP, mode, filter): prctl has no flags, and strict mode
// ignores the filter argument.
Result<int64_t> prctl_set_seccomp(kernel::Task& task, const SyscallArgs& args) {
  uint64_t mode = args.u64(1);
  GuestAddr filter = args.addr(2);
  switch (mode) {
    case SECCOMP_MODE_STRICT:
      return do_seccomp(task, SECCOMP_SET_MODE_STRICT, 0, GuestAddr());
    case SECCOMP_MODE_FILTER:
      return do_seccomp(task, SECCOMP_SET_MODE_FILTER, 0, filter);
    default:
      return Errno{EINVAL};
  }
}

// prctl(PR_GET_SECCOMP): 0 or 2 in practice, since strict mode kills a
// caller of prctl before it gets here.
Result<int64_t> prctl_get_seccomp(kernel::Task& task, const SyscallArgs&) {
  return static_cast<int64_t>(task.seccomp().mode);
}

std::optional<SeccompDenial> check_seccomp(kernel::Task& task, const SyscallArgs& args) {
  const SeccompState& state = task.seccomp();
  auto number = static_cast<int32_t>(args.number);

  if (state.mode == SeccompMode::kStrict) {
    if (allowed_in_strict_mode(number)) {
      return std::nullopt;
    }
    // Linux ends only the calling thread, with SIGKILL and no core dump.
    task.log(spdlog::level::info, "seccomp strict mode killed the thread (syscall {})", number);
    task.exit_thread_by_signal(SIGKILL);
    return SeccompDenial{.result = std::nullopt, .reason = "seccomp strict mode"};
  }

  seccomp_data data = seccomp_data_of(task, args);
  kernel::SeccompVerdict verdict = kernel::run_seccomp_filters(*state.filter, data);
  uint32_t action = verdict.value & SECCOMP_RET_ACTION_FULL;
  if (action == SECCOMP_RET_ALLOW) {
    return std::nullopt;
  }
  // Linux sends these to the audit log. ward has none and logs them.
  bool logged = action == SECCOMP_RET_LOG || (verdict.match != nullptr && verdict.match->log);
  if (logged) {
    task.log(spdlog::level::info, "seccomp filter returned {:#x} for syscall {}", verdict.value,
             number);
  }
  if (action == SECCOMP_RET_LOG) {
    return std::nullopt;
  }
  return deny(task, number, verdict.value);
}

}  // namespace ward::syscalls
