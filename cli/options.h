// Command-line options of ward and of each subcommand.
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sentry/fs/sandbox_mounts.h"

namespace ward::cli {

struct GlobalOptions {
  std::string log_level = "error";
  std::string log_file;  // empty: standard error
};

// The ids `ward do --user` gives the first process.
struct UserIds {
  uid_t uid = 0;
  gid_t gid = 0;
};

struct DoOptions {
  std::vector<std::string> command;  // program and its arguments
  std::string cwd;                   // empty: ward's own working directory
  std::string hostname;              // empty: the host's hostname
  std::string platform = "ptrace";
  bool strace = false;
  // Numbers of the syscalls --strace logs; empty: every syscall.
  std::set<uint32_t> strace_filter;
  // NAME=VALUE assignments for the guest's environment, in command-line order.
  std::vector<std::string> env;
  // Names of ward's environment variables copied into the guest's.
  std::vector<std::string> pass_env;
  std::optional<UserIds> user;  // nullopt: ward's own credentials
  // The root, overlay, bind and tmpfs mounts of the sandbox.
  vfs::SandboxMountConfig mounts;
};

struct CompatOptions {
  DoOptions run;                // how the program runs, as `ward do` takes it
  std::string format = "text";  // text, json or markdown
  std::string output;           // the report's file; empty: standard error
  bool preflight_only = false;  // check the program without running it
};

struct SyscallsOptions {
  std::string format = "markdown";  // markdown, json or csv
};

// Runs `ward syscalls`; returns ward's exit status.
int run_syscalls(const SyscallsOptions& options);

// Runs `ward do`; returns ward's exit status.
int run_do(const GlobalOptions& global, const DoOptions& options);

// Runs `ward compat` and returns the program's exit status, as `ward do`
// does. With --preflight it returns 0 when preflight finds nothing that
// stops the program from starting, and 1 when it finds such a problem.
int run_compat(const GlobalOptions& global, const CompatOptions& options);

// Sends spdlog output where the global options say.
void configure_logging(const GlobalOptions& global, bool strace);

}  // namespace ward::cli
