#include "sentry/vfs/inode.h"

#include <dirent.h>
#include <sys/sysmacros.h>

#include <atomic>

#include "sentry/vfs/caller.h"

namespace ward::vfs {
namespace {

// Anonymous device numbers for the sentry's own filesystems. Linux hands out
// small minors of major 0; ward starts high so that its numbers do not
// collide with the host's anonymous devices, which hostfs reports as is.
constexpr unsigned kFirstAnonymousMinor = 0x80000;
std::atomic<unsigned> next_anonymous_minor{kFirstAnonymousMinor};

constexpr long kSyntheticBlockBytes = 4096;

}  // namespace

Filesystem::Filesystem(std::string type_name, uint64_t magic)
    : type_name_(std::move(type_name)),
      magic_(magic),
      dev_(makedev(0, next_anonymous_minor.fetch_add(1))) {}

Result<struct statfs> Filesystem::statfs() {
  struct statfs result {};
  result.f_type = static_cast<__fsword_t>(magic_);
  result.f_bsize = kSyntheticBlockBytes;
  result.f_frsize = kSyntheticBlockBytes;
  result.f_namelen = kNameMax;
  return result;
}

Inode::Inode(std::shared_ptr<Filesystem> filesystem, mode_t type)
    : filesystem_(std::move(filesystem)), type_(type & S_IFMT) {}

Result<struct statx> Inode::statx(uint32_t mask) {
  const struct stat st = TRY(stat());
  return statx_from_stat(st, mask);
}

Result<std::shared_ptr<Inode>> Inode::lookup(const Caller&, std::string_view) {
  return Errno{ENOTDIR};
}

bool Inode::revalidate(const Caller&, std::string_view, const Inode&) { return true; }

Result<LinkTarget> Inode::follow_link(const Caller&) { return Errno{EINVAL}; }

Result<std::string> Inode::readlink(const Caller& caller) {
  LinkTarget target = TRY(follow_link(caller));
  if (auto* text = std::get_if<std::string>(&target)) {
    return std::move(*text);
  }
  // A magic link to a location: filesystems with such links override
  // readlink to name the location from the caller's root.
  return Errno{EINVAL};
}

Result<FileRef> Inode::open(const Caller&, const VirtualDentry&, uint32_t) {
  // Linux returns ENXIO for an inode without file operations (a socket).
  return Errno{ENXIO};
}

Result<size_t> Inode::get_xattr(const Caller&, std::string_view, std::span<std::byte>) {
  return Errno{EOPNOTSUPP};
}

Result<size_t> Inode::list_xattr(const Caller&, std::span<char>) { return size_t{0}; }

Result<void> Inode::set_xattr(const Caller&, std::string_view, std::span<const std::byte>, int) {
  return Errno{EOPNOTSUPP};
}

Result<void> Inode::remove_xattr(const Caller&, std::string_view) { return Errno{EOPNOTSUPP}; }

Result<std::shared_ptr<Inode>> Inode::create(const Caller&, std::string_view, const NewNode&) {
  return Errno{EPERM};
}

Result<std::shared_ptr<Inode>> Inode::create_unnamed(const Caller&, const NewNode&) {
  return Errno{EOPNOTSUPP};
}

Result<void> Inode::link(const Caller&, std::string_view, const std::shared_ptr<Inode>&) {
  return Errno{EPERM};
}

Result<void> Inode::unlink(const Caller&, std::string_view, Inode&) { return Errno{EPERM}; }

Result<void> Inode::rmdir(const Caller&, std::string_view, Inode&) { return Errno{EPERM}; }

Result<void> Inode::rename(const Caller&, std::string_view, Inode&, std::string_view, unsigned) {
  return Errno{EPERM};
}

Result<void> Inode::set_attributes(const Caller&, const AttributeChange&) { return Errno{EPERM}; }

uint8_t dirent_type(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return DT_REG;
    case S_IFDIR:
      return DT_DIR;
    case S_IFLNK:
      return DT_LNK;
    case S_IFCHR:
      return DT_CHR;
    case S_IFBLK:
      return DT_BLK;
    case S_IFIFO:
      return DT_FIFO;
    case S_IFSOCK:
      return DT_SOCK;
    default:
      return DT_UNKNOWN;
  }
}

namespace {

struct statx_timestamp statx_time(const struct timespec& time) {
  struct statx_timestamp result {};
  result.tv_sec = time.tv_sec;
  result.tv_nsec = static_cast<uint32_t>(time.tv_nsec);
  return result;
}

}  // namespace

struct statx statx_from_stat(const struct stat& st, uint32_t mask) {
  (void)mask;  // Every basic field is cheap to fill, so all are returned.
  struct statx result {};
  result.stx_mask = STATX_BASIC_STATS;
  result.stx_blksize = static_cast<uint32_t>(st.st_blksize);
  result.stx_nlink = static_cast<uint32_t>(st.st_nlink);
  result.stx_uid = st.st_uid;
  result.stx_gid = st.st_gid;
  result.stx_mode = static_cast<uint16_t>(st.st_mode);
  result.stx_ino = st.st_ino;
  result.stx_size = static_cast<uint64_t>(st.st_size);
  result.stx_blocks = static_cast<uint64_t>(st.st_blocks);
  result.stx_atime = statx_time(st.st_atim);
  result.stx_mtime = statx_time(st.st_mtim);
  result.stx_ctime = statx_time(st.st_ctim);
  result.stx_rdev_major = major(st.st_rdev);
  result.stx_rdev_minor = minor(st.st_rdev);
  result.stx_dev_major = major(st.st_dev);
  result.stx_dev_minor = minor(st.st_dev);
  return result;
}

}  // namespace ward::vfs
