// ward's command line: the options of ward, `ward do` and `ward compat`, their checks, and
// the environment and credentials they give the sandbox's first process.
// Kept apart from main() so that unit tests can parse command lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/options.h"
#include "sentry/kernel/credentials.h"

namespace ward::cli {

// ward's exit status for a bad command line, as most Unix tools use it.
inline constexpr int kExitUsage = 2;

// The checks of single option values. Each returns an error message naming
// the bad value, or an empty string when the value is valid, and stores the
// parsed value only when it is valid.
std::string parse_size(std::string_view text, uint64_t& size_bytes);
std::string parse_user(std::string_view text, UserIds& user);
// parse_overlay stores the host directory of dir:PATH in `directory`, which
// must exist as a directory ward may write to.
std::string parse_overlay(std::string_view text, vfs::OverlayMode& mode, std::string& directory);
std::string parse_bind(std::string_view text, vfs::BindMount& bind);
std::string parse_tmpfs(std::string_view text, vfs::TmpfsMount& tmpfs);
std::string check_hostname(std::string_view text);
std::string check_env_assignment(std::string_view text);
std::string check_env_name(std::string_view text);
std::string check_guest_directory(std::string_view text);
std::string check_report_format(std::string_view text);
std::string check_report_file(std::string_view text);

// A command line to run: the global options and the options of the
// subcommand given, `ward do`, `ward compat` or `ward syscalls`.
struct ParsedCommandLine {
  GlobalOptions global;
  DoOptions do_options;
  bool do_command = false;
  CompatOptions compat_options;
  bool compat_command = false;
  SyscallsOptions syscalls_options;
  bool syscalls_command = false;
};

// The output and exit status of a command line that runs nothing: help
// text (status 0, for stdout) or a one-line usage error starting with
// "ward: " (status kExitUsage, for stderr).
struct CommandLineExit {
  int exit_status = 0;
  std::string message;
};

// Parses ward's whole argv, argv[0] included.
std::variant<ParsedCommandLine, CommandLineExit> parse_command_line(
    const std::vector<std::string>& argv);

// Builds the first process's environment: PATH, HOME (/root for uid 0, /
// otherwise), TERM when `caller_environment` has it, and LANG=C.UTF-8; then
// each --pass-env variable the caller has, then each --env assignment. A
// later entry for a name replaces an earlier one in place. ward's other
// variables never reach the guest, since they may hold secrets.
std::vector<std::string> guest_environment(const DoOptions& options, uid_t guest_uid,
                                           const std::vector<std::string>& caller_environment);

// Builds the credentials Linux gives a process of `user` after a login:
// every uid and gid set to them and no supplementary groups. Uid 0 gets
// every capability. Any other uid gets no permitted, effective,
// inheritable or ambient capability, and keeps the full bounding set.
kernel::Credentials credentials_for_user(const UserIds& user);

}  // namespace ward::cli
