// The changes mount(2), umount2(2) and unshare(CLONE_NEWNS) make to a mount
// namespace: attaching trees of mounts, detaching them, moving them, and
// copying mounts for bind mounts and new namespaces.
#include <algorithm>

#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// A new mount of the filesystem subtree at `root`, with the flags and
// source of `original`.
std::shared_ptr<Mount> copy_mount(const Mount& original, std::shared_ptr<Dentry> root) {
  auto copy = std::make_shared<Mount>(std::move(root), original.source(), original.options());
  copy->set_propagation(original.propagation());
  return copy;
}

// Linux's default fs.mount-max sysctl: the most mounts one namespace may
// hold.
constexpr size_t kMaxMountsPerNamespace = 100000;

}  // namespace

// Friends of Mount: link `mount` below `mountpoint`, and undo that.
void link_mount(const VirtualDentry& mountpoint, const std::shared_ptr<Mount>& mount);
void unlink_mount(Mount& mount);

void link_mount(const VirtualDentry& mountpoint, const std::shared_ptr<Mount>& mount) {
  mount->parent_ = mountpoint.mount;
  mount->mountpoint_ = mountpoint.dentry;
  mountpoint.dentry->add_mount();
  mountpoint.mount->children_[mountpoint.dentry.get()].push_back(mount);
}

void unlink_mount(Mount& mount) {
  auto parent = mount.parent_.lock();
  if (parent && mount.mountpoint_) {
    auto it = parent->children_.find(mount.mountpoint_.get());
    if (it != parent->children_.end()) {
      std::erase_if(it->second, [&](const auto& child) { return child.get() == &mount; });
      if (it->second.empty()) {
        parent->children_.erase(it);
      }
    }
  }
  if (mount.mountpoint_) {
    mount.mountpoint_->remove_mount();
  }
  mount.parent_.reset();
  mount.mountpoint_.reset();
}

Result<void> MountNamespace::attach_tree(const VirtualDentry& mountpoint, const MountTree& tree) {
  const std::shared_ptr<Mount>& top = tree.front();
  // A directory covers a directory and a file a file, as Linux's
  // graft_tree requires.
  if (mountpoint.dentry->inode().is_dir() != top->root()->inode().is_dir()) {
    return Errno{ENOTDIR};
  }
  // Linux's count_mounts: a tree that would take the namespace past the
  // limit is not attached.
  if (tree.size() > kMaxMountsPerNamespace - std::min(mounts_.size(), kMaxMountsPerNamespace)) {
    return Errno{ENOSPC};
  }
  link_mount(mountpoint, top);
  for (const auto& mount : tree) {
    mount->namespace_ = this;
    mounts_.push_back(mount);
  }
  return ok();
}

std::vector<std::shared_ptr<Mount>> MountNamespace::subtree(const Mount& top) const {
  std::vector<std::shared_ptr<Mount>> found;
  for (const auto& mount : mounts_) {
    for (std::shared_ptr<Mount> at = mount; at; at = at->parent()) {
      if (at.get() == &top) {
        found.push_back(mount);
        break;
      }
    }
  }
  return found;
}

void MountNamespace::detach_tree(const std::shared_ptr<Mount>& top) {
  const std::vector<std::shared_ptr<Mount>> detached = subtree(*top);
  std::erase_if(mounts_, [&](const auto& mount) {
    return std::find(detached.begin(), detached.end(), mount) != detached.end();
  });
  // Children first, so that each parent is still linked while its
  // children leave it.
  for (auto it = detached.rbegin(); it != detached.rend(); ++it) {
    unlink_mount(**it);
    (*it)->namespace_ = nullptr;
  }
}

Result<void> MountNamespace::move_tree(const std::shared_ptr<Mount>& top,
                                       const VirtualDentry& mountpoint) {
  if (top == root_mount_ || !top->parent()) {
    return Errno{EINVAL};
  }
  if (mountpoint.dentry->inode().is_dir() != top->root()->inode().is_dir()) {
    return Errno{ENOTDIR};
  }
  const std::vector<std::shared_ptr<Mount>> moved = subtree(*top);
  if (std::find(moved.begin(), moved.end(), mountpoint.mount) != moved.end()) {
    return Errno{ELOOP};
  }

  unlink_mount(*top);
  link_mount(mountpoint, top);
  // The moved mounts go to the end of the list, so that each still comes
  // after its new parent in /proc/mounts.
  std::erase_if(mounts_, [&](const auto& mount) {
    return std::find(moved.begin(), moved.end(), mount) != moved.end();
  });
  mounts_.insert(mounts_.end(), moved.begin(), moved.end());
  return ok();
}

Result<MountTree> MountNamespace::copy_for_bind(const VirtualDentry& source, bool recursive) const {
  if (source.mount->propagation() == Propagation::kUnbindable) {
    return Errno{EINVAL};
  }
  MountTree tree{copy_mount(*source.mount, source.dentry)};
  if (!recursive) {
    return tree;
  }

  // Walk the namespace in attach order, so that every parent has been
  // copied before its children are looked at.
  std::map<const Mount*, std::shared_ptr<Mount>> copies{{source.mount.get(), tree.front()}};
  for (const auto& mount : subtree(*source.mount)) {
    auto parent = mount->parent();
    if (mount == source.mount || !parent || mount->propagation() == Propagation::kUnbindable) {
      continue;
    }
    auto parent_copy = copies.find(parent.get());
    if (parent_copy == copies.end()) {
      continue;
    }
    // Below the source mount itself, only mounts inside the bound subtree.
    if (parent == source.mount && !is_subdir(*mount->mountpoint(), *source.dentry)) {
      continue;
    }
    auto copy = copy_mount(*mount, mount->root());
    link_mount(VirtualDentry{.mount = parent_copy->second, .dentry = mount->mountpoint()}, copy);
    copies.emplace(mount.get(), copy);
    tree.push_back(std::move(copy));
  }
  return tree;
}

std::shared_ptr<MountNamespace> MountNamespace::copy(
    std::map<const Mount*, std::shared_ptr<Mount>>& copies) const {
  auto root_copy = copy_mount(*root_mount_, root_mount_->root());
  auto result = std::make_shared<MountNamespace>(root_copy);
  copies.emplace(root_mount_.get(), root_copy);

  for (const auto& mount : mounts_) {
    auto parent = mount->parent();
    if (mount == root_mount_ || !parent) {
      continue;
    }
    auto parent_copy = copies.find(parent.get());
    if (parent_copy == copies.end()) {
      continue;
    }
    auto copy = copy_mount(*mount, mount->root());
    link_mount(VirtualDentry{.mount = parent_copy->second, .dentry = mount->mountpoint()}, copy);
    copy->namespace_ = result.get();
    result->mounts_.push_back(copy);
    copies.emplace(mount.get(), std::move(copy));
  }
  return result;
}

bool is_subdir(const Dentry& dentry, const Dentry& ancestor) {
  for (const Dentry* at = &dentry; at != nullptr; at = at->parent().get()) {
    if (at == &ancestor) {
      return true;
    }
  }
  return false;
}

}  // namespace ward::vfs
