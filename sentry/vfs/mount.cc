#include "sentry/vfs/mount.h"

#include <algorithm>
#include <atomic>

namespace ward::vfs {
namespace {

std::atomic<int> next_mount_id{1};

}  // namespace

Mount::Mount(std::shared_ptr<Dentry> root, std::string source, MountOptions options)
    : id_(next_mount_id.fetch_add(1)),
      root_(std::move(root)),
      source_(std::move(source)),
      options_(options) {}

Mount::~Mount() {
  if (mountpoint_) {
    mountpoint_->remove_mount();
  }
}

std::shared_ptr<Mount> Mount::child_at(const Dentry& dentry) const {
  auto it = children_.find(&dentry);
  if (it == children_.end() || it->second.empty()) {
    return nullptr;
  }
  return it->second.back();
}

std::string Mount::options_string() const {
  std::string text = options_.read_only ? "ro" : "rw";
  if (options_.nosuid) {
    text += ",nosuid";
  }
  if (options_.nodev) {
    text += ",nodev";
  }
  if (options_.noexec) {
    text += ",noexec";
  }
  return text;
}

MountNamespace::MountNamespace(std::shared_ptr<Mount> root_mount)
    : root_mount_(std::move(root_mount)) {
  root_mount_->namespace_ = this;
  mounts_.push_back(root_mount_);
}

VirtualDentry MountNamespace::root() const {
  return VirtualDentry{.mount = root_mount_, .dentry = root_mount_->root()};
}

Result<void> MountNamespace::attach(const VirtualDentry& mountpoint, std::shared_ptr<Mount> mount) {
  return attach_tree(mountpoint, MountTree{std::move(mount)});
}

std::vector<std::shared_ptr<Mount>> MountNamespace::mounts() const { return mounts_; }

VirtualDentry make_anonymous_location(std::shared_ptr<Inode> inode) {
  auto root = Dentry::make_root(std::move(inode));
  auto mount = std::make_shared<Mount>(root, "none", MountOptions{});
  return VirtualDentry{.mount = std::move(mount), .dentry = std::move(root)};
}

VirtualDentry cross_mounts(VirtualDentry location) {
  while (location.dentry->mount_count() > 0) {
    auto child = location.mount->child_at(*location.dentry);
    if (!child) {
      break;
    }
    location = VirtualDentry{.mount = child, .dentry = child->root()};
  }
  return location;
}

PathName name_from_root(const VirtualDentry& root, const VirtualDentry& target) {
  std::vector<const std::string*> components;
  VirtualDentry current = target;
  bool reachable = true;
  for (;;) {
    if (current == root) {
      break;
    }
    if (current.dentry == current.mount->root()) {
      auto parent = current.mount->parent();
      if (!parent) {
        reachable = false;
        break;
      }
      current = VirtualDentry{.mount = parent, .dentry = current.mount->mountpoint()};
      continue;
    }
    if (current.dentry->is_root()) {
      // The root of a filesystem that is not the root of its mount.
      reachable = false;
      break;
    }
    components.push_back(&current.dentry->name());
    current.dentry = current.dentry->parent();
  }

  if (components.empty()) {
    return PathName{.path = std::string(1, '/'), .reachable = reachable};
  }
  std::string path;
  for (auto it = components.rbegin(); it != components.rend(); ++it) {
    path += '/';
    path += **it;
  }
  return PathName{.path = std::move(path), .reachable = reachable};
}

Result<struct statfs> statfs_at(const VirtualDentry& location) {
  // Linux's ST_* statfs flags (linux/statfs.h); ST_VALID marks f_flags as
  // filled.
  constexpr long kStReadOnly = 0x0001;
  constexpr long kStNoSuid = 0x0002;
  constexpr long kStNoDev = 0x0004;
  constexpr long kStNoExec = 0x0008;
  constexpr long kStValid = 0x0020;

  struct statfs result = TRY(location.dentry->inode().statfs());
  const MountOptions& options = location.mount->options();
  long flags = kStValid;
  if (options.read_only) {
    flags |= kStReadOnly;
  }
  if (options.nosuid) {
    flags |= kStNoSuid;
  }
  if (options.nodev) {
    flags |= kStNoDev;
  }
  if (options.noexec) {
    flags |= kStNoExec;
  }
  result.f_flags = flags;
  return result;
}

VirtualDentry tree_root_of(const VirtualDentry& target) {
  auto mount = target.mount;
  while (auto parent = mount->parent()) {
    mount = parent;
  }
  return VirtualDentry{.mount = mount, .dentry = mount->root()};
}

}  // namespace ward::vfs
