// Signal state as rt_sigaction, rt_sigprocmask and sigaltstack keep it.
#pragma once

#include <signal.h>

#include <array>
#include <cstdint>

namespace ward::kernel {

// Linux's _NSIG on x86_64: signals 1 to 64.
inline constexpr int kSignalCount = 64;

// A set of signals: bit n-1 stands for signal n, as in the kernel's sigset_t.
using SignalSet = uint64_t;

constexpr SignalSet signal_bit(int signal) { return SignalSet{1} << (signal - 1); }

// SIGKILL and SIGSTOP can be neither caught, blocked nor ignored.
inline constexpr SignalSet kUnblockableSignals = signal_bit(SIGKILL) | signal_bit(SIGSTOP);

// The kernel's struct sigaction on x86_64, as rt_sigaction reads and writes
// it in guest memory.
struct KernelSigaction {
  uint64_t handler = 0;  // SIG_DFL (0), SIG_IGN (1) or a guest address
  uint64_t flags = 0;    // SA_*
  uint64_t restorer = 0;
  SignalSet mask = 0;
};
static_assert(sizeof(KernelSigaction) == 32);

// The dispositions of a thread group, indexed by signal number - 1.
using SignalHandlers = std::array<KernelSigaction, kSignalCount>;

// stack_t as sigaltstack reads and writes it.
struct GuestSignalStack {
  uint64_t sp = 0;
  int32_t flags = SS_DISABLE;
  int32_t padding = 0;
  uint64_t size = 0;
};
static_assert(sizeof(GuestSignalStack) == 24);

}  // namespace ward::kernel
