#include "sentry/fs/overlay.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/sysmacros.h>

#include <cstring>

#include "sentry/fs/hostfs.h"
#include "sentry/fs/overlay_dir.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

constexpr std::string_view kOpaqueXattr = "trusted.overlay.opaque";
constexpr std::string_view kUpperDirName = "upper";
constexpr std::string_view kWorkDirName = "work";

// The low bits of a lower st_ino that a directory on another host device
// keeps, under its device index.
constexpr unsigned kLowerDeviceIndexShift = 48;
constexpr uint64_t kLowerInoMask = (uint64_t{1} << kLowerDeviceIndexShift) - 1;

}  // namespace

bool is_opaque(const Caller& internal, Inode& upper_dir) {
  std::byte value[1];
  auto got = upper_dir.get_xattr(internal, kOpaqueXattr, value);
  return got.ok() && *got == 1 && value[0] == std::byte{'y'};
}

Result<void> mark_opaque(const Caller& internal, Inode& upper_dir) {
  const std::byte value[1] = {std::byte{'y'}};
  return upper_dir.set_xattr(internal, kOpaqueXattr, value, 0);
}

NewNode whiteout_node() {
  NewNode node;
  node.mode = S_IFCHR;
  node.device = makedev(0, 0);
  return node;
}

OverlayInode* as_overlay(Inode& inode) { return dynamic_cast<OverlayInode*>(&inode); }

bool is_whiteout(Inode& inode) {
  if (inode.type() != S_IFCHR) {
    return false;
  }
  auto st = inode.stat();
  return st.ok() && st->st_rdev == makedev(0, 0);
}

Result<LowerIdentity> lower_identity(Inode& lower) {
  if (auto* host = dynamic_cast<HostInode*>(&lower)) {
    return LowerIdentity{.dev = host->host_dev(), .ino = host->host_ino()};
  }
  const struct stat st = TRY(lower.stat());
  return LowerIdentity{.dev = st.st_dev, .ino = st.st_ino};
}

// ---------------------------------------------------------------------------
// OverlayFilesystem

OverlayFilesystem::OverlayFilesystem(std::shared_ptr<Inode> upper_base, std::shared_ptr<Inode> work,
                                     dev_t lower_root_dev)
    : Filesystem(kOverlayType, OVERLAYFS_SUPER_MAGIC),
      upper_base_(std::move(upper_base)),
      work_(std::move(work)),
      lower_root_dev_(lower_root_dev),
      internal_fs_(VirtualDentry{}, VirtualDentry{}, 0),
      internal_caller_{.creds = internal_creds_, .fs = internal_fs_, .task = nullptr} {}

OverlayFilesystem::~OverlayFilesystem() = default;

Result<std::shared_ptr<Dentry>> OverlayFilesystem::create_root(std::shared_ptr<Inode> lower_root,
                                                               std::shared_ptr<Inode> upper_base) {
  if (!lower_root->is_dir() || !upper_base->is_dir()) {
    return Errno{ENOTDIR};
  }
  const struct stat lower_stat = TRY(lower_root->stat());
  const LowerIdentity root_identity = TRY(lower_identity(*lower_root));

  const kernel::Credentials creds;
  const FsContext no_context(VirtualDentry{}, VirtualDentry{}, 0);
  const Caller internal{.creds = creds, .fs = no_context, .task = nullptr};

  NewNode work_node;
  work_node.mode = S_IFDIR | 0700;
  std::shared_ptr<Inode> work = TRY(upper_base->create(internal, kWorkDirName, work_node));
  NewNode upper_node;
  upper_node.mode = S_IFDIR | (lower_stat.st_mode & 07777);
  upper_node.uid = lower_stat.st_uid;
  upper_node.gid = lower_stat.st_gid;
  std::shared_ptr<Inode> upper_root = TRY(upper_base->create(internal, kUpperDirName, upper_node));
  AttributeChange times;
  times.atime = lower_stat.st_atim;
  times.mtime = lower_stat.st_mtim;
  TRY(upper_root->set_attributes(internal, times));

  auto filesystem = std::shared_ptr<OverlayFilesystem>(
      new OverlayFilesystem(std::move(upper_base), std::move(work), root_identity.dev));
  auto root = std::make_shared<OverlayInode>(filesystem, S_IFDIR, std::move(upper_root),
                                             std::move(lower_root), root_identity);
  filesystem->cache_upper(root);
  return Dentry::make_root(std::move(root));
}

