// The ptrace platform on hand-written guest code: syscall stops, memory
// copies, faults, threads and fork.
#include "platform/ptrace/ptrace_platform.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/syscall.h>

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace ward::platform {
namespace {

constexpr GuestAddr kCodeAddr(0x10000000);
constexpr GuestAddr kDataAddr(0x20000000);

// Records every stop of one context.
class Recorder : public StopListener {
 public:
  void on_stop(const StopInfo& stop) override { stops.push_back(stop); }
  std::vector<StopInfo> stops;
};

// Waits until `recorder` has at least `count` stops, for at most five seconds.
bool wait_for_stops(Platform& platform, Recorder& recorder, size_t count) {
  for (int attempt = 0; attempt < 500 && recorder.stops.size() < count; ++attempt) {
    pollfd event{.fd = platform.event_fd(), .events = POLLIN, .revents = 0};
    poll(&event, 1, 10);
    platform.dispatch_events();
  }
  return recorder.stops.size() >= count;
}

class PtracePlatformTest : public testing::Test {
 protected:
  void SetUp() override {
    auto created = PtracePlatform::create();
    ASSERT_TRUE(created.ok()) << errno_name(created.error().value);
    platform_ = std::move(*created);
  }

  std::unique_ptr<AddressSpace> address_space_with_code(std::span<const uint8_t> code) {
    auto space = platform_->new_address_space();
    EXPECT_TRUE(space.ok());
    auto& as = *space;
    EXPECT_TRUE(as->map_anonymous(kCodeAddr, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE).ok());
    EXPECT_TRUE(as->write(kCodeAddr, std::as_bytes(code)).ok());
    EXPECT_TRUE(as->protect(kCodeAddr, kPageSize, PROT_READ | PROT_EXEC).ok());
    return std::move(as);
  }

  std::unique_ptr<Context> start_thread(AddressSpace& space, Recorder& recorder) {
    Registers regs = platform_->initial_registers();
    regs.rip = kCodeAddr.value();
    auto context = space.new_context(regs, {});
    EXPECT_TRUE(context.ok());
    (*context)->set_listener(&recorder);
    EXPECT_TRUE((*context)->resume().ok());
    return std::move(*context);
  }

  std::unique_ptr<PtracePlatform> platform_;
};

// mov $39, %eax; syscall; mov $60, %eax; syscall; int3
constexpr uint8_t kGetpidThenExit[] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xb8, 60,
                                       0,    0,  0, 0x0f, 0x05, 0xcc};

TEST_F(PtracePlatformTest, SyscallsStopInTheSentry) {
  auto space = address_space_with_code(kGetpidThenExit);
  Recorder recorder;
  auto context = start_thread(*space, recorder);

  ASSERT_TRUE(wait_for_stops(*platform_, recorder, 1));
  EXPECT_EQ(recorder.stops[0].kind, StopKind::kSyscall);
  EXPECT_EQ(context->regs().orig_rax, static_cast<uint64_t>(SYS_getpid));

  context->regs().rax = 1234;
  ASSERT_TRUE(context->resume().ok());
  ASSERT_TRUE(wait_for_stops(*platform_, recorder, 2));
  EXPECT_EQ(recorder.stops[1].kind, StopKind::kSyscall);
  EXPECT_EQ(context->regs().orig_rax, static_cast<uint64_t>(SYS_exit));
  // The emulated getpid's result is still in rax up to the second syscall.
  EXPECT_EQ(context->regs().rdi, 0u);
}

// mov (0x20000000), %rax; int3 -- a load from an unmapped page.
constexpr uint8_t kLoadUnmapped[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x20, 0xcc};

TEST_F(PtracePlatformTest, FaultReportsSegvWithAddress) {
  auto space = address_space_with_code(kLoadUnmapped);
  Recorder recorder;
  auto context = start_thread(*space, recorder);

  ASSERT_TRUE(wait_for_stops(*platform_, recorder, 1));
  ASSERT_EQ(recorder.stops[0].kind, StopKind::kSignal);
  EXPECT_EQ(recorder.stops[0].siginfo.si_signo, SIGSEGV);
  EXPECT_EQ(recorder.stops[0].siginfo.si_code, SEGV_MAPERR);
  EXPECT_EQ(reinterpret_cast<uint64_t>(recorder.stops[0].siginfo.si_addr), kDataAddr.value());
}

TEST_F(PtracePlatformTest, MemoryCopiesFailWithEfaultOnUnmappedPages) {
  auto space = platform_->new_address_space();
  ASSERT_TRUE(space.ok());
  std::byte buffer[16] = {};
  auto read = (*space)->read(kDataAddr, buffer);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().value, EFAULT);

  ASSERT_TRUE((*space)->map_anonymous(kDataAddr, kPageSize, PROT_READ, MAP_PRIVATE).ok());
  auto write = (*space)->write(kDataAddr, buffer);
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().value, EFAULT);

  // A copy that runs off the end of the mapping stops short.
  std::vector<std::byte> large(2 * kPageSize);
  auto partial = (*space)->read(kDataAddr, large);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(*partial, kPageSize);
}

