#include "sentry/kernel/ipc/shm.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/memory_manager.h"

namespace ward::kernel::ipc {
namespace {

// The device /proc/pid/maps shows for a segment: Linux's internal shm
// mount is the first anonymous device, 00:01. The inode is the shmid.
const dev_t kShmDevice = makedev(0, 1);

// Linux's SHMLBA on x86-64: the attach address alignment, one page.
constexpr uint64_t kShmLowBoundary = kPageSize;

// Finds the segment whose mapping object `file` is: a VMA of an
// attachment. Null for any other VMA.
std::shared_ptr<ShmSegment> segment_of(IpcNamespace& ipc, const mm::MappedFileInfo* file) {
  if (file == nullptr || file->device != kShmDevice) {
    return nullptr;
  }
  auto segment = ipc.shm().find_id(static_cast<int>(file->inode));
  if (!segment.ok()) {
    return nullptr;
  }
  return (*segment)->mapping_owner() == file ? *segment : nullptr;
}

}  // namespace

// ---------------------------------------------------------------------------
// ShmMapping

ShmMapping::ShmMapping(std::shared_ptr<ShmSegment> segment, std::weak_ptr<IpcNamespace> ipc)
    : MappedFileInfo{.path = fmt::format("/SYSV{:08x} (deleted)",
                                         static_cast<uint32_t>(segment->perm.key)),
                     .device = kShmDevice,
                     .inode = static_cast<uint64_t>(segment->perm.id)},
      segment_(std::move(segment)),
      ipc_(std::move(ipc)) {}

ShmMapping::~ShmMapping() {
  // The last VMA of the last attachment is gone.
  segment_->detach_time = ipc_now_seconds();
  if ((segment_->perm.mode & kShmDest) == 0) {
    return;
  }
  if (std::shared_ptr<IpcNamespace> ipc = ipc_.lock()) {
    shm_remove(*ipc, segment_);
  }
}

// ---------------------------------------------------------------------------
// ShmSegment

ShmSegment::ShmSegment(IpcPermission perm_in, uint64_t size_bytes, UniqueFd memfd, pid_t creator)
    : creator_pid(creator), size_bytes_(size_bytes), memfd_(std::move(memfd)) {
  perm = perm_in;
  change_time = ipc_now_seconds();
}

uint64_t ShmSegment::pages() const { return (size_bytes_ + kPageSize - 1) / kPageSize; }

std::shared_ptr<ShmMapping> ShmSegment::mapping(const std::shared_ptr<ShmSegment>& self,
                                                const std::weak_ptr<IpcNamespace>& ipc) {
  std::shared_ptr<ShmMapping> current = mapping_.lock();
  if (!current) {
    current = std::make_shared<ShmMapping>(self, ipc);
    mapping_ = current;
  }
  return current;
}

const mm::MappedFileInfo* ShmSegment::mapping_owner() const {
  std::shared_ptr<ShmMapping> current = mapping_.lock();
  return current.get();
}

Result<int> ShmSegment::read_only_memfd() {
  if (!read_only_memfd_.valid()) {
    const std::string path = fmt::format("/proc/self/fd/{}", memfd_.get());
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return Errno{errno};
    }
    read_only_memfd_.reset(fd);
  }
  return read_only_memfd_.get();
}

uint64_t ShmSegment::resident_bytes() const {
  struct stat status {};
  if (fstat(memfd_.get(), &status) != 0) {
    return 0;
  }
  return static_cast<uint64_t>(status.st_blocks) * 512;
}

// ---------------------------------------------------------------------------
// The calls

Result<int> shm_get(Task& task, int32_t key, uint64_t size_bytes, int flags) {
  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());

  auto create = [&]() -> Result<int> {
    // Linux's newseg, in its order.
    if (size_bytes < kShmMinBytes || size_bytes > kShmMaxBytes) {
      return Errno{EINVAL};
    }
    const uint64_t pages = (size_bytes + kPageSize - 1) / kPageSize;
    if (pages * kPageSize < size_bytes) {
      return Errno{ENOSPC};
    }
    if (ipc->shm_total_pages + pages < ipc->shm_total_pages ||
        ipc->shm_total_pages + pages > kShmAllPages) {
      return Errno{ENOSPC};
    }
    if ((flags & SHM_HUGETLB) != 0) {
      // NOTE: the sandbox has no huge pages. Linux fails the same way when
      // no huge page pool is configured, the common case.
      return Errno{ENOMEM};
    }
    if (ipc->shm().in_use() >= kShmMaxSegments) {
      return Errno{ENOSPC};
    }

    const int fd = memfd_create("ward-sysv-shm", MFD_CLOEXEC);
    if (fd < 0) {
      return Errno{errno};
    }
    UniqueFd memfd(fd);
    if (ftruncate(memfd.get(), static_cast<off_t>(size_bytes)) != 0) {
      return Errno{errno == EFBIG || errno == EINVAL ? ENOSPC : errno};
    }

    auto segment = std::make_shared<ShmSegment>(new_ipc_permission(key, flags, task.creds()),
                                                size_bytes, std::move(memfd), task.pid());
    const int id = TRY(ipc->shm().add(segment, kShmMaxSegments));
    ipc->shm_total_pages += pages;
    return id;
  };
  auto more_checks = [&](const ShmSegment& existing) -> Result<void> {
    if (existing.size_bytes() < size_bytes) {
      return Errno{EINVAL};
    }
    return ok();
  };
  return ipc_get<ShmSegment>(ipc->shm(), key, flags, task.creds(), create, more_checks);
}

