#include "sentry/vfs/caller.h"

#include "sentry/kernel/task.h"

namespace ward::vfs {

Caller caller_of(kernel::Task& task) {
  return Caller{.creds = task.creds(), .fs = task.fs(), .task = &task};
}

}  // namespace ward::vfs
