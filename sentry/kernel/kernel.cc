#include "sentry/kernel/kernel.h"

#include <signal.h>

#include <spdlog/spdlog.h>

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
  mounts_.reset();
  scheduler_.reset();
}

pid_t Kernel::allocate_id() { return next_id_++; }

ThreadGroup& Kernel::create_thread_group() {
  pid_t tgid = allocate_id();
  auto [it, inserted] = thread_groups_.emplace(tgid, std::make_unique<ThreadGroup>(*this, tgid));
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

Result<void> Kernel::start_init(InitProcess init) {
  if (init_ != nullptr) {
    return Errno{EBUSY};
  }
  ThreadGroup& group = create_thread_group();
  group.set_limits(init.limits);
  init_ = &group;
  Task& task = create_task(group, std::move(init.creds), nullptr, std::move(init.fdtable),
                           std::move(init.fs));
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

void Kernel::reap(Fiber* fiber) {
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

  // Like a pid namespace whose init has died, the sandbox ends every other
  // process.
  for (auto& [pid, group] : thread_groups_) {
    if (!group->finished()) {
      group->begin_exit(signal_wait_status(SIGKILL));
    }
  }
  scheduler_->run([this] { return tasks_.empty(); });
  return init_->exit_status().value_or(signal_wait_status(SIGKILL));
}

}  // namespace ward::kernel
