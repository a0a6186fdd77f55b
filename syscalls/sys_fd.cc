// dup, dup2, dup3, fcntl, flock and ioctl.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "sentry/fs/pipe.h"
#include "sentry/kernel/task.h"
#include "sentry/net/interface_ioctl.h"
#include "sentry/net/socket.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/locks.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_file.h"

namespace ward::syscalls {
namespace {

using vfs::FileRef;

// fcntl commands newer than this libc's headers, with Linux's values.
constexpr uint32_t kFDupfdQuery = 1027;
constexpr uint32_t kFCreatedQuery = 1028;

// flock(2)'s LOCK_MAND, which this libc's headers may lack.
constexpr uint32_t kLockMand = 32;

// The x86_64 ioctl numbers of the requests every file takes.
constexpr uint32_t kFionbio = 0x5421;
constexpr uint32_t kFionread = 0x541B;
constexpr uint32_t kFionclex = 0x5450;
constexpr uint32_t kFioclex = 0x5451;
constexpr uint32_t kFioasync = 0x5452;
constexpr uint32_t kFioqsize = 0x5460;

// The fcntl commands an O_PATH descriptor accepts (Linux's
// check_fcntl_cmd); any other is EBADF on it.
bool allowed_on_path_file(uint32_t command) {
  switch (command) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
    case F_GETFD:
    case F_SETFD:
    case F_GETFL:
    case kFDupfdQuery:
    case kFCreatedQuery:
      return true;
    default:
      return false;
  }
}

// F_DUPFD and F_DUPFD_CLOEXEC: the lowest free descriptor from `lowest_fd`,
// which must lie below RLIMIT_NOFILE (EINVAL).
Result<int64_t> duplicate_from(kernel::Task& task, FileRef file, uint32_t lowest_fd,
                               bool close_on_exec) {
  if (lowest_fd >= static_cast<uint32_t>(task.fdtable().max_fds())) {
    return Errno{EINVAL};
  }
  return TRY(task.fdtable().install(std::move(file), close_on_exec, static_cast<int>(lowest_fd)));
}

// F_SETFL, in the order of Linux's setfl.
Result<int64_t> set_status_flags(kernel::Task& task, vfs::FileDescription& file, uint32_t flags) {
  if ((flags & O_NOATIME) != 0 && (file.flags() & O_NOATIME) == 0) {
    const struct stat st = TRY(file.stat());
    const auto& creds = task.creds();
    if (creds.fs_uid != st.st_uid && creds.fs_uid != 0) {
      return Errno{EPERM};
    }
  }
  // Turning O_DIRECT on is refused but on a pipe or FIFO, where it selects
  // packet mode: no other ward file does direct I/O. A file opened with it
  // keeps it.
  if ((flags & O_DIRECT) != 0 && (file.flags() & O_DIRECT) == 0 && vfs::pipe_of(file) == nullptr) {
    return Errno{EINVAL};
  }
  // NOTE: SIGIO delivery does not exist yet, so O_ASYNC is refused on the
  // files where Linux would send it; a regular file just keeps the flag,
  // as on Linux.
  if (((flags ^ file.flags()) & O_ASYNC) != 0 && file.stream()) {
    task.log(spdlog::level::warn, "O_ASYNC on a stream is not supported");
    return Errno{EINVAL};
  }
  file.set_status_flags(flags);
  return 0;
}

// The record lock commands: F_GETLK, F_SETLK, F_SETLKW and their OFD forms,
// which copy in a struct flock first (EFAULT) and F_GETLK ones copy it back.
Result<int64_t> record_lock_command(kernel::Task& task, int fd, const FileRef& file,
                                    uint32_t command, GuestAddr argument) {
  struct flock lock = TRY(task.copy_in<struct flock>(argument));
  const vfs::RecordLockCommand kind{
      .ofd = command == F_OFD_GETLK || command == F_OFD_SETLK || command == F_OFD_SETLKW,
      .wait = command == F_SETLKW || command == F_OFD_SETLKW};
  if (command == F_GETLK || command == F_OFD_GETLK) {
    TRY(vfs::test_record_lock(task, *file, kind, lock));
    TRY(task.copy_out(argument, lock));
    return 0;
  }
  TRY(vfs::set_record_lock(task, fd, file, kind, lock));
  return 0;
}

}  // namespace

