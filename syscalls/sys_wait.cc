// wait4 and waitid.
#include <sys/resource.h>
#include <sys/wait.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/process_handle.h"
#include "sentry/kernel/wait.h"
#include "sentry/fs/pidfd.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_process.h"

namespace ward::syscalls {
namespace {


}  // namespace

// wait4(pid, wstatus, options, rusage)
Result<int64_t> sys_wait4(kernel::Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  GuestAddr status_addr = args.addr(1);
  int options = args.i32(2);
  GuestAddr rusage_addr = args.addr(3);

  constexpr int kKnownOptions = WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL;
  if ((options & ~kKnownOptions) != 0) {
    return Errno{EINVAL};
  }
  if (pid == INT32_MIN) {
    return Errno{ESRCH};  // -INT_MIN names no process group
  }
  kernel::WaitRequest request{.options = options | WEXITED};
  if ((options & WUNTRACED) != 0) {
    request.options |= WSTOPPED;
  }
  if (pid > 0) {
    request.which = P_PID;
    request.id = pid;
  } else if (pid == 0) {
    request.which = P_PGID;
    request.id = task.thread_group().pgid();
  } else if (pid < -1) {
    request.which = P_PGID;
    request.id = -pid;
  }

  auto result = TRY(kernel::wait_for_child(task, request));
  if (!result) {
    return 0;
  }
  if (!status_addr.is_null()) {
    TRY(task.copy_out<int32_t>(status_addr, result->status));
  }
  if (!rusage_addr.is_null()) {
    TRY(task.copy_out(rusage_addr, result->usage));
  }
  return result->pid;
}

// waitid(idtype, id, infop, options, rusage)
Result<int64_t> sys_waitid(kernel::Task& task, const SyscallArgs& args) {
  int which = args.i32(0);
  pid_t id = args.i32(1);
  GuestAddr info_addr = args.addr(2);
  int options = args.i32(3);
  GuestAddr rusage_addr = args.addr(4);

  constexpr int kKnownOptions =
      WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WCLONE | __WALL;
  if ((options & ~kKnownOptions) != 0 || (options & (WEXITED | WSTOPPED | WCONTINUED)) == 0) {
    return Errno{EINVAL};
  }
  kernel::WaitRequest request{.options = options};
  bool pidfd_nonblocking = false;
  switch (which) {
    case P_ALL:
      request.which = P_ALL;
      break;
    case P_PID:
      if (id <= 0) {
        return Errno{EINVAL};
      }
      request.which = P_PID;
      request.id = id;
      break;
    case P_PGID:
      if (id < 0) {
        return Errno{EINVAL};
      }
      request.which = P_PGID;
      request.id = id == 0 ? task.thread_group().pgid() : id;
      break;
    case P_PIDFD: {
      if (id < 0) {
        return Errno{EINVAL};
      }
      vfs::FileRef file = TRY(task.fdtable().get(id));
      std::shared_ptr<kernel::ProcessHandle> process = vfs::pidfd_process(*file);
      if (!process) {
        return Errno{EBADF};
      }
      request.which = P_PIDFD;
      request.process = process->group();
      // A nonblocking pidfd turns a wait that would block into EAGAIN.
      pidfd_nonblocking = file->nonblocking();
      if (pidfd_nonblocking) {
        request.options |= WNOHANG;
      }
      break;
    }
    default:
      return Errno{EINVAL};
  }

  auto result = TRY(kernel::wait_for_child(task, request));
  if (!result && pidfd_nonblocking && (options & WNOHANG) == 0) {
    return Errno{EAGAIN};
  }
  if (!info_addr.is_null()) {
    siginfo_t info{};
    if (result) {
      info.si_signo = SIGCHLD;
      info.si_code = result->code;
      info.si_pid = result->pid;
      info.si_uid = result->uid;
      info.si_status = result->child_status;
    }
    TRY(task.copy_out(info_addr, info));
  }
  if (!rusage_addr.is_null()) {
    // With WNOHANG and no child ready, Linux reports zeros.
    TRY(task.copy_out(rusage_addr, result ? result->usage : rusage{}));
  }
  return 0;
}

}  // namespace ward::syscalls
