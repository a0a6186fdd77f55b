#include "sentry/fs/tmpfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

#include "sentry/fs/tmpfs_inode.h"
#include "sentry/vfs/directory_file.h"

namespace ward::vfs {
namespace {

constexpr int64_t kBlockBytes = 4096;

// Linux's BOGO_DIRENT_SIZE: what one entry adds to a tmpfs directory's size.
constexpr int64_t kDirentSizeBytes = 20;

// Linux's LINK_MAX for tmpfs: the most links a non-directory may have.
constexpr uint32_t kMaxLinks = 0xffffffff;

// How many random names make_named_then_unlinked_file tries before it gives
// up with EEXIST.
constexpr int kMaxNameAttempts = 16;

// The open file of a tmpfs directory. Its offset is a cookie: 0 and 1 are
// "." and "..", any other the cookie of the next entry to list, so a
// listing continues correctly while entries come and go.
class TmpfsDirectoryFile final : public DirectoryFile {
 public:
  using DirectoryFile::DirectoryFile;

  // tmpfs lives in memory: nothing to flush (Linux's noop_fsync).
  Result<void> sync(bool) override { return ok(); }

  Result<void> iterate_dir(const Caller&, DirentSink& sink) override {
    auto& directory = static_cast<TmpfsDirectory&>(inode());
    if (!listing_end_ || offset() == 0) {
      listing_end_ = directory.next_cookie();
    }
    if (offset() == 0) {
      if (!sink.add(Dirent{.ino = directory.ino(), .next_offset = 1, .type = DT_DIR, .name = "."})) {
        return ok();
      }
      set_offset(1);
    }
    if (offset() == 1) {
      const Dirent dotdot{
          .ino = directory.parent_ino(), .next_offset = 2, .type = DT_DIR, .name = ".."};
      if (!sink.add(dotdot)) {
        return ok();
      }
      set_offset(2);
    }
    const auto& names = directory.names_by_cookie();
    const auto end = names.lower_bound(*listing_end_);
    for (auto it = names.lower_bound(static_cast<uint64_t>(offset())); it != end; ++it) {
      const TmpfsDirectory::Entry* entry = directory.find(it->second);
      const auto next = static_cast<int64_t>(it->first + 1);
      const Dirent dirent{.ino = entry->inode->ino(),
                          .next_offset = next,
                          .type = dirent_type(entry->inode->mode()),
                          .name = it->second};
      if (!sink.add(dirent)) {
        return ok();
      }
      set_offset(next);
    }
    directory.touch_accessed();
    return ok();
  }

 private:
  // The first cookie this listing leaves out: entries made or renamed
  // after it began get later cookies. Without this bound, a program that
  // renames each entry it reads, inside the same directory, would read
  // the renamed entries again without end. Linux's tmpfs likewise lists
  // none of them (checked on 6.18). A listing begins at offset 0, so a
  // rewind starts a new one.
  std::optional<uint64_t> listing_end_;
};

bool copy_out_value(std::span<const std::byte> value, std::span<std::byte> buffer,
                    size_t* length) {
  *length = value.size();
  if (buffer.empty()) {
    return true;
  }
  if (buffer.size() < value.size()) {
    return false;
  }
  std::memcpy(buffer.data(), value.data(), value.size());
  return true;
}

}  // namespace

timespec tmpfs_now() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return now;
}

// ---------------------------------------------------------------------------
// TmpfsFilesystem

uint64_t default_tmpfs_size_bytes() {
  struct sysinfo info {};
  if (sysinfo(&info) != 0) {
    return uint64_t{1} << 30;  // 1 GiB when the host will not say
  }
  return static_cast<uint64_t>(info.totalram) * info.mem_unit / 2;
}

TmpfsFilesystem::TmpfsFilesystem(uint64_t size_limit_bytes, UniqueFd data_directory)
    : Filesystem(kTmpfsType, TMPFS_MAGIC),
      data_directory_(std::move(data_directory)),
      size_limit_bytes_(size_limit_bytes != 0 ? size_limit_bytes : default_tmpfs_size_bytes()) {}

