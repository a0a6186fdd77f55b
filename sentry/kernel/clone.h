// clone, fork and vfork: a new task, in a new or the same thread group,
// with each resource shared or copied as its CLONE_* flag requests.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::kernel {

class Task;

struct CloneRequest {
  uint64_t flags = 0;        // CLONE_* without the exit signal
  int exit_signal = 0;       // sent to the parent when the child process ends
  GuestAddr stack = {};       // the child's stack pointer, or null for the parent's
  GuestAddr parent_tid = {};  // CLONE_PARENT_SETTID
  GuestAddr child_tid = {};   // CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID
  GuestAddr pidfd = {};       // CLONE_PIDFD: where the parent's pidfd goes
  uint64_t tls = 0;          // CLONE_SETTLS: the child's fs base
};

// Creates the task, starts it, and returns its tid. With CLONE_VFORK, it
// returns only once the child has run execve or exited. Fails with EINVAL
// for flag combinations Linux rejects and for the namespace flags and
// CLONE_PIDFD with CLONE_THREAD, which ward lacks (recorded as gaps), and
// with EMFILE or EFAULT when the CLONE_PIDFD descriptor cannot be given.
Result<pid_t> clone_task(Task& parent, const CloneRequest& request);

}  // namespace ward::kernel