Result<struct statfs> OverlayFilesystem::statfs() {
  struct statfs result = TRY(upper_base_->statfs());
  result.f_type = OVERLAYFS_SUPER_MAGIC;
  return result;
}

std::string OverlayFilesystem::next_work_name() {
  // Linux's overlay names its temporary files "#" and a hex counter.
  char text[24];
  std::snprintf(text, sizeof(text), "#%llx", static_cast<unsigned long long>(next_work_number_++));
  return text;
}

Result<std::string> OverlayFilesystem::make_work_whiteout() {
  std::string name = next_work_name();
  TRY(work_->create(internal_caller_, name, whiteout_node()));
  return name;
}

std::shared_ptr<OverlayInode> OverlayFilesystem::inode_for(
    std::shared_ptr<Inode> upper, std::shared_ptr<Inode> lower, std::optional<LowerIdentity> origin,
    const std::shared_ptr<OverlayInode>& parent, std::string_view name) {
  auto self = std::static_pointer_cast<OverlayFilesystem>(parent->filesystem_ref());
  if (upper) {
    auto it = by_upper_.find(upper.get());
    if (it != by_upper_.end()) {
      if (auto existing = it->second.lock()) {
        return existing;
      }
    }
    const mode_t type = upper->type();
    auto inode =
        std::make_shared<OverlayInode>(self, type, std::move(upper), std::move(lower), origin);
    by_upper_.insert_or_assign(inode->upper().get(), inode);
    return inode;
  }

  auto it = by_lower_.find(*origin);
  if (it != by_lower_.end()) {
    if (auto existing = it->second.lock()) {
      return existing;
    }
  }
  const mode_t type = lower->type();
  auto inode = std::make_shared<OverlayInode>(self, type, nullptr, std::move(lower), origin);
  inode->set_alias(parent, name);
  by_lower_.insert_or_assign(*origin, inode);
  return inode;
}

void OverlayFilesystem::cache_upper(const std::shared_ptr<OverlayInode>& inode) {
  by_upper_.insert_or_assign(inode->upper().get(), inode);
}

void OverlayFilesystem::forget_lower(const OverlayInode& inode) {
  if (!inode.origin()) {
    return;
  }
  auto it = by_lower_.find(*inode.origin());
  if (it != by_lower_.end() && it->second.lock().get() == &inode) {
    by_lower_.erase(it);
  }
}

void OverlayFilesystem::forget(const OverlayInode& inode) {
  // The inode is being destroyed, so its own entries have expired; a newer
  // inode under the same key keeps its entry.
  if (inode.origin()) {
    auto it = by_lower_.find(*inode.origin());
    if (it != by_lower_.end() && it->second.expired()) {
      by_lower_.erase(it);
    }
  }
  if (inode.upper()) {
    auto it = by_upper_.find(inode.upper().get());
    if (it != by_upper_.end() && it->second.expired()) {
      by_upper_.erase(it);
    }
  }
}

uint64_t OverlayFilesystem::directory_ino(const std::optional<LowerIdentity>& lower,
                                          ino_t upper_ino) {
  if (!lower) {
    return kUpperDirectoryInoBit | upper_ino;
  }
  if (lower->dev == lower_root_dev_) {
    return lower->ino;
  }
  auto [it, inserted] = lower_device_index_.try_emplace(lower->dev, lower_device_index_.size() + 1);
  return kLowerDeviceInoBit | (it->second << kLowerDeviceIndexShift) | (lower->ino & kLowerInoMask);
}

// ---------------------------------------------------------------------------
// OverlayInode: lookup, attributes, open

OverlayInode::OverlayInode(std::shared_ptr<OverlayFilesystem> filesystem, mode_t type,
                           std::shared_ptr<Inode> upper, std::shared_ptr<Inode> lower,
                           std::optional<LowerIdentity> origin)
    : Inode(std::move(filesystem), type),
      upper_(std::move(upper)),
      lower_(std::move(lower)),
      origin_(origin) {}

OverlayInode::~OverlayInode() { overlay().forget(*this); }

OverlayFilesystem& OverlayInode::overlay() const {
  return static_cast<OverlayFilesystem&>(filesystem());
}

void OverlayInode::set_alias(const std::shared_ptr<OverlayInode>& parent, std::string_view name) {
  alias_parent_ = parent;
  alias_name_ = std::string(name);
}

