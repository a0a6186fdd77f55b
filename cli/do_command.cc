// ward do: run one program in a fresh sandbox and exit with its status.
// run_sandbox() is the run itself, shared with `ward compat`.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "cli/do_options.h"
#include "cli/options.h"
#include "cli/sandbox_run.h"
#include "platform/ptrace/ptrace_platform.h"
#include "sentry/fs/host_stream.h"
#include "sentry/fs/sandbox_mounts.h"
#include "sentry/kernel/host_signals.h"
#include "sentry/kernel/kernel.h"
#include "sentry/loader/loader.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"
#include "syscalls/dispatch.h"

extern char** environ;

namespace ward::cli {
namespace {

// Exit statuses for a program that could not start, as POSIX shells use
// them: 127 when it was not found, 126 when it was found but could not run.
constexpr int kExitNotFound = 127;
constexpr int kExitCannotRun = 126;

std::vector<std::string> host_environment() {
  std::vector<std::string> variables;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    variables.emplace_back(*entry);
  }
  return variables;
}

std::string find_variable(const std::vector<std::string>& variables, std::string_view name) {
  for (const std::string& variable : variables) {
    if (variable.size() > name.size() && variable.compare(0, name.size(), name) == 0 &&
        variable[name.size()] == '=') {
      return variable.substr(name.size() + 1);
    }
  }
  return {};
}

// Describes the mounts for an error message: the root, every bind and
// every tmpfs mount.
std::string describe_mounts(const vfs::SandboxMountConfig& config) {
  std::string text = config.host_root + " as the root";
  for (const vfs::BindMount& bind : config.binds) {
    text += ", " + bind.host_path + " at " + bind.guest_path;
  }
  for (const vfs::TmpfsMount& tmpfs : config.tmpfs) {
    text += ", a tmpfs at " + tmpfs.guest_path;
  }
  return text;
}

std::array<rlimit, RLIM_NLIMITS> host_limits() {
  std::array<rlimit, RLIM_NLIMITS> limits{};
  for (int resource = 0; resource < RLIM_NLIMITS; ++resource) {
    getrlimit(static_cast<__rlimit_resource>(resource), &limits[static_cast<size_t>(resource)]);
  }
  return limits;
}

// The fd table's bound for an RLIMIT_NOFILE soft limit.
int fd_limit(const rlimit& limit) {
  constexpr rlim_t kMaxFds = 1024 * 1024;  // Linux's nr_open default
  return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, kMaxFds));
}

// Gives the first process ward's own stdin, stdout and stderr as fds 0-2.
Result<std::shared_ptr<vfs::FdTable>> stdio_fdtable(kernel::Kernel& kernel) {
  auto table = std::make_shared<vfs::FdTable>();
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) {
      continue;  // closed in ward, so closed in the guest
    }
    vfs::FileRef stream = TRY(fs::make_host_stream(kernel.scheduler(), fd));
    TRY(table->install_at(fd, std::move(stream), false));
  }
  return table;
}

// The message and exit status for a program that could not start.
int report_start_failure(const std::string& program, Errno error) {
  bool searched = program.find('/') == std::string::npos;
  if (error.value == ENOENT) {
    if (searched) {
      std::fprintf(stderr, "ward: %s: command not found\n", program.c_str());
    } else {
      std::fprintf(stderr, "ward: %s: No such file or directory\n", program.c_str());
    }
    return kExitNotFound;
  }
  if (error.value == ENOEXEC) {
    std::fprintf(stderr, "ward: %s: cannot execute binary file: Exec format error\n",
                 program.c_str());
    return kExitCannotRun;
  }
  std::fprintf(stderr, "ward: %s: %s\n", program.c_str(), std::strerror(error.value));
  return kExitCannotRun;
}

// ward's exit status for the first process's wait(2) status: its exit code,
// or 128 plus the signal that killed it, as shells report it.
int exit_status_for(const std::string& program, int wait_status) {
  if (WIFEXITED(wait_status)) {
    return WEXITSTATUS(wait_status);
  }
  int signal_number = WTERMSIG(wait_status);
  // The sentry writes no core files, so the status never has the core bit.
  std::fprintf(stderr, "ward: %s killed by signal %d (%s)\n", program.c_str(), signal_number,
               sigabbrev_np(signal_number) != nullptr ? sigabbrev_np(signal_number) : "?");
  return 128 + signal_number;
}

std::string host_hostname() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

}  // namespace

