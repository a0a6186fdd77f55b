// Mounts and the mount namespace of a sandbox. A Mount attaches the root
// dentry of a filesystem at a dentry of its parent mount; the path walk
// crosses into a mount when it reaches that dentry and back out on `..` from
// the mount's root.
#pragma once

#include <sys/statfs.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

struct MountOptions {
  bool read_only = false;
  bool nodev = false;   // device nodes on it cannot be opened (EACCES)
  bool noexec = false;  // nothing on it can be executed (EACCES)
  bool nosuid = false;
};

class Mount : public std::enable_shared_from_this<Mount> {
 public:
  // `source` is the first field of /proc/mounts ("proc", "none").
  Mount(std::shared_ptr<Dentry> root, std::string source, MountOptions options);
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  // The mount id /proc/pid/mountinfo shows: unique among the mounts of the
  // sentry, never reused.
  int id() const { return id_; }
  const std::shared_ptr<Dentry>& root() const { return root_; }
  const std::string& source() const { return source_; }
  const MountOptions& options() const { return options_; }
  bool read_only() const { return options_.read_only; }

  // The mount this one is attached to, and the dentry in it that this one
  // covers; null for a namespace's root mount and for anonymous mounts.
  std::shared_ptr<Mount> parent() const { return parent_.lock(); }
  const std::shared_ptr<Dentry>& mountpoint() const { return mountpoint_; }

  // The mount attached on `dentry` of this mount, or null. The most recent
  // one wins when several are stacked there.
  std::shared_ptr<Mount> child_at(const Dentry& dentry) const;

  // Options as /proc/mounts lists them: "ro,nosuid,nodev".
  std::string options_string() const;

 private:
  friend class MountNamespace;

  int id_;
  std::shared_ptr<Dentry> root_;
  std::string source_;
  MountOptions options_;
  std::weak_ptr<Mount> parent_;
  std::shared_ptr<Dentry> mountpoint_;
  // Keyed by the covered dentry; a later mount on the same dentry is pushed
  // on top.
  std::map<const Dentry*, std::vector<std::shared_ptr<Mount>>> children_;
};

// The mount tree of one sandbox.
class MountNamespace {
 public:
  explicit MountNamespace(std::shared_ptr<Mount> root_mount);

  // The root of the tree: the root mount and its root dentry.
  VirtualDentry root() const;

  // Attaches `mount` on `mountpoint`, which must belong to a mount of this
  // namespace. ENOTDIR unless both are directories or both are not.
  Result<void> attach(const VirtualDentry& mountpoint, std::shared_ptr<Mount> mount);

  // Every mount, each parent before its children, in attach order: the
  // order of /proc/mounts.
  std::vector<std::shared_ptr<Mount>> mounts() const;

 private:
  std::shared_ptr<Mount> root_mount_;
  std::vector<std::shared_ptr<Mount>> mounts_;
};

// A location for an inode on no mounted filesystem (a pipe, ward's stdio):
// the root of a mount of its own, attached nowhere.
VirtualDentry make_anonymous_location(std::shared_ptr<Inode> inode);

// If `location` covers a mount, the root of the topmost mount on it;
// otherwise `location` itself.
VirtualDentry cross_mounts(VirtualDentry location);

// The path of `target` seen from `root`, as getcwd and /proc/pid/fd name it.
// When `target` is not below `root`, `reachable` is false and the path is
// what is left after climbing to the top of target's mount tree.
struct PathName {
  std::string path;
  bool reachable;
};
PathName name_from_root(const VirtualDentry& root, const VirtualDentry& target);

// statfs(2) of the filesystem at `location`, with f_flags from its mount
// (ST_RDONLY, ST_NODEV...) as Linux's calculate_f_flags does.
Result<struct statfs> statfs_at(const VirtualDentry& location);

// The top of target's mount tree: the root mount of its namespace.
VirtualDentry tree_root_of(const VirtualDentry& target);

}  // namespace ward::vfs
