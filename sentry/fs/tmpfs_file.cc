// tmpfs regular files: their data in a host data file (a memfd, or an
// unnamed file in a host directory), their open files, the files of
// memfd_create(2) and file seals.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "sentry/fs/tmpfs_inode.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/mutate.h"
#include "sentry/vfs/open_flags.h"

namespace ward::vfs {
namespace {

constexpr int64_t kPageBytes = 4096;

// Every seal of Linux 6.18 (F_ALL_SEALS), F_SEAL_EXEC included.
constexpr uint32_t kSealExec = 0x20;
constexpr uint32_t kAllSeals =
    F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | kSealExec;

int64_t pages_for(int64_t bytes) { return (bytes + kPageBytes - 1) / kPageBytes; }

// Returns where a write to the data file `fd` over [offset, end) must stop
// so that it allocates at most `free_pages` new pages. A page is new when it
// lies in a hole, inside the file or past its end. SEEK_HOLE and SEEK_DATA
// find the holes of a memfd exactly, to the page. A host filesystem reports
// them at its block size, or reports none, and then every page inside the
// file counts as allocated.
Result<int64_t> end_within_free_pages(int fd, int64_t offset, int64_t end, int64_t free_pages) {
  int64_t position = offset;
  while (position < end) {
    off_t hole = lseek(fd, position, SEEK_HOLE);
    if (hole < 0) {
      if (errno != ENXIO) {
        return Errno{errno};
      }
      hole = position;  // at or past the end of the file, all is hole
    }
    if (hole >= end) {
      break;
    }
    off_t data = lseek(fd, hole, SEEK_DATA);
    if (data < 0 && errno != ENXIO) {
      return Errno{errno};
    }
    const int64_t hole_end = data < 0 ? end : std::min<int64_t>(data, end);

    // A hole that starts inside a page starts at the end of the file, and
    // that page is already allocated.
    const int64_t first_page = pages_for(hole);
    const int64_t pages = std::max<int64_t>(0, pages_for(hole_end) - first_page);
    if (pages > free_pages) {
      return std::max(offset, (first_page + free_pages) * kPageBytes);
    }
    free_pages -= pages;
    position = hole_end;
  }
  return end;
}

class TmpfsRegularFile final : public FileDescription {
 public:
  TmpfsRegularFile(VirtualDentry location, uint32_t flags, std::shared_ptr<TmpfsRegular> inode)
      : FileDescription(std::move(location), flags), inode_(std::move(inode)) {}

  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override {
    return at_position(offset, [&](int64_t position) { return inode_->read(buffer, position); });
  }

  Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t> offset) override {
    // O_APPEND writes at the end even through pwrite, as Linux does.
    if ((flags() & O_APPEND) != 0) {
      const int64_t end = inode_->current_size();
      const size_t done = TRY(inode_->write(buffer, end));
      if (!offset) {
        set_offset(end + static_cast<int64_t>(done));
      }
      return done;
    }
    return at_position(offset, [&](int64_t position) { return inode_->write(buffer, position); });
  }

  // SEEK_DATA and SEEK_HOLE ask the data file, whose own offset nothing else
  // uses; the others are computed here.
  Result<int64_t> seek(int64_t offset, int whence) override {
    if (whence != SEEK_DATA && whence != SEEK_HOLE) {
      return FileDescription::seek(offset, whence);
    }
    if (offset < 0) {
      return Errno{ENXIO};
    }
    if (offset >= inode_->current_size()) {
      return Errno{ENXIO};
    }
    const int fd = TRY(inode_->data_fd());
    const off_t target = lseek(fd, offset, whence);
    if (target < 0) {
      return Errno{errno};
    }
    set_offset(target);
    return static_cast<int64_t>(target);
  }

  Result<void> truncate(int64_t length) override {
    TRY(mount_write_access(*location().mount));
    return inode_->truncate(length);
  }

  // tmpfs lives in memory: nothing to flush (Linux's noop_fsync).
  Result<void> sync(bool) override { return ok(); }

  Result<void> allocate(int mode, int64_t offset, int64_t length,
                        uint64_t size_limit_bytes) override {
    return inode_->allocate(mode, offset, length, size_limit_bytes);
  }

  std::optional<int> host_fd_for_mapping() override {
    auto fd = inode_->data_fd();
    if (!fd.ok()) {
      return std::nullopt;
    }
    return *fd;
  }

  TmpfsRegular& regular() { return *inode_; }

 private:
  std::shared_ptr<TmpfsRegular> inode_;
};

// The internal tmpfs holding the files of memfd_create, which no path
// reaches: Linux's shm_mnt.
const VirtualDentry& memfd_root() {
  // Never destroyed, so that memfds closed during exit find it alive.
  static const auto* root = new VirtualDentry(make_anonymous_location(
      make_tmpfs_root_inode(0, 01777)));
  return *root;
}

}  // namespace

// ---------------------------------------------------------------------------
// TmpfsRegular

