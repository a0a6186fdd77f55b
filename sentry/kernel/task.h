// Task: one guest thread. Its syscall handling runs on its own fiber: the
// fiber delivers pending signals, resumes the guest, parks until the
// platform reports a stop, handles it (a syscall, a fault, an interrupt)
// and loops until the thread exits.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "sentry/kernel/credentials.h"
#include "sentry/kernel/fiber.h"
#include "sentry/kernel/seccomp.h"
#include "sentry/kernel/signals.h"
#include "sentry/kernel/task_attributes.h"
#include "sentry/kernel/wait_queue.h"
#include "ward/guest_addr.h"
#include "ward/platform.h"
#include "ward/result.h"

namespace ward::mm {
class MemoryManager;
}

namespace ward::vfs {
class FdTable;
class FsContext;
}  // namespace ward::vfs

namespace ward::kernel::ipc {
class SemUndoList;
}

namespace ward::kernel {

class Kernel;
class Scheduler;
class ThreadGroup;

template <typename T>
inline constexpr bool is_span_v = false;
template <typename Element, size_t Extent>
inline constexpr bool is_span_v<std::span<Element, Extent>> = true;

// Linux's PATH_MAX: the longest path a syscall accepts, NUL included.
inline constexpr size_t kPathMax = 4096;

class Task final : public platform::StopListener {
 public:
  // The work a new task does on its fiber before it first runs guest code;
  // the first process uses it to exec its program. An error ends the task.
  using Startup = std::function<Result<void>(Task&)>;

  // What restart_syscall(2) runs after a call that returned
  // ERESTART_RESTARTBLOCK was interrupted by a signal without a handler.
  using RestartFunction = std::function<Result<int64_t>(Task&)>;

  Task(Kernel& kernel, ThreadGroup& group, pid_t tid, Credentials creds,
       std::shared_ptr<mm::MemoryManager> mm, std::shared_ptr<vfs::FdTable> fdtable,
       std::shared_ptr<vfs::FsContext> fs);
  ~Task() override;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // Identity, in the sandbox's pid namespace.
  pid_t tid() const { return tid_; }
  pid_t pid() const;
  Kernel& kernel() { return kernel_; }
  ThreadGroup& thread_group() { return *group_; }
  const ThreadGroup& thread_group() const { return *group_; }
  Scheduler& scheduler();

  // Resources, some of them shared with other tasks (CLONE_VM, CLONE_FILES,
  // CLONE_FS).
  mm::MemoryManager& mm() { return *mm_; }
  const std::shared_ptr<mm::MemoryManager>& mm_ref() const { return mm_; }
  vfs::FdTable& fdtable() { return *fdtable_; }
  const std::shared_ptr<vfs::FdTable>& fdtable_ref() const { return fdtable_; }
  void set_fdtable(std::shared_ptr<vfs::FdTable> fdtable) { fdtable_ = std::move(fdtable); }
  vfs::FsContext& fs() { return *fs_; }
  const std::shared_ptr<vfs::FsContext>& fs_ref() const { return fs_; }
  void set_fs(std::shared_ptr<vfs::FsContext> fs) { fs_ = std::move(fs); }
  Credentials& creds() { return creds_; }
  const Credentials& creds() const { return creds_; }

  // Scheduling attributes, CPU affinity, I/O priority and the prctl and
  // personality state (task_attributes.h).
  TaskAttributes& attributes() { return attributes_; }
  const TaskAttributes& attributes() const { return attributes_; }

  // The guest registers; valid while the task is inside a syscall or stop.
  platform::Registers& regs() { return context_->regs(); }
  platform::Context& context() { return *context_; }
  bool has_context() const { return context_ != nullptr; }

  // Guest memory, through the memory manager. copy_in and copy_out fail
  // with EFAULT unless every byte could be copied.
  Result<void> copy_in(GuestAddr addr, std::span<std::byte> buffer);
  Result<void> copy_out(GuestAddr addr, std::span<const std::byte> buffer);

  // Copies one object. A span is never an object to copy: passing one
  // means its bytes, which the overloads above take.
  template <typename T>
    requires(!is_span_v<T>)
  Result<T> copy_in(GuestAddr addr) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    TRY(copy_in(addr, std::as_writable_bytes(std::span(&value, 1))));
    return value;
  }

