// Kernel: one sandbox. It owns the platform, the scheduler, every task and
// process, the mount namespace and the record of compatibility gaps, and
// runs until the sandbox's first process has exited.
#pragma once

#include <signal.h>

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compat/gap_recorder.h"
#include "sentry/kernel/clock.h"
#include "sentry/kernel/credentials.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "ward/platform.h"
#include "ward/result.h"

namespace ward::vfs {
class MountNamespace;
}

namespace ward::net {
class InetStack;
class NetlinkPorts;
class UnixNamespace;
}

namespace ward::kernel::ipc {
class IpcNamespace;
}

namespace ward::kernel {

class MqueueNamespace;

struct KernelOptions {
  bool strace = false;
  // Numbers of the syscalls --strace logs; empty: every syscall.
  std::set<uint32_t> strace_filter;
  std::string hostname = "ward";
  // Whether the first process is protected like a pid namespace's init: it
  // ignores every signal sent from inside the sandbox that it has no
  // handler for, SIGKILL included. A container runtime wants this; `ward
  // do` does not, so that a program that runs abort() or signals itself
  // ends as it would outside the sandbox.
  bool protect_init = false;
};

// Resource limits with every soft and hard limit RLIM_INFINITY.
inline std::array<rlimit, RLIM_NLIMITS> unlimited_limits() {
  std::array<rlimit, RLIM_NLIMITS> limits{};
  limits.fill(rlimit{.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY});
  return limits;
}

// What the first process starts with.
struct InitProcess {
  Credentials creds = {};
  std::shared_ptr<vfs::FdTable> fdtable = nullptr;
  std::shared_ptr<vfs::FsContext> fs = nullptr;
  // Unlimited unless set: all zeros would mean, among others, an
  // RLIMIT_CPU of 0 seconds, which kills the process at once.
  std::array<rlimit, RLIM_NLIMITS> limits = unlimited_limits();
  // Runs on the new task's fiber and must exec the program.
  Task::Startup startup = nullptr;
};

class Kernel {
 public:
  // Handles the syscall a task stopped at; set by the syscall layer.
  using SyscallDispatcher = void (*)(Task& task);

  static Result<std::unique_ptr<Kernel>> create(std::unique_ptr<platform::Platform> platform,
                                                KernelOptions options);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  platform::Platform& platform() { return *platform_; }
  Scheduler& scheduler() { return *scheduler_; }
  compat::GapRecorder& gaps() { return gaps_; }
  FutexTable& futexes() { return futexes_; }
  // The sandbox's POSIX message queues, which sentry/kernel/mqueue makes on
  // first use.
  std::shared_ptr<MqueueNamespace>& mqueue_namespace() { return mqueue_namespace_; }
  const KernelOptions& options() const { return options_; }
  TimePoint boot_time() const { return boot_time_; }

  vfs::MountNamespace& mounts() { return *mounts_; }
  const std::shared_ptr<vfs::MountNamespace>& mounts_ref() const { return mounts_; }
  void set_mounts(std::shared_ptr<vfs::MountNamespace> mounts) { mounts_ = std::move(mounts); }

  // The sandbox's AF_UNIX names, which sentry/net makes on first use.
  std::shared_ptr<net::UnixNamespace>& unix_namespace() { return unix_namespace_; }
  // The sandbox's loopback network stack (its inet port table), which
  // sentry/net makes on first use.
  std::shared_ptr<net::InetStack>& inet_stack() { return inet_stack_; }

  // The sandbox's System V IPC objects, which sentry/kernel/ipc makes on
  // first use.
  std::shared_ptr<ipc::IpcNamespace>& ipc_namespace() { return ipc_namespace_; }

  // The sandbox's bound netlink port ids, which sentry/net makes on first
  // use.
  std::shared_ptr<net::NetlinkPorts>& netlink_ports() { return netlink_ports_; }

  void set_syscall_dispatcher(SyscallDispatcher dispatcher) { dispatcher_ = dispatcher; }

