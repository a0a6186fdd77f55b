// wait4 and waitid: collecting a child's exit, stop or continue.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <optional>

#include "ward/result.h"

namespace ward::kernel {

class Task;

class ThreadGroup;

struct WaitRequest {
  idtype_t which = P_ALL;  // P_ALL, P_PID, P_PGID or P_PIDFD
  pid_t id = 0;            // the pid or process group, for P_PID and P_PGID
  // The process a pidfd names, for P_PIDFD; null when it has been reaped,
  // which no child matches.
  const ThreadGroup* process = nullptr;
  int options = 0;         // WNOHANG, WEXITED, WSTOPPED, WCONTINUED, WNOWAIT, __WALL, __WCLONE
};

struct WaitResult {
  pid_t pid = 0;
  uid_t uid = 0;
  int status = 0;      // wait4's status word
  int code = 0;        // waitid's si_code: CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_CONTINUED
  int child_status = 0;  // waitid's si_status: the exit code or the signal
  struct rusage usage {};  // the child's and its reaped children's, as wait4 reports
};

// Waits as wait4 and waitid do. Returns nullopt for WNOHANG with no child
// ready, ECHILD when no child matches, ERESTARTSYS when a signal interrupts
// the wait.
Result<std::optional<WaitResult>> wait_for_child(Task& task, const WaitRequest& request);

}  // namespace ward::kernel
