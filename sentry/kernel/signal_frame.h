// The x86_64 signal frame: what Linux pushes on the guest stack before it
// runs a signal handler, and what rt_sigreturn reads back. The layout is
// the kernel's ABI (struct rt_sigframe in arch/x86/include/asm/sigframe.h),
// which glibc, JITs and debuggers read directly.
#pragma once

#include <signal.h>

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "sentry/kernel/signals.h"
#include "ward/guest_addr.h"
#include "ward/platform.h"
#include "ward/result.h"

namespace ward::kernel {

// struct sigcontext_64.
struct GuestSigcontext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate;  // guest address of the XSAVE area, 0 when there is none
  uint64_t reserved[8];
};
static_assert(sizeof(GuestSigcontext) == 256);

// struct ucontext as the kernel writes it (uc_sigmask is the kernel's
// 8-byte sigset, not glibc's 128-byte one).
struct GuestUcontext {
  uint64_t flags;
  uint64_t link;
  GuestSignalStack stack;
  GuestSigcontext mcontext;
  SignalSet sigmask;
};
static_assert(sizeof(GuestUcontext) == 304);

// struct rt_sigframe without the FP state that follows it.
struct GuestRtSigframe {
  uint64_t restorer;  // the handler's return address
  GuestUcontext ucontext;
  siginfo_t info;
};
static_assert(sizeof(GuestRtSigframe) == 440);

// Everything needed to enter a handler.
struct SignalDelivery {
  int signal;
  siginfo_t info;
  KernelSigaction action;
  SignalSet mask_to_restore;        // the mask rt_sigreturn puts back
  GuestSignalStack altstack;        // the task's sigaltstack when the signal came
  bool on_altstack;                 // whether the handler runs on the alternate stack
};

// Builds the frame below the guest's stack pointer (or on the alternate
// stack), writes it through `write`, and points `regs` at the handler.
// EFAULT when the frame cannot be written: the caller then forces SIGSEGV.
Result<void> push_signal_frame(platform::Registers& regs, std::span<const std::byte> xsave,
                               const SignalDelivery& delivery,
                               const std::function<Result<void>(GuestAddr, std::span<const std::byte>)>& write);

// What rt_sigreturn restores, read from the frame at regs.rsp - 8.
struct RestoredContext {
  platform::Registers regs;
  std::vector<std::byte> xsave;  // empty when the frame had no FP state
  SignalSet mask;
  GuestSignalStack altstack;
};

// Reads and validates the frame rt_sigreturn returns from. EFAULT for a
// frame that cannot be read, EINVAL for one whose FP state is corrupt;
// either way the caller forces SIGSEGV, as Linux does.
Result<RestoredContext> read_signal_frame(
    const platform::Registers& current, size_t xsave_bytes,
    const std::function<Result<void>(GuestAddr, std::span<std::byte>)>& read);

}  // namespace ward::kernel
