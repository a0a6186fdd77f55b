// Signal bookkeeping without a guest: pending-signal queues, the order of
// delivery, default actions, and the rt_sigframe that a handler gets and
// rt_sigreturn reads back.
#include "sentry/kernel/signals.h"

#include <signal.h>

#include <cstring>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "sentry/kernel/signal_frame.h"

namespace ward::kernel {
namespace {

siginfo_t info_for(int signal, int value = 0) {
  siginfo_t info{};
  info.si_signo = signal;
  info.si_code = SI_QUEUE;
  info.si_value.sival_int = value;
  return info;
}

TEST(PendingSignals, StandardSignalsCoalesce) {
  PendingSignals pending;
  EXPECT_TRUE(pending.add(info_for(SIGUSR1, 1), 8));
  EXPECT_FALSE(pending.add(info_for(SIGUSR1, 2), 8));
  EXPECT_EQ(pending.queued(), 1u);
  EXPECT_EQ(pending.take(SIGUSR1)->si_value.sival_int, 1);
  EXPECT_FALSE(pending.has(SIGUSR1));
}

TEST(PendingSignals, RealtimeSignalsQueueInOrder) {
  PendingSignals pending;
  int realtime = kFirstRealtimeSignal + 2;
  for (int value = 1; value <= 3; value++) {
    EXPECT_TRUE(pending.add(info_for(realtime, value), 8));
  }
  for (int value = 1; value <= 3; value++) {
    EXPECT_TRUE(pending.has(realtime));
    EXPECT_EQ(pending.take(realtime)->si_value.sival_int, value);
  }
  EXPECT_FALSE(pending.has(realtime));
  EXPECT_FALSE(pending.take(realtime).has_value());
}

TEST(PendingSignals, RealtimeQueueLimit) {
  PendingSignals pending;
  int realtime = kFirstRealtimeSignal + 2;
  EXPECT_TRUE(pending.add(info_for(realtime, 1), 2));
  EXPECT_TRUE(pending.add(info_for(realtime, 2), 2));
  EXPECT_FALSE(pending.add(info_for(realtime, 3), 2));
  EXPECT_EQ(pending.queued(), 2u);
}

TEST(PendingSignals, DiscardDropsEveryInstance) {
  PendingSignals pending;
  int realtime = kFirstRealtimeSignal + 2;
  pending.add(info_for(realtime, 1), 8);
  pending.add(info_for(realtime, 2), 8);
  pending.add(info_for(SIGUSR2), 8);
  pending.discard(signal_bit(realtime));
  EXPECT_FALSE(pending.has(realtime));
  EXPECT_TRUE(pending.has(SIGUSR2));
  EXPECT_EQ(pending.queued(), 1u);
}

TEST(NextSignal, SynchronousFirstThenLowest) {
  EXPECT_EQ(next_signal(0), 0);
  EXPECT_EQ(next_signal(signal_bit(SIGUSR2) | signal_bit(SIGHUP)), SIGHUP);
  EXPECT_EQ(next_signal(signal_bit(SIGHUP) | signal_bit(SIGSEGV)), SIGSEGV);
  EXPECT_EQ(next_signal(signal_bit(SIGTERM) | signal_bit(SIGFPE) | signal_bit(SIGILL)), SIGILL);
  EXPECT_EQ(next_signal(signal_bit(kSignalCount)), kSignalCount);
}

TEST(DefaultAction, MatchesSignal7) {
  EXPECT_EQ(default_action(SIGQUIT), DefaultAction::kCoreDump);
  EXPECT_EQ(default_action(SIGSEGV), DefaultAction::kCoreDump);
  EXPECT_EQ(default_action(SIGTERM), DefaultAction::kTerminate);
  EXPECT_EQ(default_action(SIGCHLD), DefaultAction::kIgnore);
  EXPECT_EQ(default_action(SIGWINCH), DefaultAction::kIgnore);
  EXPECT_EQ(default_action(SIGTSTP), DefaultAction::kStop);
  EXPECT_EQ(default_action(SIGCONT), DefaultAction::kContinue);
  EXPECT_EQ(default_action(kFirstRealtimeSignal + 1), DefaultAction::kTerminate);
}

TEST(IsIgnored, ExplicitAndDefault) {
  KernelSigaction action{};
  EXPECT_TRUE(is_ignored(action, SIGCHLD));
  EXPECT_TRUE(is_ignored(action, SIGCONT));
  EXPECT_FALSE(is_ignored(action, SIGTERM));
  action.handler = kSigIgnore;
  EXPECT_TRUE(is_ignored(action, SIGTERM));
  action.handler = 0x401000;
  EXPECT_FALSE(is_ignored(action, SIGCHLD));
}

// Guest memory for the frame tests: bytes by address, zero where unwritten.
class FakeGuestMemory {
 public:
  Result<void> write(GuestAddr addr, std::span<const std::byte> bytes) {
    for (size_t i = 0; i < bytes.size(); i++) {
      bytes_[addr.value() + i] = bytes[i];
    }
    return ok();
  }