Result<UniqueFd> TmpfsFilesystem::make_data_file() {
  if (data_directory_.valid()) {
    return make_unnamed_host_file(data_directory_.get());
  }
  // Sealing is allowed so that the guest's seals can be set on the host
  // file too, where the host enforces them on every mapping.
  const int fd = memfd_create("ward-tmpfs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    return Errno{errno};
  }
  return UniqueFd(fd);
}

Result<struct statfs> TmpfsFilesystem::statfs() {
  struct statfs result = TRY(Filesystem::statfs());
  const uint64_t total_blocks = size_limit_bytes_ / kBlockBytes;
  const uint64_t used_blocks = (used_bytes_ + kBlockBytes - 1) / kBlockBytes;
  result.f_blocks = total_blocks;
  result.f_bfree = total_blocks > used_blocks ? total_blocks - used_blocks : 0;
  result.f_bavail = result.f_bfree;
  // Linux's default inode limit is one per two pages of RAM; ward derives
  // it from the size limit, which defaults to half the RAM.
  const uint64_t total_inodes = std::max<uint64_t>(total_blocks, inode_count_);
  result.f_files = total_inodes;
  result.f_ffree = total_inodes - inode_count_;
  return result;
}

Result<void> TmpfsFilesystem::charge(uint64_t bytes) {
  if (bytes > size_limit_bytes_ - std::min(used_bytes_, size_limit_bytes_)) {
    return Errno{ENOSPC};
  }
  used_bytes_ += bytes;
  return ok();
}

void TmpfsFilesystem::uncharge(uint64_t bytes) { used_bytes_ -= std::min(bytes, used_bytes_); }

void TmpfsFilesystem::recount(uint64_t old_bytes, uint64_t new_bytes) {
  uncharge(old_bytes);
  used_bytes_ += new_bytes;
}

uint64_t TmpfsFilesystem::free_bytes() const {
  return size_limit_bytes_ - std::min(used_bytes_, size_limit_bytes_);
}

std::shared_ptr<Inode> make_tmpfs_root_inode(uint64_t size_limit_bytes, mode_t permissions,
                                             uid_t uid, gid_t gid) {
  auto filesystem = std::make_shared<TmpfsFilesystem>(size_limit_bytes);
  return std::make_shared<TmpfsDirectory>(std::move(filesystem), permissions, uid, gid);
}

Result<std::shared_ptr<Inode>> make_host_backed_tmpfs_root_inode(
    uint64_t size_limit_bytes, mode_t permissions, const std::string& host_directory) {
  const int fd = open(host_directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Errno{errno};
  }
  UniqueFd directory(fd);

  if (size_limit_bytes == 0) {
    struct statvfs host_fs {};
    if (fstatvfs(directory.get(), &host_fs) != 0) {
      return Errno{errno};
    }
    size_limit_bytes = static_cast<uint64_t>(host_fs.f_blocks) * host_fs.f_frsize;
  }
  auto filesystem = std::make_shared<TmpfsFilesystem>(size_limit_bytes, std::move(directory));
  return std::shared_ptr<Inode>(
      std::make_shared<TmpfsDirectory>(std::move(filesystem), permissions, 0, 0));
}

Result<UniqueFd> make_unnamed_host_file(int directory) {
  const int fd = openat(directory, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) {
    return UniqueFd(fd);
  }
  // open(2): EOPNOTSUPP when the filesystem lacks O_TMPFILE, EISDIR when
  // the kernel predates it (Linux 3.11).
  if (errno != EOPNOTSUPP && errno != EISDIR) {
    return Errno{errno};
  }
  return make_named_then_unlinked_file(directory);
}

