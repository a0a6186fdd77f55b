// exit, exit_group, the process and user ids, set_tid_address,
// the robust futex list and arch_prctl.
#include <asm/prctl.h>
#include <linux/futex.h>

#include <vector>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/fs_context.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_core.h"
#include "syscalls/handlers_seccomp.h"

namespace ward::syscalls {

// exit(status): ends the calling thread.
Result<int64_t> sys_exit(kernel::Task& task, const SyscallArgs& args) {
  int status = args.i32(0);
  task.exit_thread(status);
  return 0;
}

// exit_group(status): ends every thread of the process.
Result<int64_t> sys_exit_group(kernel::Task& task, const SyscallArgs& args) {
  int status = args.i32(0);
  task.thread_group().begin_exit(kernel::exit_wait_status(status));
  task.exit_thread(status);
  return 0;
}

Result<int64_t> sys_getpid(kernel::Task& task, const SyscallArgs&) { return task.pid(); }

Result<int64_t> sys_gettid(kernel::Task& task, const SyscallArgs&) { return task.tid(); }

// getppid: 0 for the sandbox's first process, whose parent lies outside the
// sandbox's pid namespace.
Result<int64_t> sys_getppid(kernel::Task& task, const SyscallArgs&) {
  kernel::ThreadGroup* parent = task.thread_group().parent();
  return parent == nullptr ? 0 : parent->tgid();
}

Result<int64_t> sys_getuid(kernel::Task& task, const SyscallArgs&) {
  return task.creds().real_uid;
}

Result<int64_t> sys_geteuid(kernel::Task& task, const SyscallArgs&) {
  return task.creds().effective_uid;
}

Result<int64_t> sys_getgid(kernel::Task& task, const SyscallArgs&) {
  return task.creds().real_gid;
}

Result<int64_t> sys_getegid(kernel::Task& task, const SyscallArgs&) {
  return task.creds().effective_gid;
}

// getresuid(ruid, euid, suid)
Result<int64_t> sys_getresuid(kernel::Task& task, const SyscallArgs& args) {
  const kernel::Credentials& creds = task.creds();
  TRY(task.copy_out<uint32_t>(args.addr(0), creds.real_uid));
  TRY(task.copy_out<uint32_t>(args.addr(1), creds.effective_uid));
  TRY(task.copy_out<uint32_t>(args.addr(2), creds.saved_uid));
  return 0;
}

// getresgid(rgid, egid, sgid)
Result<int64_t> sys_getresgid(kernel::Task& task, const SyscallArgs& args) {
  const kernel::Credentials& creds = task.creds();
  TRY(task.copy_out<uint32_t>(args.addr(0), creds.real_gid));
  TRY(task.copy_out<uint32_t>(args.addr(1), creds.effective_gid));
  TRY(task.copy_out<uint32_t>(args.addr(2), creds.saved_gid));
  return 0;
}

// getgroups(size, list): size 0 requests only the count.
Result<int64_t> sys_getgroups(kernel::Task& task, const SyscallArgs& args) {
  int size = args.i32(0);
  GuestAddr list = args.addr(1);
  const std::vector<gid_t>& groups = task.creds().supplementary_groups;

  if (size < 0) {
    return Errno{EINVAL};
  }
  if (size == 0) {
    return static_cast<int64_t>(groups.size());
  }
  if (static_cast<size_t>(size) < groups.size()) {
    return Errno{EINVAL};
  }
  std::vector<uint32_t> ids(groups.begin(), groups.end());
  TRY(task.copy_out(list, std::as_bytes(std::span(ids))));
  return static_cast<int64_t>(groups.size());
}

// umask(mask): returns the previous mask.
Result<int64_t> sys_umask(kernel::Task& task, const SyscallArgs& args) {
  mode_t mask = args.u32(0) & 0777;
  return task.fs().set_umask(mask);
}

// set_tid_address(tidptr): returns the caller's tid.
Result<int64_t> sys_set_tid_address(kernel::Task& task, const SyscallArgs& args) {
  task.set_clear_child_tid(args.addr(0));
  return task.tid();
}

// set_robust_list(head, len): len must be sizeof(struct robust_list_head).
Result<int64_t> sys_set_robust_list(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr head = args.addr(0);
  uint64_t length = args.u64(1);
  if (length != sizeof(robust_list_head)) {
    return Errno{EINVAL};
  }
  task.set_robust_list(head);
  return 0;
}

namespace {

// Linux's ptrace_may_access in PTRACE_MODE_READ_REALCREDS mode, which
// guards get_robust_list: a thread of the same process, root
// (CAP_SYS_PTRACE), or a caller whose real uid and gid match all of the
// target's real, effective and saved ids.
bool may_read_robust_list(kernel::Task& caller, kernel::Task& target) {
  if (&caller.thread_group() == &target.thread_group() || caller.creds().effective_uid == 0) {
    return true;
  }
  const kernel::Credentials& mine = caller.creds();
  const kernel::Credentials& theirs = target.creds();
  return mine.real_uid == theirs.real_uid && mine.real_uid == theirs.effective_uid &&
         mine.real_uid == theirs.saved_uid && mine.real_gid == theirs.real_gid &&
         mine.real_gid == theirs.effective_gid && mine.real_gid == theirs.saved_gid;
}

}  // namespace

// get_robust_list(pid, head_ptr, len_ptr)
Result<int64_t> sys_get_robust_list(kernel::Task& task, const SyscallArgs& args) {
  int pid = args.i32(0);
  GuestAddr head_ptr = args.addr(1);
  GuestAddr length_ptr = args.addr(2);

  kernel::Task* target = pid == 0 ? &task : task.kernel().find_task(pid);
  if (target == nullptr || target->finished()) {
    return Errno{ESRCH};
  }
  if (!may_read_robust_list(task, *target)) {
    return Errno{EPERM};
  }
  TRY(task.copy_out<uint64_t>(length_ptr, sizeof(robust_list_head)));
  TRY(task.copy_out<uint64_t>(head_ptr, target->robust_list().value()));
  return 0;
}

// arch_prctl(code, addr)
Result<int64_t> sys_arch_prctl(kernel::Task& task, const SyscallArgs& args) {
  int code = args.i32(0);
  uint64_t addr = args.u64(1);
  platform::Registers& regs = task.regs();

  switch (code) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
      if (addr >= kTaskSize) {
        return Errno{EPERM};
      }
      (code == ARCH_SET_FS ? regs.fs_base : regs.gs_base) = addr;
      return 0;
    case ARCH_GET_FS:
      TRY(task.copy_out<uint64_t>(GuestAddr(addr), regs.fs_base));
      return 0;
    case ARCH_GET_GS:
      TRY(task.copy_out<uint64_t>(GuestAddr(addr), regs.gs_base));
      return 0;
    case ARCH_GET_CPUID:
      return 1;  // cpuid never faults under ward
    case ARCH_SET_CPUID:
      if (addr != 0) {
        return 0;  // cpuid stays enabled, which is what was asked
      }
      // Making cpuid fault needs the host to switch faulting on in the stub.
      record_gap(task, "ARCH_SET_CPUID to fault cpuid");
      return Errno{ENODEV};
    default:
      record_gap(task, fmt::format("code {:#x}", code));
      return Errno{EINVAL};
  }
}

}  // namespace ward::syscalls