  Result<void> read(GuestAddr addr, std::span<std::byte> bytes) const {
    for (size_t i = 0; i < bytes.size(); i++) {
      auto it = bytes_.find(addr.value() + i);
      bytes[i] = it == bytes_.end() ? std::byte{0} : it->second;
    }
    return ok();
  }

  template <typename T>
  T read_object(uint64_t addr) const {
    T value;
    EXPECT_TRUE(read(GuestAddr(addr), std::as_writable_bytes(std::span(&value, 1))).ok());
    return value;
  }

 private:
  std::map<uint64_t, std::byte> bytes_;
};

constexpr uint64_t kHandler = 0x401000;
constexpr uint64_t kRestorer = 0x402000;
constexpr uint64_t kStackTop = 0x7fff0000;
constexpr uint64_t kAltstackBase = 0x10000000;
constexpr uint64_t kAltstackBytes = 64 * 1024;

SignalDelivery delivery_for(int signal, const siginfo_t& info) {
  SignalDelivery delivery{};
  delivery.signal = signal;
  delivery.info = info;
  delivery.action.handler = kHandler;
  delivery.action.flags = SA_SIGINFO | kSaRestorer;
  delivery.action.restorer = kRestorer;
  delivery.mask_to_restore = signal_bit(SIGHUP);
  return delivery;
}

platform::Registers interrupted_registers() {
  platform::Registers regs{};
  regs.rsp = kStackTop;
  regs.rip = 0x400123;
  regs.rax = 42;
  regs.rbx = 7;
  regs.eflags = 0x246 | 0x400;  // with the direction flag set
  return regs;
}

TEST(SignalFrame, PushAndReadBack) {
  FakeGuestMemory memory;
  auto write = [&](GuestAddr addr, std::span<const std::byte> bytes) {
    return memory.write(addr, bytes);
  };
  auto read = [&](GuestAddr addr, std::span<std::byte> bytes) { return memory.read(addr, bytes); };

  platform::Registers regs = interrupted_registers();
  const platform::Registers before = regs;
  ASSERT_TRUE(push_signal_frame(regs, {}, delivery_for(SIGUSR1, info_for(SIGUSR1, 5)), write).ok());

  EXPECT_EQ(regs.rip, kHandler);
  EXPECT_EQ(regs.rdi, static_cast<uint64_t>(SIGUSR1));
  EXPECT_EQ(regs.rsp % 16, 8u) << "a handler starts as if called: rsp + 8 is 16-byte aligned";
  EXPECT_LE(regs.rsp, kStackTop - 128) << "the frame must leave the red zone alone";
  EXPECT_EQ(regs.eflags & 0x400, 0u) << "a handler starts with the direction flag clear";
  EXPECT_EQ(memory.read_object<uint64_t>(regs.rsp), kRestorer);
  EXPECT_EQ(memory.read_object<siginfo_t>(regs.rsi).si_value.sival_int, 5);

  // The handler's ret pops the restorer address before rt_sigreturn.
  platform::Registers at_sigreturn = regs;
  at_sigreturn.rsp += sizeof(uint64_t);
  auto restored = read_signal_frame(at_sigreturn, 0, read);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->regs.rip, before.rip);
  EXPECT_EQ(restored->regs.rsp, before.rsp);
  EXPECT_EQ(restored->regs.rax, before.rax);
  EXPECT_EQ(restored->regs.rbx, before.rbx);
  EXPECT_EQ(restored->mask, signal_bit(SIGHUP));
  EXPECT_TRUE(restored->xsave.empty());
}

TEST(SignalFrame, NoRestorerFails) {
  FakeGuestMemory memory;
  auto write = [&](GuestAddr addr, std::span<const std::byte> bytes) {
    return memory.write(addr, bytes);
  };
  platform::Registers regs = interrupted_registers();
  SignalDelivery delivery = delivery_for(SIGUSR1, info_for(SIGUSR1));
  delivery.action.flags &= ~kSaRestorer;
  auto result = push_signal_frame(regs, {}, delivery, write);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().value, EFAULT);
}

