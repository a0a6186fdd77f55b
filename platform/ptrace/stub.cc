#include "platform/ptrace/stub.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstring>

#include <spdlog/spdlog.h>

#include "ward/unique_fd.h"

namespace ward::platform {
namespace {

// `syscall` (0f 05) then `int3` (cc). The sentry points a stopped stub thread
// at the first byte; the int3 stops it again once the syscall returns.
constexpr std::array<uint8_t, 3> kStubCode = {0x0f, 0x05, 0xcc};

// Host syscalls the sentry injects into stubs; everything else is fatal.
constexpr std::array<long, 13> kInjectedSyscalls = {
    SYS_mmap,    SYS_mprotect, SYS_munmap, SYS_mremap, SYS_msync, SYS_mincore, SYS_madvise,
    SYS_recvmsg, SYS_dup3,     SYS_close,  SYS_clone,  SYS_exit,  SYS_futex,
};

// How far below the top of the user address space the stub pages may go
// before install_stub_pages gives up, in pages.
constexpr uint64_t kStubPlacementAttempts = 4096;

uint32_t low_half(uint64_t value) { return static_cast<uint32_t>(value); }
uint32_t high_half(uint64_t value) { return static_cast<uint32_t>(value >> 32); }

sock_filter statement(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
sock_filter jump(uint16_t code, uint32_t k, uint8_t if_true, uint8_t if_false) {
  return BPF_JUMP(code, k, if_true, if_false);
}

// Everything the forked child needs, prepared before the fork so that the
// child touches no heap and takes no lock.
struct ChildSetup {
  pid_t sentry_pid;
  int ready_fd;
  int stub_socket;
  sock_fprog filter;
  uint64_t trap_insn;
};

// Runs in the forked child. Only raw syscalls here: the child is a copy of
// a possibly multi-threaded sentry, so no allocation and no locks. On any
// failure it exits with a distinct status for the parent's error message.
[[noreturn]] void run_stub_child(const ChildSetup& setup) {
  auto fail = [](int step) {
    syscall(SYS_exit_group, 100 + step);
    __builtin_unreachable();
  };

  if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail(1);
  if (syscall(SYS_getppid) != setup.sentry_pid) fail(2);

  // A process group of its own, inherited by every later stub: a Ctrl-C on
  // ward's terminal signals ward, which decides what the guest gets, and
  // never the stubs directly. The stubs stay in ward's session.
  if (syscall(SYS_setpgid, 0, 0) != 0) fail(11);

  // Wait until the sentry has seized this process.
  char byte = 0;
  if (syscall(SYS_read, setup.ready_fd, &byte, 1) != 1) fail(3);

  // glibc registers an rseq area in every thread, and fork keeps the
  // registration. The area is about to be unmapped, and the kernel would
  // fault writing it on the next preemption, so drop it.
  // The length must match the registration's, which glibc 2.35-2.39 makes
  // sizeof(struct rseq) while publishing a smaller __rseq_size; try both.
  if (__rseq_size > 0) {
    auto* area = reinterpret_cast<char*>(__builtin_thread_pointer()) + __rseq_offset;
    if (syscall(SYS_rseq, area, sizeof(struct rseq), RSEQ_FLAG_UNREGISTER, RSEQ_SIG) != 0 &&
        syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) != 0) {
      fail(4);
    }
  }

  if (setup.stub_socket != kStubSocketFd &&
      syscall(SYS_dup3, setup.stub_socket, kStubSocketFd, 0) != kStubSocketFd) {
    fail(5);
  }
  if (syscall(SYS_close_range, 0, kStubSocketFd - 1, 0) != 0) fail(6);
  if (syscall(SYS_close_range, kStubSocketFd + 1, ~0U, 0) != 0) fail(7);

  // Handlers inherited from the sentry point into memory the stub will not
  // have. The stub runs with default dispositions and nothing blocked, and
  // ignores SIGCHLD so that the kernel reaps the stubs it forks once the
  // sentry has seen them exit.
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
    struct sigaction action {};
    action.sa_handler = signal_number == SIGCHLD ? SIG_IGN : SIG_DFL;
    sigaction(signal_number, &action, nullptr);
  }
  sigset_t empty;
  sigemptyset(&empty);
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, nullptr, sizeof(uint64_t)) != 0) fail(8);

  if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(9);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &setup.filter) != 0) fail(10);

  // From here on the only syscalls that may run are the sentry's, from the
  // stub page. Stop at its int3 and wait to be driven.
  asm volatile("jmp *%0" : : "r"(setup.trap_insn) : "memory");
  __builtin_unreachable();
}

}  // namespace

