#include "sentry/kernel/signals.h"

#include <algorithm>
#include <bit>

namespace ward::kernel {

DefaultAction default_action(int signal) {
  switch (signal) {
    case SIGQUIT:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
    case SIGBUS:
    case SIGFPE:
    case SIGSEGV:
    case SIGXCPU:
    case SIGXFSZ:
    case SIGSYS:
      return DefaultAction::kCoreDump;
    case SIGCHLD:
    case SIGURG:
    case SIGWINCH:
      return DefaultAction::kIgnore;
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return DefaultAction::kStop;
    case SIGCONT:
      return DefaultAction::kContinue;
    default:
      // Every other standard signal and every real-time one terminates.
      return DefaultAction::kTerminate;
  }
}

bool is_ignored(const KernelSigaction& action, int signal) {
  if (action.handler == kSigIgnore) {
    return true;
  }
  if (action.handler != kSigDefault) {
    return false;
  }
  // SIGCONT's default is to continue, which happens on arrival whatever
  // the disposition; the delivery itself then does nothing.
  DefaultAction what = default_action(signal);
  return what == DefaultAction::kIgnore || what == DefaultAction::kContinue;
}

bool PendingSignals::add(const siginfo_t& info, size_t max_queued) {
  int signal = info.si_signo;
  if (signal < kFirstRealtimeSignal && has(signal)) {
    return false;  // standard signals coalesce
  }
  if (signal >= kFirstRealtimeSignal && queue_.size() >= max_queued) {
    return false;
  }
  queue_.push_back(info);
  set_ |= signal_bit(signal);
  return true;
}

std::optional<siginfo_t> PendingSignals::take(int signal) {
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [signal](const siginfo_t& info) { return info.si_signo == signal; });
  if (it == queue_.end()) {
    return std::nullopt;
  }
  siginfo_t info = *it;
  queue_.erase(it);
  bool more = std::any_of(queue_.begin(), queue_.end(),
                          [signal](const siginfo_t& queued) { return queued.si_signo == signal; });
  if (!more) {
    set_ &= ~signal_bit(signal);
  }
  return info;
}

void PendingSignals::discard(SignalSet signals) {
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [signals](const siginfo_t& info) {
                                return (signals & signal_bit(info.si_signo)) != 0;
                              }),
               queue_.end());
  set_ &= ~signals;
}

int next_signal(SignalSet pending) {
  SignalSet synchronous = pending & kSynchronousSignals;
  SignalSet choose_from = synchronous != 0 ? synchronous : pending;
  if (choose_from == 0) {
    return 0;
  }
  return std::countr_zero(choose_from) + 1;
}

siginfo_t kernel_siginfo(int signal) {
  siginfo_t info{};
  info.si_signo = signal;
  info.si_code = SI_KERNEL;
  return info;
}

}  // namespace ward::kernel
