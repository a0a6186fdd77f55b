// unshare(2): the calling task stops sharing its fs context, file table or
// mount namespace with others.
#include <linux/capability.h>
#include <sched.h>

#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_mount.h"

namespace ward::syscalls {
namespace {

constexpr uint64_t kCloneNewTime = 0x00000080;

constexpr uint64_t kUnshareFlags = CLONE_THREAD | CLONE_FS | CLONE_NEWNS | CLONE_SIGHAND |
                                   CLONE_VM | CLONE_FILES | CLONE_SYSVSEM | CLONE_NEWUTS |
                                   CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWPID |
                                   CLONE_NEWCGROUP | kCloneNewTime;

// Records each namespace flag ward lacks; true when there was one.
bool record_missing_namespaces(kernel::Task& task, uint64_t flags) {
  struct Named {
    uint64_t flag;
    const char* name;
  };
  static constexpr Named kMissing[] = {
      {CLONE_NEWUTS, "CLONE_NEWUTS"},   {CLONE_NEWIPC, "CLONE_NEWIPC"},
      {CLONE_NEWNET, "CLONE_NEWNET"},   {CLONE_NEWUSER, "CLONE_NEWUSER"},
      {CLONE_NEWPID, "CLONE_NEWPID"},   {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
      {kCloneNewTime, "CLONE_NEWTIME"},
  };
  bool missing = false;
  for (const Named& entry : kMissing) {
    if ((flags & entry.flag) != 0) {
      record_gap(task, entry.name);
      missing = true;
    }
  }
  return missing;
}

}  // namespace

// unshare(flags): CLONE_NEWNS implies CLONE_FS, and CLONE_VM, CLONE_SIGHAND
// and CLONE_THREAD need a single-threaded process (EINVAL otherwise), in
// Linux's order. CLONE_NEWNS needs CAP_SYS_ADMIN (EPERM). CLONE_SYSVSEM
// has no semaphore undo list to drop, because ward has no System V
// semaphores. The other namespaces are EINVAL and recorded as gaps.
Result<int64_t> sys_unshare(kernel::Task& task, const SyscallArgs& args) {
  uint64_t flags = args.u64(0);

  if ((flags & ~kUnshareFlags) != 0) {
    return Errno{EINVAL};
  }
  if ((flags & CLONE_NEWUSER) != 0) {
    flags |= CLONE_THREAD | CLONE_FS;
  }
  if ((flags & CLONE_VM) != 0) {
    flags |= CLONE_SIGHAND;
  }
  if ((flags & CLONE_SIGHAND) != 0) {
    flags |= CLONE_THREAD;
  }
  if ((flags & CLONE_NEWNS) != 0) {
    flags |= CLONE_FS;
  }
  // NOTE: Linux also refuses CLONE_VM and CLONE_SIGHAND when another
  // process shares the memory or the handlers (after clone without
  // CLONE_THREAD). ward checks the thread group only.
  if ((flags & CLONE_THREAD) != 0 && task.thread_group().tasks().size() > 1) {
    return Errno{EINVAL};
  }
  if (record_missing_namespaces(task, flags)) {
    return Errno{EINVAL};
  }
  if ((flags & CLONE_NEWNS) != 0 && !task.creds().has_capability(CAP_SYS_ADMIN)) {
    return Errno{EPERM};
  }
  const std::shared_ptr<vfs::MountNamespace> mounts = vfs::mount_namespace_of(task);
  if ((flags & CLONE_NEWNS) != 0 && mounts == nullptr) {
    return Errno{EINVAL};  // a task outside any namespace has no tree to copy
  }

  if ((flags & CLONE_FS) != 0 && task.fs_ref().use_count() > 1) {
    task.set_fs(task.fs().clone());
  }
  if ((flags & CLONE_FILES) != 0 && task.fdtable_ref().use_count() > 1) {
    task.set_fdtable(task.fdtable().clone());
  }
  if ((flags & CLONE_NEWNS) != 0) {
    task.fs().enter_copy_of(*mounts);
  }
  return 0;
}

}  // namespace ward::syscalls