TmpfsRegular::TmpfsRegular(std::shared_ptr<TmpfsFilesystem> filesystem, mode_t permissions,
                           uid_t uid, gid_t gid)
    : TmpfsInode(std::move(filesystem), S_IFREG | (permissions & 07777), uid, gid),
      seals_(F_SEAL_SEAL) {}

TmpfsRegular::~TmpfsRegular() { tmpfs().uncharge(charged_bytes_); }

Result<FileRef> TmpfsRegular::open(const Caller&, const VirtualDentry& location, uint32_t flags) {
  auto self = std::static_pointer_cast<TmpfsRegular>(shared_from_this());
  return FileRef(std::make_shared<TmpfsRegularFile>(location, flags, std::move(self)));
}

Result<int> TmpfsRegular::data_fd() {
  if (!data_file_.valid()) {
    data_file_ = TRY(tmpfs().make_data_file());
  }
  return data_file_.get();
}

int64_t TmpfsRegular::current_size() {
  if (!data_file_.valid()) {
    return 0;
  }
  struct stat st {};
  if (fstat(data_file_.get(), &st) != 0) {
    return 0;
  }
  return st.st_size;
}

int64_t TmpfsRegular::blocks() {
  if (!data_file_.valid()) {
    return 0;
  }
  struct stat st {};
  if (fstat(data_file_.get(), &st) != 0) {
    return 0;
  }
  return st.st_blocks;
}

void TmpfsRegular::recharge() {
  const auto held = static_cast<uint64_t>(blocks()) * 512;
  tmpfs().recount(charged_bytes_, held);
  charged_bytes_ = held;
}

Result<size_t> TmpfsRegular::read(std::span<std::byte> buffer, int64_t offset) {
  if (buffer.empty() || !data_file_.valid()) {
    touch_accessed();
    return size_t{0};
  }
  for (;;) {
    const ssize_t got = pread(data_file_.get(), buffer.data(), buffer.size(), offset);
    if (got >= 0) {
      touch_accessed();
      return static_cast<size_t>(got);
    }
    if (errno != EINTR) {
      return Errno{errno};
    }
  }
}

Result<size_t> TmpfsRegular::write(std::span<const std::byte> buffer, int64_t offset) {
  if (buffer.empty()) {
    return size_t{0};
  }
  const int fd = TRY(data_fd());

  // As on Linux's tmpfs, a write that needs more new pages than the size
  // limit leaves is cut short, and one that can allocate none gets ENOSPC.
  // Pages inside holes count, or a sparse file would pass the limit.
  // NOTE: stores through a shared mapping allocate data file pages that no
  // limit checks, where Linux would raise SIGBUS past the limit.
  const int64_t end = offset + static_cast<int64_t>(buffer.size());
  const auto free_pages = static_cast<int64_t>(tmpfs().free_bytes() / kPageBytes);
  const int64_t allowed_end = TRY(end_within_free_pages(fd, offset, end, free_pages));
  if (allowed_end <= offset) {
    return Errno{ENOSPC};
  }
  buffer = buffer.first(static_cast<size_t>(std::min(allowed_end, end) - offset));

  ssize_t wrote = 0;
  do {
    wrote = pwrite(fd, buffer.data(), buffer.size(), offset);
  } while (wrote < 0 && errno == EINTR);
  if (wrote < 0) {
    return Errno{errno};
  }
  recharge();
  // NOTE: Linux's write also clears S_ISUID and S_ISGID for a writer
  // without CAP_FSETID (file_remove_privs). A write here does not receive
  // the writer's credentials, so the bits stay.
  touch_modified();
  return static_cast<size_t>(wrote);
}

Result<void> TmpfsRegular::resize(int64_t size_bytes) {
  const int64_t old_size = current_size();
  if (size_bytes == old_size) {
    return ok();
  }
  const int fd = TRY(data_fd());
  if (ftruncate(fd, size_bytes) != 0) {
    return Errno{errno};
  }
  recharge();
  touch_modified();
  return ok();
}

Result<void> TmpfsRegular::truncate(int64_t size_bytes) {
  TRY(resize(size_bytes));
  touch_changed();
  return ok();
}

Result<void> TmpfsRegular::allocate(int mode, int64_t offset, int64_t length,
                                    uint64_t size_limit_bytes) {
  if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) != 0) {
    return Errno{EOPNOTSUPP};
  }
  const int fd = TRY(data_fd());
  const int64_t old_size = current_size();
  const int64_t end = offset + length;

  if ((mode & FALLOC_FL_PUNCH_HOLE) == 0) {
    // Linux's inode_newsize_ok, which shmem applies to the end of the range
    // even when the size stays.
    if (end > old_size && static_cast<uint64_t>(end) > size_limit_bytes) {
      return Errno{EFBIG};
    }
    // NOTE: pages an earlier fallocate reserved but nothing wrote read as
    // holes to SEEK_DATA, so they count as new again here, and a repeated
    // allocation near the size limit may fail with ENOSPC where Linux
    // succeeds.
    const int64_t new_bytes = TRY(unallocated_bytes(fd, offset, end));
    if (static_cast<uint64_t>(new_bytes) > tmpfs().free_bytes()) {
      return Errno{ENOSPC};
    }
  }

  if (::fallocate(fd, mode, offset, length) != 0) {
    return Errno{errno};
  }
  recharge();
  if ((mode & FALLOC_FL_PUNCH_HOLE) != 0 || current_size() != old_size) {
    touch_modified();
  }
  return ok();
}

