#include "sentry/kernel/task.h"

#include <signal.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/scheduler.h"
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
      group_(group),
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

pid_t Task::pid() const { return group_.tgid(); }

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

WakeReason Task::block(Waiter& waiter) {
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

void Task::request_exit() {
  exit_requested_ = true;
  if (blocked_on_ != nullptr) {
    blocked_on_->interrupt();
  } else if (running_guest_) {
    context_->interrupt();
  }
}

void Task::exit_thread(int code) {
  exit_wait_status_ = exit_wait_status(code);
  exit_requested_ = true;
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

    case platform::StopKind::kSignal: {
      // NOTE: guest signal handlers are not delivered yet; a synchronous
      // fault takes its default action, which for every fault signal ends
      // the process.
      int signal_number = stop.siginfo.si_signo;
      log(spdlog::level::info, "killed by signal {} (si_code {}, address {:#x}) at rip {:#x}",
          signal_number, stop.siginfo.si_code, reinterpret_cast<uint64_t>(stop.siginfo.si_addr),
          regs().rip);
      group_.begin_exit(signal_wait_status(signal_number));
      return;
    }

    case platform::StopKind::kInterrupted:
      return;

    case platform::StopKind::kExited:
      // The host thread died under the sentry, which only an outside
      // SIGKILL of the stub does.
      log(spdlog::level::err, "host thread {} died (status {:#x})", context_->host_tid(),
          stop.host_status);
      group_.begin_exit(signal_wait_status(SIGKILL));
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
    running_guest_ = true;
    Result<void> resumed = context_->resume();
    if (!resumed.ok()) {
      running_guest_ = false;
      log(spdlog::level::err, "cannot resume host thread {}", context_->host_tid());
      group_.begin_exit(signal_wait_status(SIGKILL));
      break;
    }
    wait_for_stop();
    running_guest_ = false;

    platform::StopInfo stop = *pending_stop_;
    pending_stop_.reset();
    handle_stop(stop);
  }

  group_.remove_task(*this, exit_wait_status_);
}

}  // namespace ward::kernel