Result<UniqueFd> make_named_then_unlinked_file(int directory) {
  for (int attempt = 0; attempt < kMaxNameAttempts; ++attempt) {
    uint64_t random = 0;
    if (getrandom(&random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
      return Errno{errno};
    }
    char name[32];
    std::snprintf(name, sizeof name, ".ward-data-%016llx", static_cast<unsigned long long>(random));
    const int fd =
        openat(directory, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) {
      continue;
    }
    if (fd < 0) {
      return Errno{errno};
    }
    UniqueFd file(fd);
    if (unlinkat(directory, name, 0) != 0) {
      return Errno{errno};
    }
    return file;
  }
  return Errno{EEXIST};
}

std::shared_ptr<Dentry> make_tmpfs_root(uint64_t size_limit_bytes, mode_t permissions) {
  return Dentry::make_root(make_tmpfs_root_inode(size_limit_bytes, permissions));
}

bool is_tmpfs_inode(const Inode& inode) { return dynamic_cast<const TmpfsInode*>(&inode) != nullptr; }

// ---------------------------------------------------------------------------
// TmpfsInode

TmpfsInode::TmpfsInode(std::shared_ptr<TmpfsFilesystem> filesystem, mode_t mode, uid_t uid,
                       gid_t gid, dev_t rdev)
    : Inode(filesystem, mode), mode_(mode), uid_(uid), gid_(gid), rdev_(rdev) {
  ino_ = this->filesystem().allocate_ino();
  tmpfs().add_inode();
  btime_ = tmpfs_now();
  atime_ = btime_;
  mtime_ = btime_;
  ctime_ = btime_;
}

TmpfsInode::~TmpfsInode() { tmpfs().remove_inode(); }

Result<struct stat> TmpfsInode::stat() {
  struct stat st {};
  st.st_dev = filesystem().dev();
  st.st_ino = ino_;
  st.st_mode = mode_;
  st.st_nlink = nlink_;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_rdev = rdev_;
  st.st_size = size_bytes();
  st.st_blksize = kBlockBytes;
  st.st_blocks = blocks();
  st.st_atim = atime_;
  st.st_mtim = mtime_;
  st.st_ctim = ctime_;
  return st;
}

Result<struct statx> TmpfsInode::statx(uint32_t mask) {
  const struct stat st = TRY(stat());
  struct statx result = statx_from_stat(st, mask);
  result.stx_mask |= STATX_BTIME;
  result.stx_btime.tv_sec = btime_.tv_sec;
  result.stx_btime.tv_nsec = static_cast<uint32_t>(btime_.tv_nsec);
  return result;
}

Result<void> TmpfsInode::resize(int64_t) { return Errno{EINVAL}; }

Result<void> TmpfsInode::check_mode_change(mode_t) { return ok(); }

Result<void> TmpfsInode::set_attributes(const Caller&, const AttributeChange& change) {
  if (change.mode) {
    const mode_t new_mode = (mode_ & S_IFMT) | (*change.mode & 07777);
    TRY(check_mode_change(new_mode));
  }
  if (change.size) {
    TRY(resize(*change.size));
  }
  if (change.mode) {
    mode_ = (mode_ & S_IFMT) | (*change.mode & 07777);
  }
  if (change.uid) {
    uid_ = *change.uid;
  }
  if (change.gid) {
    gid_ = *change.gid;
  }
  if (change.atime) {
    atime_ = *change.atime;
  }
  if (change.mtime) {
    mtime_ = *change.mtime;
  }
  ctime_ = tmpfs_now();
  return ok();
}

void TmpfsInode::touch_modified() {
  mtime_ = tmpfs_now();
  ctime_ = mtime_;
}

void TmpfsInode::touch_changed() { ctime_ = tmpfs_now(); }

void TmpfsInode::touch_accessed() {
  auto not_after = [](const timespec& a, const timespec& b) {
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
  };
  if (not_after(atime_, mtime_) || not_after(atime_, ctime_)) {
    atime_ = tmpfs_now();
  }
}

Result<size_t> TmpfsInode::get_xattr(const Caller&, std::string_view name,
                                     std::span<std::byte> value) {
  auto it = xattrs_.find(name);
  if (it == xattrs_.end()) {
    return Errno{ENODATA};
  }
  size_t length = 0;
  if (!copy_out_value(it->second, value, &length)) {
    return Errno{ERANGE};
  }
  return length;
}

Result<size_t> TmpfsInode::list_xattr(const Caller&, std::span<char> list) {
  size_t total = 0;
  for (const auto& [name, value] : xattrs_) {
    total += name.size() + 1;
  }
  if (list.empty()) {
    return total;
  }
  if (list.size() < total) {
    return Errno{ERANGE};
  }
  size_t position = 0;
  for (const auto& [name, value] : xattrs_) {
    std::memcpy(list.data() + position, name.data(), name.size());
    position += name.size();
    list[position++] = '\0';
  }
  return total;
}

Result<void> TmpfsInode::set_xattr(const Caller&, std::string_view name,
                                   std::span<const std::byte> value, int flags) {
  // Linux's tmpfs stores user.*, trusted.* and security.* attributes.
  // The system.* names are POSIX ACLs, which ward's tmpfs does not have.
  if (!name.starts_with("user.") && !name.starts_with("trusted.") &&
      !name.starts_with("security.")) {
    return Errno{EOPNOTSUPP};
  }
  auto it = xattrs_.find(name);
  if ((flags & XATTR_CREATE) != 0 && it != xattrs_.end()) {
    return Errno{EEXIST};
  }
  if ((flags & XATTR_REPLACE) != 0 && it == xattrs_.end()) {
    return Errno{ENODATA};
  }
  xattrs_.insert_or_assign(std::string(name), std::vector<std::byte>(value.begin(), value.end()));
  touch_changed();
  return ok();
}

Result<void> TmpfsInode::remove_xattr(const Caller&, std::string_view name) {
  auto it = xattrs_.find(name);
  if (it == xattrs_.end()) {
    return Errno{ENODATA};
  }
  xattrs_.erase(it);
  touch_changed();
  return ok();
}

// ---------------------------------------------------------------------------
// TmpfsDirectory

TmpfsDirectory::TmpfsDirectory(std::shared_ptr<TmpfsFilesystem> filesystem, mode_t permissions,
                               uid_t uid, gid_t gid)
    : TmpfsInode(std::move(filesystem), S_IFDIR | (permissions & 07777), uid, gid) {
  set_nlink(2);
}

int64_t TmpfsDirectory::size_bytes() {
  return static_cast<int64_t>(entries_.size() + 2) * kDirentSizeBytes;
}

const TmpfsDirectory::Entry* TmpfsDirectory::find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

uint64_t TmpfsDirectory::parent_ino() const {
  auto parent = parent_.lock();
  return parent ? parent->ino() : ino();
}

Result<std::shared_ptr<Inode>> TmpfsDirectory::lookup(const Caller&, std::string_view name) {
  const Entry* entry = find(name);
  if (entry == nullptr) {
    return Errno{ENOENT};
  }
  return std::shared_ptr<Inode>(entry->inode);
}

Result<FileRef> TmpfsDirectory::open(const Caller&, const VirtualDentry& location,
                                     uint32_t flags) {
  return FileRef(std::make_shared<TmpfsDirectoryFile>(location, flags));
}

void TmpfsDirectory::insert(std::string_view name, std::shared_ptr<TmpfsInode> inode) {
  const uint64_t cookie = next_cookie_++;
  if (inode->is_dir()) {
    static_cast<TmpfsDirectory&>(*inode).parent_ =
        std::static_pointer_cast<TmpfsDirectory>(shared_from_this());
    set_nlink(nlink() + 1);
  }
  entries_.insert_or_assign(std::string(name), Entry{.inode = std::move(inode), .cookie = cookie});
  names_by_cookie_.emplace(cookie, std::string(name));
}

std::shared_ptr<TmpfsInode> TmpfsDirectory::erase(std::string_view name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return nullptr;
  }
  std::shared_ptr<TmpfsInode> inode = std::move(it->second.inode);
  names_by_cookie_.erase(it->second.cookie);
  entries_.erase(it);
  if (inode->is_dir()) {
    set_nlink(nlink() - 1);
  }
  return inode;
}