Result<int64_t> TmpfsRegular::unallocated_bytes(int fd, int64_t offset, int64_t end) {
  const int64_t first = offset / kPageBytes * kPageBytes;
  const int64_t last = pages_for(end) * kPageBytes;
  int64_t missing = last - first;

  // SEEK_DATA finds nothing past the file size, so every page there counts.
  const int64_t scan_end = std::min(last, current_size());
  int64_t position = first;
  while (position < scan_end) {
    const off_t data = lseek(fd, position, SEEK_DATA);
    if (data < 0 && errno == ENXIO) {
      break;
    }
    if (data < 0) {
      return Errno{errno};
    }
    if (data >= last) {
      break;
    }
    const off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0) {
      return Errno{errno};
    }
    const int64_t data_end = std::min(pages_for(hole) * kPageBytes, last);
    missing -= data_end - data;
    position = data_end;
  }
  return missing;
}

Result<void> TmpfsRegular::check_mode_change(mode_t new_mode) {
  // F_SEAL_EXEC freezes the execute bits.
  if ((seals_ & kSealExec) != 0 && ((new_mode ^ mode()) & 0111) != 0) {
    return Errno{EPERM};
  }
  return ok();
}

Result<void> TmpfsRegular::add_seals(uint32_t seals) {
  if ((seals & ~kAllSeals) != 0) {
    return Errno{EINVAL};
  }
  if ((seals_ & F_SEAL_SEAL) != 0) {
    return Errno{EPERM};
  }
  // F_SEAL_EXEC on a file that has an execute bit implies the write seals,
  // as in Linux's memfd_add_seals.
  if ((seals & kSealExec) != 0 && (mode() & 0111) != 0) {
    seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
  }
  // Only memfds start without F_SEAL_SEAL, so the data file is a memfd
  // here. The host applies the same seals to it, and rejects F_SEAL_WRITE
  // with EBUSY while a guest has a writable shared mapping of it.
  const uint32_t host_seals = seals & ~kSealExec & ~seals_;
  if (host_seals != 0) {
    const int fd = TRY(data_fd());
    if (fcntl(fd, F_ADD_SEALS, host_seals) != 0) {
      return Errno{errno};
    }
  }
  seals_ |= seals;
  return ok();
}

// ---------------------------------------------------------------------------
// memfd_create and seals

Result<FileRef> make_memfd(const Caller& caller, std::string_view name, unsigned flags) {
  const VirtualDentry& root = memfd_root();
  auto& directory = static_cast<TmpfsDirectory&>(root.dentry->inode());

  mode_t permissions = 0777;
  if ((flags & kMemfdNoexecSeal) != 0) {
    permissions &= ~static_cast<mode_t>(0111);
  }
  const NewNode node{.mode = S_IFREG | permissions,
                     .uid = caller.creds.fs_uid,
                     .gid = caller.creds.fs_gid,
                     .device = 0,
                     .link_target = {}};
  auto inode = std::static_pointer_cast<TmpfsRegular>(TRY(directory.create_unnamed(caller, node)));
  if ((flags & kMemfdNoexecSeal) != 0) {
    inode->set_seals(kSealExec);
  } else if ((flags & kMemfdAllowSealing) != 0) {
    inode->set_seals(0);
  }
  TRY(inode->data_fd());

  // The file's dentry is named but not in its directory, as Linux's
  // memfds are, so /proc/pid/fd shows "/memfd:NAME (deleted)".
  const std::string dentry_name = "memfd:" + std::string(name);
  std::shared_ptr<Dentry> dentry = root.dentry->add_child(dentry_name, inode);
  root.dentry->forget_child(dentry_name);
  const VirtualDentry location{.mount = root.mount, .dentry = std::move(dentry)};
  return inode->open(caller, location, O_RDWR | kOpenLargefile);
}

Result<void> add_seals(FileDescription& file, uint32_t seals) {
  if (!file.writable()) {
    return Errno{EPERM};
  }
  if ((seals & ~kAllSeals) != 0) {
    return Errno{EINVAL};
  }
  auto* regular = dynamic_cast<TmpfsRegularFile*>(&file);
  if (regular == nullptr) {
    return Errno{EINVAL};
  }
  return regular->regular().add_seals(seals);
}

Result<uint32_t> get_seals(FileDescription& file) {
  auto* regular = dynamic_cast<TmpfsRegularFile*>(&file);
  if (regular == nullptr) {
    return Errno{EINVAL};
  }
  return regular->regular().seals();
}

}  // namespace ward::vfs
