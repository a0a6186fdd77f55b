// kill, tkill, tgkill, rt_sigqueueinfo and rt_tgsigqueueinfo: sending
// signals to processes and threads.
#include <signal.h>

#include <functional>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/handlers_process.h"

namespace ward::syscalls {
namespace {

// kill(2) to every process `select` picks.
Result<int64_t> signal_many(kernel::Task& task, int signal,
                            const std::function<bool(const kernel::ThreadGroup&)>& select) {
  TRY(kernel::send_signal_to_processes(task, kernel::user_siginfo(signal, task), select));
  return 0;
}

Result<kernel::Task*> find_thread(kernel::Task& task, pid_t tgid, pid_t tid) {
  kernel::Task* target = task.kernel().find_task(tid);
  if (target == nullptr || target->exit_requested() || (tgid > 0 && target->pid() != tgid)) {
    return Errno{ESRCH};
  }
  return target;
}

Result<int64_t> signal_thread(kernel::Task& task, kernel::Task& target, const siginfo_t& info) {
  int signal = info.si_signo;
  if (!kernel::may_signal(task, target.thread_group(), signal)) {
    return Errno{EPERM};
  }
  if (signal != 0 && !kernel::send_signal_to_task(target, info)) {
    return Errno{EAGAIN};  // the real-time queue is full
  }
  return 0;
}

// A siginfo a process supplies (rt_sigqueueinfo): it may not pose as the
// kernel or as kill(2) sending to another process.
Result<siginfo_t> copy_in_queued_info(kernel::Task& task, GuestAddr addr, int signal,
                                      pid_t target_pid) {
  siginfo_t info = TRY(task.copy_in<siginfo_t>(addr));
  if ((info.si_code >= 0 || info.si_code == SI_TKILL) && target_pid != task.pid()) {
    return Errno{EPERM};
  }
  info.si_signo = signal;
  return info;
}

}  // namespace

// kill(pid, sig)
Result<int64_t> sys_kill(kernel::Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  int signal = args.i32(1);
  if (signal < 0 || signal > kernel::kSignalCount) {
    return Errno{EINVAL};
  }
  kernel::ThreadGroup& self = task.thread_group();

  if (pid > 0) {
    kernel::ThreadGroup* group = task.kernel().find_thread_group(pid);
    if (group == nullptr) {
      return Errno{ESRCH};
    }
    if (!kernel::may_signal(task, *group, signal)) {
      return Errno{EPERM};
    }
    if (signal != 0) {
      kernel::send_signal_to_group(*group, kernel::user_siginfo(signal, task));
    }
    return 0;
  }
  if (pid == 0) {
    pid_t pgid = self.pgid();
    return signal_many(task, signal, [pgid](const kernel::ThreadGroup& group) {
      return group.pgid() == pgid && !group.finished();
    });
  }
  if (pid == -1) {
    // Every process but init and the caller itself.
    return signal_many(task, signal, [&](const kernel::ThreadGroup& group) {
      return &group != &self && !task.kernel().is_init(group) && !group.finished();
    });
  }
  if (pid == INT32_MIN) {
    return Errno{ESRCH};
  }
  pid_t pgid = -pid;
  return signal_many(task, signal, [pgid](const kernel::ThreadGroup& group) {
    return group.pgid() == pgid && !group.finished();
  });
}

// tkill(tid, sig)
Result<int64_t> sys_tkill(kernel::Task& task, const SyscallArgs& args) {
  pid_t tid = args.i32(0);
  int signal = args.i32(1);
  if (tid <= 0 || signal < 0 || signal > kernel::kSignalCount) {
    return Errno{EINVAL};
  }
  kernel::Task* target = TRY(find_thread(task, 0, tid));
  return signal_thread(task, *target, kernel::user_siginfo(signal, task, SI_TKILL));
}

// tgkill(tgid, tid, sig)
Result<int64_t> sys_tgkill(kernel::Task& task, const SyscallArgs& args) {
  pid_t tgid = args.i32(0);
  pid_t tid = args.i32(1);
  int signal = args.i32(2);
  if (tgid <= 0 || tid <= 0 || signal < 0 || signal > kernel::kSignalCount) {
    return Errno{EINVAL};
  }
  kernel::Task* target = TRY(find_thread(task, tgid, tid));
  return signal_thread(task, *target, kernel::user_siginfo(signal, task, SI_TKILL));
}

// rt_sigqueueinfo(tgid, sig, info)
Result<int64_t> sys_rt_sigqueueinfo(kernel::Task& task, const SyscallArgs& args) {
  pid_t tgid = args.i32(0);
  int signal = args.i32(1);
  siginfo_t info = TRY(copy_in_queued_info(task, args.addr(2), signal, tgid));
  if (signal < 0 || signal > kernel::kSignalCount) {
    return Errno{EINVAL};
  }
  kernel::ThreadGroup* group = task.kernel().find_thread_group(tgid);
  if (group == nullptr) {
    return Errno{ESRCH};
  }
  if (!kernel::may_signal(task, *group, signal)) {
    return Errno{EPERM};
  }
  if (signal != 0 && !kernel::send_signal_to_group(*group, info)) {
    return Errno{EAGAIN};  // the real-time queue is full
  }
  return 0;
}

// rt_tgsigqueueinfo(tgid, tid, sig, info)
Result<int64_t> sys_rt_tgsigqueueinfo(kernel::Task& task, const SyscallArgs& args) {
  pid_t tgid = args.i32(0);
  pid_t tid = args.i32(1);
  int signal = args.i32(2);
  if (tgid <= 0 || tid <= 0) {
    return Errno{EINVAL};
  }
  siginfo_t info = TRY(copy_in_queued_info(task, args.addr(3), signal, tgid));
  if (signal < 0 || signal > kernel::kSignalCount) {
    return Errno{EINVAL};
  }
  kernel::Task* target = TRY(find_thread(task, tgid, tid));
  return signal_thread(task, *target, info);
}

}  // namespace ward::syscalls