Result<std::shared_ptr<TmpfsInode>> TmpfsDirectory::make_node(const NewNode& node) {
  auto filesystem = std::static_pointer_cast<TmpfsFilesystem>(filesystem_ref());
  const mode_t permissions = node.mode & 07777;
  switch (node.mode & S_IFMT) {
    case S_IFREG:
      return std::shared_ptr<TmpfsInode>(
          std::make_shared<TmpfsRegular>(filesystem, permissions, node.uid, node.gid));
    case S_IFDIR:
      return std::shared_ptr<TmpfsInode>(
          std::make_shared<TmpfsDirectory>(filesystem, permissions, node.uid, node.gid));
    case S_IFLNK:
      return std::shared_ptr<TmpfsInode>(std::make_shared<TmpfsSymlink>(
          filesystem, node.uid, node.gid, std::string(node.link_target)));
    case S_IFIFO:
    case S_IFSOCK:
    case S_IFCHR:
    case S_IFBLK: {
      const dev_t rdev = S_ISCHR(node.mode) || S_ISBLK(node.mode) ? node.device : 0;
      return std::shared_ptr<TmpfsInode>(
          std::make_shared<TmpfsSpecial>(filesystem, node.mode, node.uid, node.gid, rdev));
    }
    default:
      return Errno{EINVAL};
  }
}

