// The calls that change the filesystem: mkdir, mknod, rmdir, unlink,
// rename, link, symlink, chmod, chown, truncate, and utimensat with its
// older forms utime, utimes and futimesat. Each checks its flags and paths
// in Linux's order and leaves the rest to the VFS.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <utime.h>

#include <array>
#include <optional>
#include <string>

#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/mutate.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_file.h"

namespace ward::syscalls {
namespace {

using vfs::FileRef;
using vfs::VirtualDentry;

// utimensat's argument: access time, then modification time.
using TimePair = std::array<timespec, 2>;
// The same for utimes and futimesat.
using TimevalPair = std::array<timeval, 2>;

constexpr uint32_t kRenameFlags = RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT;

// A path argument and where it starts.
struct PathAt {
  std::string path;
  VirtualDentry start;
};

Result<PathAt> path_at(kernel::Task& task, int dirfd, GuestAddr addr, bool allow_empty = false) {
  std::string path = TRY(task.copy_in_path(addr, allow_empty));
  VirtualDentry start = TRY(vfs::start_for(task, dirfd, path));
  return PathAt{.path = std::move(path), .start = std::move(start)};
}

Result<int64_t> done(Result<void> result) {
  TRY(result);
  return 0;
}

Result<int64_t> mkdir_at(kernel::Task& task, int dirfd, GuestAddr path_addr, mode_t mode) {
  const PathAt at = TRY(path_at(task, dirfd, path_addr));
  return done(vfs::make_directory(vfs::caller_of(task), at.start, at.path, mode));
}

Result<int64_t> mknod_at(kernel::Task& task, int dirfd, GuestAddr path_addr, mode_t mode,
                         dev_t device) {
  TRY(vfs::check_node_type(mode));
  const PathAt at = TRY(path_at(task, dirfd, path_addr));
  return done(vfs::make_node(vfs::caller_of(task), at.start, at.path, mode, device));
}

Result<int64_t> unlink_at(kernel::Task& task, int dirfd, GuestAddr path_addr, uint32_t flags) {
  if ((flags & ~static_cast<uint32_t>(AT_REMOVEDIR)) != 0) {
    return Errno{EINVAL};
  }
  const PathAt at = TRY(path_at(task, dirfd, path_addr));
  const vfs::Caller caller = vfs::caller_of(task);
  if ((flags & AT_REMOVEDIR) != 0) {
    return done(vfs::remove_directory(caller, at.start, at.path));
  }
  return done(vfs::unlink_file(caller, at.start, at.path));
}

Result<int64_t> rename_at(kernel::Task& task, int old_dirfd, GuestAddr old_addr, int new_dirfd,
                          GuestAddr new_addr, uint32_t flags) {
  if ((flags & ~kRenameFlags) != 0) {
    return Errno{EINVAL};
  }
  if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) != 0 && (flags & RENAME_EXCHANGE) != 0) {
    return Errno{EINVAL};
  }
  // A whiteout is a device node: making one needs CAP_MKNOD.
  if ((flags & RENAME_WHITEOUT) != 0 && !task.creds().has_capability(CAP_MKNOD)) {
    return Errno{EPERM};
  }
  const PathAt from = TRY(path_at(task, old_dirfd, old_addr));
  const PathAt to = TRY(path_at(task, new_dirfd, new_addr));
  return done(
      vfs::rename_path(vfs::caller_of(task), from.start, from.path, to.start, to.path, flags));
}

