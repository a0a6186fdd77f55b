// pidfd_open, pidfd_send_signal and pidfd_getfd: naming a process by a file
// descriptor rather than by its pid, which a later process may reuse.
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>

#include <algorithm>
#include <bit>
#include <memory>

#include "sentry/fs/pidfd.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/process_handle.h"
#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/signals.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_attributes.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_process.h"

namespace ward::syscalls {
namespace {

// pidfd_open's flags (linux/pidfd.h), which glibc's headers may lack.
constexpr uint32_t kPidfdNonblock = O_NONBLOCK;
constexpr uint32_t kPidfdThread = O_EXCL;

// pidfd_send_signal's flags: which of the process's tasks receive it.
constexpr uint32_t kSignalThread = 1U << 0;
constexpr uint32_t kSignalThreadGroup = 1U << 1;
constexpr uint32_t kSignalProcessGroup = 1U << 2;
constexpr uint32_t kSignalScopeFlags = kSignalThread | kSignalThreadGroup | kSignalProcessGroup;

// Descriptor numbers that name the caller itself (PIDFD_SELF_THREAD and
// PIDFD_SELF_THREAD_GROUP of linux/pidfd.h).
constexpr int kPidfdSelfThread = -10000;
constexpr int kPidfdSelfThreadGroup = -10001;

// The tasks a pidfd_send_signal reaches, in the order of Linux's pid types.
enum class SignalScope { kThread, kProcess, kProcessGroup };

// The process the pidfd `fd` names: EBADF when `fd` is not open or not a
// pidfd.
Result<std::shared_ptr<kernel::ProcessHandle>> process_of_pidfd(kernel::Task& task, int fd) {
  vfs::FileRef file = TRY(task.fdtable().get(fd));
  std::shared_ptr<kernel::ProcessHandle> process = vfs::pidfd_process(*file);
  if (!process) {
    // NOTE: Linux also takes an open /proc/<pid> directory here.
    return Errno{EBADF};
  }
  return process;
}

// Whether `caller` may take descriptors from `target`, as Linux's
// ptrace_may_access with PTRACE_MODE_ATTACH_REALCREDS decides: a thread of
// the same process, or a caller whose real uid and gid are each of the
// target's on a dumpable target, or one with CAP_SYS_PTRACE.
bool may_attach(const kernel::Task& caller, const kernel::Task& target) {
  if (&caller.thread_group() == &target.thread_group()) {
    return true;
  }
  const kernel::Credentials& from = caller.creds();
  const kernel::Credentials& to = target.creds();
  if (from.has_capability(CAP_SYS_PTRACE)) {
    return true;
  }
  bool same_ids = from.real_uid == to.real_uid && from.real_uid == to.effective_uid &&
                  from.real_uid == to.saved_uid && from.real_gid == to.real_gid &&
                  from.real_gid == to.effective_gid && from.real_gid == to.saved_gid;
  return same_ids && target.attributes().mm->dumpable == kernel::kSuidDumpUser;
}

// The siginfo a pidfd_send_signal delivers: the caller's own, which it may
// only forge (a non-negative si_code, or SI_TKILL) for a signal to its own
// thread or process, or kill(2)'s.
Result<siginfo_t> signal_info(kernel::Task& task, GuestAddr info_addr, int signal,
                              bool to_self, SignalScope scope) {
  if (info_addr.is_null()) {
    return kernel::user_siginfo(signal, task, scope == SignalScope::kThread ? SI_TKILL : SI_USER);
  }
  siginfo_t info = TRY(task.copy_in<siginfo_t>(info_addr));
  if (info.si_signo != signal) {
    return Errno{EINVAL};
  }
  bool forged = info.si_code >= 0 || info.si_code == SI_TKILL;
  if (forged && (!to_self || scope == SignalScope::kProcessGroup)) {
    return Errno{EPERM};
  }
  return info;
}

// Sends to every process of the process group `pgid`, as kill(-pgid)
// does. Unlike kill, a bad signal number is ESRCH when the group is empty.
Result<int64_t> signal_process_group(kernel::Task& task, pid_t pgid, const siginfo_t& info) {
  auto in_group = [pgid](const kernel::ThreadGroup& group) { return group.pgid() == pgid; };
  if (info.si_signo < 0 || info.si_signo > kernel::kSignalCount) {
    const auto groups = task.kernel().thread_groups();
    bool any = std::any_of(groups.begin(), groups.end(),
                           [&](const kernel::ThreadGroup* group) { return in_group(*group); });
    return any ? Errno{EINVAL} : Errno{ESRCH};
  }
  TRY(kernel::send_signal_to_processes(task, info, in_group));
  return 0;
}

}  // namespace

// pidfd_open(pid, flags)
Result<int64_t> sys_pidfd_open(kernel::Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  uint32_t flags = args.u32(1);

  if ((flags & ~(kPidfdNonblock | kPidfdThread)) != 0 || pid <= 0) {
    return Errno{EINVAL};
  }
  kernel::ThreadGroup* group = task.kernel().find_thread_group(pid);
  if ((flags & kPidfdThread) != 0) {
    // NOTE: Linux 6.9's thread pidfds; ward's name processes only.
    record_gap(task, "PIDFD_THREAD");
    return group == nullptr && task.kernel().find_task(pid) == nullptr ? Errno{ESRCH}
                                                                       : Errno{EINVAL};
  }
  if (group == nullptr) {
    // A thread's id names no process: ENOENT, as current kernels return
    // (older ones returned EINVAL).
    return task.kernel().find_task(pid) == nullptr ? Errno{ESRCH} : Errno{ENOENT};
  }

  vfs::FileRef pidfd = vfs::make_pidfd(group->handle(), task.creds(), flags & kPidfdNonblock);
  return TRY(task.fdtable().install(std::move(pidfd), /*close_on_exec=*/true));
}

// pidfd_send_signal(pidfd, sig, info, flags)
Result<int64_t> sys_pidfd_send_signal(kernel::Task& task, const SyscallArgs& args) {
  int pidfd = args.i32(0);
  int signal = args.i32(1);
  GuestAddr info_addr = args.addr(2);
  uint32_t flags = args.u32(3);

  if ((flags & ~kSignalScopeFlags) != 0 || std::popcount(flags) > 1) {
    return Errno{EINVAL};
  }

  // The target: the process (or, for PIDFD_SELF_THREAD, the thread) the
  // descriptor names, and the scope its type implies. The process may
  // have been reaped, leaving only its pid.
  pid_t target_pid = task.pid();
  kernel::ThreadGroup* group = &task.thread_group();
  kernel::Task* thread = nullptr;
  SignalScope scope = SignalScope::kProcess;
  if (pidfd == kPidfdSelfThread) {
    thread = &task;
    target_pid = task.tid();
    scope = SignalScope::kThread;
  } else if (pidfd != kPidfdSelfThreadGroup) {
    std::shared_ptr<kernel::ProcessHandle> process = TRY(process_of_pidfd(task, pidfd));
    target_pid = process->pid();
    group = process->group();
  }
  if (flags == kSignalThread) {
    scope = SignalScope::kThread;
  } else if (flags == kSignalThreadGroup) {
    scope = SignalScope::kProcess;
  } else if (flags == kSignalProcessGroup) {
    scope = SignalScope::kProcessGroup;
  }
  if (scope == SignalScope::kThread && thread == nullptr && group != nullptr) {
    thread = group->leader();  // a process's pidfd names its leader thread
  }

  // Linux compares the caller's own thread with the pidfd's: only a
  // process's leader, or the thread itself, counts as signalling itself.
  bool to_self = thread != nullptr ? thread == &task : target_pid == task.tid();
  siginfo_t info = TRY(signal_info(task, info_addr, signal, to_self, scope));
  if (scope == SignalScope::kProcessGroup) {
    // The process group outlives its leader: its members still match.
    return signal_process_group(task, target_pid, info);
  }
  if (group == nullptr) {
    return Errno{ESRCH};  // reaped
  }
  if (signal < 0 || signal > kernel::kSignalCount) {
    return Errno{EINVAL};
  }
  if (!kernel::may_signal(task, *group, signal)) {
    return Errno{EPERM};
  }
  if (signal == 0 || group->finished()) {
    return 0;  // a zombie takes the signal and nothing happens
  }
  if (scope == SignalScope::kThread) {
    // A leader thread that has exited is a zombie inside a live process.
    if (thread != nullptr && !thread->exit_requested()) {
      kernel::send_signal_to_task(*thread, info);
    }
    return 0;
  }
  kernel::send_signal_to_group(*group, info);
  return 0;
}

// pidfd_getfd(pidfd, targetfd, flags)
Result<int64_t> sys_pidfd_getfd(kernel::Task& task, const SyscallArgs& args) {
  int pidfd = args.i32(0);
  int target_fd = args.i32(1);
  uint32_t flags = args.u32(2);

  if (flags != 0) {
    return Errno{EINVAL};
  }
  std::shared_ptr<kernel::ProcessHandle> process = TRY(process_of_pidfd(task, pidfd));
  kernel::ThreadGroup* group = process->group();
  kernel::Task* leader = group == nullptr ? nullptr : group->leader();
  if (leader == nullptr || leader->exit_requested()) {
    // Reaped, or its leader thread has exited and let go of its files.
    return Errno{ESRCH};
  }
  if (!may_attach(task, *leader)) {
    return Errno{EPERM};
  }
  vfs::FileRef file = TRY(leader->fdtable().get(target_fd));
  return TRY(task.fdtable().install(std::move(file), /*close_on_exec=*/true));
}

}  // namespace ward::syscalls
