// Signal delivery: what a task does on its way back to guest code, as
// Linux's get_signal and handle_signal do it.
#include <sys/syscall.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_frame.h"
#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/timers.h"

namespace ward::kernel {
namespace {

// The syscall instruction is two bytes long; restarting a call means
// running it again from there.
constexpr uint64_t kSyscallInstructionBytes = 2;

void restart_syscall_at_entry(platform::Registers& regs) {
  regs.rax = regs.orig_rax;
  regs.rip -= kSyscallInstructionBytes;
}

}  // namespace

int Task::take_signal(SignalSet wanted, siginfo_t& info) {
  for (;;) {
    bool from_process_queue = false;
    int signal = next_signal(pending_.set() & wanted);
    if (signal != 0) {
      info = pending_.take(signal).value();
    } else {
      signal = next_signal(group_->shared_pending().set() & wanted);
      if (signal == 0) {
        return 0;
      }
      info = group_->shared_pending().take(signal).value();
      from_process_queue = true;
    }
    // A timer's signal re-arms its timer; one from a timer deleted or
    // changed since it was queued is dropped.
    if (timer_signal_dequeued(*this, info, from_process_queue)) {
      return signal;
    }
  }
}

void Task::finish_interrupted_syscall(const KernelSigaction* handler_action) {
  if (!interrupted_syscall_) {
    return;
  }
  int code = *interrupted_syscall_;
  interrupted_syscall_.reset();
  platform::Registers& regs = context_->regs();
  auto fail_with_eintr = [&] { regs.rax = static_cast<uint64_t>(-EINTR); };

  if (handler_action != nullptr) {
    // A handler runs first: only SA_RESTART, or a call that must never
    // fail with EINTR, starts over when it returns.
    bool restart = code == ERESTARTNOINTR ||
                   (code == ERESTARTSYS && (handler_action->flags & SA_RESTART) != 0);
    if (restart) {
      restart_syscall_at_entry(regs);
    } else {
      fail_with_eintr();
    }
    restart_ = nullptr;
    return;
  }

  // No handler ran: the call starts over as if nothing had happened.
  if (code == ERESTART_RESTARTBLOCK) {
    regs.rax = SYS_restart_syscall;
    regs.rip -= kSyscallInstructionBytes;
    return;
  }
  restart_syscall_at_entry(regs);
}

void Task::stop_for_group() {
  while (group_->stopped() && !exit_requested_) {
    Waiter waiter(scheduler());
    waiter.watch(group_->continue_queue());
    block_killable(waiter);
  }
}

bool Task::run_handler(int signal, const siginfo_t& info, const KernelSigaction& action) {
  platform::Registers& regs = context_->regs();
  SignalSet mask_to_restore = saved_mask_.value_or(signal_mask_);
  saved_mask_.reset();

  auto xsave = context_->read_fp_state();
  SignalDelivery delivery{
      .signal = signal,
      .info = info,
      .action = action,
      .mask_to_restore = mask_to_restore,
      .altstack = signal_stack_,
      .on_altstack = (action.flags & SA_ONSTACK) != 0 && signal_stack_.size != 0 &&
                     (signal_stack_.flags & SS_DISABLE) == 0,
  };
  auto write = [this](GuestAddr addr, std::span<const std::byte> bytes) {
    return copy_out(addr, bytes);
  };
  std::span<const std::byte> fp_state;
  if (xsave.ok()) {
    fp_state = *xsave;
  }
  if (!push_signal_frame(regs, fp_state, delivery, write).ok()) {
    log(spdlog::level::debug, "cannot build the frame for signal {}; forcing SIGSEGV", signal);
    force_signal(kernel_siginfo(SIGSEGV));
    return false;
  }

  // While the handler runs, its mask and, unless SA_NODEFER, the signal
  // itself are blocked.
  SignalSet blocked = signal_mask_ | action.mask;
  if ((action.flags & SA_NODEFER) == 0) {
    blocked |= signal_bit(signal);
  }
  signal_mask_ = blocked & ~kUnblockableSignals;

  if ((action.flags & SA_RESETHAND) != 0) {
    group_->signal_handlers()[signal - 1].handler = kSigDefault;
  }
  constexpr int kSsAutodisarm = static_cast<int>(1U << 31);
  if (delivery.on_altstack && (signal_stack_.flags & kSsAutodisarm) != 0) {
    signal_stack_ = GuestSignalStack{};
  }
  return true;
}

void Task::deliver_signals() {
  bool handler_ran = false;
  for (;;) {
    if (group_->stopped()) {
      stop_for_group();
    }
    if (exit_requested_) {
      return;
    }

    siginfo_t info{};
    int signal = take_signal(~signal_mask_, info);
    if (signal == 0) {
      break;
    }
    KernelSigaction action = group_->signal_handlers()[signal - 1];

    if (action.handler == kSigIgnore) {
      continue;
    }
    if (Kernel::SignalTracer tracer = kernel().signal_tracer()) {
      tracer(*this, signal, info);
    }
    if (action.handler != kSigDefault) {
      if (!handler_ran) {
        finish_interrupted_syscall(&action);
      }
      if (run_handler(signal, info, action)) {
        handler_ran = true;
      }
      continue;
    }

    switch (default_action(signal)) {
      case DefaultAction::kIgnore:
      case DefaultAction::kContinue:
        continue;
      case DefaultAction::kStop:
        // The terminal's stop signals are discarded in an orphaned process
        // group, which nothing would continue; SIGSTOP always stops.
        if (signal != SIGSTOP && is_orphaned_process_group(kernel(), group_->pgid())) {
          continue;
        }
        begin_group_stop(*group_, signal);
        continue;
      case DefaultAction::kTerminate:
      case DefaultAction::kCoreDump:
        log(spdlog::level::info, "killed by signal {} (si_code {})", signal, info.si_code);
        group_->begin_exit(signal_wait_status(signal));
        return;
    }
  }

  if (!handler_ran) {
    finish_interrupted_syscall(nullptr);
    // A temporary mask (rt_sigsuspend) goes away with the call when no
    // handler ran; after a handler, rt_sigreturn restores it.
    if (saved_mask_) {
      signal_mask_ = *saved_mask_;
      saved_mask_.reset();
    }
  }
}

}  // namespace ward::kernel
