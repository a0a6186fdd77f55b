// rt_sigreturn, and the calls that wait for signals: rt_sigsuspend,
// rt_sigtimedwait and pause; restart_syscall.
#include <signal.h>
#include <time.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_frame.h"
#include "sentry/kernel/task.h"
#include "syscalls/handlers_process.h"

namespace ward::syscalls {
namespace {

constexpr uint64_t kSigsetBytes = sizeof(kernel::SignalSet);
constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;

// Parks the task until a signal it does not block arrives.
void wait_for_signal(kernel::Task& task) {
  while (!task.exit_requested() && !task.has_deliverable_signal()) {
    kernel::Waiter waiter(task.scheduler());
    task.block(waiter);
  }
}

}  // namespace

// rt_sigreturn(): returns from a signal handler into the code it
// interrupted, with the registers, FP state, mask and altstack the frame
// holds. A frame that cannot be read kills the task with SIGSEGV.
Result<int64_t> sys_rt_sigreturn(kernel::Task& task, const SyscallArgs&) {
  platform::Registers current = task.regs();
  auto xsave_now = task.context().read_fp_state();
  size_t xsave_bytes = xsave_now.ok() ? xsave_now->size() : 0;
  auto read = [&task](GuestAddr addr, std::span<std::byte> bytes) { return task.copy_in(addr, bytes); };

  auto restored = kernel::read_signal_frame(current, xsave_bytes, read);
  if (!restored.ok()) {
    task.log(spdlog::level::debug, "bad signal frame at {:#x}; forcing SIGSEGV", current.rsp);
    task.force_signal(kernel::kernel_siginfo(SIGSEGV));
    return 0;
  }
  if (!restored->xsave.empty() && !task.context().write_fp_state(restored->xsave).ok()) {
    task.log(spdlog::level::debug, "bad FP state in the signal frame; forcing SIGSEGV");
    task.force_signal(kernel::kernel_siginfo(SIGSEGV));
    return 0;
  }

  task.regs() = restored->regs;
  task.set_signal_mask(restored->mask);
  // The altstack comes back as sigaltstack would set it; a frame that asks
  // for an invalid one leaves the current one alone, as Linux does. Linux
  // judges "on the stack" at the handler's stack pointer, not the restored
  // one, so a handler that re-armed the stack it runs on keeps its change.
  kernel::GuestSignalStack& stack = task.signal_stack();
  int mode = restored->altstack.flags & ~static_cast<int>(1U << 31);
  bool on_current = stack.size != 0 && current.rsp > stack.sp && current.rsp - stack.sp <= stack.size;
  if (!on_current && (mode == 0 || mode == SS_DISABLE || mode == SS_ONSTACK)) {
    stack = restored->altstack;
    stack.flags &= SS_DISABLE | static_cast<int>(1U << 31);
    if (mode == SS_DISABLE) {
      stack = kernel::GuestSignalStack{};
    }
  }
  return static_cast<int64_t>(restored->regs.rax);
}

// rt_sigsuspend(mask, sigsetsize): waits with `mask` in place until a
// signal is delivered; the old mask returns after its handler.
Result<int64_t> sys_rt_sigsuspend(kernel::Task& task, const SyscallArgs& args) {
  if (args.u64(1) != kSigsetBytes) {
    return Errno{EINVAL};
  }
  kernel::SignalSet mask = TRY(task.copy_in<kernel::SignalSet>(args.addr(0)));
  task.set_saved_mask(task.signal_mask());
  task.set_signal_mask(mask);
  wait_for_signal(task);
  return Errno{ERESTARTNOHAND};
}

// pause(): waits until a signal is delivered.
Result<int64_t> sys_pause(kernel::Task& task, const SyscallArgs&) {
  wait_for_signal(task);
  return Errno{ERESTARTNOHAND};
}

// rt_sigtimedwait(set, info, timeout, sigsetsize): takes a pending signal
// of `set` without running its handler, waiting up to `timeout` for one.
Result<int64_t> sys_rt_sigtimedwait(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr set_addr = args.addr(0);
  GuestAddr info_addr = args.addr(1);
  GuestAddr timeout_addr = args.addr(2);
  if (args.u64(3) != kSigsetBytes) {
    return Errno{EINVAL};
  }
  kernel::SignalSet wanted = TRY(task.copy_in<kernel::SignalSet>(set_addr));
  wanted &= ~kernel::kUnblockableSignals;

  std::optional<kernel::TimePoint> deadline;
  if (!timeout_addr.is_null()) {
    timespec timeout = TRY(task.copy_in<timespec>(timeout_addr));
    if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= kNanosecondsPerSecond) {
      return Errno{EINVAL};
    }
    deadline = kernel::monotonic_now() +
               kernel::Duration(timeout.tv_sec * kNanosecondsPerSecond + timeout.tv_nsec);
  }

  siginfo_t info{};
  int signal = task.take_signal(wanted, info);
  if (signal == 0) {
    // While waiting, the signals of the set are unblocked, so that their
    // arrival wakes the task; the mask is restored before returning.
    kernel::SignalSet mask = task.signal_mask();
    task.set_signal_mask_quietly(mask & ~wanted);
    kernel::Waiter waiter(task.scheduler());
    if (deadline) {
      waiter.set_deadline(*deadline);
    }
    kernel::WakeReason reason = task.block(waiter);
    task.set_signal_mask_quietly(mask);
    signal = task.take_signal(wanted, info);
    if (signal == 0) {
      return Errno{reason == kernel::WakeReason::kTimedOut ? EAGAIN : EINTR};
    }
  }
  if (!info_addr.is_null()) {
    TRY(task.copy_out(info_addr, info));
  }
  return signal;
}

// restart_syscall(): resumes the call a signal interrupted, with what it
// left for the purpose (the remaining time of a sleep).
Result<int64_t> sys_restart_syscall(kernel::Task& task, const SyscallArgs&) {
  kernel::Task::RestartFunction resume = task.take_restart_function();
  if (!resume) {
    return Errno{EINTR};
  }
  return resume(task);
}

}  // namespace ward::syscalls
