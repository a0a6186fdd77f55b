// seccomp(SECCOMP_SET_MODE_FILTER) through the dispatcher for a sandbox
// user without CAP_SYS_ADMIN, which the conformance suite cannot be when it
// runs as root: EACCES unless no_new_privs is set, checked after the
// length and before the program is read, as Linux does.
#include <sys/mman.h>
#include <sys/wait.h>

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "platform/ptrace/ptrace_platform.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/memory_manager.h"
#include "syscalls/dispatch.h"

namespace ward::kernel {
namespace {

constexpr GuestAddr kCodeAddr(0x400000);
constexpr GuestAddr kStackAddr(0x7f0000000000);
constexpr uint64_t kStackBytes = 64 * 1024;
constexpr uid_t kUnprivilegedUid = 1000;

// prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
constexpr uint8_t kSetNoNewPrivs[] = {0xb8, 0x9d, 0x00, 0x00, 0x00, 0xbf, 0x26, 0x00, 0x00,
                                      0x00, 0xbe, 0x01, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x45,
                                      0x31, 0xd2, 0x45, 0x31, 0xc0, 0x0f, 0x05};

// Builds a one-instruction program (RET ALLOW) and a sock_fprog on the
// stack, then exit_group(-seccomp(SECCOMP_SET_MODE_FILTER, 0, &fprog)).
constexpr uint8_t kInstallFilter[] = {
    0x48, 0x83, 0xec, 0x40,                                      // sub $64, %rsp
    0x48, 0xb8, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f,  // movabs RET ALLOW, %rax
    0x48, 0x89, 0x44, 0x24, 0x20,                                // mov %rax, 32(%rsp)
    0x48, 0xc7, 0x04, 0x24, 0x01, 0x00, 0x00, 0x00,              // movq $1, (%rsp): len
    0x48, 0x8d, 0x44, 0x24, 0x20,                                // lea 32(%rsp), %rax
    0x48, 0x89, 0x44, 0x24, 0x08,                                // mov %rax, 8(%rsp): filter
    0xb8, 0x3d, 0x01, 0x00, 0x00,                                // mov $317, %eax
    0xbf, 0x01, 0x00, 0x00, 0x00,                                // mov $1, %edi
    0x31, 0xf6,                                                  // xor %esi, %esi
    0x48, 0x89, 0xe2,                                            // mov %rsp, %rdx
    0x0f, 0x05,                                                  // syscall
    0x48, 0xf7, 0xd8,                                            // neg %rax
    0x48, 0x89, 0xc7,                                            // mov %rax, %rdi
    0xb8, 0xe7, 0x00, 0x00, 0x00,                                // mov $231, %eax
    0x0f, 0x05,                                                  // syscall
};
constexpr size_t kLengthOffset = 23;
constexpr size_t kProgramPointerOffset = 27;
// mov $1, %eax: the same size as the lea it replaces.
constexpr uint8_t kBadProgramPointer[] = {0xb8, 0x01, 0x00, 0x00, 0x00};

struct InstallRequest {
  bool set_no_new_privs = false;
  uint8_t length = 1;
  bool bad_program_pointer = false;
};

std::vector<uint8_t> install_code(const InstallRequest& request) {
  std::vector<uint8_t> code;
  if (request.set_no_new_privs) {
    code.insert(code.end(), std::begin(kSetNoNewPrivs), std::end(kSetNoNewPrivs));
  }
  size_t start = code.size();
  code.insert(code.end(), std::begin(kInstallFilter), std::end(kInstallFilter));
  code[start + kLengthOffset] = request.length;
  if (request.bad_program_pointer) {
    std::copy(std::begin(kBadProgramPointer), std::end(kBadProgramPointer),
              code.begin() + static_cast<ptrdiff_t>(start + kProgramPointerOffset));
  }
  return code;
}

// Loads `code` at kCodeAddr with a stack, as a stand-in for execve.
Task::Startup load_code(std::vector<uint8_t> bytes) {
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

Credentials credentials_of(uid_t uid) {
  return Credentials{.real_uid = uid,
                     .effective_uid = uid,
                     .saved_uid = uid,
                     .fs_uid = uid,
                     .real_gid = uid,
                     .effective_gid = uid,
                     .saved_gid = uid,
                     .fs_gid = uid,
                     .supplementary_groups = {},
                     // Root has every capability, another user none.
                     .cap_inheritable = {},
                     .cap_permitted = uid == 0 ? CapabilitySet::all() : CapabilitySet{},
                     .cap_effective = uid == 0 ? CapabilitySet::all() : CapabilitySet{},
                     .cap_bset = CapabilitySet::all(),
                     .cap_ambient = {},
                     .securebits = 0};
}

// Runs the install code as the first process of a sandbox with `uid` and
// returns the errno seccomp failed with, or 0.
int install_errno(uid_t uid, const InstallRequest& request) {
  auto platform = platform::PtracePlatform::create();
  EXPECT_TRUE(platform.ok());
  auto kernel = Kernel::create(std::move(*platform), KernelOptions{});
  EXPECT_TRUE(kernel.ok());
  syscalls::install_dispatcher(**kernel);
  InitProcess init{.creds = credentials_of(uid), .startup = load_code(install_code(request))};
  EXPECT_TRUE((*kernel)->start_init(std::move(init)).ok());
  int status = (*kernel)->run();
  EXPECT_TRUE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

TEST(SeccompKernelTest, UnprivilegedNeedsNoNewPrivs) {
  EXPECT_EQ(install_errno(kUnprivilegedUid, {}), EACCES);
  EXPECT_EQ(install_errno(kUnprivilegedUid, {.set_no_new_privs = true}), 0);
}

TEST(SeccompKernelTest, RootNeedsNoNoNewPrivs) { EXPECT_EQ(install_errno(0, {}), 0); }

TEST(SeccompKernelTest, LengthIsCheckedBeforePrivileges) {
  EXPECT_EQ(install_errno(kUnprivilegedUid, {.length = 0}), EINVAL);
}

TEST(SeccompKernelTest, PrivilegesAreCheckedBeforeTheProgram) {
  EXPECT_EQ(install_errno(kUnprivilegedUid, {.bad_program_pointer = true}), EACCES);
  EXPECT_EQ(
      install_errno(kUnprivilegedUid, {.set_no_new_privs = true, .bad_program_pointer = true}),
      EFAULT);
}

}  // namespace
}  // namespace ward::kernel
