// Sending signals: queueing on a thread or a process, waking the task that
// will take them, SIGCONT and stop-signal side effects, group stop, and
// the notifications a parent gets about its children.
#pragma once

#include <signal.h>

#include <functional>

#include "sentry/kernel/thread_group.h"
#include "ward/result.h"

namespace ward::kernel {

class Task;

// Where a signal comes from, which decides whether the sandbox's first
// process may ignore it.
enum class SignalSource {
  kSandbox,  // a guest process or the sentry on a guest's behalf
  kOutside,  // ward forwarding a signal it received
};

// Sends `info` to one thread (tkill, tgkill, timers for one thread).
// Returns false when a real-time signal did not fit in the queue that
// RLIMIT_SIGPENDING bounds, which sigqueue reports as EAGAIN; one sent by
// kill (SI_USER) is still marked pending, as Linux does.
bool send_signal_to_task(Task& task, const siginfo_t& info,
                         SignalSource source = SignalSource::kSandbox);

// Sends `info` to a process: any of its tasks that does not block it takes
// it. Returns false as send_signal_to_task does.
bool send_signal_to_group(ThreadGroup& group, const siginfo_t& info,
                          SignalSource source = SignalSource::kSandbox);

// Sends `info` to every process `select` picks, as kill(2) does for pid 0,
// -1 and -pgid: ESRCH when none matched, EPERM when none could be
// signalled. The caller has checked the signal number.
Result<void> send_signal_to_processes(Task& sender, const siginfo_t& info,
                                      const std::function<bool(const ThreadGroup&)>& select);

// Whether `sender` may send `signal` to `target` (kill(2)'s EPERM rule).
bool may_signal(const Task& sender, ThreadGroup& target, int signal);

// Stops every task of `group` for the stop signal `signal` and tells the
// parent.
void begin_group_stop(ThreadGroup& group, int signal);

// Tells `child`'s parent that `child` stopped or continued: SIGCHLD with
// CLD_STOPPED or CLD_CONTINUED unless the parent set SA_NOCLDSTOP, and a
// wake-up of its wait(2).
void notify_parent_of_job_control(ThreadGroup& child, ChildEvent event, int signal);

// A siginfo for kill(2) and friends: SI_USER with the sender's pid and uid.
siginfo_t user_siginfo(int signal, const Task& sender, int code = SI_USER);

}  // namespace ward::kernel