void OverlayInode::orphan() {
  overlay().forget_lower(*this);
  if (upper_) {
    // A removed merged directory must not show its lower entries through
    // a file still open on it; its origin keeps its st_ino.
    if (is_dir()) {
      lower_ = nullptr;
    }
    return;
  }
  orphaned_ = true;
  alias_parent_ = nullptr;
  alias_name_.clear();
}

Result<std::shared_ptr<Inode>> OverlayInode::upper_child(std::string_view name) {
  if (!upper_) {
    return std::shared_ptr<Inode>{};
  }
  auto found = upper_->lookup(overlay().internal_caller(), name);
  if (!found.ok()) {
    if (found.error().value == ENOENT) {
      return std::shared_ptr<Inode>{};
    }
    return found.error();
  }
  return std::move(*found);
}

bool OverlayInode::lower_has(const Caller& caller, std::string_view name) {
  if (!lower_) {
    return false;
  }
  // Any result but ENOENT means the name exists below, even when it cannot
  // be looked at (a host kernel filesystem that hostfs rejects).
  auto found = lower_->lookup(caller, name);
  return found.ok() || found.error().value != ENOENT;
}

Result<OverlayInode::Layers> OverlayInode::find_layers(const Caller& caller,
                                                       std::string_view name) {
  if (!is_dir()) {
    return Errno{ENOTDIR};
  }
  const Caller& internal = overlay().internal_caller();
  Layers layers;
  layers.upper = TRY(upper_child(name));
  if (layers.upper) {
    if (is_whiteout(*layers.upper)) {
      return Errno{ENOENT};
    }
    if (!layers.upper->is_dir()) {
      // A copied-up file remembers its lower identity in the origin xattr.
      std::byte value[sizeof(LowerIdentity)];
      auto got = layers.upper->get_xattr(internal, kOverlayOriginXattr, value);
      if (got.ok() && *got == sizeof(LowerIdentity)) {
        LowerIdentity origin;
        std::memcpy(&origin, value, sizeof(origin));
        layers.origin = origin;
      }
      return layers;
    }
    if (!lower_ || is_opaque(internal, *layers.upper)) {
      return layers;
    }
    auto lower = lower_->lookup(caller, name);
    if (lower.ok() && (*lower)->is_dir()) {
      layers.origin = TRY(lower_identity(**lower));
      layers.lower = std::move(*lower);
    }
    return layers;
  }

  if (!lower_) {
    return Errno{ENOENT};
  }
  layers.lower = TRY(lower_->lookup(caller, name));
  layers.origin = TRY(lower_identity(*layers.lower));
  return layers;
}

Result<std::shared_ptr<OverlayInode>> OverlayInode::lookup_overlay(const Caller& caller,
                                                                   std::string_view name) {
  if (orphaned_) {
    return Errno{ENOENT};
  }
  Layers layers = TRY(find_layers(caller, name));
  auto self = std::static_pointer_cast<OverlayInode>(shared_from_this());
  return overlay().inode_for(std::move(layers.upper), std::move(layers.lower), layers.origin, self,
                             name);
}

Result<std::shared_ptr<Inode>> OverlayInode::lookup(const Caller& caller, std::string_view name) {
  return std::shared_ptr<Inode>(TRY(lookup_overlay(caller, name)));
}

bool OverlayInode::revalidate(const Caller& caller, std::string_view name, const Inode& child) {
  const auto* overlay_child = dynamic_cast<const OverlayInode*>(&child);
  if (overlay_child == nullptr) {
    return true;
  }
  if (overlay_child->orphaned_) {
    return false;
  }
  auto upper = upper_child(name);
  if (!upper.ok()) {
    return false;
  }
  if (*upper) {
    return !is_whiteout(**upper) && overlay_child->upper_ == *upper;
  }
  // Nothing in the upper: the child must still be the lower's.
  if (overlay_child->upper_ || !overlay_child->lower_ || !lower_) {
    return false;
  }
  return lower_->revalidate(caller, name, *overlay_child->lower_);
}

Result<uint64_t> OverlayInode::reported_ino() {
  if (is_dir()) {
    ino_t upper_ino = 0;
    if (!origin_) {
      upper_ino = TRY(upper_->stat()).st_ino;
    }
    return overlay().directory_ino(origin_, upper_ino);
  }
  if (origin_) {
    return origin_->ino;
  }
  return TRY(real().stat()).st_ino;
}

