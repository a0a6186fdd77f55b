#include "sentry/kernel/signal_frame.h"

#include <cstring>

namespace ward::kernel {
namespace {

// The x86-64 ABI's red zone: 128 bytes below the stack pointer that a
// leaf function may use without moving it, which a frame must not touch.
constexpr uint64_t kRedZoneBytes = 128;

// The XSAVE area in a frame is 64-byte aligned, as XRSTOR requires.
constexpr uint64_t kXsaveAlignment = 64;

// Markers around the XSAVE area of a frame (arch/x86/include/uapi/asm/
// sigcontext.h): magic1 in the software-reserved bytes of the legacy area
// says an extended state follows, magic2 ends it.
constexpr uint32_t kFpXstateMagic1 = 0x46505853;
constexpr uint32_t kFpXstateMagic2 = 0x46505845;
constexpr size_t kSwReservedOffset = 464;
constexpr size_t kLegacyAreaBytes = 512;
constexpr size_t kXsaveHeaderBytes = 64;

// uc_flags bits.
constexpr uint64_t kUcFpXstate = 0x1;
constexpr uint64_t kUcSigcontextSs = 0x2;
constexpr uint64_t kUcStrictRestoreSs = 0x4;

// rflags bits a handler starts without, and those rt_sigreturn may change
// (FIX_EFLAGS in arch/x86/kernel/signal.c).
constexpr uint64_t kFlagTrap = 0x100;
constexpr uint64_t kFlagDirection = 0x400;
constexpr uint64_t kFlagResume = 0x10000;
constexpr uint64_t kRestorableFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 |
                                      0x10000 | 0x40000;

// x86 exception vectors that the frame's trapno reports: a page fault
// (SIGSEGV, SIGBUS), an invalid opcode (SIGILL ILL_ILLOPN), int3 (SIGTRAP
// SI_KERNEL) and a general protection fault (SIGSEGV SI_KERNEL). A divide
// error (SIGFPE FPE_INTDIV) is vector 0, the value a frame starts with.
constexpr uint64_t kPageFaultTrap = 14;
constexpr uint64_t kInvalidOpcodeTrap = 6;
constexpr uint64_t kBreakpointTrap = 3;
constexpr uint64_t kGeneralProtectionTrap = 13;

// The vector a fault signal came from, or 0 when the siginfo does not say.
uint64_t trap_number(const siginfo_t& info) {
  if (info.si_code == SI_KERNEL) {
    switch (info.si_signo) {
      case SIGTRAP:
        return kBreakpointTrap;
      case SIGSEGV:
        return kGeneralProtectionTrap;
      default:
        return 0;
    }
  }
  if (info.si_code <= 0) {
    return 0;  // sent by a process (SI_USER, SI_QUEUE, SI_TKILL)
  }
  switch (info.si_signo) {
    case SIGSEGV:
    case SIGBUS:
      return kPageFaultTrap;
    case SIGILL:
      return info.si_code == ILL_ILLOPN ? kInvalidOpcodeTrap : 0;
    default:
      return 0;
  }
}

uint64_t round_down(uint64_t value, uint64_t alignment) { return value & ~(alignment - 1); }

bool on_stack(uint64_t sp, const GuestSignalStack& stack) {
  return stack.size != 0 && sp > stack.sp && sp - stack.sp <= stack.size;
}

GuestSigcontext sigcontext_from(const platform::Registers& regs, const SignalDelivery& delivery,
                                uint64_t fpstate) {
  GuestSigcontext context{};
  context.r8 = regs.r8;
  context.r9 = regs.r9;
  context.r10 = regs.r10;
  context.r11 = regs.r11;
  context.r12 = regs.r12;
  context.r13 = regs.r13;
  context.r14 = regs.r14;
  context.r15 = regs.r15;
  context.rdi = regs.rdi;
  context.rsi = regs.rsi;
  context.rbp = regs.rbp;
  context.rbx = regs.rbx;
  context.rdx = regs.rdx;
  context.rax = regs.rax;
  context.rcx = regs.rcx;
  context.rsp = regs.rsp;
  context.rip = regs.rip;
  context.eflags = regs.eflags;
  context.cs = static_cast<uint16_t>(regs.cs);
  context.gs = static_cast<uint16_t>(regs.gs);
  context.fs = static_cast<uint16_t>(regs.fs);
  context.ss = static_cast<uint16_t>(regs.ss);
  context.trapno = trap_number(delivery.info);
  if (context.trapno == kPageFaultTrap) {
    // NOTE: the hardware error code is not reported by ptrace; err stays 0.
    context.cr2 = reinterpret_cast<uint64_t>(delivery.info.si_addr);
  }
  context.oldmask = delivery.mask_to_restore;
  context.fpstate = fpstate;
  return context;
}

}  // namespace

Result<void> push_signal_frame(
    platform::Registers& regs, std::span<const std::byte> xsave, const SignalDelivery& delivery,
    const std::function<Result<void>(GuestAddr, std::span<const std::byte>)>& write) {
  // x86_64 handlers return through sa_restorer; without one Linux cannot
  // build the frame and kills the task with SIGSEGV.
  if ((delivery.action.flags & 0x04000000 /* SA_RESTORER */) == 0) {
    return Errno{EFAULT};
  }

  uint64_t sp = regs.rsp - kRedZoneBytes;
  if (delivery.on_altstack && !on_stack(regs.rsp, delivery.altstack)) {
    sp = delivery.altstack.sp + delivery.altstack.size;
  }

  uint64_t fpstate = 0;
  if (!xsave.empty()) {
    fpstate = round_down(sp - xsave.size() - sizeof(uint32_t), kXsaveAlignment);
    sp = fpstate;
  }
  uint64_t frame_addr = round_down(sp - sizeof(GuestRtSigframe), 16) - 8;
  if (delivery.on_altstack && frame_addr < delivery.altstack.sp) {
    return Errno{EFAULT};  // the frame does not fit on the alternate stack
  }

  if (!xsave.empty()) {
    std::vector<std::byte> area(xsave.begin(), xsave.end());
    area.resize(xsave.size() + sizeof(uint32_t));
    std::memcpy(area.data() + xsave.size(), &kFpXstateMagic2, sizeof(uint32_t));
    TRY(write(GuestAddr(fpstate), area));
  }

  GuestRtSigframe frame{};
  frame.restorer = delivery.action.restorer;
  frame.ucontext.flags = kUcSigcontextSs | kUcStrictRestoreSs | (xsave.empty() ? 0 : kUcFpXstate);
  // The frame records the altstack with the flags sigaltstack stored (0,
  // SS_DISABLE or SS_AUTODISARM), never SS_ONSTACK, even for a handler that
  // interrupted code running on the stack: Linux has saved the stored flags
  // since 4.7, so that rt_sigreturn can re-arm an SS_AUTODISARM stack.
  frame.ucontext.stack = delivery.altstack;
  frame.ucontext.mcontext = sigcontext_from(regs, delivery, fpstate);
  frame.ucontext.sigmask = delivery.mask_to_restore;
  frame.info = delivery.info;
  TRY(write(GuestAddr(frame_addr), std::as_bytes(std::span(&frame, 1))));

  regs.rdi = static_cast<uint64_t>(delivery.signal);
  regs.rsi = frame_addr + offsetof(GuestRtSigframe, info);
  regs.rdx = frame_addr + offsetof(GuestRtSigframe, ucontext);
  regs.rax = 0;
  regs.rsp = frame_addr;
  regs.rip = delivery.action.handler;
  regs.eflags &= ~(kFlagDirection | kFlagResume | kFlagTrap);
  regs.orig_rax = static_cast<uint64_t>(-1);
  return ok();
}

Result<RestoredContext> read_signal_frame(
    const platform::Registers& current, size_t xsave_bytes,
    const std::function<Result<void>(GuestAddr, std::span<std::byte>)>& read) {
  // The handler's `ret` popped the restorer address, so the frame starts
  // one word below the stack pointer.
  GuestAddr frame_addr(current.rsp - sizeof(uint64_t));
  GuestRtSigframe frame{};
  TRY(read(frame_addr, std::as_writable_bytes(std::span(&frame, 1))));
  const GuestSigcontext& context = frame.ucontext.mcontext;

  RestoredContext restored{};
  platform::Registers& regs = restored.regs;
  regs = current;
  regs.r8 = context.r8;
  regs.r9 = context.r9;
  regs.r10 = context.r10;
  regs.r11 = context.r11;
  regs.r12 = context.r12;
  regs.r13 = context.r13;
  regs.r14 = context.r14;
  regs.r15 = context.r15;
  regs.rdi = context.rdi;
  regs.rsi = context.rsi;
  regs.rbp = context.rbp;
  regs.rbx = context.rbx;
  regs.rdx = context.rdx;
  regs.rax = context.rax;
  regs.rcx = context.rcx;
  regs.rsp = context.rsp;
  regs.rip = context.rip;
  regs.eflags = (current.eflags & ~kRestorableFlags) | (context.eflags & kRestorableFlags);
  // NOTE: cs and ss stay the 64-bit user selectors; a frame that asks for
  // another code segment (32-bit mode) is not honoured.
  regs.orig_rax = static_cast<uint64_t>(-1);

  if (context.fpstate != 0) {
    std::vector<std::byte> area(xsave_bytes + sizeof(uint32_t));
    TRY(read(GuestAddr(context.fpstate), area));
    uint32_t magic1 = 0;
    uint32_t magic2 = 0;
    std::memcpy(&magic1, area.data() + kSwReservedOffset, sizeof(magic1));
    std::memcpy(&magic2, area.data() + xsave_bytes, sizeof(magic2));
    area.resize(xsave_bytes);
    if (magic1 != kFpXstateMagic1 || magic2 != kFpXstateMagic2) {
      // A frame with only the legacy FXSAVE part: keep x87 and SSE, and
      // mark every other component as in its initial state.
      std::fill(area.begin() + kLegacyAreaBytes, area.end(), std::byte{0});
      uint64_t legacy_components = 0x3;  // XFEATURE_MASK_FP | XFEATURE_MASK_SSE
      if (area.size() >= kLegacyAreaBytes + kXsaveHeaderBytes) {
        std::memcpy(area.data() + kLegacyAreaBytes, &legacy_components, sizeof(legacy_components));
      }
    }
    restored.xsave = std::move(area);
  }

  restored.mask = frame.ucontext.sigmask & ~kUnblockableSignals;
  restored.altstack = frame.ucontext.stack;
  return restored;
}

}  // namespace ward::kernel
