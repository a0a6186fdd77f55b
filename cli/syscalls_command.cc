// `ward syscalls`: prints the syscall table, the source of docs/syscalls.md.
#include <cstdio>

#include "cli/options.h"
#include "syscalls/table_render.h"

namespace ward::cli {

int run_syscalls(const SyscallsOptions& options) {
  const auto format = syscalls::parse_table_format(options.format);
  if (!format) {
    std::fprintf(stderr, "ward: invalid table format: %s (expected markdown, json or csv)\n",
                 options.format.c_str());
    return 2;
  }
  const std::string text = syscalls::render_syscall_table(*format);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    std::perror("ward: cannot write the table");
    return 1;
  }
  return 0;
}

}  // namespace ward::cli