// dup(2): O_PATH descriptors may be duplicated too.
Result<int64_t> sys_dup(kernel::Task& task, const SyscallArgs& args) {
  const int old_fd = args.fd(0);
  FileRef file = TRY(task.fdtable().get(old_fd));
  return TRY(task.fdtable().install(std::move(file), /*close_on_exec=*/false));
}

// dup3(2)
Result<int64_t> sys_dup3(kernel::Task& task, const SyscallArgs& args) {
  const int old_fd = args.fd(0);
  const uint32_t new_fd = args.u32(1);
  const uint32_t flags = args.u32(2);

  if ((flags & ~static_cast<uint32_t>(O_CLOEXEC)) != 0) {
    return Errno{EINVAL};
  }
  if (static_cast<uint32_t>(old_fd) == new_fd) {
    return Errno{EINVAL};
  }
  if (new_fd >= static_cast<uint32_t>(task.fdtable().max_fds())) {
    return Errno{EBADF};
  }
  FileRef file = TRY(task.fdtable().get(old_fd));
  TRY(task.fdtable().install_at(static_cast<int>(new_fd), std::move(file),
                                (flags & O_CLOEXEC) != 0));
  return static_cast<int64_t>(new_fd);
}

// dup2(2): onto itself it only checks that `old_fd` is open.
Result<int64_t> sys_dup2(kernel::Task& task, const SyscallArgs& args) {
  const int old_fd = args.fd(0);
  const int new_fd = args.fd(1);
  if (old_fd == new_fd) {
    TRY(task.fdtable().get(old_fd));
    return new_fd;
  }
  SyscallArgs dup3_args = args;
  dup3_args.raw[2] = 0;
  return sys_dup3(task, dup3_args);
}

// fcntl(2): descriptor flags, status flags, duplication, record and OFD
// locks, F_GETPIPE_SZ, F_SETPIPE_SZ and the descriptor queries. Leases,
// owners and signals are EINVAL, the errno Linux returns for a command it
// lacks.
Result<int64_t> sys_fcntl(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const uint32_t command = args.u32(1);
  const uint64_t argument = args.u64(2);

  FileRef file = TRY(task.fdtable().get(fd));
  if (file->path_only() && !allowed_on_path_file(command)) {
    return Errno{EBADF};
  }

  if (auto sealed = fcntl_seals(*file, command, argument)) {
    return *sealed;
  }
  switch (command) {
    case F_DUPFD:
      return duplicate_from(task, std::move(file), static_cast<uint32_t>(argument), false);
    case F_DUPFD_CLOEXEC:
      return duplicate_from(task, std::move(file), static_cast<uint32_t>(argument), true);
    case F_GETFD:
      return TRY(task.fdtable().close_on_exec_flag(fd)) ? FD_CLOEXEC : 0;
    case F_SETFD:
      TRY(task.fdtable().set_close_on_exec_flag(fd, (argument & FD_CLOEXEC) != 0));
      return 0;
    case F_GETFL:
      return file->flags();
    case F_SETFL:
      return set_status_flags(task, *file, static_cast<uint32_t>(argument));
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return record_lock_command(task, fd, file, command, args.addr(2));
    case F_GETPIPE_SZ: {
      auto capacity = vfs::pipe_capacity(*file);
      if (!capacity) {
        return Errno{EBADF};
      }
      return static_cast<int64_t>(*capacity);
    }
    case F_SETPIPE_SZ: {
      vfs::Pipe* pipe = vfs::pipe_of(*file);
      if (pipe == nullptr) {
        return Errno{EBADF};
      }
      // Linux takes the size as an unsigned int.
      const auto size_bytes = static_cast<uint32_t>(argument);
      return static_cast<int64_t>(TRY(vfs::set_pipe_capacity(*pipe, size_bytes, task.creds())));
    }
    case kFDupfdQuery: {
      FileRef other = TRY(task.fdtable().get(static_cast<int>(argument)));
      return other == file ? 1 : 0;
    }
    case kFCreatedQuery:
      // No ward filesystem creates files yet, so no open created one.
      return 0;
    default:
      task.log(spdlog::level::warn, "fcntl command {} is not supported", command);
      return Errno{EINVAL};
  }
}