  template <typename T>
    requires(!is_span_v<T>)
  Result<void> copy_out(GuestAddr addr, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return copy_out(addr, std::as_bytes(std::span(&value, 1)));
  }

  // Reads a NUL-terminated string of at most max_bytes bytes, NUL included.
  // EFAULT for a bad address, ENAMETOOLONG when no NUL comes in time.
  Result<std::string> copy_in_string(GuestAddr addr, size_t max_bytes);

  // A path argument: copy_in_string with PATH_MAX; ENOENT for "" unless the
  // caller allows an empty path (AT_EMPTY_PATH).
  Result<std::string> copy_in_path(GuestAddr addr, bool allow_empty = false);

  // Parks the task on `waiter`. A signal the task does not block, or an
  // exit request, wakes it with kInterrupted.
  WakeReason block(Waiter& waiter);

  // Parks like block(), but a signal only wakes it early without ending
  // the wait's reason to exist: callers loop until their condition holds or
  // exit_requested(). Linux calls such sleeps killable.
  WakeReason block_killable(Waiter& waiter);

  // Replaces the address space and guest thread, as a successful execve
  // does. The old ones are released.
  void replace_image(std::shared_ptr<mm::MemoryManager> mm,
                     std::unique_ptr<platform::Context> context);

  // Gives the task a guest thread to run, for a task made by clone.
  void set_context(std::unique_ptr<platform::Context> context);

  // Prepares the process for execve's new image, as Linux's de_thread and
  // flush_signal_handlers do: ends every other thread and waits for them,
  // takes the leader's tid, resets caught signals to the default and drops
  // the alternate stack. EAGAIN when the process is already exiting.
  Result<void> prepare_for_exec();

  // Asks the task to exit: a blocked task wakes, a running one is stopped.
  // The task exits at its next chance.
  void request_exit();
  bool exit_requested() const { return exit_requested_; }

  // Ends the task with exit(2)'s code; the thread group takes it as its
  // status if this is the last task.
  void exit_thread(int code);

  // Makes the task notice a new signal or state change soon: a blocked
  // task wakes with kInterrupted, one running guest code is stopped.
  void interrupt();

  // Schedules the task's fiber for the first time.
  void start(Startup startup = nullptr);

  bool finished() const { return fiber_ && fiber_->finished(); }
  Fiber* fiber() { return fiber_.get(); }

  // The name of the syscall being handled, for logs; empty between calls.
  std::string_view syscall_name() const { return syscall_name_; }
  void set_syscall_name(std::string_view name) { syscall_name_ = name; }

  // The command name (comm), at most 15 bytes, as /proc/pid/comm shows it.
  const std::string& comm() const { return comm_; }
  void set_comm(std::string_view name);

  // Signals: the blocked set (rt_sigprocmask), signals sent to this thread
  // alone, and the alternate signal stack.
  SignalSet signal_mask() const { return signal_mask_; }
  void set_signal_mask(SignalSet mask);
  PendingSignals& pending() { return pending_; }
  GuestSignalStack& signal_stack() { return signal_stack_; }

  // A mask to restore once the signal that ends the current wait has been
  // delivered: rt_sigsuspend and ppoll run with a temporary mask.
  void set_saved_mask(SignalSet mask) { saved_mask_ = mask; }

  // Whether a signal the task does not block is pending for it or for its
  // process.
  bool has_deliverable_signal() const;

  // Removes a pending signal in `wanted`, the thread's own before its
  // process's, synchronous ones and then the lowest number first. Returns
  // its number and siginfo, or 0.
  int take_signal(SignalSet wanted, siginfo_t& info);

  // Sets the mask without waking the task, for a syscall that changes it
  // only for its own wait (rt_sigtimedwait).
  void set_signal_mask_quietly(SignalSet mask) { signal_mask_ = mask & ~kUnblockableSignals; }

  // restart_syscall's work for the call interrupted last.
  void set_restart_function(RestartFunction function) { restart_ = std::move(function); }
  RestartFunction take_restart_function() { return std::exchange(restart_, nullptr); }

  // Records that the syscall just handled returned a restart code
  // (ERESTARTSYS...), which signal delivery turns into EINTR or a restart.
  void set_interrupted_syscall(int restart_code) { interrupted_syscall_ = restart_code; }