TEST(SignalFrame, AltstackRecordsStoredFlags) {
  FakeGuestMemory memory;
  auto write = [&](GuestAddr addr, std::span<const std::byte> bytes) {
    return memory.write(addr, bytes);
  };

  // A handler entered from code already on the altstack: the frame goes
  // below the interrupted stack pointer, and uc_stack keeps the flags that
  // sigaltstack stored, without SS_ONSTACK.
  platform::Registers regs = interrupted_registers();
  regs.rsp = kAltstackBase + kAltstackBytes / 2;
  SignalDelivery delivery = delivery_for(SIGUSR2, info_for(SIGUSR2));
  delivery.altstack = GuestSignalStack{.sp = kAltstackBase, .flags = 0, .size = kAltstackBytes};
  delivery.on_altstack = true;
  ASSERT_TRUE(push_signal_frame(regs, {}, delivery, write).ok());
  EXPECT_LT(regs.rsp, kAltstackBase + kAltstackBytes / 2);
  EXPECT_GT(regs.rsp, kAltstackBase);
  auto ucontext = memory.read_object<GuestUcontext>(regs.rdx);
  EXPECT_EQ(ucontext.stack.flags, 0);
  EXPECT_EQ(ucontext.stack.sp, kAltstackBase);
  EXPECT_EQ(ucontext.stack.size, kAltstackBytes);

  // From the ordinary stack, the frame goes to the top of the altstack.
  regs = interrupted_registers();
  ASSERT_TRUE(push_signal_frame(regs, {}, delivery, write).ok());
  EXPECT_LT(regs.rsp, kAltstackBase + kAltstackBytes);
  EXPECT_GT(regs.rsp, kAltstackBase + kAltstackBytes - 4096);
}

TEST(SignalFrame, TrapNumberOfFaults) {
  FakeGuestMemory memory;
  auto write = [&](GuestAddr addr, std::span<const std::byte> bytes) {
    return memory.write(addr, bytes);
  };
  struct Case {
    int signal;
    int code;
    uint64_t trapno;
  };
  const std::vector<Case> cases = {
      {SIGSEGV, SEGV_MAPERR, 14}, {SIGBUS, BUS_ADRERR, 14}, {SIGILL, ILL_ILLOPN, 6},
      {SIGTRAP, SI_KERNEL, 3},    {SIGSEGV, SI_KERNEL, 13}, {SIGFPE, FPE_INTDIV, 0},
      {SIGSEGV, SI_USER, 0},      {SIGILL, SI_TKILL, 0},
  };
  for (const Case& test : cases) {
    siginfo_t info{};
    info.si_signo = test.signal;
    info.si_code = test.code;
    platform::Registers regs = interrupted_registers();
    ASSERT_TRUE(push_signal_frame(regs, {}, delivery_for(test.signal, info), write).ok());
    auto ucontext = memory.read_object<GuestUcontext>(regs.rdx);
    EXPECT_EQ(ucontext.mcontext.trapno, test.trapno)
        << "signal " << test.signal << " si_code " << test.code;
  }
}

constexpr size_t kFullImageBytes = 16384;
constexpr uint64_t kTileData = uint64_t{1} << 18;
// x87, SSE and AMX tile data: the first two are in every frame, the last in none.
constexpr uint64_t kAllComponents = 0x3 | kTileData;

// An XSAVE image as PTRACE_GETREGSET returns it on an AMX machine: larger
// than any frame area, with x87, SSE and tile data (bit 18) in use.
std::vector<std::byte> full_xsave_image() {
  std::vector<std::byte> image(kFullImageBytes, std::byte{0x5a});
  uint64_t xstate_bv = kAllComponents;
  std::memcpy(image.data() + 512, &xstate_bv, sizeof(xstate_bv));
  std::fill(image.begin() + 520, image.begin() + 576, std::byte{0});  // xcomp_bv, reserved
  return image;
}

