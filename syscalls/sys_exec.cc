// execve and execveat: replacing the calling process's program.
#include <fcntl.h>

#include <string>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/exec_open.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_core.h"

namespace ward::syscalls {
namespace {

// Memory the sentry spends on one execve's argv and envp before it gives
// up with E2BIG; the loader then applies Linux's exact limit.
constexpr size_t kMaxExecStringBytes = 16 * 1024 * 1024;

// execveat's AT_EXECVE_CHECK (Linux 6.14): check that the file may be
// executed, and run nothing.
constexpr int kAtExecveCheck = 0x10000;

// Reads a NULL-terminated array of string pointers (argv, envp).
Result<std::vector<std::string>> copy_in_string_array(kernel::Task& task, GuestAddr array,
                                                      size_t& total_bytes) {
  std::vector<std::string> strings;
  if (array.is_null()) {
    return strings;  // Linux treats a NULL argv or envp as empty
  }
  for (GuestAddr cursor = array;; cursor += sizeof(uint64_t)) {
    uint64_t pointer = TRY(task.copy_in<uint64_t>(cursor));
    if (pointer == 0) {
      return strings;
    }
    auto text = task.copy_in_string(GuestAddr(pointer), loader::kMaxArgStringBytes);
    if (!text.ok()) {
      return text.error().value == ENAMETOOLONG ? Errno{E2BIG} : text.error();
    }
    total_bytes += text->size() + 1 + sizeof(uint64_t);
    if (total_bytes > kMaxExecStringBytes) {
      return Errno{E2BIG};
    }
    strings.push_back(std::move(*text));
  }
}

// Reads argv and envp into `request`. Linux opens the program before it
// reads them, so their errors come after the open's.
Result<void> copy_in_arguments(kernel::Task& task, GuestAddr argv_addr, GuestAddr envp_addr,
                               loader::ExecRequest& request) {
  size_t total_bytes = 0;
  request.argv = TRY(copy_in_string_array(task, argv_addr, total_bytes));
  request.envp = TRY(copy_in_string_array(task, envp_addr, total_bytes));
  return ok();
}

// The name execveat gives a program found through a dirfd, as Linux's
// alloc_bprm does: the path itself when absolute or relative to the cwd,
// otherwise /dev/fd/N or /dev/fd/N/path.
std::string execveat_filename(int dirfd, const std::string& path) {
  if (dirfd == AT_FDCWD || path.starts_with('/')) {
    return path;
  }
  std::string filename = "/dev/fd/" + std::to_string(dirfd);
  if (!path.empty()) {
    filename += "/" + path;
  }
  return filename;
}

}  // namespace

// execve(pathname, argv, envp)
Result<int64_t> sys_execve(kernel::Task& task, const SyscallArgs& args) {
  std::string path = TRY(task.copy_in_path(args.addr(0)));
  GuestAddr argv_addr = args.addr(1);
  GuestAddr envp_addr = args.addr(2);

  vfs::FileRef program = TRY(loader::open_program(task, path));
  loader::ExecRequest request{.path = std::move(path)};
  TRY(copy_in_arguments(task, argv_addr, envp_addr, request));

  TRY(loader::execve(task, std::move(program), std::move(request)));
  return 0;
}

// execveat(dirfd, pathname, argv, envp, flags)
Result<int64_t> sys_execveat(kernel::Task& task, const SyscallArgs& args) {
  int dirfd = args.i32(0);
  GuestAddr path_addr = args.addr(1);
  GuestAddr argv_addr = args.addr(2);
  GuestAddr envp_addr = args.addr(3);
  int flags = args.i32(4);

  // The name is read first, with an empty one allowed only for
  // AT_EMPTY_PATH; the flags are checked when the file is opened.
  const bool empty_path_allowed = (flags & AT_EMPTY_PATH) != 0;
  std::string path = TRY(task.copy_in_path(path_addr, empty_path_allowed));
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | kAtExecveCheck)) != 0) {
    return Errno{EINVAL};
  }

  const bool follow_final = (flags & AT_SYMLINK_NOFOLLOW) == 0;
  vfs::FileRef program = TRY(vfs::open_executable_at(task, dirfd, path, follow_final));

  loader::ExecRequest request{.path = execveat_filename(dirfd, path)};
  if (request.path != path) {
    // A name under /dev/fd/N lasts only as long as descriptor N, which a
    // close-on-exec one does not survive.
    request.path_inaccessible = TRY(task.fdtable().close_on_exec_flag(dirfd));
  }
  if (path.empty()) {
    request.comm = program->location().dentry->name();
  }
  TRY(copy_in_arguments(task, argv_addr, envp_addr, request));

  if ((flags & kAtExecveCheck) != 0) {
    return 0;
  }
  TRY(loader::execve(task, std::move(program), std::move(request)));
  return 0;
}

}  // namespace ward::syscalls
