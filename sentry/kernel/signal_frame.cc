#include "sentry/kernel/signal_frame.h"

#include <cpuid.h>

#include <algorithm>
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
constexpr size_t kXstateBvOffset = kLegacyAreaBytes;

// struct _fpx_sw_bytes: the software-reserved bytes of a frame's legacy
// area, which describe the XSAVE area.
struct FxSwBytes {
  uint32_t magic1;
  uint32_t extended_size;  // the whole area, magic2 included
  uint64_t xfeatures;      // the components the area may hold
  uint32_t xstate_size;    // the area without magic2
  uint32_t padding[7];
};
static_assert(sizeof(FxSwBytes) == 48);

// x87 and SSE, the components an FXSAVE-only frame restores.
constexpr uint64_t kLegacyFeatures = 0x3;

// Components Linux enables only for a process that requests them with
// arch_prctl(ARCH_REQ_XCOMP_PERM): AMX tile data (XFEATURE 18). Until
// then the signal frame leaves them out, so a frame on an AMX machine
// stays near 3 KiB instead of 11 KiB. ward rejects that request with
// EINVAL, so a guest never has them.
constexpr uint64_t kDynamicFeatures = uint64_t{1} << 18;

// The XSAVE components a guest's frame carries, and the size of the
// standard-format area that contains them. The area ends where the last
// permitted component ends. These are Linux's fpstate->user_xfeatures and
// user_size for a process without dynamic features.
struct FrameXstate {
  uint64_t features = 0;
  size_t size = 0;
};

FrameXstate host_frame_xstate() {
  FrameXstate layout{.features = kLegacyFeatures, .size = kLegacyAreaBytes + kXsaveHeaderBytes};
  unsigned eax = 0;
  unsigned ebx = 0;
  unsigned ecx = 0;
  unsigned edx = 0;
  if (__get_cpuid_max(0, nullptr) < 0xD) {
    return layout;
  }
  __cpuid_count(1, 0, eax, ebx, ecx, edx);
  constexpr unsigned kOsxsave = 1U << 27;
  if ((ecx & kOsxsave) == 0) {
    return layout;
  }
  uint32_t xcr0_low = 0;
  uint32_t xcr0_high = 0;
  asm volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  uint64_t enabled = (uint64_t{xcr0_high} << 32 | xcr0_low) & ~kDynamicFeatures;
  layout.features = enabled;
  // CPUID leaf 0xD sub-leaf i gives component i's size in eax and its
  // offset in the standard format in ebx.
  for (unsigned component = 2; component < 64; ++component) {
    if ((enabled & (uint64_t{1} << component)) == 0) {
      continue;
    }
    __cpuid_count(0xD, component, eax, ebx, ecx, edx);
    layout.size = std::max<size_t>(layout.size, size_t{ebx} + eax);
  }
  return layout;
}

// Returns the frame layout for an XSAVE image of `image_bytes` from the
// platform. An image smaller than the host's layout (a test's) is taken whole.
FrameXstate frame_xstate(size_t image_bytes) {
  static const FrameXstate host = host_frame_xstate();
  FrameXstate layout = host;
  layout.size = std::min(layout.size, image_bytes);
  return layout;
}

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

