// ward: runs untrusted Linux programs under a user-space kernel.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/options.h"

int main(int argc, char** argv) {
  ward::cli::GlobalOptions global;
  ward::cli::DoOptions do_options;
  ward::cli::SyscallsOptions syscalls_options;

  CLI::App app{
      "ward runs Linux programs in a sandbox: every system call they make is served by ward's "
      "own user-space kernel, never by the host's."};
  app.require_subcommand(1);
  app.add_option("--log-level", global.log_level,
                 "Least severe log messages to print: trace, debug, info, warn, error, critical "
                 "or off. warn shows each compatibility gap a program hits")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--log-file", global.log_file,
                 "File to append log messages to instead of standard error");

  CLI::App* do_command = app.add_subcommand(
      "do", "Run PROGRAM with ARGS in a sandbox whose root is a read-only view of the host's");
  do_command->add_flag("--strace", do_options.strace,
                       "Log every system call with its decoded arguments and result, at info "
                       "level");
  do_command->add_option("--root", do_options.root,
                         "Host directory the sandbox sees as /, read-only")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  do_command->add_option("--cwd", do_options.cwd,
                         "Working directory of the program, as a path inside the sandbox "
                         "(default: ward's own working directory)");
  do_command->add_option("--hostname", do_options.hostname,
                         "Host name the sandbox reports (default: the host's)");
  do_command->add_option("--platform", do_options.platform,
                         "How guest system calls are captured; ptrace is the only one so far")
      ->check(CLI::IsMember({"ptrace"}))
      ->capture_default_str();
  do_command->add_option("PROGRAM", do_options.command,
                         "The program to run, looked up in PATH when it has no slash, then its "
                         "arguments; put -- before them when they start with a dash")
      ->required();
  do_command->positionals_at_end();

  CLI::App* syscalls_command = app.add_subcommand(
      "syscalls", "Print every x86_64 system call with ward's support level and what is missing");
  syscalls_command->add_option("--format", syscalls_options.format, "markdown, json or csv")
      ->check(CLI::IsMember({"markdown", "json", "csv"}))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (do_command->parsed()) {
    return ward::cli::run_do(global, do_options);
  }
  if (syscalls_command->parsed()) {
    return ward::cli::run_syscalls(syscalls_options);
  }
  return 1;
}
