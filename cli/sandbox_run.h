// Running one program in a fresh sandbox, as `ward do` does, with hooks
// for commands that report on the run (`ward compat`).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/options.h"
#include "sentry/kernel/credentials.h"
#include "ward/result.h"

namespace ward::kernel {
class Kernel;
}
namespace ward::vfs {
class FsContext;
class MountNamespace;
}  // namespace ward::vfs

namespace ward::cli {

// ward's exit status when ward itself failed before the program could start.
inline constexpr int kExitSandboxFailed = 125;

// The sandbox a `ward do` command line describes, before its first process
// exists.
struct SandboxSetup {
  std::shared_ptr<vfs::MountNamespace> mounts;
  kernel::Credentials creds;
  std::string cwd;  // the first process's working directory, inside the sandbox
  std::shared_ptr<vfs::FsContext> fs;
  std::vector<std::string> envp;  // the first process's environment
  std::string search_path;        // the PATH of envp, searched for the program
};

// Builds the mounts, credentials, working directory and environment of
// `options`. On failure prints a "ward: " line to stderr and returns
// kExitSandboxFailed.
std::variant<SandboxSetup, int> make_sandbox_setup(const DoOptions& options);

// The end of the first process: its wait status, and the exec error that
// ended it, if any.
struct SandboxEnd {
  int wait_status = 0;
  std::optional<Errno> start_error;
};

struct SandboxHooks {
  // Called once the mounts exist, before the first process starts.
  std::function<void(const SandboxSetup&)> before_start;
  // Called after the first process has ended and every other process was
  // ended, while the kernel and its gap records still exist.
  std::function<void(kernel::Kernel&, const SandboxEnd&)> after_run;
};

// Runs options.command in a fresh sandbox with ward's stdin, stdout and
// stderr, forwarding the signals ward gets. Returns the program's exit
// status, 128 plus the signal that killed it, 126 or 127 when it could not
// start, or kExitSandboxFailed when ward failed first.
int run_sandbox(const GlobalOptions& global, const DoOptions& options, const SandboxHooks& hooks);

}  // namespace ward::cli