  // Queues a synchronous fault signal as the CPU would raise it: if the
  // task blocks or ignores it, Linux resets it to the default action first.
  void force_signal(const siginfo_t& info);

  // set_tid_address and CLONE_CHILD_CLEARTID: where the tid is cleared at
  // exit. set_robust_list: the robust futex list head.
  GuestAddr clear_child_tid() const { return clear_child_tid_; }
  void set_clear_child_tid(GuestAddr addr) { clear_child_tid_ = addr; }
  GuestAddr robust_list() const { return robust_list_; }
  void set_robust_list(GuestAddr head) { robust_list_ = head; }

  // CLONE_VFORK: what the parent sleeps on until this task execs or exits.
  struct VforkCompletion {
    bool done = false;
    WaitQueue queue;
  };
  void set_vfork_done(std::shared_ptr<VforkCompletion> completion) {
    vfork_done_ = std::move(completion);
  }
  void release_vfork_parent();

  // The SEM_UNDO adjustments (sentry/kernel/ipc/sem.h), shared with the
  // tasks of a CLONE_SYSVSEM clone; null until the first SEM_UNDO semop.
  std::shared_ptr<ipc::SemUndoList>& sem_undo() { return sem_undo_; }

  // seccomp mode and filters. clone copies them, execve keeps them.
  SeccompState& seccomp() { return seccomp_; }
  const SeccompState& seccomp() const { return seccomp_; }

  // PR_SET_NO_NEW_PRIVS, which can never be cleared. clone copies it,
  // execve keeps it.
  bool no_new_privs() const { return attributes_.no_new_privs; }
  void set_no_new_privs() { attributes_.no_new_privs = true; }

  // Ends this thread alone as if `signal` had killed it, as Linux's
  // do_exit(signal) does for seccomp: the process goes on unless this was
  // its last thread, whose status then says killed by `signal`.
  void exit_thread_by_signal(int signal);

  // Changes the tid, when a non-leader thread's execve makes it the leader.
  void set_tid(pid_t tid) { tid_ = tid; }

  // Logs a message tagged with the task's pid, tid and current syscall.
  template <typename... Args>
  void log(spdlog::level::level_enum level, fmt::format_string<Args...> format, Args&&... args) {
    if (!spdlog::should_log(level)) {
      return;
    }
    spdlog::log(level, "[pid {} tid {}{}{}] {}", pid(), tid_, syscall_name_.empty() ? "" : " ",
                syscall_name_, fmt::format(format, std::forward<Args>(args)...));
  }

  // platform::StopListener
  void on_stop(const platform::StopInfo& stop) override;

 private:
  void run();
  void wait_for_stop();
  void handle_stop(const platform::StopInfo& stop);
  void exit_cleanup();

  // Signal delivery on the way back to guest code (task_signals.cc).
  void deliver_signals();
  void stop_for_group();
  bool run_handler(int signal, const siginfo_t& info, const KernelSigaction& action);
  void finish_interrupted_syscall(const KernelSigaction* handler_action);

  Kernel& kernel_;
  ThreadGroup* group_;
  pid_t tid_;
  Credentials creds_;
  std::shared_ptr<mm::MemoryManager> mm_;
  std::shared_ptr<vfs::FdTable> fdtable_;
  std::shared_ptr<vfs::FsContext> fs_;
  std::unique_ptr<platform::Context> context_;
  std::unique_ptr<Fiber> fiber_;
  Startup startup_;

  std::optional<platform::StopInfo> pending_stop_;
  WaitQueue stop_queue_;
  Waiter* blocked_on_ = nullptr;
  bool running_guest_ = false;
  bool exit_requested_ = false;
  int exit_wait_status_ = 0;

  std::string_view syscall_name_;
  std::string comm_;
  SignalSet signal_mask_ = 0;
  std::optional<SignalSet> saved_mask_;
  PendingSignals pending_;
  GuestSignalStack signal_stack_{};
  RestartFunction restart_;
  std::optional<int> interrupted_syscall_;
  GuestAddr clear_child_tid_;
  GuestAddr robust_list_;
  std::shared_ptr<VforkCompletion> vfork_done_;
  std::shared_ptr<ipc::SemUndoList> sem_undo_;
  SeccompState seccomp_;
  TaskAttributes attributes_ = initial_task_attributes();

};

}  // namespace ward::kernel