// fx_sw_bytes of the frame's XSAVE area at `fpstate`.
struct FrameSwBytes {
  uint32_t magic1;
  uint32_t extended_size;
  uint64_t xfeatures;
  uint32_t xstate_size;
};

TEST(SignalFrame, XsaveAreaLeavesOutTileData) {
  FakeGuestMemory memory;
  auto write = [&](GuestAddr addr, std::span<const std::byte> bytes) {
    return memory.write(addr, bytes);
  };
  platform::Registers regs = interrupted_registers();
  std::vector<std::byte> image = full_xsave_image();
  ASSERT_TRUE(push_signal_frame(regs, image, delivery_for(SIGUSR1, info_for(SIGUSR1)), write).ok());

  auto context = memory.read_object<GuestUcontext>(regs.rdx);
  ASSERT_NE(context.mcontext.fpstate, 0u);
  EXPECT_EQ(context.mcontext.fpstate % 64, 0u);
  auto sw = memory.read_object<FrameSwBytes>(context.mcontext.fpstate + 464);
  EXPECT_EQ(sw.magic1, 0x46505853u);
  EXPECT_EQ(sw.extended_size, sw.xstate_size + 4);
  EXPECT_EQ(sw.xfeatures & kTileData, 0u);
  EXPECT_GE(sw.xstate_size, 576u);
  EXPECT_LT(sw.xstate_size, kFullImageBytes);
  EXPECT_EQ(memory.read_object<uint32_t>(context.mcontext.fpstate + sw.xstate_size), 0x46505845u);
  EXPECT_EQ(memory.read_object<uint64_t>(context.mcontext.fpstate + 512) & ~sw.xfeatures, 0u);
  EXPECT_LE(kStackTop - 128 - context.mcontext.fpstate, sw.extended_size + 64u);
}

TEST(SignalFrame, SigreturnPadsTheXsaveImage) {
  FakeGuestMemory memory;
  auto write = [&](GuestAddr addr, std::span<const std::byte> bytes) {
    return memory.write(addr, bytes);
  };
  auto read = [&](GuestAddr addr, std::span<std::byte> bytes) { return memory.read(addr, bytes); };
  platform::Registers regs = interrupted_registers();
  std::vector<std::byte> image = full_xsave_image();
  ASSERT_TRUE(push_signal_frame(regs, image, delivery_for(SIGUSR1, info_for(SIGUSR1)), write).ok());
  auto context = memory.read_object<GuestUcontext>(regs.rdx);
  auto sw = memory.read_object<FrameSwBytes>(context.mcontext.fpstate + 464);

  platform::Registers at_sigreturn = regs;
  at_sigreturn.rsp += sizeof(uint64_t);
  auto restored = read_signal_frame(at_sigreturn, kFullImageBytes, read);
  ASSERT_TRUE(restored.ok());
  ASSERT_EQ(restored->xsave.size(), kFullImageBytes);
  uint64_t xstate_bv = 0;
  std::memcpy(&xstate_bv, restored->xsave.data() + 512, sizeof(xstate_bv));
  EXPECT_EQ(xstate_bv, kAllComponents & sw.xfeatures);
  EXPECT_EQ(restored->xsave[sw.xstate_size], std::byte{0}) << "past the frame's area is zero";
  EXPECT_EQ(restored->xsave[160], std::byte{0x5a}) << "xmm0 comes from the frame";

  // Without magic2 only x87 and SSE come back, and the rest is zero.
  uint32_t broken = 0;
  ASSERT_TRUE(write(GuestAddr(context.mcontext.fpstate + sw.xstate_size),
                    std::as_bytes(std::span(&broken, 1)))
                  .ok());
  restored = read_signal_frame(at_sigreturn, kFullImageBytes, read);
  ASSERT_TRUE(restored.ok());
  std::memcpy(&xstate_bv, restored->xsave.data() + 512, sizeof(xstate_bv));
  EXPECT_EQ(xstate_bv, 0x3u);
  EXPECT_EQ(restored->xsave[576], std::byte{0});
  EXPECT_EQ(restored->xsave[160], std::byte{0x5a});
}

}  // namespace
}  // namespace ward::kernel
