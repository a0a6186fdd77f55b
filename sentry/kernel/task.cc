#include "sentry/kernel/task.h"

#include <linux/futex.h>
#include <signal.h>

#include "sentry/kernel/cpu_usage.h"
#include "sentry/kernel/ipc/sem.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"

namespace ward::kernel {

// Linux's TASK_COMM_LEN is 16 bytes with the NUL.
constexpr size_t kCommMaxBytes = 15;

Task::Task(Kernel& kernel, ThreadGroup& group, pid_t tid, Credentials creds,
           std::shared_ptr<mm::MemoryManager> mm, std::shared_ptr<vfs::FdTable> fdtable,
           std::shared_ptr<vfs::FsContext> fs)
    : kernel_(kernel),
      group_(&group),
      tid_(tid),
      creds_(std::move(creds)),
      mm_(std::move(mm)),
      fdtable_(std::move(fdtable)),
      fs_(std::move(fs)) {}

Task::~Task() {
  // The thread goes before its address space, whose end kills the stub.
  context_.reset();
  mm_.reset();
}

pid_t Task::pid() const { return group_->tgid(); }

Scheduler& Task::scheduler() { return kernel_.scheduler(); }

Result<void> Task::copy_in(GuestAddr addr, std::span<std::byte> buffer) {
  return mm_->copy_in(addr, buffer);
}

Result<void> Task::copy_out(GuestAddr addr, std::span<const std::byte> buffer) {
  return mm_->copy_out(addr, buffer);
}

Result<std::string> Task::copy_in_string(GuestAddr addr, size_t max_bytes) {
  return mm_->copy_in_string(addr, max_bytes);
}

Result<std::string> Task::copy_in_path(GuestAddr addr, bool allow_empty) {
  std::string path = TRY(mm_->copy_in_string(addr, kPathMax));
  if (path.empty() && !allow_empty) {
    return Errno{ENOENT};
  }
  return path;
}

void Task::set_comm(std::string_view name) { comm_ = std::string(name.substr(0, kCommMaxBytes)); }

void Task::set_signal_mask(SignalSet mask) {
  signal_mask_ = mask & ~kUnblockableSignals;
  // Unblocking a pending signal makes it deliverable now.
  if (has_deliverable_signal()) {
    interrupt();
  }
}

bool Task::has_deliverable_signal() const {
  SignalSet pending = pending_.set() | group_->shared_pending().set();
  return (pending & ~signal_mask_) != 0;
}

WakeReason Task::block(Waiter& waiter) {
  if (exit_requested_ || has_deliverable_signal()) {
    return WakeReason::kInterrupted;
  }
  blocked_on_ = &waiter;
  WakeReason reason = waiter.wait();
  blocked_on_ = nullptr;
  return reason;
}

WakeReason Task::block_killable(Waiter& waiter) {
  if (exit_requested_) {
    return WakeReason::kInterrupted;
  }
  blocked_on_ = &waiter;
  WakeReason reason = waiter.wait();
  blocked_on_ = nullptr;
  return reason;
}

void Task::replace_image(std::shared_ptr<mm::MemoryManager> mm,
                         std::unique_ptr<platform::Context> context) {
  if (context_) {
    context_->set_listener(nullptr);
  }
  context_ = std::move(context);
  context_->set_listener(this);
  mm_ = std::move(mm);
}

void Task::set_context(std::unique_ptr<platform::Context> context) {
  context_ = std::move(context);
  context_->set_listener(this);
}

Result<void> Task::prepare_for_exec() {
  ThreadGroup& group = *group_;
  if (group.exiting() || exit_requested_) {
    return Errno{EAGAIN};
  }
  for (Task* other : group.tasks()) {
    if (other != this) {
      other->request_exit();
    }
  }
  while (group.tasks().size() > 1) {
    Waiter waiter(scheduler());
    waiter.watch(group.task_exits());
    block_killable(waiter);
    if (exit_requested_) {
      return Errno{EAGAIN};
    }
  }
  if (tid_ != group.tgid()) {
    kernel_.change_tid(*this, group.tgid());
  }

  // Handlers point into the old image; ignored signals stay ignored. A
  // table shared with another process (CLONE_SIGHAND) is copied first.
  auto handlers = std::make_shared<SignalHandlers>(group.signal_handlers());
  for (KernelSigaction& action : *handlers) {
    if (action.handler != kSigIgnore) {
      action = KernelSigaction{};
    }
  }
  group.set_signal_handlers(std::move(handlers));
  // The alternate stack lies in the old image. Linux drops its address and
  // size but keeps the stored flags, which a handler's frame shows.
  signal_stack_.sp = 0;
  signal_stack_.size = 0;

  // An fd table shared with another process (CLONE_FILES) is copied, so
  // that close-on-exec closes only this process's descriptors.
  if (fdtable_.use_count() > 1) {
    fdtable_ = fdtable_->clone();
  }
  group.set_has_execed();
  // The old image's robust locks die with it, as in Linux's exec_mm_release.
  release_futexes(*this);
  return ok();
}

void Task::interrupt() {
  if (blocked_on_ != nullptr) {
    blocked_on_->interrupt();
  } else if (running_guest_) {
    context_->interrupt();
  }
}

void Task::request_exit() {
  exit_requested_ = true;
  interrupt();
}

void Task::exit_thread(int code) {
  exit_wait_status_ = exit_wait_status(code);
  exit_requested_ = true;
}

void Task::exit_thread_by_signal(int signal) {
  exit_wait_status_ = signal;
  exit_requested_ = true;
}

void Task::force_signal(const siginfo_t& info) {
  int signal = info.si_signo;
  KernelSigaction& action = group_->signal_handlers()[signal - 1];
  bool blocked = (signal_mask_ & signal_bit(signal)) != 0;
  if (blocked || action.handler == kSigIgnore) {
    action.handler = kSigDefault;
    signal_mask_ &= ~signal_bit(signal);
  }
  pending_.add(info, SIZE_MAX);
}

void Task::release_vfork_parent() {
  if (vfork_done_) {
    vfork_done_->done = true;
    vfork_done_->queue.notify();
    vfork_done_.reset();
  }
}

void Task::start(Startup startup) {
  startup_ = std::move(startup);
  fiber_ = std::make_unique<Fiber>([this] { run(); });
  scheduler().make_ready(fiber_.get());
}

void Task::on_stop(const platform::StopInfo& stop) {
  pending_stop_ = stop;
  stop_queue_.notify();
}

void Task::wait_for_stop() {
  while (!pending_stop_) {
    Waiter waiter(scheduler());
    waiter.watch(stop_queue_);
    waiter.wait();
  }
}

void Task::handle_stop(const platform::StopInfo& stop) {
  switch (stop.kind) {
    case platform::StopKind::kSyscall:
      kernel_.dispatch_syscall(*this);
      return;

    case platform::StopKind::kSignal:
      log(spdlog::level::debug, "fault: signal {} (si_code {}, address {:#x}) at rip {:#x}",
          stop.siginfo.si_signo, stop.siginfo.si_code,
          reinterpret_cast<uint64_t>(stop.siginfo.si_addr), regs().rip);
      force_signal(stop.siginfo);
      return;

    case platform::StopKind::kInterrupted:
      return;

    case platform::StopKind::kExited:
      // The host thread died under the sentry, which only an outside
      // SIGKILL of the stub does.
      log(spdlog::level::err, "host thread {} died (status {:#x})", context_->host_tid(),
          stop.host_status);
      context_.reset();
      group_->begin_exit(signal_wait_status(SIGKILL));
      return;
  }
}

void Task::run() {
  if (startup_) {
    Result<void> started = startup_(*this);
    startup_ = nullptr;
    if (!started.ok()) {
      log(spdlog::level::info, "could not start: {}", errno_name(started.error().value));
      exit_thread(127);
    }
  }

  while (!exit_requested_ && context_ != nullptr) {
    deliver_signals();
    if (exit_requested_) {
      break;
    }

    running_guest_ = true;
    Result<void> resumed = context_->resume();
    if (!resumed.ok()) {
      running_guest_ = false;
      log(spdlog::level::err, "cannot resume host thread {}", context_->host_tid());
      group_->begin_exit(signal_wait_status(SIGKILL));
      break;
    }
    wait_for_stop();
    running_guest_ = false;

    platform::StopInfo stop = *pending_stop_;
    pending_stop_.reset();
    handle_stop(stop);
  }

  exit_cleanup();
}

void Task::exit_cleanup() {
  release_futexes(*this);
  // CLONE_CHILD_CLEARTID: zero the tid word and wake one futex waiter,
  // which is how pthread_join learns that the thread is gone. Linux does it
  // only while other tasks may still look at the memory.
  if (!clear_child_tid_.is_null() && mm_ && mm_.use_count() > 1) {
    uint32_t zero = 0;
    if (copy_out(clear_child_tid_, zero).ok()) {
      wake_cleared_tid(*this, clear_child_tid_);
    }
  }
  release_vfork_parent();
  // Linux's exit_sem: the last task sharing the SEM_UNDO adjustments
  // applies them before the parent can see the exit.
  ipc::exit_semaphores(*this);

  // The process keeps what the thread used, read while its host thread
  // still exists.
  account_task_exit(*this);

  send_parent_death_signals(*this);
  ThreadGroup& group = *group_;
  group.remove_task(*this, exit_wait_status_);
  if (group.finished()) {
    kernel_.process_exited(group);
  }
}

}  // namespace ward::kernel