// Reads the XSAVE area of a frame at `fpstate` and returns the image of
// `image_bytes` for the platform to restore, as Linux's sigreturn does
// (check_xstate_in_sigframe and __restore_fpregs_from_user in
// arch/x86/kernel/fpu/signal.c). Without a valid magic1, an xstate_size
// in [576, the frame size] and magic2 after it, only x87 and SSE are
// restored. Otherwise the components in both fx_sw_bytes.xfeatures and
// the permitted set come from the frame, and every other one (AMX tile
// data included) returns to its initial state.
Result<std::vector<std::byte>> read_frame_xstate(
    GuestAddr fpstate, size_t image_bytes,
    const std::function<Result<void>(GuestAddr, std::span<std::byte>)>& read) {
  FrameXstate layout = frame_xstate(image_bytes);
  std::vector<std::byte> image(image_bytes);
  size_t legacy = std::min(image_bytes, kLegacyAreaBytes);
  TRY(read(fpstate, std::span(image).first(legacy)));
  if (image_bytes < kLegacyAreaBytes + kXsaveHeaderBytes) {
    return image;
  }

  FxSwBytes sw{};
  std::memcpy(&sw, image.data() + kSwReservedOffset, sizeof(sw));
  bool extended = sw.magic1 == kFpXstateMagic1 &&
                  sw.xstate_size >= kLegacyAreaBytes + kXsaveHeaderBytes &&
                  sw.xstate_size <= layout.size && sw.xstate_size <= sw.extended_size;
  if (extended) {
    uint32_t magic2 = 0;
    TRY(read(fpstate + sw.xstate_size, std::as_writable_bytes(std::span(&magic2, 1))));
    extended = magic2 == kFpXstateMagic2;
  }

  uint64_t restore = kLegacyFeatures;
  if (extended) {
    TRY(read(fpstate + kLegacyAreaBytes,
             std::span(image).subspan(kLegacyAreaBytes, sw.xstate_size - kLegacyAreaBytes)));
    restore = sw.xfeatures & layout.features;
  }
  uint64_t xstate_bv = 0;
  std::memcpy(&xstate_bv, image.data() + kXstateBvOffset, sizeof(xstate_bv));
  if (!extended) {
    xstate_bv = kLegacyFeatures;
  }
  // Clearing a component's xstate_bv bit restores it to its initial
  // state. Bits unknown to the host are kept, so that PTRACE_SETREGSET
  // rejects them where XRSTOR would fault.
  xstate_bv &= restore | ~(layout.features | kDynamicFeatures);
  std::memcpy(image.data() + kXstateBvOffset, &xstate_bv, sizeof(xstate_bv));
  return image;
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

  FrameXstate layout = frame_xstate(xsave.size());
  uint64_t fpstate = 0;
  if (!xsave.empty()) {
    fpstate = round_down(sp - layout.size - sizeof(uint32_t), kXsaveAlignment);
    sp = fpstate;
  }
  uint64_t frame_addr = round_down(sp - sizeof(GuestRtSigframe), 16) - 8;
  if (delivery.on_altstack && frame_addr < delivery.altstack.sp) {
    return Errno{EFAULT};  // the frame does not fit on the alternate stack
  }

  if (!xsave.empty()) {
    // The platform's image contains every host component, tile data
    // included. The frame keeps those up to the last permitted one and
    // describes only them.
    std::vector<std::byte> area(xsave.begin(), xsave.begin() + static_cast<ptrdiff_t>(layout.size));
    area.resize(layout.size + sizeof(uint32_t));
    std::memcpy(area.data() + layout.size, &kFpXstateMagic2, sizeof(uint32_t));
    if (layout.size >= kLegacyAreaBytes + kXsaveHeaderBytes) {
      FxSwBytes sw{
          .magic1 = kFpXstateMagic1,
          .extended_size = static_cast<uint32_t>(layout.size + sizeof(uint32_t)),
          .xfeatures = layout.features,
          .xstate_size = static_cast<uint32_t>(layout.size),
          .padding = {},
      };
      std::memcpy(area.data() + kSwReservedOffset, &sw, sizeof(sw));
      uint64_t xstate_bv = 0;
      std::memcpy(&xstate_bv, area.data() + kXstateBvOffset, sizeof(xstate_bv));
      xstate_bv &= layout.features;
      std::memcpy(area.data() + kXstateBvOffset, &xstate_bv, sizeof(xstate_bv));
    }
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

  if (context.fpstate != 0 && xsave_bytes != 0) {
    restored.xsave = TRY(read_frame_xstate(GuestAddr(context.fpstate), xsave_bytes, read));
  }

  restored.mask = frame.ucontext.sigmask & ~kUnblockableSignals;
  restored.altstack = frame.ucontext.stack;
  return restored;
}

}  // namespace ward::kernel
