// open, openat, openat2, creat, close and close_range.
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/open.h"
#include "sentry/vfs/open_flags.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/task_paths.h"
#include "syscalls/args.h"
#include "syscalls/handlers_file.h"

namespace ward::syscalls {
namespace {

using vfs::FileRef;

// Permission bits and set-id bits: Linux's S_IALLUGO.
constexpr uint64_t kModeBits = 07777;

// The smallest struct open_how (OPEN_HOW_SIZE_VER0) and the largest size
// openat2 accepts, one page.
constexpr uint64_t kOpenHowMinBytes = 24;
constexpr uint64_t kOpenHowMaxBytes = 4096;

constexpr uint64_t kValidResolveFlags = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS |
                                        RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT |
                                        RESOLVE_CACHED;

bool will_create(uint64_t flags) {
  return (flags & O_CREAT) != 0 || (flags & vfs::kOpenTmpfileBit) != 0;
}

// Linux's build_open_flags: EINVAL for flags, mode or resolve bits that do
// not fit together. open(2) has already dropped what it ignores; openat2(2)
// passes everything through.
Result<void> check_open_how(const open_how& how) {
  const uint64_t flags = how.flags & ~static_cast<uint64_t>(O_CLOEXEC);
  if ((flags & ~vfs::kValidOpenFlags) != 0) {
    return Errno{EINVAL};
  }
  if ((how.resolve & ~kValidResolveFlags) != 0) {
    return Errno{EINVAL};
  }
  if ((how.resolve & RESOLVE_BENEATH) != 0 && (how.resolve & RESOLVE_IN_ROOT) != 0) {
    return Errno{EINVAL};
  }
  if (will_create(flags) ? (how.mode & ~kModeBits) != 0 : how.mode != 0) {
    return Errno{EINVAL};
  }
  if ((flags & (O_DIRECTORY | O_CREAT)) == (O_DIRECTORY | O_CREAT)) {
    return Errno{EINVAL};
  }
  if ((flags & vfs::kOpenTmpfileBit) != 0) {
    if ((flags & O_DIRECTORY) == 0 || (vfs::open_access_mode(flags) & vfs::kMayWrite) == 0) {
      return Errno{EINVAL};
    }
  }
  if ((flags & O_PATH) != 0 && (flags & ~vfs::kPathOpenFlags) != 0) {
    return Errno{EINVAL};
  }
  // NOTE: the sentry cannot promise a walk that never waits, so a cached
  // lookup always misses, which Linux allows; callers retry without it.
  if ((how.resolve & RESOLVE_CACHED) != 0) {
    return Errno{EAGAIN};
  }
  return ok();
}

// Opens the file for an already checked open_how and installs it.
Result<int64_t> open_file(kernel::Task& task, int dirfd, GuestAddr path_addr, open_how how) {
  TRY(check_open_how(how));
  const std::string path = TRY(task.copy_in_path(path_addr));
  // Linux takes the descriptor before the walk, so a full table is EMFILE
  // whatever the path.
  TRY(task.fdtable().check_free_slot());

  uint32_t flags = static_cast<uint32_t>(how.flags);
  if ((flags & vfs::kOpenSyncBit) != 0) {
    flags |= O_DSYNC;
  }
  vfs::OpenRequest request{
      .flags = flags,
      .mode = static_cast<mode_t>(how.mode),
      .resolve = {.no_xdev = (how.resolve & RESOLVE_NO_XDEV) != 0,
                  .no_magic_links = (how.resolve & RESOLVE_NO_MAGICLINKS) != 0,
                  .no_symlinks = (how.resolve & RESOLVE_NO_SYMLINKS) != 0,
                  .beneath = (how.resolve & RESOLVE_BENEATH) != 0,
                  .in_root = (how.resolve & RESOLVE_IN_ROOT) != 0},
  };
  const vfs::VirtualDentry start = TRY(vfs::start_for(task, dirfd, path));
  FileRef file = TRY(vfs::open_path(vfs::caller_of(task), start, path, request));
  const bool close_on_exec = (flags & O_CLOEXEC) != 0;
  return TRY(task.fdtable().install(std::move(file), close_on_exec));
}

// The open_how of open(2) and openat(2): unknown flags dropped, O_PATH
// masking the rest, O_LARGEFILE forced as on every 64-bit kernel, and the
// mode kept only for calls that create.
open_how legacy_open_how(uint32_t flags, uint32_t mode) {
  open_how how{};
  how.flags = flags & vfs::kValidOpenFlags;
  if ((how.flags & O_PATH) != 0) {
    how.flags &= vfs::kPathOpenFlags;
  } else {
    how.flags |= vfs::kOpenLargefile;
  }
  how.mode = will_create(how.flags) ? (mode & kModeBits) : 0;
  return how;
}

}  // namespace

// open(2): opens `path` relative to the working directory.
Result<int64_t> sys_open(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const uint32_t flags = args.u32(1);
  const uint32_t mode = args.u32(2);
  return open_file(task, AT_FDCWD, path, legacy_open_how(flags, mode));
}

// openat(2): opens `path` relative to `dirfd`.
Result<int64_t> sys_openat(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const uint32_t flags = args.u32(2);
  const uint32_t mode = args.u32(3);
  return open_file(task, dirfd, path, legacy_open_how(flags, mode));
}

// openat2(2): openat with every flag checked and RESOLVE_* restrictions.
Result<int64_t> sys_openat2(kernel::Task& task, const SyscallArgs& args) {
  const int dirfd = args.fd(0);
  const GuestAddr path = args.addr(1);
  const GuestAddr how_addr = args.addr(2);
  const uint64_t how_bytes = args.u64(3);

  if (how_bytes < kOpenHowMinBytes) {
    return Errno{EINVAL};
  }
  if (how_bytes > kOpenHowMaxBytes) {
    return Errno{E2BIG};
  }
  // copy_struct_from_user: a larger struct from a newer libc is accepted
  // only when its extra bytes are zero.
  std::vector<std::byte> raw(how_bytes);
  TRY(task.copy_in(how_addr, raw));
  const size_t known_bytes = std::min<size_t>(how_bytes, sizeof(open_how));
  const bool extra_bytes_zero =
      std::all_of(raw.begin() + static_cast<ptrdiff_t>(known_bytes), raw.end(),
                  [](std::byte b) { return b == std::byte{0}; });
  if (!extra_bytes_zero) {
    return Errno{E2BIG};
  }
  open_how how{};
  std::memcpy(&how, raw.data(), known_bytes);
  if ((how.flags & O_PATH) == 0) {
    how.flags |= vfs::kOpenLargefile;
  }
  return open_file(task, dirfd, path, how);
}

// creat(2): open(path, O_CREAT | O_WRONLY | O_TRUNC, mode).
Result<int64_t> sys_creat(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr path = args.addr(0);
  const uint32_t mode = args.u32(1);
  return open_file(task, AT_FDCWD, path, legacy_open_how(O_CREAT | O_WRONLY | O_TRUNC, mode));
}

// close(2): EBADF when `fd` is not open.
Result<int64_t> sys_close(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  FileRef closed = TRY(task.fdtable().remove(fd));
  return 0;
}

// close_range(2): closes, or with CLOSE_RANGE_CLOEXEC marks close-on-exec,
// every descriptor in [first, last].
Result<int64_t> sys_close_range(kernel::Task& task, const SyscallArgs& args) {
  const uint32_t first = args.u32(0);
  const uint32_t last = args.u32(1);
  const uint32_t flags = args.u32(2);

  if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) != 0) {
    return Errno{EINVAL};
  }
  if (first > last) {
    return Errno{EINVAL};
  }
  // TODO: CLOSE_RANGE_UNSHARE must give the task a private copy of a table
  // it shares with other threads, which needs a way to replace the task's
  // table. An unshared table needs no copy.
  if ((flags & CLOSE_RANGE_UNSHARE) != 0 && task.fdtable_ref().use_count() > 1) {
    task.log(spdlog::level::warn, "CLOSE_RANGE_UNSHARE of a shared fd table is not supported");
    return Errno{EINVAL};
  }
  task.fdtable().close_range(first, last, (flags & CLOSE_RANGE_CLOEXEC) != 0);
  return 0;
}

}  // namespace ward::syscalls
