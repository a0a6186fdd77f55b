// overlay: a writable view of a read-only lower filesystem (hostfs on the
// host root), in the manner of Linux's overlayfs. Changes go to an upper
// filesystem (a tmpfs in the sentry's memory), and the lower is never
// written.
//
// The upper keeps Linux's on-disk format. It contains two directories:
// `upper`, the upper layer itself, and `work`, where new objects are built
// under temporary names before a rename puts them in place. In the upper
// layer a whiteout (a character device 0/0) hides the lower name it
// shadows, and a directory with the xattr trusted.overlay.opaque = "y"
// hides the whole lower directory of its name. A directory in both layers
// is merged. The guest never sees whiteouts, the work directory or any
// trusted.overlay.* attribute.
//
// Copy-up: before a lower object changes, it and its missing ancestors are
// copied to the upper with their mode, owner, times and user.* xattrs
// (regular files with their data), and the overlay inode switches to the
// copy. The overlay inode stays the same object, so locks and watches
// keyed on it survive. A file open read-only before its copy-up keeps
// reading the lower data, as Linux did before 4.19.
//
// Inode numbers, chosen so that no two files of the overlay share a
// (st_dev, st_ino) pair:
// - A non-directory reports the st_dev and st_ino of the layer it came
//   from: the lower's, also after copy-up, unless its lower had several
//   hard links, which the copy-up breaks. Then, and for files made in the
//   overlay, the upper's.
// - A directory reports the overlay's st_dev, and as st_ino the lower's
//   st_ino when the lower directory is on the host root's device. Other
//   directories get a number with a high bit set: kUpperDirectoryInoBit
//   plus the upper's st_ino, or kLowerDeviceInoBit plus a per-device index
//   and the low bits of the lower's st_ino.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sentry/kernel/credentials.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/inode.h"
#include "ward/result.h"

namespace ward::vfs {

// The filesystem type name the overlay reports in /proc/mounts.
inline constexpr const char* kOverlayType = "overlay";

// The xattr prefix of the overlay's own attributes in the upper, which the
// guest can neither see nor set (Linux's OVL_XATTR_TRUSTED_PREFIX).
inline constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

// The LowerIdentity of the lower file a non-directory was copied up from,
// stored as the raw struct. Linux stores a file handle there; the upper of
// ward's overlay lives only as long as the sandbox, so the identity is
// enough.
inline constexpr std::string_view kOverlayOriginXattr = "trusted.overlay.origin";

// Directory st_ino values that are not a lower inode on the host root's
// device carry one of these bits.
inline constexpr uint64_t kUpperDirectoryInoBit = uint64_t{1} << 63;
inline constexpr uint64_t kLowerDeviceInoBit = uint64_t{1} << 62;

class OverlayInode;

// The (st_dev, st_ino) of a lower inode.
struct LowerIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  auto operator<=>(const LowerIdentity&) const = default;
};

class OverlayFilesystem final : public Filesystem {
 public:
  // Builds an overlay of the directory `lower_root` with its upper layer in
  // `upper_base`, an empty directory of a writable filesystem, and returns
  // its root dentry. The upper root takes the lower root's mode, owner and
  // times.
  static Result<std::shared_ptr<Dentry>> create_root(std::shared_ptr<Inode> lower_root,
                                                     std::shared_ptr<Inode> upper_base);

  ~OverlayFilesystem() override;

  // The upper's statistics with the overlay's f_type
  // (OVERLAYFS_SUPER_MAGIC).
  Result<struct statfs> statfs() override;

  // The caller the overlay acts as on its layers: root with every
  // capability, so that trusted.* xattrs and the work directory are
  // reachable.
  const Caller& internal_caller() const { return internal_caller_; }

  // The work directory in the upper filesystem.
  Inode& work() const { return *work_; }

  // A fresh name for an object under construction in the work directory.
  std::string next_work_name();

  // Makes a whiteout in the work directory and returns its name.
  Result<std::string> make_work_whiteout();

  // The overlay inode for layers found by a lookup: the cached one when the
  // same upper inode, or the same lower inode, already has one. `parent`
  // and `name` record where it was found, for a later copy-up.
  std::shared_ptr<OverlayInode> inode_for(std::shared_ptr<Inode> upper,
                                          std::shared_ptr<Inode> lower,
                                          std::optional<LowerIdentity> origin,
                                          const std::shared_ptr<OverlayInode>& parent,
                                          std::string_view name);

  // Cache upkeep for an inode that gained an upper (copy-up) or lost its
  // lower name (a whiteout now hides it).
  void cache_upper(const std::shared_ptr<OverlayInode>& inode);
  void forget_lower(const OverlayInode& inode);
  // Drops the cache entries that point at `inode`, which is being destroyed.
  void forget(const OverlayInode& inode);

  // The st_ino a directory reports: see the header comment.
  uint64_t directory_ino(const std::optional<LowerIdentity>& lower, ino_t upper_ino);

 private:
  OverlayFilesystem(std::shared_ptr<Inode> upper_base, std::shared_ptr<Inode> work,
                    dev_t lower_root_dev);

  std::shared_ptr<Inode> upper_base_;
  std::shared_ptr<Inode> work_;
  dev_t lower_root_dev_;

  kernel::Credentials internal_creds_;
  FsContext internal_fs_;
  Caller internal_caller_;

  uint64_t next_work_number_ = 0;
  std::map<dev_t, uint64_t> lower_device_index_;
  std::map<LowerIdentity, std::weak_ptr<OverlayInode>> by_lower_;
  std::unordered_map<const Inode*, std::weak_ptr<OverlayInode>> by_upper_;
};

