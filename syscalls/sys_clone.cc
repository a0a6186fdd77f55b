// clone, clone3, fork and vfork.
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>

#include "sentry/kernel/clone.h"
#include "sentry/kernel/signals.h"
#include "sentry/kernel/task.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_process.h"

namespace ward::syscalls {
namespace {

constexpr uint64_t kExitSignalMask = 0xff;  // CSIGNAL

// struct clone_args as clone3 reads it: the size of its first version and
// of the newest one ward knows (with cgroup, Linux 5.7).
constexpr uint64_t kCloneArgsVersion0Bytes = 64;
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

// Flags ward lacks, named for the gap record.
void record_unsupported_flags(kernel::Task& task, uint64_t flags) {
  struct Named {
    uint64_t flag;
    const char* name;
  };
  static constexpr Named kUnsupported[] = {
      {CLONE_NEWUTS, "CLONE_NEWUTS"},   {CLONE_NEWIPC, "CLONE_NEWIPC"},
      {CLONE_NEWUSER, "CLONE_NEWUSER"}, {CLONE_NEWPID, "CLONE_NEWPID"},
      {CLONE_NEWNET, "CLONE_NEWNET"},   {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
      {0x00000080, "CLONE_NEWTIME"},    {0x200000000ULL, "CLONE_INTO_CGROUP"},
  };
  for (const Named& entry : kUnsupported) {
    if ((flags & entry.flag) != 0) {
      record_gap(task, entry.name);
    }
  }
  if ((flags & CLONE_PIDFD) != 0 && (flags & CLONE_THREAD) != 0) {
    record_gap(task, "CLONE_PIDFD with CLONE_THREAD");
  }
}

// CLONE_PIDFD and CLONE_PARENT_SETTID may not both write to one address;
// for clone(2), which has one argument for both, they never can.
Result<void> check_pidfd_address(const kernel::CloneRequest& request) {
  constexpr uint64_t kBoth = CLONE_PIDFD | CLONE_PARENT_SETTID;
  if ((request.flags & kBoth) == kBoth && request.pidfd == request.parent_tid) {
    return Errno{EINVAL};
  }
  return ok();
}

Result<int64_t> run_clone(kernel::Task& task, const kernel::CloneRequest& request) {
  TRY(check_pidfd_address(request));
  auto cloned = kernel::clone_task(task, request);
  if (!cloned.ok() && cloned.error().value == EINVAL) {
    record_unsupported_flags(task, request.flags);
  }
  return TRY(std::move(cloned));
}

}  // namespace

// clone(flags, stack, parent_tid, child_tid, tls): x86_64's argument order.
Result<int64_t> sys_clone(kernel::Task& task, const SyscallArgs& args) {
  uint64_t flags = args.u64(0);
  int exit_signal = static_cast<int>(flags & kExitSignalMask);
  if (exit_signal != 0 && !kernel::is_valid_signal(exit_signal)) {
    return Errno{EINVAL};
  }
  kernel::CloneRequest request{
      .flags = flags & ~kExitSignalMask,
      .exit_signal = exit_signal,
      .stack = args.addr(1),
      .parent_tid = args.addr(2),
      .child_tid = args.addr(3),
      .pidfd = args.addr(2),
      .tls = args.u64(4),
  };
  return run_clone(task, request);
}

// clone3(cl_args, size)
Result<int64_t> sys_clone3(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr args_addr = args.addr(0);
  uint64_t size = args.u64(1);

  if (size < kCloneArgsVersion0Bytes) {
    return Errno{EINVAL};
  }
  if (size > kPageSize) {
    return Errno{E2BIG};
  }
  CloneArgs clone_args{};
  size_t known = std::min<uint64_t>(size, sizeof(CloneArgs));
  TRY(task.copy_in(args_addr, std::as_writable_bytes(std::span(&clone_args, 1)).first(known)));
  // A newer struct than ward knows is accepted only if the extra fields
  // are zero, as Linux's copy_struct_from_user does.
  if (size > sizeof(CloneArgs)) {
    std::vector<std::byte> tail(size - sizeof(CloneArgs));
    TRY(task.copy_in(args_addr + sizeof(CloneArgs), tail));
    for (std::byte value : tail) {
      if (value != std::byte{0}) {
        return Errno{E2BIG};
      }
    }
  }

  if ((clone_args.exit_signal & ~kExitSignalMask) != 0 ||
      (clone_args.exit_signal != 0 &&
       !kernel::is_valid_signal(static_cast<int>(clone_args.exit_signal)))) {
    return Errno{EINVAL};
  }
  if ((clone_args.flags & kExitSignalMask) != 0) {
    return Errno{EINVAL};  // clone3 takes the exit signal in its own field
  }
  if ((clone_args.stack == 0) != (clone_args.stack_size == 0)) {
    return Errno{EINVAL};
  }
  if (clone_args.set_tid_size != 0) {
    // Choosing the child's pid needs CAP_SYS_ADMIN over the pid namespace.
    record_gap(task, "set_tid");
    return Errno{EPERM};
  }

  kernel::CloneRequest request{
      .flags = clone_args.flags,
      .exit_signal = static_cast<int>(clone_args.exit_signal),
      .stack = GuestAddr(clone_args.stack == 0 ? 0 : clone_args.stack + clone_args.stack_size),
      .parent_tid = GuestAddr(clone_args.parent_tid),
      .child_tid = GuestAddr(clone_args.child_tid),
      .pidfd = GuestAddr(clone_args.pidfd),
      .tls = clone_args.tls,
  };
  return run_clone(task, request);
}

// fork(): clone(SIGCHLD).
Result<int64_t> sys_fork(kernel::Task& task, const SyscallArgs&) {
  return run_clone(task, kernel::CloneRequest{.exit_signal = SIGCHLD});
}

// vfork(): clone(CLONE_VM | CLONE_VFORK | SIGCHLD).
Result<int64_t> sys_vfork(kernel::Task& task, const SyscallArgs&) {
  return run_clone(task,
                   kernel::CloneRequest{.flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD});
}

}  // namespace ward::syscalls
