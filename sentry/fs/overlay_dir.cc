#include "sentry/fs/overlay_dir.h"

#include <dirent.h>
#include <fcntl.h>

#include <set>
#include <string>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// Collects every entry it is offered.
class CollectingSink final : public DirentSink {
 public:
  explicit CollectingSink(std::vector<MergedEntry>& entries) : entries_(entries) {}

  bool add(const Dirent& entry) override {
    entries_.push_back(
        MergedEntry{.name = std::string(entry.name), .ino = entry.ino, .type = entry.type});
    return true;
  }

 private:
  std::vector<MergedEntry>& entries_;
};

bool is_dot_or_dotdot(std::string_view name) { return name == "." || name == ".."; }

}  // namespace

Result<std::vector<MergedEntry>> read_layer_directory(const Caller& caller,
                                                      const std::shared_ptr<Inode>& directory) {
  const VirtualDentry location = make_anonymous_location(directory);
  FileRef file = TRY(directory->open(caller, location, O_RDONLY | O_DIRECTORY));
  std::vector<MergedEntry> entries;
  CollectingSink sink(entries);
  // A filesystem may stop after a batch; the listing ends when a call adds
  // nothing.
  for (;;) {
    const size_t before = entries.size();
    TRY(file->iterate_dir(caller, sink));
    if (entries.size() == before) {
      return entries;
    }
  }
}

Result<std::vector<MergedEntry>> OverlayInode::list_merged(const Caller& caller) {
  if (!is_dir()) {
    return Errno{ENOTDIR};
  }
  std::vector<MergedEntry> result;
  if (orphaned_) {
    return result;
  }
  const Caller& internal = overlay().internal_caller();
  // Every upper name, whiteouts included: each hides the lower name.
  std::set<std::string, std::less<>> upper_names;
  // Upper entries that also have a lower name, whose st_ino may come from
  // the lower.
  std::vector<size_t> shadowing;

  if (upper_) {
    for (MergedEntry& entry : TRY(read_layer_directory(internal, upper_))) {
      if (is_dot_or_dotdot(entry.name)) {
        continue;
      }
      upper_names.insert(entry.name);
      if (entry.type == DT_CHR) {
        auto child = upper_->lookup(internal, entry.name);
        if (child.ok() && is_whiteout(**child)) {
          continue;
        }
      }
      if (entry.type == DT_DIR) {
        entry.ino = overlay().directory_ino(std::nullopt, entry.ino);
      }
      result.push_back(std::move(entry));
    }
  }

  if (lower_) {
    const std::optional<LowerIdentity> directory = origin_;
    std::set<std::string, std::less<>> lower_names;
    for (MergedEntry& entry : TRY(read_layer_directory(caller, lower_))) {
      if (is_dot_or_dotdot(entry.name)) {
        continue;
      }
      if (upper_names.contains(entry.name)) {
        lower_names.insert(entry.name);
        continue;
      }
      if (entry.type == DT_DIR && directory) {
        entry.ino =
            overlay().directory_ino(LowerIdentity{.dev = directory->dev, .ino = entry.ino}, 0);
      }
      result.push_back(std::move(entry));
    }
    for (size_t i = 0; i < result.size(); ++i) {
      if (lower_names.contains(result[i].name)) {
        shadowing.push_back(i);
      }
    }
  }

  // A copied-up file or a merged directory reports the lower's st_ino, and
  // so does its entry.
  for (size_t index : shadowing) {
    auto child = lookup_overlay(caller, result[index].name);
    if (child.ok()) {
      auto ino = (*child)->reported_ino();
      if (ino.ok()) {
        result[index].ino = *ino;
      }
    }
  }
  return result;
}

// ---------------------------------------------------------------------------
// OverlayDirectoryFile

OverlayDirectoryFile::OverlayDirectoryFile(VirtualDentry location, uint32_t flags,
                                           std::shared_ptr<OverlayInode> inode)
    : DirectoryFile(std::move(location), flags), inode_(std::move(inode)) {}

Result<void> OverlayDirectoryFile::take_snapshot(const Caller& caller) {
  std::vector<MergedEntry> entries;
  const uint64_t self_ino = TRY(inode_->reported_ino());
  uint64_t parent_ino = self_ino;
  if (const auto& parent = location().dentry->parent()) {
    if (auto* overlay_parent = as_overlay(parent->inode())) {
      parent_ino = TRY(overlay_parent->reported_ino());
    } else {
      parent_ino = TRY(parent->inode().stat()).st_ino;
    }
  }
  entries.push_back(MergedEntry{.name = ".", .ino = self_ino, .type = DT_DIR});
  entries.push_back(MergedEntry{.name = "..", .ino = parent_ino, .type = DT_DIR});
  for (MergedEntry& entry : TRY(inode_->list_merged(caller))) {
    entries.push_back(std::move(entry));
  }
  snapshot_ = std::move(entries);
  return ok();
}

Result<void> OverlayDirectoryFile::iterate_dir(const Caller& caller, DirentSink& sink) {
  if (offset() == 0 || !snapshot_) {
    TRY(take_snapshot(caller));
  }
  const std::vector<MergedEntry>& entries = *snapshot_;
  for (auto position = static_cast<size_t>(offset()); position < entries.size(); ++position) {
    const MergedEntry& entry = entries[position];
    const Dirent dirent{.ino = entry.ino,
                        .next_offset = static_cast<int64_t>(position + 1),
                        .type = entry.type,
                        .name = entry.name};
    if (!sink.add(dirent)) {
      return ok();
    }
    set_offset(static_cast<int64_t>(position + 1));
  }
  return ok();
}

}  // namespace ward::vfs