Result<int64_t> link_at(kernel::Task& task, int old_dirfd, GuestAddr old_addr, int new_dirfd,
                        GuestAddr new_addr, uint32_t flags) {
  if ((flags & ~static_cast<uint32_t>(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) != 0) {
    return Errno{EINVAL};
  }
  const std::string old_path = TRY(task.copy_in_path(old_addr, (flags & AT_EMPTY_PATH) != 0));
  const VirtualDentry old_location =
      TRY(vfs::lookup_at(task, old_dirfd, old_path,
                         vfs::WalkOptions{.follow_final = (flags & AT_SYMLINK_FOLLOW) != 0}));
  const PathAt to = TRY(path_at(task, new_dirfd, new_addr));
  return done(vfs::link_path(vfs::caller_of(task), old_location, to.start, to.path));
}

Result<int64_t> symlink_at(kernel::Task& task, GuestAddr target_addr, int dirfd,
                           GuestAddr path_addr) {
  // The target is a name to store, not a path to walk, but it is copied
  // under the same rules: ENOENT when empty.
  const std::string target = TRY(task.copy_in_path(target_addr));
  const PathAt at = TRY(path_at(task, dirfd, path_addr));
  return done(vfs::make_symlink(vfs::caller_of(task), target, at.start, at.path));
}

Result<int64_t> chmod_at(kernel::Task& task, int dirfd, GuestAddr path_addr, mode_t mode,
                         uint32_t flags) {
  if ((flags & ~static_cast<uint32_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) {
    return Errno{EINVAL};
  }
  const std::string path = TRY(task.copy_in_path(path_addr, (flags & AT_EMPTY_PATH) != 0));
  const VirtualDentry location = TRY(vfs::lookup_at(
      task, dirfd, path, vfs::WalkOptions{.follow_final = (flags & AT_SYMLINK_NOFOLLOW) == 0}));
  return done(vfs::change_mode(vfs::caller_of(task), location, mode));
}

Result<int64_t> chown_at(kernel::Task& task, int dirfd, GuestAddr path_addr, uid_t uid, gid_t gid,
                         uint32_t flags) {
  if ((flags & ~static_cast<uint32_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) {
    return Errno{EINVAL};
  }
  const std::string path = TRY(task.copy_in_path(path_addr, (flags & AT_EMPTY_PATH) != 0));
  const VirtualDentry location = TRY(vfs::lookup_at(
      task, dirfd, path, vfs::WalkOptions{.follow_final = (flags & AT_SYMLINK_NOFOLLOW) == 0}));
  return done(vfs::change_owner(vfs::caller_of(task), location, uid, gid));
}

// The RLIMIT_FSIZE limit a truncation may not grow a file past.
uint64_t file_size_limit(kernel::Task& task) {
  const rlim_t limit = task.thread_group().limit(RLIMIT_FSIZE).rlim_cur;
  return limit == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit);
}

// A truncation's result, with SIGXFSZ sent for EFBIG, as Linux's
// inode_newsize_ok does.
Result<int64_t> size_limited(kernel::Task& task, Result<void> result) {
  if (!result.ok() && result.error().value == EFBIG) {
    kernel::send_signal_to_task(task, kernel::user_siginfo(SIGXFSZ, task));
  }
  return done(std::move(result));
}

// utimensat's tv_nsec rule: 0 to 999999999, UTIME_NOW or UTIME_OMIT.
bool valid_nanoseconds(long nanoseconds) {
  return nanoseconds == UTIME_NOW || nanoseconds == UTIME_OMIT ||
         (nanoseconds >= 0 && nanoseconds <= 999'999'999);
}

using Times = std::optional<std::pair<timespec, timespec>>;

// Linux's do_utimes once the times are checked: a NULL path with a dirfd
// other than AT_FDCWD names the dirfd's own file.
Result<int64_t> set_times_at(kernel::Task& task, int dirfd, GuestAddr path_addr, const Times& times,
                             uint32_t flags) {
  if (path_addr.is_null() && dirfd != AT_FDCWD) {
    if (flags != 0) {
      return Errno{EINVAL};
    }
    FileRef file = TRY(vfs::io_file(task, dirfd));
    return done(vfs::set_times(vfs::caller_of(task), file->location(), times));
  }
  const std::string path = TRY(task.copy_in_path(path_addr, (flags & AT_EMPTY_PATH) != 0));
  const VirtualDentry location = TRY(vfs::lookup_at(
      task, dirfd, path, vfs::WalkOptions{.follow_final = (flags & AT_SYMLINK_NOFOLLOW) == 0}));
  return done(vfs::set_times(vfs::caller_of(task), location, times));
}

// futimesat(2) and utimes(2): two timevals, whose tv_usec must be 0 to
// 999999. The check comes before the conversion to nanoseconds, so that
// UTIME_NOW and UTIME_OMIT, which only utimensat takes, are EINVAL here.
Result<int64_t> set_times_from_timevals(kernel::Task& task, int dirfd, GuestAddr path_addr,
                                        GuestAddr times_addr) {
  Times times;
  if (!times_addr.is_null()) {
    const auto copied = TRY(task.copy_in<TimevalPair>(times_addr));
    for (const timeval& time : copied) {
      if (time.tv_usec < 0 || time.tv_usec >= 1'000'000) {
        return Errno{EINVAL};
      }
    }
    times = std::pair(timespec{.tv_sec = copied[0].tv_sec, .tv_nsec = copied[0].tv_usec * 1000},
                      timespec{.tv_sec = copied[1].tv_sec, .tv_nsec = copied[1].tv_usec * 1000});
  }
  return set_times_at(task, dirfd, path_addr, times, 0);
}

}  // namespace

// mkdir(2)
Result<int64_t> sys_mkdir(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const mode_t mode = args.u32(1);
  return mkdir_at(task, AT_FDCWD, path, mode);
}

// mkdirat(2)
Result<int64_t> sys_mkdirat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const mode_t mode = args.u32(2);
  return mkdir_at(task, dirfd, path, mode);
}

