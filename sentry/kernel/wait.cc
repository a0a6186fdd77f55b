#include "sentry/kernel/wait.h"

#include "sentry/kernel/cpu_usage.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace ward::kernel {
namespace {

bool matches(const ThreadGroup& child, const WaitRequest& request) {
  switch (request.which) {
    case P_PID:
      return child.tgid() == request.id;
    case P_PGID:
      return child.pgid() == request.id;
    case P_PIDFD:
      return &child == request.process;
    default:
      return true;
  }
}

// __WCLONE selects the children that report to their parent with another
// signal than SIGCHLD (or none); __WALL selects both kinds.
bool selected_kind(const ThreadGroup& child, int options) {
  if ((options & __WALL) != 0) {
    return true;
  }
  bool clone_child = child.exit_signal() != SIGCHLD;
  return clone_child == ((options & __WCLONE) != 0);
}

uid_t uid_of(const ThreadGroup& child) {
  Task* any = child.tasks().empty() ? nullptr : child.tasks().front();
  return any != nullptr ? any->creds().real_uid : 0;
}

WaitResult exit_result(ThreadGroup& child) {
  int status = child.exit_status().value_or(0);
  WaitResult result{
      .pid = child.tgid(), .uid = uid_of(child), .status = status, .usage = child_rusage(child)};
  if (WIFEXITED(status)) {
    result.code = CLD_EXITED;
    result.child_status = WEXITSTATUS(status);
  } else {
    result.code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
    result.child_status = WTERMSIG(status);
  }
  return result;
}

// Looks through the caller's children for one to report; nullopt when none
// is ready. Sets `any_match` when some child matches at all.
std::optional<WaitResult> find_ready_child(Task& task, const WaitRequest& request,
                                           bool& any_match) {
  Kernel& kernel = task.kernel();
  std::vector<ThreadGroup*> children = task.thread_group().children();
  bool keep = (request.options & WNOWAIT) != 0;

  for (ThreadGroup* child : children) {
    if (!matches(*child, request) || !selected_kind(*child, request.options)) {
      continue;
    }
    any_match = true;

    if (child->finished() && (request.options & WEXITED) != 0) {
      WaitResult result = exit_result(*child);
      if (!keep) {
        // As in Linux, only a child collected by wait counts in the
        // parent's RUSAGE_CHILDREN, not one reaped because SIGCHLD is
        // ignored.
        account_reaped_child(task.thread_group(), *child);
        kernel.release_thread_group(*child);
      }
      return result;
    }
    ChildEvent event = child->unreported_event();
    if (event == ChildEvent::kStopped && child->stopped() &&
        (request.options & WSTOPPED) != 0) {
      if (!keep) {
        child->set_unreported_event(ChildEvent::kNone);
      }
      return WaitResult{.pid = child->tgid(),
                        .uid = uid_of(*child),
                        .status = (child->stop_signal() << 8) | 0x7f,
                        .code = CLD_STOPPED,
                        .child_status = child->stop_signal(),
                        .usage = child_rusage(*child)};
    }
    if (event == ChildEvent::kContinued && (request.options & WCONTINUED) != 0) {
      if (!keep) {
        child->set_unreported_event(ChildEvent::kNone);
      }
      return WaitResult{.pid = child->tgid(),
                        .uid = uid_of(*child),
                        .status = 0xffff,
                        .code = CLD_CONTINUED,
                        .child_status = SIGCONT,
                        .usage = child_rusage(*child)};
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::optional<WaitResult>> wait_for_child(Task& task, const WaitRequest& request) {
  for (;;) {
    bool any_match = false;
    if (auto result = find_ready_child(task, request, any_match)) {
      return result;
    }
    if (!any_match) {
      return Errno{ECHILD};
    }
    if ((request.options & WNOHANG) != 0) {
      return std::optional<WaitResult>();
    }
    // Linux looks at the children again after every wake-up and fails with
    // ERESTARTSYS only when none is ready: a child's death both queues
    // SIGCHLD and wakes the parent, and then the dead child is reported,
    // not EINTR.
    Waiter waiter(task.scheduler());
    waiter.watch(task.thread_group().child_events());
    if (task.block(waiter) == WakeReason::kInterrupted) {
      any_match = false;
      if (auto result = find_ready_child(task, request, any_match)) {
        return result;
      }
      return any_match ? Result<std::optional<WaitResult>>(Errno{ERESTARTSYS})
                       : Result<std::optional<WaitResult>>(Errno{ECHILD});
    }
  }
}

}  // namespace ward::kernel
