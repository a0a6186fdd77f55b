#include "sentry/kernel/clone.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>

#include "sentry/fs/pidfd.h"
#include "sentry/kernel/ipc/sem.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_attributes.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/task_paths.h"

namespace ward::kernel {
namespace {

// Linux's clone3-only flags, which glibc's <sched.h> may lack.
constexpr uint64_t kCloneClearSighand = 0x100000000ULL;
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
constexpr uint64_t kCloneNewTime = 0x00000080;

constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | kCloneNewTime;

// Checks the flags as copy_process does, in its order.
Result<void> check_flags(Task& parent, uint64_t flags) {
  if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS) ||
      (flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS)) {
    return Errno{EINVAL};
  }
  if ((flags & CLONE_THREAD) != 0 && (flags & CLONE_SIGHAND) == 0) {
    return Errno{EINVAL};
  }
  if ((flags & CLONE_SIGHAND) != 0 && (flags & CLONE_VM) == 0) {
    return Errno{EINVAL};
  }
  // The init of a pid namespace has no parent inside it to give a child to.
  if ((flags & CLONE_PARENT) != 0 && parent.kernel().is_init(parent.thread_group())) {
    return Errno{EINVAL};
  }
  if ((flags & CLONE_THREAD) != 0 && (flags & (CLONE_NEWUSER | CLONE_NEWPID)) != 0) {
    return Errno{EINVAL};
  }
  if ((flags & CLONE_PIDFD) != 0 && (flags & CLONE_DETACHED) != 0) {
    return Errno{EINVAL};
  }
  return ok();
}

// Checks that the CLONE_PIDFD descriptor can be given: a free slot in the
// parent's table and a writable int at `request.pidfd` (Linux fails the
// clone with EMFILE or EFAULT). Done before anything of the child exists,
// and with no fiber switch until the descriptor is installed, so that
// nothing can change in between.
Result<void> check_pidfd_destination(Task& parent, const CloneRequest& request) {
  TRY(parent.fdtable().check_free_slot());
  TRY(parent.copy_out<int32_t>(request.pidfd, -1));
  return ok();
}

// Gives the parent a pidfd for the new process (CLONE_PIDFD).
void install_pidfd(Task& parent, ThreadGroup& child, const CloneRequest& request) {
  vfs::FileRef pidfd = vfs::make_pidfd(child.handle(), parent.creds(), 0);
  auto fd = parent.fdtable().install(std::move(pidfd), /*close_on_exec=*/true);
  // check_pidfd_destination made sure the slot and the address are there.
  (void)parent.copy_out<int32_t>(request.pidfd, fd.ok() ? *fd : -1);
}

std::shared_ptr<SignalHandlers> handlers_for_child(Task& parent, uint64_t flags) {
  const auto& shared = parent.thread_group().signal_handlers_ref();
  if ((flags & CLONE_SIGHAND) != 0) {
    return shared;
  }
  auto copy = std::make_shared<SignalHandlers>(*shared);
  if ((flags & kCloneClearSighand) != 0) {
    // Handlers go back to the default; ignored signals stay ignored.
    for (KernelSigaction& action : *copy) {
      if (action.handler != kSigIgnore) {
        action = KernelSigaction{};
      }
    }
  }
  return copy;
}

ThreadGroup& group_for_child(Task& parent, const CloneRequest& request) {
  if ((request.flags & CLONE_THREAD) != 0) {
    return parent.thread_group();
  }
  Kernel& kernel = parent.kernel();
  ThreadGroup& parent_group = parent.thread_group();
  ThreadGroup& group = kernel.create_thread_group(handlers_for_child(parent, request.flags));
  group.set_limits(parent_group.limits());
  group.set_exe_path(parent_group.exe_path());
  group.set_oom_score_adj(parent_group.oom_score_adj(), parent_group.oom_score_adj_min());
  group.set_pgid(parent_group.pgid());
  group.set_sid(parent_group.sid());
  group.set_exit_signal(request.exit_signal);

  // CLONE_PARENT: the child is a sibling of the caller.
  ThreadGroup* tree_parent =
      (request.flags & CLONE_PARENT) != 0 ? parent_group.parent() : &parent_group;
  group.set_parent(tree_parent);
  if (tree_parent != nullptr) {
    tree_parent->add_child(group);
  }
  return group;
}

// The registers the child starts with: the parent's at the syscall, with
// clone returning 0, on the requested stack, with the requested TLS.
platform::Registers child_registers(Task& parent, const CloneRequest& request) {
  platform::Registers regs = parent.regs();
  regs.rax = 0;
  regs.orig_rax = static_cast<uint64_t>(-1);
  if (!request.stack.is_null()) {
    regs.rsp = request.stack.value();
  }
  if ((request.flags & CLONE_SETTLS) != 0) {
    regs.fs_base = request.tls;
  }
  return regs;
}

// Parks the parent of a vfork until the child releases it. Only an exit
// request ends the wait early: Linux's vfork sleep is killable, not
// interruptible.
void wait_for_vfork_child(Task& parent, Task::VforkCompletion& completion) {
  while (!completion.done && !parent.exit_requested()) {
    Waiter waiter(parent.scheduler());
    waiter.watch(completion.queue);
    parent.block_killable(waiter);
  }
}

