// getdents, getdents64, getcwd, chdir and fchdir.
#include <fcntl.h>

#include <algorithm>
#include <string>

#include "sentry/kernel/task.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/dirent_buffer.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/path_ops.h"
#include "sentry/vfs/task_io.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_file.h"

namespace ward::syscalls {
namespace {

using vfs::FileRef;
using vfs::VirtualDentry;

// The most directory-entry bytes one getdents call returns; a larger guest
// buffer just gets fewer entries than would fit.
constexpr size_t kMaxDirentBytes = 64 * 1024;

Result<int64_t> list_directory(kernel::Task& task, const SyscallArgs& args,
                               vfs::DirentFormat format) {
  const int fd = args.fd(0);
  const GuestAddr entries = args.addr(1);
  const uint32_t count = args.u32(2);

  FileRef file = TRY(vfs::io_file(task, fd));
  if (!vfs::guest_range_ok(entries, count)) {
    return Errno{EFAULT};
  }
  // The listing's position before this call, to return to when the guest's
  // buffer cannot take the entries: Linux leaves the position at the first
  // entry it failed to copy, so no entry is lost to an EFAULT.
  const Result<int64_t> start = file->seek(0, SEEK_CUR);
  vfs::DirentBuffer buffer(format, std::min<size_t>(count, kMaxDirentBytes));
  TRY(file->iterate_dir(vfs::caller_of(task), buffer));
  if (buffer.empty()) {
    // Nothing fit: EINVAL when an entry was left, 0 at the end.
    if (buffer.overflowed()) {
      return Errno{EINVAL};
    }
    return 0;
  }
  auto copied = task.copy_out(entries, std::span<const std::byte>(buffer.bytes()));
  if (!copied.ok()) {
    if (start.ok()) {
      (void)file->seek(*start, SEEK_SET);
    }
    return copied.error();
  }
  return static_cast<int64_t>(buffer.bytes().size());
}

Result<int64_t> change_directory(kernel::Task& task, const VirtualDentry& location) {
  TRY(vfs::check_new_working_directory(vfs::caller_of(task), location));
  task.fs().set_cwd(location);
  return 0;
}

}  // namespace

// getdents(2): struct linux_dirent records.
Result<int64_t> sys_getdents(kernel::Task& task, const SyscallArgs& args) {
  return list_directory(task, args, vfs::DirentFormat::kLinuxDirent);
}

// getdents64(2): struct linux_dirent64 records.
Result<int64_t> sys_getdents64(kernel::Task& task, const SyscallArgs& args) {
  return list_directory(task, args, vfs::DirentFormat::kLinuxDirent64);
}

// getcwd(2): returns the length with the NUL; ERANGE when `size` is short.
Result<int64_t> sys_getcwd(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr buffer = args.addr(0);
  const uint64_t size = args.u64(1);

  std::string name = TRY(vfs::working_directory_name(vfs::caller_of(task)));
  const size_t length = name.size() + 1;
  if (length > size) {
    return Errno{ERANGE};
  }
  TRY(task.copy_out(buffer, std::as_bytes(std::span(name.c_str(), length))));
  return static_cast<int64_t>(length);
}

// chdir(2)
Result<int64_t> sys_chdir(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path_addr = args.addr(0);
  const std::string path = TRY(task.copy_in_path(path_addr));
  const VirtualDentry location = TRY(vfs::lookup_at(
      task, AT_FDCWD, path, vfs::WalkOptions{.follow_final = true, .require_directory = true}));
  return change_directory(task, location);
}

// fchdir(2): O_PATH descriptors are accepted, as in Linux.
Result<int64_t> sys_fchdir(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  FileRef file = TRY(task.fdtable().get(fd));
  return change_directory(task, file->location());
}

}  // namespace ward::syscalls
