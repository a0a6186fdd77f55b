// Command-line options of ward and of each subcommand.
#pragma once

#include <string>
#include <vector>

namespace ward::cli {

struct GlobalOptions {
  std::string log_level = "error";
  std::string log_file;  // empty: standard error
};

struct DoOptions {
  std::vector<std::string> command;  // program and its arguments
  std::string root = "/";
  std::string cwd;                   // empty: ward's own working directory
  std::string hostname;              // empty: the host's hostname
  std::string platform = "ptrace";
  bool strace = false;
};

struct SyscallsOptions {
  std::string format = "markdown";  // markdown, json or csv
};

// Runs `ward syscalls`; returns ward's exit status.
int run_syscalls(const SyscallsOptions& options);

// Runs `ward do`; returns ward's exit status.
int run_do(const GlobalOptions& global, const DoOptions& options);

// Sends spdlog output where the global options say.
void configure_logging(const GlobalOptions& global, bool strace);

}  // namespace ward::cli