TEST_F(PtracePlatformTest, NewAddressSpaceMapsOnlyReservedRanges) {
  auto space = platform_->new_address_space();
  ASSERT_TRUE(space.ok());
  // Nothing of the sentry is readable in the stub: its own stack, heap and
  // code were unmapped. The address of a local is on the sentry's stack.
  int local = 42;
  std::byte buffer[4];
  auto read = (*space)->read(GuestAddr(reinterpret_cast<uint64_t>(&local)), buffer);
  EXPECT_FALSE(read.ok());
  EXPECT_FALSE(platform_->reserved_ranges().empty());
}

TEST_F(PtracePlatformTest, FileMappingShowsFileContents) {
  char path[] = "/tmp/ward-platform-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  const char text[] = "hello from a host file";
  ASSERT_EQ(write(fd, text, sizeof(text)), static_cast<ssize_t>(sizeof(text)));

  auto space = platform_->new_address_space();
  ASSERT_TRUE(space.ok());
  ASSERT_TRUE((*space)->map_file(kDataAddr, kPageSize, PROT_READ, MAP_PRIVATE, fd, 0).ok());
  close(fd);

  char copy[sizeof(text)] = {};
  auto read = (*space)->read(kDataAddr, std::as_writable_bytes(std::span(copy)));
  ASSERT_TRUE(read.ok());
  EXPECT_STREQ(copy, text);

  // Twice more: the stub's received fd is closed after each mapping.
  int again = open("/etc/hostname", O_RDONLY);
  if (again >= 0) {
    EXPECT_TRUE((*space)->map_file(kDataAddr + kPageSize, kPageSize, PROT_READ, MAP_PRIVATE, again, 0).ok());
    EXPECT_TRUE((*space)->map_file(kDataAddr + 2 * kPageSize, kPageSize, PROT_READ, MAP_PRIVATE, again, 0).ok());
    close(again);
  }
}

TEST_F(PtracePlatformTest, ForkCopiesMemory) {
  auto space = platform_->new_address_space();
  ASSERT_TRUE(space.ok());
  ASSERT_TRUE((*space)->map_anonymous(kDataAddr, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE).ok());
  const char before[] = "parent";
  ASSERT_TRUE((*space)->write(kDataAddr, std::as_bytes(std::span(before))).ok());

  auto child = (*space)->fork();
  ASSERT_TRUE(child.ok());
  const char after[] = "PARENT";
  ASSERT_TRUE((*space)->write(kDataAddr, std::as_bytes(std::span(after))).ok());

  char seen[sizeof(before)] = {};
  ASSERT_TRUE((*child)->read(kDataAddr, std::as_writable_bytes(std::span(seen))).ok());
  EXPECT_STREQ(seen, "parent");

  // The child has its own socket: a file mapping in it works.
  int fd = open("/etc/hostname", O_RDONLY);
  if (fd >= 0) {
    EXPECT_TRUE((*child)->map_file(kDataAddr + kPageSize, kPageSize, PROT_READ, MAP_PRIVATE, fd, 0).ok());
    EXPECT_TRUE((*space)->map_file(kDataAddr + kPageSize, kPageSize, PROT_READ, MAP_PRIVATE, fd, 0).ok());
    close(fd);
  }
}

