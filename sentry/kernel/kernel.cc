#include "sentry/kernel/kernel.h"

#include <signal.h>
#include <sys/wait.h>

#include <spdlog/spdlog.h>

#include "sentry/kernel/process_handle.h"
#include "sentry/kernel/signal_send.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/mount.h"

namespace ward::kernel {

Result<std::unique_ptr<Kernel>> Kernel::create(std::unique_ptr<platform::Platform> platform,
                                               KernelOptions options) {
  std::unique_ptr<Kernel> kernel(new Kernel(std::move(platform), std::move(options)));
  kernel->scheduler_ = TRY(Scheduler::create(*kernel->platform_));
  kernel->scheduler_->set_finished_callback([raw = kernel.get()](Fiber* fiber) { raw->reap(fiber); });
  return kernel;
}

Kernel::Kernel(std::unique_ptr<platform::Platform> platform, KernelOptions options)
    : platform_(std::move(platform)), options_(std::move(options)), boot_time_(monotonic_now()) {}

Kernel::~Kernel() {
  // Tasks hold contexts and address spaces of the platform, so they go
  // first; suspended fibers unwind as their tasks are destroyed.
  tasks_.clear();
  thread_groups_.clear();
  retired_groups_.clear();
  mounts_.reset();
  scheduler_.reset();
}

pid_t Kernel::allocate_id() {
  // Ids are not reused while a task or process still has them.
  while (tasks_.count(next_id_) != 0 || thread_groups_.count(next_id_) != 0) {
    ++next_id_;
  }
  return next_id_++;
}

ThreadGroup& Kernel::create_thread_group(std::shared_ptr<SignalHandlers> handlers) {
  pid_t tgid = allocate_id();
  auto [it, inserted] = thread_groups_.emplace(
      tgid, std::make_unique<ThreadGroup>(*this, tgid, std::move(handlers)));
  return *it->second;
}

Task& Kernel::create_task(ThreadGroup& group, Credentials creds,
                          std::shared_ptr<mm::MemoryManager> mm,
                          std::shared_ptr<vfs::FdTable> fdtable, std::shared_ptr<vfs::FsContext> fs) {
  // A process's first task has the process's id; later threads get new ids.
  pid_t tid = group.tasks().empty() && !find_task(group.tgid()) ? group.tgid() : allocate_id();
  auto task = std::make_unique<Task>(*this, group, tid, std::move(creds), std::move(mm),
                                     std::move(fdtable), std::move(fs));
  Task& ref = *task;
  tasks_.emplace(tid, std::move(task));
  group.add_task(ref);
  return ref;
}

void Kernel::change_tid(Task& task, pid_t new_tid) {
  auto it = tasks_.find(task.tid());
  if (it == tasks_.end() || it->second.get() != &task) {
    return;
  }
  std::unique_ptr<Task> owned = std::move(it->second);
  tasks_.erase(it);
  task.set_tid(new_tid);
  tasks_.emplace(new_tid, std::move(owned));
}

Result<void> Kernel::start_init(InitProcess init) {
  if (init_ != nullptr) {
    return Errno{EBUSY};
  }
  ThreadGroup& group = create_thread_group(std::make_shared<SignalHandlers>());
  group.set_limits(init.limits);
  init_ = &group;
  Task& task = create_task(group, std::move(init.creds), nullptr, std::move(init.fdtable),
                           std::move(init.fs));
  // Linux's first task has no alternate stack and stored flags 0, which
  // forks inherit; only a new thread starts with SS_DISABLE stored.
  task.signal_stack().flags = 0;
  task.start(std::move(init.startup));
  return ok();
}

Task* Kernel::find_task(pid_t tid) {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? nullptr : it->second.get();
}

ThreadGroup* Kernel::find_thread_group(pid_t pid) {
  auto it = thread_groups_.find(pid);
  return it == thread_groups_.end() ? nullptr : it->second.get();
}

std::vector<ThreadGroup*> Kernel::thread_groups() {
  std::vector<ThreadGroup*> groups;
  for (auto& [pid, group] : thread_groups_) {
    groups.push_back(group.get());
  }
  return groups;
}

ThreadGroup* Kernel::find_reaper(ThreadGroup& exiting) {
  if (&exiting == init_) {
    return nullptr;
  }
  // The nearest living ancestor that is a child subreaper, else init.
  for (ThreadGroup* ancestor = exiting.parent(); ancestor != nullptr;
       ancestor = ancestor->parent()) {
    if (ancestor->child_subreaper() && !ancestor->exiting()) {
      return ancestor;
    }
  }
  return init_;
}

void Kernel::process_exited(ThreadGroup& group) {
  ThreadGroup* reaper = find_reaper(group);
  std::vector<ThreadGroup*> orphans = group.children();
  for (ThreadGroup* child : orphans) {
    group.remove_child(*child);
    child->set_parent(reaper);
    if (reaper == nullptr) {
      continue;  // the sandbox ends with its init; Kernel::run kills them
    }
    reaper->add_child(*child);
    if (child->finished()) {
      notify_parent_of_exit(*child);
    }
  }
  if (ProcessHandle* handle = group.existing_handle()) {
    handle->mark_exited();
  }
  notify_parent_of_exit(group);
}

void Kernel::notify_parent_of_exit(ThreadGroup& child) {
  ThreadGroup* parent = child.parent();
  if (parent == nullptr) {
    return;
  }
  int signal = child.exit_signal();
  bool reap_now = false;
  if (signal == SIGCHLD) {
    // A parent that ignores SIGCHLD, or asked for SA_NOCLDWAIT, never sees
    // zombies: the child is reaped as it dies.
    const KernelSigaction& action = parent->signal_handlers()[SIGCHLD - 1];
    if (action.handler == kSigIgnore) {
      reap_now = true;
      signal = 0;
    } else if ((action.flags & SA_NOCLDWAIT) != 0) {
      reap_now = true;
    }
  }

  if (signal != 0 && is_valid_signal(signal)) {
    int status = child.exit_status().value_or(0);
    siginfo_t info{};
    info.si_signo = signal;
    info.si_pid = child.tgid();
    if (WIFEXITED(status)) {
      info.si_code = CLD_EXITED;
      info.si_status = WEXITSTATUS(status);
    } else {
      info.si_code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
      info.si_status = WTERMSIG(status);
    }
    send_signal_to_group(*parent, info);
  }
  parent->child_events().notify();
  if (reap_now) {
    release_thread_group(child);
  }
}

void Kernel::release_thread_group(ThreadGroup& group) {
  if (ProcessHandle* handle = group.existing_handle()) {
    handle->mark_reaped();
  }
  if (ThreadGroup* parent = group.parent()) {
    parent->remove_child(group);
  }
  auto it = thread_groups_.find(group.tgid());
  if (it != thread_groups_.end() && it->second.get() == &group) {
    retired_groups_.push_back(std::move(it->second));
    thread_groups_.erase(it);
  }
}

Task* Kernel::current_task() {
  Fiber* running = scheduler_->current();
  if (running == nullptr) {
    return nullptr;
  }
  for (auto& [tid, task] : tasks_) {
    if (task->fiber() == running) {
      return task.get();
    }
  }
  return nullptr;
}

void Kernel::reap(Fiber* fiber) {
  // No fiber runs here, so no code still holds a released group.
  retired_groups_.clear();
  for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
    if (it->second->fiber() == fiber) {
      tasks_.erase(it);
      return;
    }
  }
}

int Kernel::run() {
  if (init_ == nullptr) {
    return signal_wait_status(SIGKILL);
  }
  scheduler_->run([this] { return init_->finished(); });
  int status = init_->exit_status().value_or(signal_wait_status(SIGKILL));

  // Like a pid namespace whose init has died, the sandbox ends every other
  // process.
  for (auto& [pid, group] : thread_groups_) {
    if (!group->finished()) {
      group->begin_exit(signal_wait_status(SIGKILL));
    }
  }
  scheduler_->run([this] { return tasks_.empty(); });
  return status;
}

}  // namespace ward::kernel
