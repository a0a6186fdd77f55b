// stat and its variants, statx, statfs, readlink and access.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "sentry/kernel/task.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/path_ops.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_file.h"

namespace ward::syscalls {
namespace {

using vfs::FileRef;
using vfs::VirtualDentry;

constexpr uint32_t kStatFlags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH;
constexpr uint32_t kStatxFlags = kStatFlags | AT_STATX_SYNC_TYPE;
constexpr uint32_t kAccessFlags = AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH;

// The path argument of a call that takes AT_EMPTY_PATH: with that flag a
// NULL pointer means "" (Linux 6.11 and later), and "" is allowed.
Result<std::string> path_argument(kernel::Task& task, GuestAddr addr, uint32_t at_flags) {
  const bool empty_allowed = (at_flags & AT_EMPTY_PATH) != 0;
  if (empty_allowed && addr.is_null()) {
    return std::string();
  }
  return task.copy_in_path(addr, empty_allowed);
}

// What a stat call describes: the file of `dirfd` for an empty path (its
// own stat, so that pipes and ward's stdio answer for themselves), else
// the location `path` names.
struct StatTarget {
  FileRef file;            // set for the empty path with a dirfd
  VirtualDentry location;  // set otherwise
};

Result<StatTarget> stat_target(kernel::Task& task, int dirfd, const std::string& path,
                               bool follow) {
  if (path.empty() && dirfd != AT_FDCWD) {
    FileRef file = TRY(task.fdtable().get(dirfd));
    return StatTarget{.file = std::move(file), .location = {}};
  }
  VirtualDentry location =
      TRY(vfs::lookup_at(task, dirfd, path, vfs::WalkOptions{.follow_final = follow}));
  return StatTarget{.file = nullptr, .location = std::move(location)};
}

Result<int64_t> copy_out_stat(kernel::Task& task, const StatTarget& target, GuestAddr buffer) {
  const struct stat st = target.file != nullptr ? TRY(target.file->stat())
                                                : TRY(target.location.dentry->inode().stat());
  TRY(task.copy_out(buffer, st));
  return 0;
}

Result<int64_t> stat_path(kernel::Task& task, GuestAddr path_addr, GuestAddr buffer, bool follow) {
  const std::string path = TRY(task.copy_in_path(path_addr));
  const StatTarget target = TRY(stat_target(task, AT_FDCWD, path, follow));
  return copy_out_stat(task, target, buffer);
}

Result<int64_t> readlink_at(kernel::Task& task, int dirfd, GuestAddr path_addr, GuestAddr buffer,
                            int32_t buffer_bytes) {
  if (buffer_bytes <= 0) {
    return Errno{EINVAL};
  }
  // readlink always accepts "", which names the dirfd's own symlink.
  const std::string path = TRY(task.copy_in_path(path_addr, /*allow_empty=*/true));
  const VirtualDentry location =
      TRY(vfs::lookup_at(task, dirfd, path, vfs::WalkOptions{.follow_final = false}));
  const std::string target = TRY(vfs::read_link_at(vfs::caller_of(task), location, path.empty()));
  const size_t count = std::min(target.size(), static_cast<size_t>(buffer_bytes));
  TRY(task.copy_out(buffer, std::as_bytes(std::span(target.data(), count))));
  return static_cast<int64_t>(count);
}

Result<int64_t> access_at(kernel::Task& task, int dirfd, GuestAddr path_addr, uint32_t mode,
                          uint32_t flags) {
  if ((mode & ~static_cast<uint32_t>(S_IRWXO)) != 0) {
    return Errno{EINVAL};
  }
  if ((flags & ~kAccessFlags) != 0) {
    return Errno{EINVAL};
  }
  const std::string path = TRY(task.copy_in_path(path_addr, (flags & AT_EMPTY_PATH) != 0));
  const bool follow = (flags & AT_SYMLINK_NOFOLLOW) == 0;
  const VirtualDentry location =
      TRY(vfs::lookup_at(task, dirfd, path, vfs::WalkOptions{.follow_final = follow}));
  TRY(vfs::check_access_at(vfs::caller_of(task), location, static_cast<int>(mode),
                           (flags & AT_EACCESS) != 0));
  return 0;
}

}  // namespace

// stat(2)
Result<int64_t> sys_stat(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const GuestAddr buffer = args.addr(1);
  return stat_path(task, path, buffer, /*follow=*/true);
}

// lstat(2)
Result<int64_t> sys_lstat(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const GuestAddr buffer = args.addr(1);
  return stat_path(task, path, buffer, /*follow=*/false);
}

// fstat(2): any open descriptor, O_PATH ones included.
Result<int64_t> sys_fstat(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr buffer = args.addr(1);
  FileRef file = TRY(task.fdtable().get(fd));
  return copy_out_stat(task, StatTarget{.file = std::move(file), .location = {}}, buffer);
}

// newfstatat(2), which glibc calls fstatat.
Result<int64_t> sys_newfstatat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path_addr = args.addr(1);
  const GuestAddr buffer = args.addr(2);
  const uint32_t flags = args.u32(3);