std::variant<SandboxSetup, int> make_sandbox_setup(const DoOptions& options) {
  SandboxSetup setup;
  auto mounts = fs::make_sandbox_mounts(options.mounts);
  if (!mounts.ok()) {
    std::fprintf(stderr, "ward: cannot mount %s: %s\n", describe_mounts(options.mounts).c_str(),
                 std::strerror(mounts.error().value));
    return kExitSandboxFailed;
  }
  setup.mounts = std::move(*mounts);

  setup.cwd = options.cwd;
  if (setup.cwd.empty()) {
    char buffer[PATH_MAX];
    setup.cwd = getcwd(buffer, sizeof(buffer)) != nullptr ? buffer : "/";
  }
  setup.creds =
      options.user ? credentials_for_user(*options.user) : kernel::host_process_credentials();
  auto fs_context = vfs::make_fs_context(*setup.mounts, setup.creds, setup.cwd);
  if (!fs_context.ok()) {
    std::fprintf(stderr, "ward: %s: cannot use as the working directory: %s\n",
                 setup.cwd.c_str(), std::strerror(fs_context.error().value));
    return kExitSandboxFailed;
  }
  setup.fs = std::move(*fs_context);

  setup.envp = guest_environment(options, setup.creds.effective_uid, host_environment());
  setup.search_path = find_variable(setup.envp, "PATH");
  return setup;
}

int run_sandbox(const GlobalOptions& global, const DoOptions& options, const SandboxHooks& hooks) {
  configure_logging(global, options.strace);

  // A guest that writes to a pipe whose reader has gone gets EPIPE from the
  // sentry. The host's SIGPIPE for ward's own write must not kill ward.
  signal(SIGPIPE, SIG_IGN);

  auto platform = platform::PtracePlatform::create();
  if (!platform.ok()) {
    std::fprintf(stderr, "ward: cannot start the ptrace platform: %s\n",
                 std::strerror(platform.error().value));
    return kExitSandboxFailed;
  }

  kernel::KernelOptions kernel_options{
      .strace = options.strace,
      .strace_filter = options.strace_filter,
      .hostname = options.hostname.empty() ? host_hostname() : options.hostname,
  };
  auto kernel = kernel::Kernel::create(std::move(*platform), kernel_options);
  if (!kernel.ok()) {
    std::fprintf(stderr, "ward: cannot create the sandbox: %s\n",
                 std::strerror(kernel.error().value));
    return kExitSandboxFailed;
  }
  kernel::Kernel& sandbox = **kernel;
  syscalls::install_dispatcher(sandbox);

  auto made = make_sandbox_setup(options);
  if (const int* failed = std::get_if<int>(&made)) {
    return *failed;
  }
  SandboxSetup& setup = std::get<SandboxSetup>(made);
  sandbox.set_mounts(setup.mounts);

  auto fdtable = stdio_fdtable(sandbox);
  if (!fdtable.ok()) {
    std::fprintf(stderr, "ward: cannot pass standard input and output to the sandbox: %s\n",
                 std::strerror(fdtable.error().value));
    return kExitSandboxFailed;
  }
  std::array<rlimit, RLIM_NLIMITS> limits = host_limits();
  (*fdtable)->set_max_fds(fd_limit(limits[RLIMIT_NOFILE]));

  if (hooks.before_start) {
    hooks.before_start(setup);
  }

  // The program searches its own PATH, as execvp in the guest would.
  loader::ExecRequest request{options.command.front(), options.command, setup.envp};
  kernel::InitProcess init{
      .creds = setup.creds,
      .fdtable = std::move(*fdtable),
      .fs = setup.fs,
      .limits = limits,
      .startup = [request, search_path = setup.search_path](kernel::Task& task) -> Result<void> {
        Result<void> started = loader::execvp(task, request, search_path);
        if (!started.ok()) {
          task.kernel().set_init_start_error(started.error());
        }
        return started;
      },
  };
  if (auto started = sandbox.start_init(std::move(init)); !started.ok()) {
    std::fprintf(stderr, "ward: cannot start the first process: %s\n",
                 std::strerror(started.error().value));
    return kExitSandboxFailed;
  }

  // Signals that reach ward go to the program, as a shell's Ctrl-C or a
  // `kill` of ward would reach it if it ran outside the sandbox.
  auto forwarder = kernel::HostSignalForwarder::start(
      sandbox, {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH});
  if (!forwarder.ok()) {
    std::fprintf(stderr, "ward: cannot forward signals to the sandbox: %s\n",
                 std::strerror(forwarder.error().value));
    return kExitSandboxFailed;
  }

  spdlog::info("sandbox starting {}", request.path);
  const SandboxEnd end{.wait_status = sandbox.run(), .start_error = sandbox.init_start_error()};
  forwarder->reset();
  spdlog::info("sandbox stopped, status {:#x}", end.wait_status);
  if (hooks.after_run) {
    hooks.after_run(sandbox, end);
  }

  if (end.start_error) {
    return report_start_failure(request.path, *end.start_error);
  }
  return exit_status_for(request.path, end.wait_status);
}

int run_do(const GlobalOptions& global, const DoOptions& options) {
  return run_sandbox(global, options, SandboxHooks{});
}

}  // namespace ward::cli
