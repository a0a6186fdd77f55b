// execve in the sentry: open the program in the sandbox's own VFS, follow
// `#!` interpreters, map the ELF image and its PT_INTERP into a fresh
// address space, build the initial stack (argv, envp, auxv) and swap the
// new image into the task. Nothing of the calling task changes unless the
// exec succeeds.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sentry/vfs/file.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::loader {

struct ExecRequest {
  std::string path;  // as passed to execve, or execveat's /dev/fd/N form; also AT_EXECFN
  std::vector<std::string> argv = {};
  std::vector<std::string> envp = {};
  // execveat named the program through a close-on-exec dirfd, so `path`
  // will not exist for a `#!` interpreter to open: such a script fails
  // with ENOENT, as Linux's binfmt_script does.
  bool path_inaccessible = false;
  // The process name (comm) to take, when it is not the last component of
  // `path`: execveat with AT_EMPTY_PATH takes the file's own name.
  std::string comm = {};
};

// Linux's MAX_ARG_STRLEN: the longest single argument or environment
// string, NUL included.
inline constexpr size_t kMaxArgStringBytes = 32 * 4096;

// Opens the program `path` names for execve: ENOENT, ENOTDIR, ELOOP,
// ENAMETOOLONG and EACCES as Linux's open_exec gives them. execve(2) opens
// the file before it reads argv and envp, so errors come in that order.
Result<vfs::FileRef> open_program(kernel::Task& task, std::string_view path);

// Replaces the task's program with `program`, opened from request.path, as
// execve(2) does. Returns ENOEXEC, ELOOP, E2BIG, ENOMEM and the other
// errnos execve returns; on error the task is untouched.
Result<void> execve(kernel::Task& task, vfs::FileRef program, ExecRequest request);

// open_program then execve.
Result<void> execve(kernel::Task& task, ExecRequest request);

// execve with a PATH search when `request.path` has no slash, as execvp(3)
// does: an ENOENT or EACCES candidate moves on to the next directory, and
// EACCES is reported if some candidate gave it.
Result<void> execvp(kernel::Task& task, ExecRequest request, std::string_view search_path);

}  // namespace ward::loader