  // Logs a signal a task takes to run its handler or default action, for
  // --strace; set by the syscall layer, which names signals.
  using SignalTracer = void (*)(Task& task, int signal, const siginfo_t& info);
  void set_signal_tracer(SignalTracer tracer) { signal_tracer_ = tracer; }
  SignalTracer signal_tracer() const { return signal_tracer_; }
  void dispatch_syscall(Task& task) { dispatcher_(task); }

  // Creates the first process (pid 1) and schedules it.
  Result<void> start_init(InitProcess init);

  // Runs the sandbox until its first process has exited, then ends every
  // other process. Returns the first process's wait(2) status.
  int run();

  // Why the first process could not start: the errno of its exec, if that
  // is how it ended.
  std::optional<Errno> init_start_error() const { return init_start_error_; }
  void set_init_start_error(Errno error) { init_start_error_ = error; }

  Task* find_task(pid_t tid);

  // The task whose fiber is running, or nullptr in the scheduler loop: Linux's
  // `current`, for files whose readiness depends on the calling task
  // (signalfd). It searches every task, so keep it off hot paths.
  Task* current_task();

  ThreadGroup* find_thread_group(pid_t pid);
  std::vector<ThreadGroup*> thread_groups();
  // The most recently allocated pid or tid, as /proc/loadavg shows it.
  pid_t last_allocated_id() const { return next_id_ - 1; }

  // Creates a task in `group` with a fresh tid; the caller starts it.
  Task& create_task(ThreadGroup& group, Credentials creds, std::shared_ptr<mm::MemoryManager> mm,
                    std::shared_ptr<vfs::FdTable> fdtable, std::shared_ptr<vfs::FsContext> fs);

  // Creates a process with a fresh pid; its first task takes the same id.
  ThreadGroup& create_thread_group(std::shared_ptr<SignalHandlers> handlers);

  // Whether `group` is the sandbox's first process, its init.
  bool is_init(const ThreadGroup& group) const { return &group == init_; }
  ThreadGroup* init() const { return init_; }

  // Called when the last task of `group` has exited: hands its children to
  // a reaper, then tells its parent (SIGCHLD and a wake-up of wait), or
  // reaps it at once when the parent ignores SIGCHLD.
  void process_exited(ThreadGroup& group);

  // Removes a zombie whose status its parent has collected.
  void release_thread_group(ThreadGroup& group);

  // Gives `task` a new tid: a non-leader thread that runs execve takes the
  // leader's.
  void change_tid(Task& task, pid_t new_tid);

 private:
  Kernel(std::unique_ptr<platform::Platform> platform, KernelOptions options);

  pid_t allocate_id();
  void reap(Fiber* fiber);
  ThreadGroup* find_reaper(ThreadGroup& exiting);
  void notify_parent_of_exit(ThreadGroup& child);

  std::unique_ptr<platform::Platform> platform_;
  std::unique_ptr<Scheduler> scheduler_;
  KernelOptions options_;
  TimePoint boot_time_;
  compat::GapRecorder gaps_;
  FutexTable futexes_;
  std::shared_ptr<MqueueNamespace> mqueue_namespace_;
  std::shared_ptr<vfs::MountNamespace> mounts_;
  std::shared_ptr<net::UnixNamespace> unix_namespace_;
  std::shared_ptr<ipc::IpcNamespace> ipc_namespace_;
  std::shared_ptr<net::InetStack> inet_stack_;
  std::shared_ptr<net::NetlinkPorts> netlink_ports_;
  SyscallDispatcher dispatcher_ = nullptr;
  SignalTracer signal_tracer_ = nullptr;

  std::map<pid_t, std::unique_ptr<Task>> tasks_;
  std::map<pid_t, std::unique_ptr<ThreadGroup>> thread_groups_;
  pid_t next_id_ = 1;
  ThreadGroup* init_ = nullptr;
  std::optional<Errno> init_start_error_;
  // Released thread groups, kept until no fiber can still be using them.
  std::vector<std::unique_ptr<ThreadGroup>> retired_groups_;
};

}  // namespace ward::kernel
