// Running host syscalls inside a stopped stub thread on the sentry's behalf.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>

#include "platform/ptrace/stub.h"
#include "ward/platform.h"
#include "ward/result.h"

namespace ward::platform {

// The outcome of an injected syscall.
struct InjectedResult {
  uint64_t value = 0;                 // rax after the syscall, if it did not fail
  std::optional<pid_t> new_host_tid;  // the child or thread an injected clone created
};

class Injector {
 public:
  Injector(const StubLayout& layout, const Registers& base_regs)
      : layout_(layout), base_regs_(base_regs) {}

  // Runs syscall `number` in the ptrace-stopped thread `tid` from the stub's
  // syscall instruction and waits for the trap that follows it. The thread's
  // registers are not restored; callers that need them save them first.
  // Returns the errno of a failed syscall, or ESRCH when the thread died.
  Result<InjectedResult> run(pid_t tid, long number, const std::array<uint64_t, 6>& args) const;

  // Points the stopped thread `tid` at an exit(0) and lets it go, without
  // waiting. Its exit arrives through waitpid like any other.
  Result<void> start_thread_exit(pid_t tid) const;

 private:
  Registers registers_for(long number, const std::array<uint64_t, 6>& args) const;

  StubLayout layout_;
  Registers base_regs_;
};

// Waits for the next waitpid status of one host thread; ESRCH when waitpid
// fails.
Result<int> wait_for_thread(pid_t tid);

}  // namespace ward::platform