Result<struct stat> OverlayInode::stat() {
  struct stat st = TRY(real().stat());
  if (is_dir()) {
    st.st_dev = overlay().dev();
    st.st_ino = overlay().directory_ino(origin_, st.st_ino);
    // Linux's overlay reports 1 link for a merged directory: its
    // subdirectories cannot be counted without listing both layers.
    if (merged()) {
      st.st_nlink = 1;
    }
  } else if (origin_) {
    st.st_dev = origin_->dev;
    st.st_ino = origin_->ino;
  }
  return st;
}

Result<struct statx> OverlayInode::statx(uint32_t mask) {
  struct statx result = TRY(real().statx(mask));
  dev_t dev = makedev(result.stx_dev_major, result.stx_dev_minor);
  if (is_dir()) {
    dev = overlay().dev();
    result.stx_ino = overlay().directory_ino(origin_, result.stx_ino);
    if (merged()) {
      result.stx_nlink = 1;
    }
  } else if (origin_) {
    dev = origin_->dev;
    result.stx_ino = origin_->ino;
  }
  result.stx_dev_major = major(dev);
  result.stx_dev_minor = minor(dev);
  return result;
}

Result<LinkTarget> OverlayInode::follow_link(const Caller& caller) {
  return real().follow_link(caller);
}

Result<FileRef> OverlayInode::open(const Caller& caller, const VirtualDentry& location,
                                   uint32_t flags) {
  if (is_dir()) {
    auto self = std::static_pointer_cast<OverlayInode>(shared_from_this());
    return FileRef(std::make_shared<OverlayDirectoryFile>(location, flags, std::move(self)));
  }
  const bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;
  if (is_regular() && writes) {
    // Data about to be truncated away is not copied.
    TRY(copy_up(caller, /*with_data=*/(flags & O_TRUNC) == 0));
  }
  // The file description reads the layer the inode is on now; a copy-up
  // later does not move it (see the header comment).
  return real().open(caller, location, flags);
}

bool OverlayInode::unlinked() {
  if (orphaned_) {
    return true;
  }
  return real().unlinked();
}

// ---------------------------------------------------------------------------
// OverlayInode: extended attributes

Result<size_t> OverlayInode::get_xattr(const Caller& caller, std::string_view name,
                                       std::span<std::byte> value) {
  // Linux's overlay rejects its own attributes whatever the caller holds.
  if (name.starts_with(kOverlayXattrPrefix)) {
    return Errno{EOPNOTSUPP};
  }
  return real().get_xattr(caller, name, value);
}

Result<size_t> OverlayInode::list_xattr(const Caller& caller, std::span<char> list) {
  // The whole list, so that the overlay's own names can be left out.
  const size_t length = TRY(real().list_xattr(caller, {}));
  std::vector<char> all(length);
  const size_t got = TRY(real().list_xattr(caller, all));

  std::string names;
  size_t position = 0;
  while (position < got) {
    const char* start = all.data() + position;
    const std::string_view name(start, strnlen(start, got - position));
    position += name.size() + 1;
    if (!name.starts_with(kOverlayXattrPrefix)) {
      names.append(name);
      names.push_back('\0');
    }
  }
  if (list.empty()) {
    return names.size();
  }
  if (names.size() > list.size()) {
    return Errno{ERANGE};
  }
  std::memcpy(list.data(), names.data(), names.size());
  return names.size();
}

Result<void> OverlayInode::set_xattr(const Caller& caller, std::string_view name,
                                     std::span<const std::byte> value, int flags) {
  if (name.starts_with(kOverlayXattrPrefix)) {
    return Errno{EOPNOTSUPP};
  }
  TRY(copy_up(caller, /*with_data=*/true));
  return upper_->set_xattr(caller, name, value, flags);
}

Result<void> OverlayInode::remove_xattr(const Caller& caller, std::string_view name) {
  if (name.starts_with(kOverlayXattrPrefix)) {
    return Errno{EOPNOTSUPP};
  }
  // As Linux, a name the lower lacks fails before any copy-up.
  if (!upper_) {
    TRY(lower_->get_xattr(caller, name, {}));
  }
  TRY(copy_up(caller, /*with_data=*/true));
  return upper_->remove_xattr(caller, name);
}

}  // namespace ward::vfs
