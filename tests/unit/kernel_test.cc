// The sentry's kernel on hand-written guest code: syscall dispatch through
// the scheduler, the memory syscalls, sleeping, exit status and faults.
#include "sentry/kernel/kernel.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "platform/ptrace/ptrace_platform.h"
#include "sentry/mm/memory_manager.h"
#include "syscalls/dispatch.h"

namespace ward::kernel {
namespace {

constexpr GuestAddr kCodeAddr(0x400000);
constexpr GuestAddr kStackAddr(0x7f0000000000);
constexpr uint64_t kStackBytes = 64 * 1024;

// getpid; exit_group(getpid() + 41)
constexpr uint8_t kGetpidExit[] = {0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x89, 0xc7,
                                   0x48, 0x83, 0xc7, 0x29, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f,
                                   0x05};

// p = mmap(0, 4096, RW, PRIVATE|ANONYMOUS, -1, 0); *p = 7; exit_group(*p)
constexpr uint8_t kMmapStoreExit[] = {
    0xb8, 0x09, 0x00, 0x00, 0x00, 0x31, 0xff, 0xbe, 0x00, 0x10, 0x00, 0x00, 0xba, 0x03,
    0x00, 0x00, 0x00, 0x41, 0xba, 0x22, 0x00, 0x00, 0x00, 0x49, 0xc7, 0xc0, 0xff, 0xff,
    0xff, 0xff, 0x45, 0x31, 0xc9, 0x0f, 0x05, 0xc7, 0x00, 0x07, 0x00, 0x00, 0x00, 0x8b,
    0x38, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05};

// nanosleep({0, 200 ms}, NULL); exit_group(result)
constexpr uint8_t kSleepExit[] = {0x48, 0x83, 0xec, 0x10, 0x48, 0xc7, 0x04, 0x24, 0x00, 0x00,
                                  0x00, 0x00, 0x48, 0xc7, 0x44, 0x24, 0x08, 0x00, 0xc2, 0xeb,
                                  0x0b, 0x48, 0x89, 0xe7, 0x31, 0xf6, 0xb8, 0x23, 0x00, 0x00,
                                  0x00, 0x0f, 0x05, 0x48, 0x89, 0xc7, 0xb8, 0xe7, 0x00, 0x00,
                                  0x00, 0x0f, 0x05};

// rseq(...) (not implemented); exit_group(-result)
constexpr uint8_t kMissingSyscall[] = {0xb8, 0x4e, 0x01, 0x00, 0x00, 0x0f, 0x05, 0x48,
                                       0xf7, 0xd8, 0x48, 0x89, 0xc7, 0xb8, 0xe7, 0x00,
                                       0x00, 0x00, 0x0f, 0x05};

// mov (0), %rax: a load from address 0.
constexpr uint8_t kNullLoad[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00};

// Loads `code` at kCodeAddr with a stack, as a stand-in for execve.
Task::Startup load_code(std::span<const uint8_t> code) {
  std::vector<uint8_t> bytes(code.begin(), code.end());
  return [bytes](Task& task) -> Result<void> {
    auto mm = TRY(mm::MemoryManager::create(task.kernel().platform()));
    TRY(mm->map(mm::MapRequest{.hint = kCodeAddr,
                               .length = kPageSize,
                               .prot = PROT_READ | PROT_WRITE,
                               .flags = MAP_PRIVATE | MAP_ANONYMOUS,
                               .fixed = true}));
    TRY(mm->copy_out(kCodeAddr, std::as_bytes(std::span(bytes))));
    TRY(mm->protect(kCodeAddr, kPageSize, PROT_READ | PROT_EXEC));
    TRY(mm->map(mm::MapRequest{.hint = kStackAddr,
                               .length = kStackBytes,
                               .prot = PROT_READ | PROT_WRITE,
                               .flags = MAP_PRIVATE | MAP_ANONYMOUS,
                               .fixed = true}));

    platform::Registers regs = task.kernel().platform().initial_registers();
    regs.rip = kCodeAddr.value();
    regs.rsp = (kStackAddr + kStackBytes - 64).value();
    auto context = TRY(mm->address_space().new_context(regs, {}));
    task.replace_image(std::move(mm), std::move(context));
    return ok();
  };
}

// Runs `code` as a sandbox's first process and returns its wait status.
int run_code(std::span<const uint8_t> code, Kernel** kernel_out = nullptr,
             std::unique_ptr<Kernel>* keep = nullptr) {
  auto platform = platform::PtracePlatform::create();
  EXPECT_TRUE(platform.ok());
  auto kernel = Kernel::create(std::move(*platform), KernelOptions{});
  EXPECT_TRUE(kernel.ok());
  syscalls::install_dispatcher(**kernel);
  EXPECT_TRUE((*kernel)->start_init(InitProcess{.startup = load_code(code)}).ok());
  int status = (*kernel)->run();
  if (kernel_out != nullptr && keep != nullptr) {
    *kernel_out = kernel->get();
    *keep = std::move(*kernel);
  }
  return status;
}

TEST(KernelTest, ExitGroupStatusReachesTheCaller) {
  int status = run_code(kGetpidExit);
  ASSERT_TRUE(WIFEXITED(status));
  // The first process is pid 1, so exit_group(1 + 41).
  EXPECT_EQ(WEXITSTATUS(status), 42);
}

TEST(KernelTest, MmapThroughTheDispatcher) {
  int status = run_code(kMmapStoreExit);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

TEST(KernelTest, NanosleepWaitsWithoutBlockingTheLoop) {
  auto start = std::chrono::steady_clock::now();
  int status = run_code(kSleepExit);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GE(elapsed, std::chrono::milliseconds(200));
}

TEST(KernelTest, MissingSyscallIsEnosysAndRecorded) {
  Kernel* kernel = nullptr;
  std::unique_ptr<Kernel> keep;
  int status = run_code(kMissingSyscall, &kernel, &keep);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), ENOSYS);
  auto gaps = kernel->gaps().records();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].syscall, "rseq");
  EXPECT_EQ(gaps[0].count, 1u);
}

TEST(KernelTest, FaultKillsTheProcessWithSigsegv) {
  int status = run_code(kNullLoad);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  // Linux sets the core bit only after writing a core file; ward writes none.
  EXPECT_FALSE(WCOREDUMP(status));
}

}  // namespace
}  // namespace ward::kernel
