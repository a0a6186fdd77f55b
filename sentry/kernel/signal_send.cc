#include "sentry/kernel/signal_send.h"

#include <linux/capability.h>
#include <poll.h>
#include <sys/resource.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace ward::kernel {
namespace {

// The queue bound of real-time signals for a process, from its
// RLIMIT_SIGPENDING.
// NOTE: Linux counts the queued signals of every process of the same user
// against the limit; ward counts one queue of one process.
size_t max_queued(const ThreadGroup& group) {
  rlim_t limit = group.limit(RLIMIT_SIGPENDING).rlim_cur;
  return limit == RLIM_INFINITY ? SIZE_MAX : static_cast<size_t>(limit);
}

// Applies the side effects of a signal's arrival before it is queued, as
// Linux's prepare_signal does. SIGCONT continues a stopped group and
// cancels pending stop signals. A stop signal cancels a pending SIGCONT.
void apply_job_control(ThreadGroup& group, int signal) {
  if (signal == SIGCONT) {
    group.shared_pending().discard(kStopSignals);
    for (Task* task : group.tasks()) {
      task->pending().discard(kStopSignals);
    }
    if (group.stopped()) {
      group.set_stopped(0);
      group.continue_queue().notify();
      group.set_unreported_event(ChildEvent::kContinued);
      notify_parent_of_job_control(group, ChildEvent::kContinued, SIGCONT);
    }
    return;
  }
  if ((kStopSignals & signal_bit(signal)) != 0) {
    group.shared_pending().discard(signal_bit(SIGCONT));
    for (Task* task : group.tasks()) {
      task->pending().discard(signal_bit(SIGCONT));
    }
  }
}

// Whether the signal is thrown away on arrival.
bool dropped_on_arrival(ThreadGroup& group, const Task* blocking_check, int signal,
                        SignalSource source) {
  const KernelSigaction& action = group.signal_handlers()[signal - 1];
  // A protected first process, like a pid namespace's init, does not take
  // the default action of a signal sent from inside the sandbox, not even
  // SIGKILL's. ward's own forwarding comes from outside and is delivered.
  Kernel& kernel = group.kernel();
  bool protected_init = kernel.options().protect_init && kernel.is_init(group);
  if (protected_init && source == SignalSource::kSandbox && action.handler == kSigDefault) {
    return true;
  }
  bool blocked = blocking_check != nullptr &&
                 (blocking_check->signal_mask() & signal_bit(signal)) != 0;
  return !blocked && is_ignored(action, signal);
}

// Picks the task of `group` that takes a process-directed signal, as
// Linux's complete_signal does: the leader if it does not block it, else
// any task that does not.
Task* pick_receiver(ThreadGroup& group, int signal) {
  Task* leader = group.leader();
  auto wants = [signal](Task* task) {
    return task != nullptr && !task->exit_requested() &&
           (task->signal_mask() & signal_bit(signal)) == 0;
  };
  if (wants(leader)) {
    return leader;
  }
  for (Task* task : group.tasks()) {
    if (wants(task)) {
      return task;
    }
  }
  return nullptr;
}

// Queues `info`, and returns false when a real-time signal finds the
// queue full. Linux then fails the send, unless kill (SI_USER) sent it.
// Such a signal is still marked pending, once, without a siginfo of its
// own; here that one extra entry keeps the kill's siginfo.
bool queue_signal(PendingSignals& pending, const siginfo_t& info, const ThreadGroup& group) {
  int signal = info.si_signo;
  if (pending.add(info, max_queued(group)) || signal < kFirstRealtimeSignal) {
    return true;  // queued, or a standard signal coalesced with a pending one
  }
  if (info.si_code != SI_USER) {
    return false;
  }
  if (!pending.has(signal)) {
    pending.add(info, SIZE_MAX);
  }
  return true;
}

// Wakes the signalfd readers and pollers of the process. They may wait for
// a signal that they block, which interrupts no task. Without a signalfd
// the queue is empty and this costs one check.
void notify_signalfd_waiters(ThreadGroup& group) {
  group.signalfd_queue().notify(POLLIN);
}

}  // namespace