// RLIMIT_NPROC, as copy_process applies it: EAGAIN once the tasks (threads
// included) of the caller's real uid reach the limit, except for uid 0 and
// a caller with CAP_SYS_RESOURCE or CAP_SYS_ADMIN.
// NOTE: a zombie no longer counts, while Linux counts it until it is reaped.
Result<void> check_process_limit(Task& parent) {
  const Credentials& creds = parent.creds();
  if (creds.real_uid == 0 || creds.has_capability(CAP_SYS_RESOURCE) ||
      creds.has_capability(CAP_SYS_ADMIN)) {
    return ok();
  }
  rlim_t limit = parent.thread_group().limit(RLIMIT_NPROC).rlim_cur;
  if (limit == RLIM_INFINITY) {
    return ok();
  }
  rlim_t count = 0;
  for (ThreadGroup* group : parent.kernel().thread_groups()) {
    for (const Task* task : group->tasks()) {
      if (task->creds().real_uid == creds.real_uid) {
        ++count;
      }
    }
  }
  return count >= limit ? Result<void>(Errno{EAGAIN}) : ok();
}

}  // namespace

Result<pid_t> clone_task(Task& parent, const CloneRequest& request) {
  uint64_t flags = request.flags;
  TRY(check_flags(parent, flags));
  // CLONE_NEWNS is the one namespace ward makes: a copy of the mount tree.
  if ((flags & kNamespaceFlags & ~static_cast<uint64_t>(CLONE_NEWNS)) != 0 ||
      (flags & kCloneIntoCgroup) != 0) {
    return Errno{EINVAL};  // the caller records which flag as a gap
  }
  if ((flags & CLONE_PIDFD) != 0 && (flags & CLONE_THREAD) != 0) {
    // NOTE: Linux 6.9 gives a pidfd for the new thread (PIDFD_THREAD);
    // ward's pidfds name processes only.
    return Errno{EINVAL};
  }
  if (parent.thread_group().exiting()) {
    return Errno{EINTR};  // Linux refuses new threads in a dying group
  }
  TRY(check_process_limit(parent));
  // The TLS base must be a user address, as for arch_prctl(ARCH_SET_FS).
  if ((flags & CLONE_SETTLS) != 0 && request.tls >= kTaskSize) {
    return Errno{EPERM};
  }

  std::shared_ptr<mm::MemoryManager> mm =
      (flags & CLONE_VM) != 0 ? parent.mm_ref() : TRY(parent.mm().fork());
  std::shared_ptr<vfs::FdTable> fdtable =
      (flags & CLONE_FILES) != 0 ? parent.fdtable_ref() : parent.fdtable().clone();
  std::shared_ptr<vfs::FsContext> fs =
      (flags & CLONE_FS) != 0 ? parent.fs_ref() : parent.fs().clone();
  if ((flags & CLONE_NEWNS) != 0) {
    // check_flags rejected CLONE_FS with it, so `fs` is the child's own.
    if (!parent.creds().has_capability(CAP_SYS_ADMIN)) {
      return Errno{EPERM};
    }
    const std::shared_ptr<vfs::MountNamespace> mounts = vfs::mount_namespace_of(parent);
    if (mounts == nullptr) {
      return Errno{EINVAL};
    }
    fs->enter_copy_of(*mounts);
  }

  platform::Registers regs = child_registers(parent, request);
  std::vector<std::byte> xsave = TRY(parent.context().read_fp_state());
  auto context = TRY(mm->address_space().new_context(regs, xsave));

  if ((flags & CLONE_PIDFD) != 0) {
    TRY(check_pidfd_destination(parent, request));
  }

  Kernel& kernel = parent.kernel();
  ThreadGroup& group = group_for_child(parent, request);
  Task& child = kernel.create_task(group, parent.creds(), mm, std::move(fdtable), std::move(fs));
  child.set_context(std::move(context));
  inherit_task_attributes(child, parent, flags);
  child.set_comm(parent.comm());
  child.set_signal_mask(parent.signal_mask());
  // Linux's copy_seccomp: the child runs under the parent's filters.
  child.seccomp() = parent.seccomp();
  // CLONE_SYSVSEM shares the SEM_UNDO adjustments, made now if the parent
  // has none yet, as Linux's copy_semundo does; without it the child starts
  // with none.
  if ((flags & CLONE_SYSVSEM) != 0) {
    if (parent.sem_undo() == nullptr) {
      parent.sem_undo() = std::make_shared<ipc::SemUndoList>();
    }
    child.sem_undo() = parent.sem_undo();
  }
  if (parent.no_new_privs()) {
    child.set_no_new_privs();
  }
  // A child that shares the parent's memory but runs on its own stack
  // must not inherit an alternate stack in that memory.
  bool shares_stack_memory = (flags & CLONE_VM) != 0 && (flags & CLONE_VFORK) == 0;
  if (!shares_stack_memory) {
    child.signal_stack() = parent.signal_stack();
  }

  if ((flags & CLONE_PIDFD) != 0) {
    install_pidfd(parent, group, request);
  }

  pid_t tid = child.tid();
  if ((flags & CLONE_PARENT_SETTID) != 0) {
    // Linux ignores a failure of this write: the child exists by now.
    (void)parent.copy_out<uint32_t>(request.parent_tid, static_cast<uint32_t>(tid));
  }
  if ((flags & CLONE_CHILD_SETTID) != 0) {
    (void)child.copy_out<uint32_t>(request.child_tid, static_cast<uint32_t>(tid));
  }
  if ((flags & CLONE_CHILD_CLEARTID) != 0) {
    child.set_clear_child_tid(request.child_tid);
  }

  auto vfork_done = std::make_shared<Task::VforkCompletion>();
  if ((flags & CLONE_VFORK) != 0) {
    child.set_vfork_done(vfork_done);
  }
  child.start();
  parent.log(spdlog::level::debug, "cloned tid {} (flags {:#x})", tid, flags);

  if ((flags & CLONE_VFORK) != 0) {
    wait_for_vfork_child(parent, *vfork_done);
  }
  return tid;
}

}  // namespace ward::kernel
