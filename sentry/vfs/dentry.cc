#include "sentry/vfs/dentry.h"

namespace ward::vfs {

std::shared_ptr<Dentry> Dentry::make_root(std::shared_ptr<Inode> inode) {
  return std::shared_ptr<Dentry>(new Dentry(nullptr, "", std::move(inode)));
}

Dentry::Dentry(std::shared_ptr<Dentry> parent, std::string name, std::shared_ptr<Inode> inode)
    : parent_(std::move(parent)), name_(std::move(name)), inode_(std::move(inode)) {}

Dentry::~Dentry() {
  if (!parent_) {
    return;
  }
  // Remove this dentry's cache slot unless a newer dentry took the name.
  auto it = parent_->children_.find(name_);
  if (it != parent_->children_.end() && it->second.expired()) {
    parent_->children_.erase(it);
  }
}

std::shared_ptr<Dentry> Dentry::cached_child(std::string_view name) {
  auto it = children_.find(name);
  if (it == children_.end()) {
    return nullptr;
  }
  return it->second.lock();
}

std::shared_ptr<Dentry> Dentry::add_child(std::string_view name, std::shared_ptr<Inode> inode) {
  std::shared_ptr<Dentry> child(
      new Dentry(shared_from_this(), std::string(name), std::move(inode)));
  children_.insert_or_assign(std::string(name), child);
  return child;
}

void Dentry::forget_child(std::string_view name) {
  auto it = children_.find(name);
  if (it != children_.end()) {
    children_.erase(it);
  }
}

void Dentry::move_to(const std::shared_ptr<Dentry>& new_parent, std::string_view new_name) {
  if (parent_) {
    auto it = parent_->children_.find(name_);
    if (it != parent_->children_.end() && it->second.lock().get() == this) {
      parent_->children_.erase(it);
    }
  }
  parent_ = new_parent;
  name_ = std::string(new_name);
  new_parent->children_.insert_or_assign(name_, weak_from_this());
}

}  // namespace ward::vfs
