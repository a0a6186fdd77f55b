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

// The propagation type of a mount (Linux's shared subtrees), which decides
// whether mount events reach other mounts. Only kUnbindable changes what
// ward does, because such a mount cannot be the source of a bind mount.
// NOTE: ward records kShared and kSlave but sends no events between peers.
enum class Propagation { kPrivate, kShared, kSlave, kUnbindable };

class MountNamespace;

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
  // Replaces the per-mount flags, as a remount does.
  void set_options(const MountOptions& options) { options_ = options; }

  Propagation propagation() const { return propagation_; }
  void set_propagation(Propagation propagation) { propagation_ = propagation; }

  // The namespace this mount is attached in; null for an anonymous mount,
  // a mount not yet attached and one that umount2 detached.
  const MountNamespace* mount_namespace() const { return namespace_; }

  // True when some mount is attached on a dentry of this one.
  bool has_children() const { return !children_.empty(); }

  // umount2's MNT_EXPIRE mark: set by the first such call, which fails with
  // EAGAIN, so that a second one unmounts.
  bool expiry_mark() const { return expiry_mark_; }
  void set_expiry_mark(bool mark) { expiry_mark_ = mark; }

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
  friend void link_mount(const VirtualDentry& mountpoint, const std::shared_ptr<Mount>& mount);
  friend void unlink_mount(Mount& mount);

  int id_;
  std::shared_ptr<Dentry> root_;
  std::string source_;
  MountOptions options_;
  Propagation propagation_ = Propagation::kPrivate;
  const MountNamespace* namespace_ = nullptr;
  bool expiry_mark_ = false;
  std::weak_ptr<Mount> parent_;
  std::shared_ptr<Dentry> mountpoint_;
  // Keyed by the covered dentry; a later mount on the same dentry is pushed
  // on top. A key never maps to an empty vector.
  std::map<const Dentry*, std::vector<std::shared_ptr<Mount>>> children_;
};

// A mount with the mounts attached below it, not attached anywhere yet:
// what a recursive bind mount copies. The first is the top; each parent
// comes before its children.
using MountTree = std::vector<std::shared_ptr<Mount>>;

// The mount tree of a mount namespace. The sandbox starts with one; each
// unshare(CLONE_NEWNS) makes a copy (mount_tree.cc).
class MountNamespace : public std::enable_shared_from_this<MountNamespace> {
 public:
  explicit MountNamespace(std::shared_ptr<Mount> root_mount);

  // The root of the tree: the root mount and its root dentry.
  VirtualDentry root() const;
  const std::shared_ptr<Mount>& root_mount() const { return root_mount_; }

  // Attaches `mount` on `mountpoint`, which must belong to a mount of this
  // namespace. ENOTDIR unless both are directories or both are not, ENOSPC
  // as attach_tree.
  Result<void> attach(const VirtualDentry& mountpoint, std::shared_ptr<Mount> mount);

  // Attaches the top of `tree` on `mountpoint` and adds the whole tree to
  // the namespace. ENOTDIR as attach, ENOSPC when the namespace would hold
  // more than 100000 mounts (Linux's default fs.mount-max).
  Result<void> attach_tree(const VirtualDentry& mountpoint, const MountTree& tree);

  // Every mount, each parent before its children, in attach order: the
  // order of /proc/mounts.
  std::vector<std::shared_ptr<Mount>> mounts() const;

  // True when `mount` is attached in this namespace (Linux's check_mnt).
  bool contains(const Mount& mount) const { return mount.namespace_ == this; }

  // Detaches `top` and every mount below it from the namespace and from
  // their parents: umount2's MNT_DETACH, and the end of a plain umount.
  // Paths no longer reach them, but an open file or a working directory
  // on one keeps using it.
  void detach_tree(const std::shared_ptr<Mount>& top);

  // Moves `top`, with the mounts below it, onto `mountpoint` (MS_MOVE).
  // EINVAL for the root mount, ENOTDIR as attach, ELOOP when `mountpoint`
  // lies below `top`.
  Result<void> move_tree(const std::shared_ptr<Mount>& top, const VirtualDentry& mountpoint);

  // A copy of the mount at `source` showing the subtree from
  // source.dentry down, with its flags, for a bind mount. With `recursive`,
  // the mounts attached below that subtree are copied too, except
  // unbindable ones. EINVAL when the source mount is unbindable.
  Result<MountTree> copy_for_bind(const VirtualDentry& source, bool recursive) const;

  // A new namespace with a copy of every mount, as unshare(CLONE_NEWNS)
  // makes. `copies` receives each old mount's copy, so that the caller can
  // move its root and working directory over.
  std::shared_ptr<MountNamespace> copy(
      std::map<const Mount*, std::shared_ptr<Mount>>& copies) const;

  // `top` and the mounts attached below it, in the order of mounts().
  std::vector<std::shared_ptr<Mount>> subtree(const Mount& top) const;

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

// True when `dentry` is `ancestor` or lies below it (Linux's is_subdir).
bool is_subdir(const Dentry& dentry, const Dentry& ancestor);

}  // namespace ward::vfs
