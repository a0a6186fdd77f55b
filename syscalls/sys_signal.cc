// rt_sigaction, rt_sigprocmask, rt_sigpending and sigaltstack: the signal
// state a process keeps.
#include <signal.h>

#include "sentry/kernel/signals.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/handlers_core.h"

namespace ward::syscalls {
namespace {

// Flags glibc's <signal.h> leaves out: SA_RESTORER (x86_64's value) and
// kSsAutodisarm.
constexpr uint64_t kSaRestorer = 0x04000000;
constexpr int kSsAutodisarm = static_cast<int>(1U << 31);

// The sigset_t size every rt_* signal call requires on x86_64.
constexpr uint64_t kSigsetBytes = sizeof(kernel::SignalSet);

// sa_flags bits Linux defines. Since 5.11 Linux clears the others before
// storing, so that a program can probe for flag support.
constexpr uint64_t kKnownSigactionFlags = SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO |
                                          SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND |
                                          kernel::kSaRestorer | 0x00000400 /* SA_EXPOSE_TAGBITS */ |
                                          0x00000800 /* SA_UNSUPPORTED */;

// Linux's MINSIGSTKSZ on x86_64: the smallest alternate stack accepted.
constexpr uint64_t kMinSignalStackBytes = 2048;

}  // namespace

// rt_sigaction(signum, act, oldact, sigsetsize)
Result<int64_t> sys_rt_sigaction(kernel::Task& task, const SyscallArgs& args) {
  int signal = args.i32(0);
  GuestAddr new_addr = args.addr(1);
  GuestAddr old_addr = args.addr(2);
  uint64_t sigset_bytes = args.u64(3);

  if (sigset_bytes != kSigsetBytes) {
    return Errno{EINVAL};
  }
  std::optional<kernel::KernelSigaction> new_action;
  if (!new_addr.is_null()) {
    new_action = TRY(task.copy_in<kernel::KernelSigaction>(new_addr));
  }
  if (!kernel::is_valid_signal(signal) || (new_action && (signal == SIGKILL || signal == SIGSTOP))) {
    return Errno{EINVAL};
  }

  kernel::KernelSigaction& slot = task.thread_group().signal_handlers()[signal - 1];
  kernel::KernelSigaction old_action = slot;
  if (new_action) {
    new_action->flags &= kKnownSigactionFlags;
    new_action->mask &= ~kernel::kUnblockableSignals;
    slot = *new_action;
    // POSIX: making a pending signal ignored discards it.
    if (kernel::is_ignored(slot, signal)) {
      kernel::SignalSet bit = kernel::signal_bit(signal);
      task.thread_group().shared_pending().discard(bit);
      for (kernel::Task* member : task.thread_group().tasks()) {
        member->pending().discard(bit);
      }
    }
  }
  if (!old_addr.is_null()) {
    TRY(task.copy_out(old_addr, old_action));
  }
  return 0;
}

// rt_sigprocmask(how, set, oldset, sigsetsize)
Result<int64_t> sys_rt_sigprocmask(kernel::Task& task, const SyscallArgs& args) {
  int how = args.i32(0);
  GuestAddr new_addr = args.addr(1);
  GuestAddr old_addr = args.addr(2);
  uint64_t sigset_bytes = args.u64(3);

  if (sigset_bytes != kSigsetBytes) {
    return Errno{EINVAL};
  }
  kernel::SignalSet old_mask = task.signal_mask();
  if (!new_addr.is_null()) {
    kernel::SignalSet set = TRY(task.copy_in<kernel::SignalSet>(new_addr));
    switch (how) {
      case SIG_BLOCK:
        task.set_signal_mask(old_mask | set);
        break;
      case SIG_UNBLOCK:
        task.set_signal_mask(old_mask & ~set);
        break;
      case SIG_SETMASK:
        task.set_signal_mask(set);
        break;
      default:
        return Errno{EINVAL};
    }
  }
  if (!old_addr.is_null()) {
    TRY(task.copy_out(old_addr, old_mask));
  }
  return 0;
}

// rt_sigpending(set, sigsetsize): the blocked signals pending for the
// thread or its process.
Result<int64_t> sys_rt_sigpending(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr set_addr = args.addr(0);
  uint64_t sigset_bytes = args.u64(1);
  if (sigset_bytes > kSigsetBytes) {
    return Errno{EINVAL};
  }
  kernel::SignalSet pending =
      (task.pending().set() | task.thread_group().shared_pending().set()) & task.signal_mask();
  TRY(task.copy_out(set_addr, std::as_bytes(std::span(&pending, 1)).first(sigset_bytes)));
  return 0;
}

// sigaltstack(ss, old_ss)
Result<int64_t> sys_sigaltstack(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr new_addr = args.addr(0);
  GuestAddr old_addr = args.addr(1);

  std::optional<kernel::GuestSignalStack> new_stack;
  if (!new_addr.is_null()) {
    new_stack = TRY(task.copy_in<kernel::GuestSignalStack>(new_addr));
  }
  kernel::GuestSignalStack old_stack = task.signal_stack();

  // The old stack reports SS_ONSTACK while the caller runs on it, and then
  // it may not be changed.
  uint64_t sp = task.regs().rsp;
  bool on_stack = old_stack.size != 0 && sp > old_stack.sp && sp - old_stack.sp <= old_stack.size;
  if (on_stack) {
    old_stack.flags = (old_stack.flags & kSsAutodisarm) | SS_ONSTACK;
  } else if (old_stack.size == 0) {
    old_stack.flags = SS_DISABLE;
  }

  if (new_stack) {
    if (on_stack) {
      return Errno{EPERM};
    }
    int mode = new_stack->flags & ~kSsAutodisarm;
    if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) {
      return Errno{EINVAL};
    }
    if (mode == SS_DISABLE) {
      new_stack->sp = 0;
      new_stack->size = 0;
    } else if (new_stack->size < kMinSignalStackBytes) {
      return Errno{ENOMEM};
    }
    new_stack->flags &= SS_DISABLE | kSsAutodisarm;
    task.signal_stack() = *new_stack;
  }
  if (!old_addr.is_null()) {
    TRY(task.copy_out(old_addr, old_stack));
  }
  return 0;
}

}  // namespace ward::syscalls
