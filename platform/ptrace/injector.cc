#include "platform/ptrace/injector.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <spdlog/spdlog.h>

namespace ward::platform {
namespace {

// Linux returns -4095..-1 in rax for a failed syscall.
bool is_error_return(uint64_t rax) { return rax > static_cast<uint64_t>(-4096); }

int ptrace_event(int status) { return status >> 16; }

}  // namespace

Result<int> wait_for_thread(pid_t tid) {
  int status = 0;
  for (;;) {
    pid_t waited = waitpid(tid, &status, __WALL);
    if (waited == tid) {
      return status;
    }
    if (waited < 0 && errno == EINTR) {
      continue;
    }
    return Errno{ESRCH};
  }
}

Registers Injector::registers_for(long number, const std::array<uint64_t, 6>& args) const {
  Registers regs = base_regs_;
  regs.rip = layout_.syscall_insn.value();
  regs.rax = static_cast<uint64_t>(number);
  // Not inside a syscall: keeps the kernel's restart logic out of the way.
  regs.orig_rax = static_cast<uint64_t>(-1);
  regs.rdi = args[0];
  regs.rsi = args[1];
  regs.rdx = args[2];
  regs.r10 = args[3];
  regs.r8 = args[4];
  regs.r9 = args[5];
  return regs;
}

Result<InjectedResult> Injector::run(pid_t tid, long number,
                                     const std::array<uint64_t, 6>& args) const {
  Registers regs = registers_for(number, args);
  if (ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0 ||
      ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) {
    return Errno{ESRCH};
  }

  InjectedResult result;
  for (;;) {
    int status = TRY(wait_for_thread(tid));
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      spdlog::error("ptrace: stub thread {} died during injected syscall {} (status {:#x})", tid,
                    number, status);
      return Errno{ESRCH};
    }

    int event = ptrace_event(status);
    if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK) {
      unsigned long new_tid = 0;
      ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &new_tid);
      result.new_host_tid = static_cast<pid_t>(new_tid);
      if (ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) return Errno{ESRCH};
      continue;
    }

    if (WSTOPSIG(status) == SIGTRAP && event == 0) {
      break;  // the int3 after the syscall instruction
    }

    // Any other stop means something outside the sentry signalled the stub.
    // The syscall may or may not have run; treat the stub as lost.
    spdlog::error("ptrace: stub thread {} stopped with status {:#x} during injected syscall {}",
                  tid, status, number);
    return Errno{ESRCH};
  }

  if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) {
    return Errno{ESRCH};
  }
  if (is_error_return(regs.rax)) {
    return Errno{static_cast<int>(-static_cast<int64_t>(regs.rax))};
  }
  result.value = regs.rax;
  return result;
}

Result<void> Injector::start_thread_exit(pid_t tid) const {
  Registers regs = registers_for(SYS_exit, {0, 0, 0, 0, 0, 0});
  if (ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0 ||
      ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) {
    return Errno{ESRCH};
  }
  return ok();
}

}  // namespace ward::platform
