// ward: runs untrusted Linux programs under a user-space kernel.
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "cli/do_options.h"
#include "cli/options.h"

int main(int argc, char** argv) {
  const std::vector<std::string> arguments(argv, argv + argc);
  auto parsed = ward::cli::parse_command_line(arguments);

  if (auto* exit = std::get_if<ward::cli::CommandLineExit>(&parsed)) {
    std::fputs(exit->message.c_str(), exit->exit_status == 0 ? stdout : stderr);
    return exit->exit_status;
  }
  auto& command_line = std::get<ward::cli::ParsedCommandLine>(parsed);
  if (command_line.syscalls_command) {
    return ward::cli::run_syscalls(command_line.syscalls_options);
  }
  if (command_line.compat_command) {
    return ward::cli::run_compat(command_line.global, command_line.compat_options);
  }
  return ward::cli::run_do(command_line.global, command_line.do_options);
}
