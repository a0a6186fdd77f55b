// Process groups and sessions: setpgid, getpgid, getpgrp, setsid, getsid.
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/handlers_process.h"

namespace ward::syscalls {
namespace {

Result<kernel::ThreadGroup*> find_process(kernel::Task& task, pid_t pid) {
  if (pid == 0) {
    return &task.thread_group();
  }
  kernel::ThreadGroup* group = task.kernel().find_thread_group(pid);
  if (group == nullptr || group->finished()) {
    return Errno{ESRCH};
  }
  return group;
}

bool process_group_exists_in_session(kernel::Kernel& kernel, pid_t pgid, pid_t sid) {
  for (kernel::ThreadGroup* group : kernel.thread_groups()) {
    if (group->pgid() == pgid && group->sid() == sid && !group->finished()) {
      return true;
    }
  }
  return false;
}

}  // namespace

// setpgid(pid, pgid), with Linux's checks in its order.
Result<int64_t> sys_setpgid(kernel::Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  pid_t pgid = args.i32(1);
  kernel::ThreadGroup& self = task.thread_group();

  if (pid == 0) {
    pid = self.tgid();
  }
  if (pgid == 0) {
    pgid = pid;
  }
  if (pgid < 0) {
    return Errno{EINVAL};
  }
  kernel::ThreadGroup* target = task.kernel().find_thread_group(pid);
  if (target == nullptr || target->finished()) {
    return Errno{ESRCH};
  }
  bool is_self = target == &self;
  if (!is_self) {
    if (target->parent() != &self) {
      return Errno{ESRCH};
    }
    if (target->sid() != self.sid()) {
      return Errno{EPERM};
    }
    if (target->has_execed()) {
      return Errno{EACCES};
    }
  }
  if (target->sid() == target->tgid()) {
    return Errno{EPERM};  // a session leader stays in its own group
  }
  if (pgid != pid && !process_group_exists_in_session(task.kernel(), pgid, self.sid())) {
    return Errno{EPERM};
  }
  target->set_pgid(pgid);
  return 0;
}

// getpgid(pid)
Result<int64_t> sys_getpgid(kernel::Task& task, const SyscallArgs& args) {
  kernel::ThreadGroup* group = TRY(find_process(task, args.i32(0)));
  return group->pgid();
}

// getpgrp()
Result<int64_t> sys_getpgrp(kernel::Task& task, const SyscallArgs&) {
  return task.thread_group().pgid();
}

// setsid(): a new session and process group led by the caller, which must
// not already lead a process group.
Result<int64_t> sys_setsid(kernel::Task& task, const SyscallArgs&) {
  kernel::ThreadGroup& self = task.thread_group();
  pid_t pid = self.tgid();
  for (kernel::ThreadGroup* group : task.kernel().thread_groups()) {
    if (group->pgid() == pid && !group->finished()) {
      return Errno{EPERM};
    }
  }
  self.set_sid(pid);
  self.set_pgid(pid);
  return pid;
}

// getsid(pid)
Result<int64_t> sys_getsid(kernel::Task& task, const SyscallArgs& args) {
  kernel::ThreadGroup* group = TRY(find_process(task, args.i32(0)));
  return group->sid();
}

}  // namespace ward::syscalls