Result<void> send_signal_to_processes(Task& sender, const siginfo_t& info,
                                      const std::function<bool(const ThreadGroup&)>& select) {
  bool matched = false;
  bool sent = false;
  for (ThreadGroup* group : sender.kernel().thread_groups()) {
    if (!select(*group)) {
      continue;
    }
    matched = true;
    if (!may_signal(sender, *group, info.si_signo)) {
      continue;
    }
    sent = true;
    if (info.si_signo != 0) {
      send_signal_to_group(*group, info);
    }
  }
  if (!matched) {
    return Errno{ESRCH};
  }
  if (!sent) {
    return Errno{EPERM};
  }
  return ok();
}

siginfo_t user_siginfo(int signal, const Task& sender, int code) {
  siginfo_t info{};
  info.si_signo = signal;
  info.si_code = code;
  info.si_pid = sender.pid();
  info.si_uid = sender.creds().real_uid;
  return info;
}

bool send_signal_to_task(Task& task, const siginfo_t& info, SignalSource source) {
  int signal = info.si_signo;
  ThreadGroup& group = task.thread_group();
  if (group.exiting()) {
    return true;
  }
  apply_job_control(group, signal);
  if (dropped_on_arrival(group, &task, signal, source)) {
    return true;
  }
  if (signal == SIGKILL) {
    group.begin_exit(signal_wait_status(SIGKILL));
    return true;
  }
  if (!queue_signal(task.pending(), info, group)) {
    return false;
  }
  notify_signalfd_waiters(group);
  if ((task.signal_mask() & signal_bit(signal)) == 0) {
    task.interrupt();
  }
  return true;
}

bool send_signal_to_group(ThreadGroup& group, const siginfo_t& info, SignalSource source) {
  int signal = info.si_signo;
  if (group.exiting()) {
    return true;
  }
  apply_job_control(group, signal);
  if (dropped_on_arrival(group, group.leader(), signal, source)) {
    return true;
  }
  if (signal == SIGKILL) {
    group.begin_exit(signal_wait_status(SIGKILL));
    return true;
  }
  if (!queue_signal(group.shared_pending(), info, group)) {
    return false;
  }
  notify_signalfd_waiters(group);
  if (Task* receiver = pick_receiver(group, signal)) {
    receiver->interrupt();
  }
  return true;
}

bool may_signal(const Task& sender, ThreadGroup& target, int signal) {
  const Credentials& from = sender.creds();
  if (&sender.thread_group() == &target || from.has_capability(CAP_KILL)) {
    return true;
  }
  Task* any = target.leader() != nullptr
                  ? target.leader()
                  : (target.tasks().empty() ? nullptr : target.tasks().front());
  if (any == nullptr) {
    return true;  // a zombie: kill(2) succeeds and does nothing
  }
  const Credentials& to = any->creds();
  if (signal == SIGCONT && sender.thread_group().sid() == target.sid()) {
    return true;
  }
  return from.effective_uid == to.real_uid || from.effective_uid == to.saved_uid ||
         from.real_uid == to.real_uid || from.real_uid == to.saved_uid;
}

void begin_group_stop(ThreadGroup& group, int signal) {
  if (group.stopped() || group.exiting()) {
    return;
  }
  group.set_stopped(signal);
  group.set_unreported_event(ChildEvent::kStopped);
  for (Task* task : group.tasks()) {
    task->interrupt();
  }
  notify_parent_of_job_control(group, ChildEvent::kStopped, signal);
}

void notify_parent_of_job_control(ThreadGroup& child, ChildEvent event, int signal) {
  ThreadGroup* parent = child.parent();
  if (parent == nullptr) {
    return;
  }
  const KernelSigaction& action = parent->signal_handlers()[SIGCHLD - 1];
  if ((action.flags & SA_NOCLDSTOP) == 0) {
    siginfo_t info{};
    info.si_signo = SIGCHLD;
    info.si_code = event == ChildEvent::kStopped ? CLD_STOPPED : CLD_CONTINUED;
    info.si_pid = child.tgid();
    info.si_status = signal;
    send_signal_to_group(*parent, info);
  }
  parent->child_events().notify();
}

}  // namespace ward::kernel