// One entry of a merged directory listing, without "." and "..".
struct MergedEntry {
  std::string name;
  uint64_t ino;
  uint8_t type;  // DT_* value
};

class OverlayInode final : public Inode {
 public:
  OverlayInode(std::shared_ptr<OverlayFilesystem> filesystem, mode_t type,
               std::shared_ptr<Inode> upper, std::shared_ptr<Inode> lower,
               std::optional<LowerIdentity> origin);
  ~OverlayInode() override;

  // The upper inode, null until copy-up.
  // The lower inode, null for objects made in the overlay and for a
  // directory whose upper is opaque. A non-directory drops it at copy-up.
  const std::shared_ptr<Inode>& upper() const { return upper_; }
  const std::shared_ptr<Inode>& lower() const { return lower_; }
  const std::optional<LowerIdentity>& origin() const { return origin_; }
  bool merged() const { return upper_ != nullptr && lower_ != nullptr; }

  // Records where a lower-only inode was found, for its copy-up.
  void set_alias(const std::shared_ptr<OverlayInode>& parent, std::string_view name);

  // Copies this inode and its ancestors to the upper, with the file's data
  // unless `with_data` is false (the file is about to be truncated to 0).
  Result<void> copy_up(const Caller& caller, bool with_data);

  // The merged entries of this directory.
  Result<std::vector<MergedEntry>> list_merged(const Caller& caller);

  // The st_ino the overlay reports for this inode.
  Result<uint64_t> reported_ino();

  Result<struct stat> stat() override;
  Result<struct statx> statx(uint32_t mask) override;
  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override;
  bool revalidate(const Caller& caller, std::string_view name, const Inode& child) override;
  Result<LinkTarget> follow_link(const Caller& caller) override;
  Result<FileRef> open(const Caller& caller, const VirtualDentry& location,
                       uint32_t flags) override;
  bool unlinked() override;

  Result<size_t> get_xattr(const Caller& caller, std::string_view name,
                           std::span<std::byte> value) override;
  Result<size_t> list_xattr(const Caller& caller, std::span<char> list) override;
  Result<void> set_xattr(const Caller& caller, std::string_view name,
                         std::span<const std::byte> value, int flags) override;
  Result<void> remove_xattr(const Caller& caller, std::string_view name) override;

  Result<std::shared_ptr<Inode>> create(const Caller& caller, std::string_view name,
                                        const NewNode& node) override;
  Result<std::shared_ptr<Inode>> create_unnamed(const Caller& caller, const NewNode& node) override;
  Result<void> link(const Caller& caller, std::string_view name,
                    const std::shared_ptr<Inode>& target) override;
  Result<void> unlink(const Caller& caller, std::string_view name, Inode& child) override;
  Result<void> rmdir(const Caller& caller, std::string_view name, Inode& child) override;
  Result<void> rename(const Caller& caller, std::string_view old_name, Inode& new_parent,
                      std::string_view new_name, unsigned flags) override;
  Result<void> set_attributes(const Caller& caller, const AttributeChange& change) override;

 private:
  friend class OverlayFilesystem;

  // The layers found under `name` in this directory.
  struct Layers {
    std::shared_ptr<Inode> upper;
    std::shared_ptr<Inode> lower;
    std::optional<LowerIdentity> origin;
  };
  Result<Layers> find_layers(const Caller& caller, std::string_view name);
  Result<std::shared_ptr<OverlayInode>> lookup_overlay(const Caller& caller, std::string_view name);

  // The upper inode under `name` in this directory's upper, whiteouts
  // included, or null.
  Result<std::shared_ptr<Inode>> upper_child(std::string_view name);
  // Whether the visible lower has `name`, which a removal must then hide
  // with a whiteout.
  bool lower_has(const Caller& caller, std::string_view name);
  // Removes the whiteouts in this directory's upper, before it is removed
  // or replaced.
  Result<void> remove_whiteouts();
  // Puts a whiteout at `name` in this directory's upper, replacing what is
  // there (a directory is removed after the exchange, so it must be
  // empty).
  Result<void> whiteout_name(std::string_view name, const std::shared_ptr<Inode>& existing);
  // Marks a lower-only inode whose name is gone: it is no longer found
  // under its lower identity.
  void orphan();

  Result<void> copy_up_object(const Caller& caller, bool with_data);
  Inode& real() const { return upper_ ? *upper_ : *lower_; }
  OverlayFilesystem& overlay() const;

  std::shared_ptr<Inode> upper_;
  std::shared_ptr<Inode> lower_;
  std::optional<LowerIdentity> origin_;

  // The parent and name under which a lower-only inode was found, dropped
  // at copy-up.
  std::shared_ptr<OverlayInode> alias_parent_;
  std::string alias_name_;
  // The lower-only inode's name was removed (unlink, rmdir, or a rename
  // over it); a copy-up now makes an unnamed upper file.
  bool orphaned_ = false;
};

// The overlay inode behind `inode`, or null for another filesystem's.
OverlayInode* as_overlay(Inode& inode);

// True for an upper inode that is a whiteout: a character device 0/0.
bool is_whiteout(Inode& inode);

// The node of a whiteout.
NewNode whiteout_node();

// Whether the upper directory `upper_dir` is opaque, and marks it so.
bool is_opaque(const Caller& internal, Inode& upper_dir);
Result<void> mark_opaque(const Caller& internal, Inode& upper_dir);

// The LowerIdentity of a lower inode.
Result<LowerIdentity> lower_identity(Inode& lower);

}  // namespace ward::vfs