  const std::string path = TRY(path_argument(task, path_addr, flags));
  if ((flags & ~kStatFlags) != 0) {
    return Errno{EINVAL};
  }
  const bool follow = (flags & AT_SYMLINK_NOFOLLOW) == 0;
  const StatTarget target = TRY(stat_target(task, dirfd, path, follow));
  return copy_out_stat(task, target, buffer);
}

// statx(2). The fields come from the host for hostfs files (STATX_BTIME
// among them where the host has it) and from stat() for the others.
Result<int64_t> sys_statx(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path_addr = args.addr(1);
  const uint32_t flags = args.u32(2);
  const uint32_t mask = args.u32(3);
  const GuestAddr buffer = args.addr(4);

  const std::string path = TRY(path_argument(task, path_addr, flags));
  if ((mask & STATX__RESERVED) != 0) {
    return Errno{EINVAL};
  }
  if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) {
    return Errno{EINVAL};
  }
  if ((flags & ~kStatxFlags) != 0) {
    return Errno{EINVAL};
  }
  const bool follow = (flags & AT_SYMLINK_NOFOLLOW) == 0;
  const StatTarget target = TRY(stat_target(task, dirfd, path, follow));
  const struct statx result = target.file != nullptr
                                  ? TRY(target.file->statx(mask))
                                  : TRY(target.location.dentry->inode().statx(mask));
  TRY(task.copy_out(buffer, result));
  return 0;
}

// statfs(2)
Result<int64_t> sys_statfs(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path_addr = args.addr(0);
  const GuestAddr buffer = args.addr(1);
  const std::string path = TRY(task.copy_in_path(path_addr));
  const VirtualDentry location = TRY(vfs::lookup_at(task, AT_FDCWD, path));
  const struct statfs result = TRY(vfs::statfs_at(location));
  TRY(task.copy_out(buffer, result));
  return 0;
}

// fstatfs(2): any open descriptor, O_PATH ones included.
Result<int64_t> sys_fstatfs(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr buffer = args.addr(1);
  FileRef file = TRY(task.fdtable().get(fd));
  const struct statfs result = TRY(vfs::statfs_at(file->location()));
  TRY(task.copy_out(buffer, result));
  return 0;
}

// readlink(2)
Result<int64_t> sys_readlink(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const GuestAddr buffer = args.addr(1);
  const int32_t buffer_bytes = args.i32(2);
  return readlink_at(task, AT_FDCWD, path, buffer, buffer_bytes);
}

// readlinkat(2)
Result<int64_t> sys_readlinkat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const GuestAddr buffer = args.addr(2);
  const int32_t buffer_bytes = args.i32(3);
  return readlink_at(task, dirfd, path, buffer, buffer_bytes);
}

// access(2)
Result<int64_t> sys_access(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const uint32_t mode = args.u32(1);
  return access_at(task, AT_FDCWD, path, mode, 0);
}

// faccessat(2): the system call has no flags argument.
Result<int64_t> sys_faccessat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const uint32_t mode = args.u32(2);
  return access_at(task, dirfd, path, mode, 0);
}

// faccessat2(2): faccessat with AT_EACCESS, AT_SYMLINK_NOFOLLOW and
// AT_EMPTY_PATH.
Result<int64_t> sys_faccessat2(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const uint32_t mode = args.u32(2);
  const uint32_t flags = args.u32(3);
  return access_at(task, dirfd, path, mode, flags);
}

}  // namespace ward::syscalls