// mknod(2)
Result<int64_t> sys_mknod(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const mode_t mode = args.u32(1);
  const dev_t device = args.u32(2);
  return mknod_at(task, AT_FDCWD, path, mode, device);
}

// mknodat(2)
Result<int64_t> sys_mknodat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const mode_t mode = args.u32(2);
  const dev_t device = args.u32(3);
  return mknod_at(task, dirfd, path, mode, device);
}

// rmdir(2)
Result<int64_t> sys_rmdir(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  return unlink_at(task, AT_FDCWD, path, AT_REMOVEDIR);
}

// unlink(2)
Result<int64_t> sys_unlink(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  return unlink_at(task, AT_FDCWD, path, 0);
}

// unlinkat(2): AT_REMOVEDIR makes it rmdir.
Result<int64_t> sys_unlinkat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const uint32_t flags = args.u32(2);
  return unlink_at(task, dirfd, path, flags);
}

// rename(2)
Result<int64_t> sys_rename(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr old_path = args.addr(0);
  const GuestAddr new_path = args.addr(1);
  return rename_at(task, AT_FDCWD, old_path, AT_FDCWD, new_path, 0);
}

// renameat(2)
Result<int64_t> sys_renameat(kernel::Task& task, const SyscallArgs& args) {
  const int old_dirfd = args.fd(0);
  const GuestAddr old_path = args.addr(1);
  const int new_dirfd = args.fd(2);
  const GuestAddr new_path = args.addr(3);
  return rename_at(task, old_dirfd, old_path, new_dirfd, new_path, 0);
}

// renameat2(2): RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT.
Result<int64_t> sys_renameat2(kernel::Task& task, const SyscallArgs& args) {
  const int old_dirfd = args.fd(0);
  const GuestAddr old_path = args.addr(1);
  const int new_dirfd = args.fd(2);
  const GuestAddr new_path = args.addr(3);
  const uint32_t flags = args.u32(4);
  return rename_at(task, old_dirfd, old_path, new_dirfd, new_path, flags);
}

// link(2): never follows a final symlink in the old path.
Result<int64_t> sys_link(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr old_path = args.addr(0);
  const GuestAddr new_path = args.addr(1);
  return link_at(task, AT_FDCWD, old_path, AT_FDCWD, new_path, 0);
}

// linkat(2): AT_SYMLINK_FOLLOW and AT_EMPTY_PATH.
Result<int64_t> sys_linkat(kernel::Task& task, const SyscallArgs& args) {
  const int old_dirfd = args.fd(0);
  const GuestAddr old_path = args.addr(1);
  const int new_dirfd = args.fd(2);
  const GuestAddr new_path = args.addr(3);
  const uint32_t flags = args.u32(4);
  return link_at(task, old_dirfd, old_path, new_dirfd, new_path, flags);
}

// symlink(2)
Result<int64_t> sys_symlink(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr target = args.addr(0);
  const GuestAddr path = args.addr(1);
  return symlink_at(task, target, AT_FDCWD, path);
}

// symlinkat(2)
Result<int64_t> sys_symlinkat(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr target = args.addr(0);
  const int dirfd = args.fd(1);
  const GuestAddr path = args.addr(2);
  return symlink_at(task, target, dirfd, path);
}

// chmod(2)
Result<int64_t> sys_chmod(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const mode_t mode = args.u32(1);
  return chmod_at(task, AT_FDCWD, path, mode, 0);
}

// fchmod(2): O_PATH descriptors are EBADF.
Result<int64_t> sys_fchmod(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const mode_t mode = args.u32(1);
  FileRef file = TRY(vfs::io_file(task, fd));
  return done(vfs::change_mode(vfs::caller_of(task), file->location(), mode));
}

// fchmodat(2): the system call has no flags argument and always follows.
Result<int64_t> sys_fchmodat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const mode_t mode = args.u32(2);
  return chmod_at(task, dirfd, path, mode, 0);
}