// A loop of getpid: rax = 39; syscall; jmp back.
constexpr uint8_t kGetpidLoop[] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7};

TEST_F(PtracePlatformTest, InterruptStopsARunningThread) {
  // jmp . (spin forever)
  constexpr uint8_t kSpin[] = {0xeb, 0xfe};
  auto space = address_space_with_code(kSpin);
  Recorder recorder;
  auto context = start_thread(*space, recorder);
  context->interrupt();
  ASSERT_TRUE(wait_for_stops(*platform_, recorder, 1));
  EXPECT_EQ(recorder.stops[0].kind, StopKind::kInterrupted);
  EXPECT_EQ(context->regs().rip, kCodeAddr.value());
}

TEST_F(PtracePlatformTest, KilledThreadReportsExit) {
  auto space = address_space_with_code(kGetpidLoop);
  Recorder recorder;
  auto context = start_thread(*space, recorder);
  ASSERT_TRUE(wait_for_stops(*platform_, recorder, 1));
  context->kill();
  ASSERT_TRUE(wait_for_stops(*platform_, recorder, 2));
  EXPECT_EQ(recorder.stops[1].kind, StopKind::kExited);
}

TEST_F(PtracePlatformTest, TwoThreadsStopIndependently) {
  auto space = address_space_with_code(kGetpidLoop);
  Recorder first, second;
  auto a = start_thread(*space, first);
  auto b = start_thread(*space, second);
  ASSERT_TRUE(wait_for_stops(*platform_, first, 1));
  ASSERT_TRUE(wait_for_stops(*platform_, second, 1));
  EXPECT_NE(a->host_tid(), b->host_tid());
  for (int round = 0; round < 100; ++round) {
    ASSERT_TRUE(a->resume().ok());
    ASSERT_TRUE(b->resume().ok());
    ASSERT_TRUE(wait_for_stops(*platform_, first, round + 2));
    ASSERT_TRUE(wait_for_stops(*platform_, second, round + 2));
  }
}

}  // namespace
}  // namespace ward::platform

namespace ward::platform {
namespace {

// A guest thread let go without PTRACE_SYSEMU, so that its syscall reaches
// the host, is killed by the stub's seccomp filter: only the stub's own
// syscall instruction may make host syscalls.
TEST_F(PtracePlatformTest, SeccompKillsSyscallsFromGuestCode) {
  auto space = address_space_with_code(kGetpidThenExit);
  Registers regs = platform_->initial_registers();
  regs.rip = kCodeAddr.value();
  auto context = space->new_context(regs, {});
  ASSERT_TRUE(context.ok());
  Recorder recorder;
  (*context)->set_listener(&recorder);

  pid_t tid = (*context)->host_tid();
  ASSERT_EQ(ptrace(PTRACE_SETREGS, tid, nullptr, &regs), 0);
  ASSERT_EQ(ptrace(PTRACE_CONT, tid, nullptr, nullptr), 0);

  // The kill reaches the stub's control thread and this thread; this one
  // reports its exit.
  ASSERT_TRUE(wait_for_stops(*platform_, recorder, 1));
  ASSERT_EQ(recorder.stops.back().kind, StopKind::kExited);
  int status = recorder.stops.back().host_status;
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

}  // namespace
}  // namespace ward::platform