Result<StubLayout> install_stub_pages() {
  constexpr uint64_t kStubBytes = 2 * kPageSize;

  for (uint64_t attempt = 0; attempt < kStubPlacementAttempts; ++attempt) {
    uint64_t candidate = kTaskSize - kStubBytes - attempt * kPageSize * 16;
    void* hint = reinterpret_cast<void*>(candidate);
    void* mapped = mmap(hint, kStubBytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (mapped == MAP_FAILED) {
      if (errno == EEXIST) continue;
      return Errno{errno};
    }
    if (mapped != hint) {  // a kernel older than 4.17 treats the flag as a hint
      munmap(mapped, kStubBytes);
      return Errno{EEXIST};
    }

    std::memcpy(mapped, kStubCode.data(), kStubCode.size());
    if (mprotect(mapped, kPageSize, PROT_READ | PROT_EXEC) != 0) {
      int error = errno;
      munmap(mapped, kStubBytes);
      return Errno{error};
    }

    GuestAddr code(candidate);
    return StubLayout{.code_page = code,
                      .syscall_insn = code,
                      .trap_insn = code + 2,
                      .data_page = code + kPageSize};
  }
  return Errno{ENOMEM};
}

std::vector<sock_filter> build_stub_filter(const StubLayout& layout) {
  constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
  constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
  constexpr uint32_t kIpLowOffset = offsetof(seccomp_data, instruction_pointer);
  constexpr uint32_t kIpHighOffset = kIpLowOffset + 4;

  // The kernel reports the address after the syscall instruction.
  uint64_t return_address = layout.trap_insn.value();

  std::vector<sock_filter> program;
  // Each check jumps to the final KILL on mismatch; the offsets are filled
  // in once the program length is known.
  std::vector<size_t> kill_jumps;
  auto check_equal = [&](uint32_t offset, uint32_t expected) {
    program.push_back(statement(BPF_LD | BPF_W | BPF_ABS, offset));
    kill_jumps.push_back(program.size());
    program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, expected, 0, 0));
  };

  // A vsyscall of guest code (its instruction pointer in the vsyscall
  // page) returns SECCOMP_RET_TRAP: the host then skips the call, performs
  // the vsyscall's `ret`, and stops the stub with SIGSYS, which the
  // platform turns into a guest syscall. Offsets: to index 6 on mismatch.
  program.push_back(statement(BPF_LD | BPF_W | BPF_ABS, kIpHighOffset));
  program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, high_half(kVsyscallPage), 0, 4));
  program.push_back(statement(BPF_LD | BPF_W | BPF_ABS, kIpLowOffset));
  program.push_back(statement(BPF_ALU | BPF_AND | BPF_K, ~uint32_t{kPageSize - 1}));
  program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, low_half(kVsyscallPage), 0, 1));
  program.push_back(statement(BPF_RET | BPF_K, SECCOMP_RET_TRAP));

  check_equal(kArchOffset, AUDIT_ARCH_X86_64);
  check_equal(kIpLowOffset, low_half(return_address));
  check_equal(kIpHighOffset, high_half(return_address));

  program.push_back(statement(BPF_LD | BPF_W | BPF_ABS, kNrOffset));
  std::vector<size_t> allow_jumps;
  for (long number : kInjectedSyscalls) {
    allow_jumps.push_back(program.size());
    program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(number), 0, 0));
  }

  size_t kill_index = program.size();
  program.push_back(statement(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  size_t allow_index = program.size();
  program.push_back(statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));

  for (size_t index : kill_jumps) {
    program[index].jt = 0;
    program[index].jf = static_cast<uint8_t>(kill_index - index - 1);
  }
  for (size_t index : allow_jumps) {
    program[index].jt = static_cast<uint8_t>(allow_index - index - 1);
    program[index].jf = 0;
  }
  return program;
}

long stub_ptrace_options() {
  return PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK;
}

Result<pid_t> spawn_first_stub(const StubLayout& layout, int stub_socket,
                               const std::vector<sock_filter>& filter) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Errno{errno};
  }
  UniqueFd ready_read(pipe_fds[0]);
  UniqueFd ready_write(pipe_fds[1]);

  ChildSetup setup{
      .sentry_pid = getpid(),
      .ready_fd = ready_read.get(),
      .stub_socket = stub_socket,
      .filter = {.len = static_cast<unsigned short>(filter.size()),
                 .filter = const_cast<sock_filter*>(filter.data())},
      .trap_insn = layout.trap_insn.value(),
  };

  // A raw clone rather than fork(): no atfork handlers run in the child.
  long pid = syscall(SYS_clone, SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid < 0) {
    return Errno{errno};
  }
  if (pid == 0) {
    run_stub_child(setup);
  }
  ready_read.reset();

  auto kill_child = [&](int error) -> Result<pid_t> {
    kill(static_cast<pid_t>(pid), SIGKILL);
    waitpid(static_cast<pid_t>(pid), nullptr, __WALL);
    return Errno{error};
  };

  if (ptrace(PTRACE_SEIZE, pid, nullptr, stub_ptrace_options()) != 0) {
    return kill_child(errno);
  }
  char go = 1;
  if (write(ready_write.get(), &go, 1) != 1) {
    return kill_child(errno);
  }

  int status = 0;
  if (waitpid(static_cast<pid_t>(pid), &status, __WALL) != pid) {
    return kill_child(errno);
  }
  if (WIFEXITED(status)) {
    spdlog::error("ptrace: the first stub failed at setup step {} (pid {})",
                  WEXITSTATUS(status) - 100, pid);
    waitpid(static_cast<pid_t>(pid), nullptr, __WALL);
    return Errno{ECHILD};
  }
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
    spdlog::error("ptrace: the first stub stopped with status {:#x}, not at its trap (pid {})",
                  status, pid);
    return kill_child(ECHILD);
  }
  return static_cast<pid_t>(pid);
}

}  // namespace ward::platform