// fchmodat2(2): fchmodat with AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH.
Result<int64_t> sys_fchmodat2(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const mode_t mode = args.u32(2);
  const uint32_t flags = args.u32(3);
  return chmod_at(task, dirfd, path, mode, flags);
}

// chown(2)
Result<int64_t> sys_chown(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const uid_t uid = args.u32(1);
  const gid_t gid = args.u32(2);
  return chown_at(task, AT_FDCWD, path, uid, gid, 0);
}

// lchown(2)
Result<int64_t> sys_lchown(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const uid_t uid = args.u32(1);
  const gid_t gid = args.u32(2);
  return chown_at(task, AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

// fchown(2): O_PATH descriptors are EBADF.
Result<int64_t> sys_fchown(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const uid_t uid = args.u32(1);
  const gid_t gid = args.u32(2);
  FileRef file = TRY(vfs::io_file(task, fd));
  return done(vfs::change_owner(vfs::caller_of(task), file->location(), uid, gid));
}

// fchownat(2)
Result<int64_t> sys_fchownat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const uid_t uid = args.u32(2);
  const gid_t gid = args.u32(3);
  const uint32_t flags = args.u32(4);
  return chown_at(task, dirfd, path, uid, gid, flags);
}

// truncate(2): EINVAL for a negative length before the path is looked at.
Result<int64_t> sys_truncate(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path_addr = args.addr(0);
  const int64_t length = args.i64(1);
  if (length < 0) {
    return Errno{EINVAL};
  }
  const std::string path = TRY(task.copy_in_path(path_addr));
  const VirtualDentry location = TRY(vfs::lookup_at(task, AT_FDCWD, path));
  return size_limited(task, vfs::truncate_location(vfs::caller_of(task), location, length,
                                                   file_size_limit(task)));
}

// ftruncate(2): EINVAL unless `fd` is a regular file open for writing.
Result<int64_t> sys_ftruncate(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const int64_t length = args.i64(1);
  if (length < 0) {
    return Errno{EINVAL};
  }
  FileRef file = TRY(vfs::io_file(task, fd));
  if (!file->inode().is_regular() || !file->writable()) {
    return Errno{EINVAL};
  }
  return size_limited(
      task, vfs::truncate_file(vfs::caller_of(task), *file, length, file_size_limit(task)));
}

// utimensat(2). Two UTIME_OMIT times succeed without looking at the path,
// as Linux does.
Result<int64_t> sys_utimensat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path_addr = args.addr(1);
  const GuestAddr times_addr = args.addr(2);
  const uint32_t flags = args.u32(3);

  Times times;
  if (!times_addr.is_null()) {
    const auto copied = TRY(task.copy_in<TimePair>(times_addr));
    if (copied[0].tv_nsec == UTIME_OMIT && copied[1].tv_nsec == UTIME_OMIT) {
      return 0;
    }
    if (!valid_nanoseconds(copied[0].tv_nsec) || !valid_nanoseconds(copied[1].tv_nsec)) {
      return Errno{EINVAL};
    }
    times = std::pair(copied[0], copied[1]);
  }
  if ((flags & ~static_cast<uint32_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) {
    return Errno{EINVAL};
  }
  return set_times_at(task, dirfd, path_addr, times, flags);
}

// utime(2): whole seconds from a struct utimbuf, or now for a NULL one.
Result<int64_t> sys_utime(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path_addr = args.addr(0);
  const GuestAddr times_addr = args.addr(1);

  Times times;
  if (!times_addr.is_null()) {
    const auto copied = TRY(task.copy_in<utimbuf>(times_addr));
    times = std::pair(timespec{.tv_sec = copied.actime, .tv_nsec = 0},
                      timespec{.tv_sec = copied.modtime, .tv_nsec = 0});
  }
  return set_times_at(task, AT_FDCWD, path_addr, times, 0);
}

// utimes(2)
Result<int64_t> sys_utimes(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path_addr = args.addr(0);
  const GuestAddr times_addr = args.addr(1);
  return set_times_from_timevals(task, AT_FDCWD, path_addr, times_addr);
}

// futimesat(2): a NULL path names the dirfd's file, as in utimensat.
Result<int64_t> sys_futimesat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path_addr = args.addr(1);
  const GuestAddr times_addr = args.addr(2);
  return set_times_from_timevals(task, dirfd, path_addr, times_addr);
}

}  // namespace ward::syscalls