// flock(2): LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB not to wait. The
// checks come in Linux's order: the command before the descriptor.
Result<int64_t> sys_flock(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const uint32_t operation = args.u32(1);

  // Linux ignores LOCK_MAND, which never worked, and succeeds.
  if ((operation & kLockMand) != 0) {
    task.log(spdlog::level::warn, "flock LOCK_MAND is ignored, as Linux ignores it");
    return 0;
  }
  short type = F_UNLCK;
  switch (operation & ~static_cast<uint32_t>(LOCK_NB)) {
    case LOCK_SH:
      type = F_RDLCK;
      break;
    case LOCK_EX:
      type = F_WRLCK;
      break;
    case LOCK_UN:
      type = F_UNLCK;
      break;
    default:
      return Errno{EINVAL};
  }

  FileRef file = TRY(task.fdtable().get(fd));
  if (file->path_only()) {
    return Errno{EBADF};
  }
  // A lock needs a file opened for reading or writing; O_ACCMODE 3 is
  // neither.
  if (type != F_UNLCK && !file->readable() && !file->writable()) {
    return Errno{EBADF};
  }
  TRY(vfs::set_flock(task, *file, type, (operation & LOCK_NB) == 0));
  return 0;
}

// ioctl(2): the requests every file takes, then the file's own.
Result<int64_t> sys_ioctl(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const uint32_t request = args.u32(1);
  const GuestAddr argument = args.addr(2);

  FileRef file = TRY(vfs::io_file(task, fd));
  switch (request) {
    case kFioclex:
      TRY(task.fdtable().set_close_on_exec_flag(fd, true));
      return 0;
    case kFionclex:
      TRY(task.fdtable().set_close_on_exec_flag(fd, false));
      return 0;
    case kFionbio: {
      const int on = TRY(task.copy_in<int>(argument));
      const uint32_t flags = on != 0 ? file->flags() | O_NONBLOCK : file->flags() & ~O_NONBLOCK;
      file->set_status_flags(flags);
      return 0;
    }
    case kFioasync: {
      const int on = TRY(task.copy_in<int>(argument));
      if ((on != 0) == ((file->flags() & O_ASYNC) != 0)) {
        return 0;
      }
      // NOTE: no ward file can send SIGIO yet; Linux answers ENOTTY for a
      // file without that ability.
      if (file->stream()) {
        record_ioctl_gap(task, request, ENOTTY);
      }
      return Errno{ENOTTY};
    }
    case kFioqsize: {
      const struct stat st = TRY(file->stat());
      if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        return Errno{ENOTTY};
      }
      TRY(task.copy_out(argument, static_cast<int64_t>(st.st_size)));
      return 0;
    }
    case kFionread: {
      // A regular file answers with the bytes after the offset; other files
      // answer for themselves.
      if (!file->inode().is_regular() || file->stream()) {
        break;
      }
      const struct stat st = TRY(file->stat());
      const int remaining = static_cast<int>(st.st_size - file->offset());
      TRY(task.copy_out(argument, remaining));
      return 0;
    }
    default:
      break;
  }
  // Linux serves the interface requests on a socket of any family.
  if (net::Socket* socket = net::as_socket(*file);
      socket != nullptr && net::is_interface_ioctl(socket->family(), request)) {
    return net::interface_ioctl(task, request, argument);
  }
  return file->ioctl(task, request, argument);
}

}  // namespace ward::syscalls
