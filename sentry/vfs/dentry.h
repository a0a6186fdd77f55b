// Dentry: a name in the sentry's own directory tree. Each dentry keeps its
// parent, so `..` is answered by the sentry and never by the host, and its
// inode. Children are cached weakly: a dentry lives while something uses it
// (an open file, a cwd, a mount, a child), and a later lookup finds it again
// instead of asking the filesystem.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "sentry/vfs/inode.h"

namespace ward::vfs {

class Dentry : public std::enable_shared_from_this<Dentry> {
 public:
  // The root dentry of a filesystem: no parent, no name.
  static std::shared_ptr<Dentry> make_root(std::shared_ptr<Inode> inode);

  ~Dentry();
  Dentry(const Dentry&) = delete;
  Dentry& operator=(const Dentry&) = delete;

  const std::string& name() const { return name_; }
  // Null for a filesystem root.
  const std::shared_ptr<Dentry>& parent() const { return parent_; }
  bool is_root() const { return parent_ == nullptr; }

  Inode& inode() const { return *inode_; }
  const std::shared_ptr<Inode>& inode_ref() const { return inode_; }

  // The cached child called `name`, or null.
  std::shared_ptr<Dentry> cached_child(std::string_view name);

  // Makes a child dentry for `inode` and caches it under `name`, replacing
  // whatever was cached there.
  std::shared_ptr<Dentry> add_child(std::string_view name, std::shared_ptr<Inode> inode);

  // Drops `name` from the cache; a dentry still in use lives on, detached.
  void forget_child(std::string_view name);

  // Moves this dentry to `new_parent` under `new_name` after a rename, so
  // that open files and working directories below it follow (Linux's
  // d_move). Whatever was cached under the new name is forgotten.
  void move_to(const std::shared_ptr<Dentry>& new_parent, std::string_view new_name);

  // How many mounts sit on this dentry. A mounted dentry is never
  // revalidated, because the mount pins it.
  int mount_count() const { return mount_count_; }
  void add_mount() { ++mount_count_; }
  void remove_mount() { --mount_count_; }

 private:
  Dentry(std::shared_ptr<Dentry> parent, std::string name, std::shared_ptr<Inode> inode);

  std::shared_ptr<Dentry> parent_;
  std::string name_;
  std::shared_ptr<Inode> inode_;
  std::map<std::string, std::weak_ptr<Dentry>, std::less<>> children_;
  int mount_count_ = 0;
};

}  // namespace ward::vfs
