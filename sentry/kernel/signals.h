// Signal state: dispositions, masks, pending signals and their siginfo, and
// the default action Linux takes for each signal.
#pragma once

#include <signal.h>

#include <array>
#include <cstdint>
#include <deque>
#include <optional>

namespace ward::kernel {

// Linux's _NSIG on x86_64: signals 1 to 64.
inline constexpr int kSignalCount = 64;

// A set of signals: bit n-1 stands for signal n, as in the kernel's sigset_t.
using SignalSet = uint64_t;

constexpr SignalSet signal_bit(int signal) { return SignalSet{1} << (signal - 1); }

constexpr bool is_valid_signal(int signal) { return signal >= 1 && signal <= kSignalCount; }

// SIGKILL and SIGSTOP can be neither caught, blocked nor ignored.
inline constexpr SignalSet kUnblockableSignals = signal_bit(SIGKILL) | signal_bit(SIGSTOP);

// Signals the CPU raises for the instruction that ran; Linux delivers them
// before any other pending signal.
inline constexpr SignalSet kSynchronousSignals = signal_bit(SIGSEGV) | signal_bit(SIGBUS) |
                                                 signal_bit(SIGILL) | signal_bit(SIGTRAP) |
                                                 signal_bit(SIGFPE) | signal_bit(SIGSYS);

inline constexpr SignalSet kStopSignals =
    signal_bit(SIGSTOP) | signal_bit(SIGTSTP) | signal_bit(SIGTTIN) | signal_bit(SIGTTOU);

// The first real-time signal; signals from here on queue every instance,
// standard ones below it coalesce.
inline constexpr int kFirstRealtimeSignal = 32;

// sigaction flag that glibc's <signal.h> leaves out: x86_64's SA_RESTORER.
inline constexpr uint64_t kSaRestorer = 0x04000000;

// The kernel's struct sigaction on x86_64, as rt_sigaction reads and writes
// it in guest memory.
struct KernelSigaction {
  uint64_t handler = 0;  // SIG_DFL (0), SIG_IGN (1) or a guest address
  uint64_t flags = 0;    // SA_*
  uint64_t restorer = 0;
  SignalSet mask = 0;
};
static_assert(sizeof(KernelSigaction) == 32);

inline constexpr uint64_t kSigDefault = 0;
inline constexpr uint64_t kSigIgnore = 1;

// The dispositions of a thread group, indexed by signal number - 1. Shared
// by every task made with CLONE_SIGHAND.
using SignalHandlers = std::array<KernelSigaction, kSignalCount>;

// stack_t as sigaltstack reads and writes it.
struct GuestSignalStack {
  uint64_t sp = 0;
  int32_t flags = SS_DISABLE;
  int32_t padding = 0;
  uint64_t size = 0;
};
static_assert(sizeof(GuestSignalStack) == 24);

// What SIG_DFL does with a signal (signal(7)).
enum class DefaultAction { kTerminate, kCoreDump, kIgnore, kStop, kContinue };

DefaultAction default_action(int signal);

// Whether `signal` would be thrown away on arrival: ignored explicitly, or by
// default, and not blocked (a blocked signal stays pending, since the
// handler may change before it is unblocked).
bool is_ignored(const KernelSigaction& action, int signal);

// Signals waiting for delivery, with one siginfo per queued instance.
class PendingSignals {
 public:
  SignalSet set() const { return set_; }
  bool has(int signal) const { return (set_ & signal_bit(signal)) != 0; }

  // Queues `info`. A standard signal already pending is not queued again;
  // a real-time one is, up to `max_queued` instances in all. Returns false
  // when it was not queued.
  bool add(const siginfo_t& info, size_t max_queued);

  // Removes and returns the oldest instance of `signal`.
  std::optional<siginfo_t> take(int signal);

  // Drops every instance of the signals in `signals`.
  void discard(SignalSet signals);

  size_t queued() const { return queue_.size(); }

 private:
  SignalSet set_ = 0;
  std::deque<siginfo_t> queue_;
};

// The signal Linux would deliver next out of `pending`: synchronous ones
// first, then the lowest number. 0 when `pending` is empty.
int next_signal(SignalSet pending);

// A siginfo for a signal the kernel itself sends (si_code SI_KERNEL).
siginfo_t kernel_siginfo(int signal);

}  // namespace ward::kernel