Result<GuestAddr> shm_attach(Task& task, int shmid, GuestAddr addr, int flags) {
  // Linux's do_shmat, in its order.
  if (shmid < 0) {
    return Errno{EINVAL};
  }
  bool fixed = false;
  if (!addr.is_null()) {
    if ((addr.value() & (kShmLowBoundary - 1)) != 0) {
      if ((flags & SHM_RND) == 0) {
        return Errno{EINVAL};
      }
      addr = GuestAddr(addr.value() & ~(kShmLowBoundary - 1));
      // Rounding down must not reach address 0 for SHM_REMAP.
      if (addr.is_null() && (flags & SHM_REMAP) != 0) {
        return Errno{EINVAL};
      }
    }
    fixed = true;
  } else if ((flags & SHM_REMAP) != 0) {
    return Errno{EINVAL};
  }

  int prot = PROT_READ;
  int access = S_IRUSR | S_IRGRP | S_IROTH;
  if ((flags & SHM_RDONLY) == 0) {
    prot |= PROT_WRITE;
    access |= S_IWUSR | S_IWGRP | S_IWOTH;
  }
  if ((flags & SHM_EXEC) != 0) {
    prot |= PROT_EXEC;
    access |= S_IXUSR | S_IXGRP | S_IXOTH;
  }

  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());
  std::shared_ptr<ShmSegment> segment = TRY(ipc->shm().find_id(shmid));
  if (!ipc_permitted(segment->perm, task.creds(), access)) {
    return Errno{EACCES};
  }

  const uint64_t length = (segment->size_bytes() + kPageSize - 1) & ~(kPageSize - 1);
  if (fixed && (flags & SHM_REMAP) == 0) {
    // Without SHM_REMAP the range must be free.
    if (addr.value() + segment->size_bytes() < addr.value()) {
      return Errno{EINVAL};
    }
    for (const mm::Vma& vma : task.mm().vmas()) {
      if (vma.start < addr + length && addr < vma.end) {
        return Errno{EINVAL};
      }
    }
  }

  const int host_fd =
      (flags & SHM_RDONLY) != 0 ? TRY(segment->read_only_memfd()) : segment->memfd();
  std::shared_ptr<ShmMapping> mapping = segment->mapping(segment, ipc);
  mm::MapRequest request{
      .hint = fixed ? std::optional<GuestAddr>(addr) : std::nullopt,
      .length = length,
      .prot = prot,
      .flags = MAP_SHARED,
      .fixed = fixed,
      .host_fd = host_fd,
      .file_offset = 0,
      .file = mapping,
  };
  GuestAddr mapped = TRY(task.mm().map(request));
  segment->attach_time = ipc_now_seconds();
  segment->last_pid = task.pid();
  return mapped;
}

Result<void> shm_detach(Task& task, GuestAddr addr) {
  if (!addr.is_page_aligned()) {
    return Errno{EINVAL};
  }
  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());

  // As in Linux's shmdt, the first attachment VMA at or above `addr` whose
  // offset puts its attachment's start at `addr` gives the segment and its
  // size. Then every VMA of that attachment within the size is removed too,
  // so the pieces that mprotect or munmap split go as well.
  // These copies keep the mapping alive until the function returns.
  std::vector<mm::Vma> vmas = task.mm().vmas();
  std::shared_ptr<ShmSegment> segment;
  const mm::MappedFileInfo* file = nullptr;
  uint64_t size_bytes = 0;
  for (const mm::Vma& vma : vmas) {
    if (vma.end <= addr) {
      continue;
    }
    const uint64_t offset = vma.start - addr;
    if (segment == nullptr) {
      std::shared_ptr<ShmSegment> candidate = segment_of(*ipc, vma.file.get());
      if (candidate == nullptr || vma.file_offset != offset) {
        continue;
      }
      segment = candidate;
      file = vma.file.get();
      size_bytes = (candidate->size_bytes() + kPageSize - 1) & ~(kPageSize - 1);
      TRY(task.mm().unmap(vma.start, vma.length()));
      continue;
    }
    if (vma.end - addr > size_bytes) {
      break;
    }
    if (vma.file.get() == file && vma.file_offset == offset) {
      TRY(task.mm().unmap(vma.start, vma.length()));
    }
  }
  if (segment == nullptr) {
    return Errno{EINVAL};
  }
  segment->last_pid = task.pid();
  segment->detach_time = ipc_now_seconds();
  return ok();
}

void shm_remove(IpcNamespace& ipc, const std::shared_ptr<ShmSegment>& segment) {
  if (segment->perm.removed) {
    return;
  }
  if (segment->attach_count() > 0) {
    // Linux's do_shm_rmid: the key is freed at once, the memory stays
    // until the last detach.
    segment->perm.mode |= kShmDest;
    segment->perm.key = kIpcPrivate;
    return;
  }
  segment->perm.removed = true;
  ipc.shm_total_pages -= segment->pages();
  ipc.shm().remove(*segment);
}

std::string render_proc_sysvipc_shm(IpcNamespace& ipc) {
  std::string text =
      "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  "
      "cgid      atime      dtime      ctime                   rss                  swap\n";
  for (const std::shared_ptr<ShmSegment>& segment : ipc.shm().objects()) {
    const IpcPermission& perm = segment->perm;
    text += fmt::format(
        "{:>10} {:>10}  {:>4o} {:>21} {:>5} {:>5}  {:>5} {:>5} {:>5} {:>5} {:>5} "
        "{:>10} {:>10} {:>10} {:>21} {:>21}\n",
        perm.key, perm.id, perm.mode, segment->size_bytes(), segment->creator_pid,
        segment->last_pid, segment->attach_count(), perm.uid, perm.gid, perm.cuid, perm.cgid,
        segment->attach_time, segment->detach_time, segment->change_time, segment->resident_bytes(),
        0);
  }
  return text;
}

}  // namespace ward::kernel::ipc
