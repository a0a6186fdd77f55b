// mmap, munmap, mprotect, mremap, brk, madvise, msync and mincore.
#include <fcntl.h>
#include <sys/mman.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_mm.h"

namespace ward::syscalls {
namespace {

// Linux's MAP_UNINITIALIZED, which glibc's headers lack; a no-op outside
// kernels built for embedded systems without an MMU.
constexpr int kMapUninitialized = 0x4000000;

// MAP_* flags Linux accepts under MAP_SHARED_VALIDATE; anything else there
// is EOPNOTSUPP. MAP_SYNC is left out: it needs a DAX file, which no ward
// filesystem is.
constexpr int kValidatedMapFlags = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS |
                                   MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED |
                                   MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK |
                                   MAP_HUGETLB | MAP_FIXED_NOREPLACE | MAP_32BIT |
                                   kMapUninitialized;

// Checks an mmap of `file` as do_mmap does, in its order.
Result<void> check_file_mapping(const vfs::FileDescription& file, int map_type, int prot) {
  bool readable = (file.flags() & O_ACCMODE) != O_WRONLY;
  bool writable = (file.flags() & O_ACCMODE) != O_RDONLY;
  bool append = (file.flags() & O_APPEND) != 0;

  if (map_type == MAP_SHARED || map_type == MAP_SHARED_VALIDATE) {
    if ((prot & PROT_WRITE) != 0 && (!writable || append)) {
      return Errno{EACCES};
    }
  }
  if (!readable) {
    return Errno{EACCES};
  }
  return ok();
}

}  // namespace

// mmap(addr, length, prot, flags, fd, offset)
Result<int64_t> sys_mmap(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr addr = args.addr(0);
  uint64_t length = args.u64(1);
  int prot = args.i32(2);
  int flags = args.i32(3);
  int fd = args.fd(4);
  uint64_t offset = args.u64(5);

  if ((offset & (kPageSize - 1)) != 0) {
    return Errno{EINVAL};
  }
  bool anonymous = (flags & MAP_ANONYMOUS) != 0;
  vfs::FileRef file;
  if (!anonymous) {
    file = TRY(task.fdtable().get(fd));
    if (file->path_only()) {
      return Errno{EBADF};  // an O_PATH fd is not a file to map
    }
  }
  if (length == 0) {
    return Errno{EINVAL};
  }
  auto rounded = page_round_up(length);
  if (!rounded) {
    return Errno{ENOMEM};
  }
  if (!anonymous && offset + *rounded < offset) {
    return Errno{EOVERFLOW};
  }

  int map_type = flags & MAP_TYPE;
  if (map_type != MAP_SHARED && map_type != MAP_PRIVATE && map_type != MAP_SHARED_VALIDATE) {
    return Errno{EINVAL};
  }
  if (map_type == MAP_SHARED_VALIDATE && (flags & ~kValidatedMapFlags) != 0) {
    return Errno{EOPNOTSUPP};
  }
  if ((flags & MAP_HUGETLB) != 0) {
    // NOTE: huge pages are not supported. Linux gives ENOMEM too when no
    // huge page pool is configured, which is the common case.
    record_gap(task, "MAP_HUGETLB");
    return Errno{ENOMEM};
  }

  mm::MapRequest request{
      .hint = addr,
      .length = *rounded,
      .prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
      .flags = (flags & ~MAP_TYPE) | (map_type == MAP_PRIVATE ? MAP_PRIVATE : MAP_SHARED),
      .fixed = (flags & MAP_FIXED) != 0,
      .fixed_noreplace = (flags & MAP_FIXED_NOREPLACE) != 0,
  };

  if (!anonymous) {
    TRY(check_file_mapping(*file, map_type, prot));
    std::optional<int> host_fd = file->host_fd_for_mapping();
    if (!host_fd) {
      return Errno{ENODEV};
    }
    struct stat status = TRY(file->stat());
    request.host_fd = *host_fd;
    request.file_offset = offset;
    request.file = std::make_shared<mm::MappedFileInfo>(mm::MappedFileInfo{
        .path = file->display_path(), .device = status.st_dev, .inode = status.st_ino});
  }

  GuestAddr mapped = TRY(task.mm().map(request));
  return static_cast<int64_t>(mapped.value());
}

// munmap(addr, length)
Result<int64_t> sys_munmap(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr addr = args.addr(0);
  uint64_t length = args.u64(1);
  TRY(task.mm().unmap(addr, length));
  return 0;
}

// mprotect(addr, length, prot)
Result<int64_t> sys_mprotect(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr addr = args.addr(0);
  uint64_t length = args.u64(1);
  int prot = args.i32(2);
  TRY(task.mm().protect(addr, length, prot));
  return 0;
}

// mremap(old_address, old_size, new_size, flags, new_address)
Result<int64_t> sys_mremap(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr old_addr = args.addr(0);
  uint64_t old_length = args.u64(1);
  uint64_t new_length = args.u64(2);
  int flags = args.i32(3);
  GuestAddr new_addr = args.addr(4);
  GuestAddr moved = TRY(task.mm().remap(old_addr, old_length, new_length, flags, new_addr));
  return static_cast<int64_t>(moved.value());
}

// brk(addr): never fails; an impossible request returns the current break.
Result<int64_t> sys_brk(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr requested = args.addr(0);
  return static_cast<int64_t>(task.mm().set_brk(requested).value());
}

// madvise(addr, length, advice)
Result<int64_t> sys_madvise(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr addr = args.addr(0);
  uint64_t length = args.u64(1);
  int advice = args.i32(2);
  TRY(task.mm().advise(addr, length, advice));
  return 0;
}

// msync(addr, length, flags)
Result<int64_t> sys_msync(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr addr = args.addr(0);
  uint64_t length = args.u64(1);
  int flags = args.i32(2);
  TRY(task.mm().sync(addr, length, flags));
  return 0;
}

// mincore(addr, length, vec)
Result<int64_t> sys_mincore(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr addr = args.addr(0);
  uint64_t length = args.u64(1);
  GuestAddr vec = args.addr(2);
  TRY(task.mm().residency(addr, length, vec));
  return 0;
}

}  // namespace ward::syscalls