Result<std::shared_ptr<Inode>> TmpfsDirectory::create(const Caller&, std::string_view name,
                                                      const NewNode& node) {
  if (nlink() == 0) {
    return Errno{ENOENT};  // a removed directory takes no new entries
  }
  if (find(name) != nullptr) {
    return Errno{EEXIST};
  }
  std::shared_ptr<TmpfsInode> inode = TRY(make_node(node));
  insert(name, inode);
  touch_modified();
  return std::shared_ptr<Inode>(std::move(inode));
}

Result<std::shared_ptr<Inode>> TmpfsDirectory::create_unnamed(const Caller&, const NewNode& node) {
  if (!S_ISREG(node.mode)) {
    return Errno{EINVAL};
  }
  if (nlink() == 0) {
    return Errno{ENOENT};
  }
  std::shared_ptr<TmpfsInode> inode = TRY(make_node(node));
  inode->set_nlink(0);
  inode->set_linkable(node.linkable);
  return std::shared_ptr<Inode>(std::move(inode));
}

Result<void> TmpfsDirectory::link(const Caller&, std::string_view name,
                                  const std::shared_ptr<Inode>& target) {
  auto inode = std::dynamic_pointer_cast<TmpfsInode>(target);
  if (!inode || &inode->filesystem() != &filesystem()) {
    return Errno{EXDEV};
  }
  if (inode->is_dir()) {
    return Errno{EPERM};
  }
  if (nlink() == 0) {
    return Errno{ENOENT};
  }
  if (inode->nlink() == 0 && !inode->linkable()) {
    return Errno{ENOENT};
  }
  if (inode->nlink() >= kMaxLinks) {
    return Errno{EMLINK};
  }
  if (find(name) != nullptr) {
    return Errno{EEXIST};
  }
  inode->set_nlink(inode->nlink() + 1);
  inode->set_linkable(false);
  inode->touch_changed();
  insert(name, std::move(inode));
  touch_modified();
  return ok();
}

Result<void> TmpfsDirectory::unlink(const Caller&, std::string_view name, Inode& child) {
  const Entry* entry = find(name);
  if (entry == nullptr || entry->inode.get() != &child) {
    return Errno{ENOENT};
  }
  if (child.is_dir()) {
    return Errno{EISDIR};
  }
  std::shared_ptr<TmpfsInode> inode = erase(name);
  inode->set_nlink(inode->nlink() - 1);
  inode->touch_changed();
  touch_modified();
  return ok();
}

Result<void> TmpfsDirectory::rmdir(const Caller&, std::string_view name, Inode& child) {
  const Entry* entry = find(name);
  if (entry == nullptr || entry->inode.get() != &child) {
    return Errno{ENOENT};
  }
  if (!child.is_dir()) {
    return Errno{ENOTDIR};
  }
  auto& directory = static_cast<TmpfsDirectory&>(child);
  if (!directory.entries_.empty()) {
    return Errno{ENOTEMPTY};
  }
  std::shared_ptr<TmpfsInode> inode = erase(name);
  directory.set_nlink(0);
  directory.parent_.reset();
  inode->touch_changed();
  touch_modified();
  return ok();
}

