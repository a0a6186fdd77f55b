// Caller: the task on whose behalf the VFS works. Path walks check its
// credentials, start from its root and cwd, and procfs fills its files from
// it.
#pragma once

#include "sentry/kernel/credentials.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {

class FsContext;

struct Caller {
  const kernel::Credentials& creds;
  const FsContext& fs;
  // The calling task, or null when the VFS is driven without a kernel (unit
  // tests, setting up the first process). Files that describe the caller
  // (/proc/self) are absent then.
  kernel::Task* task = nullptr;
};

// The Caller for a task's syscall.
Caller caller_of(kernel::Task& task);

}  // namespace ward::vfs