Result<void> TmpfsDirectory::rename(const Caller&, std::string_view old_name, Inode& new_parent,
                                    std::string_view new_name, unsigned flags) {
  auto* target_directory = dynamic_cast<TmpfsDirectory*>(&new_parent);
  if (target_directory == nullptr || &target_directory->filesystem() != &filesystem()) {
    return Errno{EXDEV};
  }
  const Entry* source = find(old_name);
  if (source == nullptr) {
    return Errno{ENOENT};
  }
  const Entry* target = target_directory->find(new_name);
  if (target != nullptr && target->inode == source->inode) {
    return ok();  // two names of one inode: Linux does nothing
  }

  if ((flags & RENAME_EXCHANGE) != 0) {
    if (target == nullptr) {
      return Errno{ENOENT};
    }
    std::shared_ptr<TmpfsInode> first = erase(old_name);
    std::shared_ptr<TmpfsInode> second = target_directory->erase(new_name);
    target_directory->insert(new_name, first);
    insert(old_name, second);
    first->touch_changed();
    second->touch_changed();
    touch_modified();
    target_directory->touch_modified();
    return ok();
  }

  if (target != nullptr) {
    if ((flags & RENAME_NOREPLACE) != 0) {
      return Errno{EEXIST};
    }
    if (target->inode->is_dir() != source->inode->is_dir()) {
      return Errno{target->inode->is_dir() ? EISDIR : ENOTDIR};
    }
    if (target->inode->is_dir() &&
        !static_cast<TmpfsDirectory&>(*target->inode).entries_.empty()) {
      return Errno{ENOTEMPTY};
    }
    std::shared_ptr<TmpfsInode> replaced = target_directory->erase(new_name);
    if (replaced->is_dir()) {
      replaced->set_nlink(0);
      static_cast<TmpfsDirectory&>(*replaced).parent_.reset();
    } else {
      replaced->set_nlink(replaced->nlink() - 1);
    }
    replaced->touch_changed();
  }
  std::shared_ptr<TmpfsInode> moved = erase(old_name);
  target_directory->insert(new_name, moved);
  moved->touch_changed();
  // RENAME_WHITEOUT leaves an overlay whiteout, a char 0:0 node, behind.
  if ((flags & RENAME_WHITEOUT) != 0) {
    auto filesystem = std::static_pointer_cast<TmpfsFilesystem>(filesystem_ref());
    const struct stat moved_st = TRY(moved->stat());
    insert(old_name, std::make_shared<TmpfsSpecial>(filesystem, S_IFCHR, moved_st.st_uid,
                                                     moved_st.st_gid, 0));
  }
  touch_modified();
  target_directory->touch_modified();
  return ok();
}

// ---------------------------------------------------------------------------
// Symlinks and special files

TmpfsSymlink::TmpfsSymlink(std::shared_ptr<TmpfsFilesystem> filesystem, uid_t uid, gid_t gid,
                           std::string target)
    : TmpfsInode(std::move(filesystem), S_IFLNK | 0777, uid, gid), target_(std::move(target)) {}

Result<LinkTarget> TmpfsSymlink::follow_link(const Caller&) { return LinkTarget(target_); }

TmpfsSpecial::TmpfsSpecial(std::shared_ptr<TmpfsFilesystem> filesystem, mode_t mode, uid_t uid,
                           gid_t gid, dev_t rdev)
    : TmpfsInode(std::move(filesystem), mode, uid, gid, rdev) {}

Result<FileRef> TmpfsSpecial::open(const Caller& caller, const VirtualDentry& location,
                                   uint32_t flags) {
  if (!S_ISFIFO(mode())) {
    // NOTE: a device node on tmpfs opens no device; Linux would open the
    // host driver of that number, which the sandbox never reaches.
    return Errno{ENXIO};
  }
  // Linux frees a FIFO's pipe, and what it held, when its last end closes.
  if (!pipe_ || (pipe_->readers() == 0 && pipe_->writers() == 0)) {
    pipe_ = std::make_shared<Pipe>();
  }
  return open_fifo(pipe_, location, flags, caller.task);
}

}  // namespace ward::vfs
