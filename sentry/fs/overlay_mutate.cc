// The changes of the overlay: every one lands in the upper, after the
// copy-up of what it touches. A lower name that goes away is hidden by a
// whiteout; a directory made or moved over a lower name is made opaque.
#include <dirent.h>
#include <linux/fs.h>

#include "sentry/fs/overlay.h"
#include "sentry/fs/overlay_dir.h"

namespace ward::vfs {
namespace {

// Linux's ovl_rename accepts these renameat2 flags and no others.
constexpr unsigned kSupportedRenameFlags = RENAME_NOREPLACE | RENAME_EXCHANGE;

}  // namespace

Result<void> OverlayInode::remove_whiteouts() {
  if (!upper_) {
    return ok();
  }
  const Caller& internal = overlay().internal_caller();
  for (const MergedEntry& entry : TRY(read_layer_directory(internal, upper_))) {
    if (entry.type != DT_CHR) {
      continue;
    }
    auto child = upper_->lookup(internal, entry.name);
    if (child.ok() && is_whiteout(**child)) {
      TRY(upper_->unlink(internal, entry.name, **child));
    }
  }
  return ok();
}

Result<void> OverlayInode::whiteout_name(std::string_view name,
                                         const std::shared_ptr<Inode>& existing) {
  OverlayFilesystem& overlay = this->overlay();
  const Caller& internal = overlay.internal_caller();
  if (!existing) {
    TRY(upper_->create(internal, name, whiteout_node()));
    return ok();
  }

  // The whiteout replaces the upper entry in one rename, so the lower name
  // never shows through. A directory cannot be replaced by a non-directory,
  // so it is exchanged with the whiteout and then removed from work.
  const std::string temp_name = TRY(overlay.make_work_whiteout());
  const unsigned flags = existing->is_dir() ? RENAME_EXCHANGE : 0;
  auto placed = overlay.work().rename(internal, temp_name, *upper_, name, flags);
  if (!placed.ok()) {
    auto whiteout = overlay.work().lookup(internal, temp_name);
    if (whiteout.ok()) {
      (void)overlay.work().unlink(internal, temp_name, **whiteout);
    }
    return placed.error();
  }
  if (existing->is_dir()) {
    TRY(overlay.work().rmdir(internal, temp_name, *existing));
  }
  return ok();
}

Result<std::shared_ptr<Inode>> OverlayInode::create(const Caller& caller, std::string_view name,
                                                    const NewNode& node) {
  // Linux returns ENOENT for a name made in a removed directory.
  if (unlinked()) {
    return Errno{ENOENT};
  }
  OverlayFilesystem& overlay = this->overlay();
  const Caller& internal = overlay.internal_caller();
  TRY(copy_up(caller, /*with_data=*/false));

  std::shared_ptr<Inode> existing = TRY(upper_child(name));
  if (existing && !is_whiteout(*existing)) {
    return Errno{EEXIST};
  }

  std::shared_ptr<Inode> new_upper;
  if (!existing) {
    new_upper = TRY(upper_->create(caller, name, node));
  } else {
    // Over a whiteout: build the node in work, opaque when it is a
    // directory (the lower one it shadows must not merge into it), and
    // exchange it with the whiteout.
    const std::string temp_name = overlay.next_work_name();
    new_upper = TRY(overlay.work().create(internal, temp_name, node));
    Result<void> placed = ok();
    if (new_upper->is_dir()) {
      placed = mark_opaque(internal, *new_upper);
    }
    if (placed.ok()) {
      placed = overlay.work().rename(internal, temp_name, *upper_, name, RENAME_EXCHANGE);
    }
    if (!placed.ok()) {
      (void)(new_upper->is_dir() ? overlay.work().rmdir(internal, temp_name, *new_upper)
                                 : overlay.work().unlink(internal, temp_name, *new_upper));
      return placed.error();
    }
    (void)overlay.work().unlink(internal, temp_name, *existing);
  }

  auto self = std::static_pointer_cast<OverlayFilesystem>(filesystem_ref());
  auto inode =
      std::make_shared<OverlayInode>(self, new_upper->type(), new_upper, nullptr, std::nullopt);
  overlay.cache_upper(inode);
  return std::shared_ptr<Inode>(std::move(inode));
}

Result<std::shared_ptr<Inode>> OverlayInode::create_unnamed(const Caller& caller,
                                                            const NewNode& node) {
  if (unlinked()) {
    return Errno{ENOENT};
  }
  std::shared_ptr<Inode> new_upper = TRY(overlay().work().create_unnamed(caller, node));
  auto self = std::static_pointer_cast<OverlayFilesystem>(filesystem_ref());
  auto inode =
      std::make_shared<OverlayInode>(self, new_upper->type(), new_upper, nullptr, std::nullopt);
  overlay().cache_upper(inode);
  return std::shared_ptr<Inode>(std::move(inode));
}

Result<void> OverlayInode::link(const Caller& caller, std::string_view name,
                                const std::shared_ptr<Inode>& target) {
  auto* source = as_overlay(*target);
  if (source == nullptr) {
    return Errno{EXDEV};
  }
  if (unlinked()) {
    return Errno{ENOENT};
  }
  OverlayFilesystem& overlay = this->overlay();
  const Caller& internal = overlay.internal_caller();
  TRY(source->copy_up(caller, /*with_data=*/true));
  TRY(copy_up(caller, /*with_data=*/false));

  std::shared_ptr<Inode> existing = TRY(upper_child(name));
  if (existing && !is_whiteout(*existing)) {
    return Errno{EEXIST};
  }
  if (!existing) {
    return upper_->link(caller, name, source->upper_);
  }

  // Over a whiteout: link in work, then rename over the whiteout.
  const std::string temp_name = overlay.next_work_name();
  TRY(overlay.work().link(internal, temp_name, source->upper_));
  auto placed = overlay.work().rename(internal, temp_name, *upper_, name, 0);
  if (!placed.ok()) {
    (void)overlay.work().unlink(internal, temp_name, *source->upper_);
  }
  return placed;
}

Result<void> OverlayInode::unlink(const Caller& caller, std::string_view name, Inode& child) {
  auto* removed = as_overlay(child);
  if (removed == nullptr) {
    return Errno{EXDEV};
  }
  const bool hide = lower_has(caller, name);
  if (hide) {
    TRY(copy_up(caller, /*with_data=*/false));
  }
  std::shared_ptr<Inode> existing = TRY(upper_child(name));
  if (hide) {
    TRY(whiteout_name(name, existing));
  } else if (existing) {
    TRY(upper_->unlink(caller, name, *existing));
  } else {
    return Errno{ENOENT};
  }
  removed->orphan();
  return ok();
}

Result<void> OverlayInode::rmdir(const Caller& caller, std::string_view name, Inode& child) {
  auto* removed = as_overlay(child);
  if (removed == nullptr) {
    return Errno{EXDEV};
  }
  // Whiteouts in the upper do not count; lower entries they do not hide
  // do.
  if (!TRY(removed->list_merged(caller)).empty()) {
    return Errno{ENOTEMPTY};
  }
  const bool hide = lower_has(caller, name);
  if (hide) {
    TRY(copy_up(caller, /*with_data=*/false));
  }
  std::shared_ptr<Inode> existing = TRY(upper_child(name));
  if (existing && existing->is_dir()) {
    TRY(removed->remove_whiteouts());
  }
  if (hide) {
    TRY(whiteout_name(name, existing));
  } else if (existing) {
    TRY(upper_->rmdir(caller, name, *existing));
  } else {
    return Errno{ENOENT};
  }
  removed->orphan();
  return ok();
}

Result<void> OverlayInode::rename(const Caller& caller, std::string_view old_name,
                                  Inode& new_parent_inode, std::string_view new_name,
                                  unsigned flags) {
  auto* new_parent = as_overlay(new_parent_inode);
  if (new_parent == nullptr) {
    return Errno{EXDEV};
  }
  if ((flags & ~kSupportedRenameFlags) != 0) {
    return Errno{EINVAL};
  }
  const bool exchange = (flags & RENAME_EXCHANGE) != 0;
  OverlayFilesystem& overlay = this->overlay();
  const Caller& internal = overlay.internal_caller();

  std::shared_ptr<OverlayInode> source = TRY(lookup_overlay(caller, old_name));
  std::shared_ptr<OverlayInode> target;
  auto found = new_parent->lookup_overlay(caller, new_name);
  if (found.ok()) {
    target = std::move(*found);
  } else if (found.error().value != ENOENT) {
    return found.error();
  }
  if (source == target) {
    return ok();  // two names of one file: rename(2) does nothing
  }
  if (exchange && !target) {
    return Errno{ENOENT};
  }

  // Without Linux's redirect_dir feature, a directory with a lower part
  // cannot move; coreutils' mv then copies it.
  if (source->is_dir() && source->lower_) {
    return Errno{EXDEV};
  }
  if (exchange && target->is_dir() && target->lower_) {
    return Errno{EXDEV};
  }
  if (target && !exchange && target->is_dir() && !TRY(target->list_merged(caller)).empty()) {
    return Errno{ENOTEMPTY};
  }

  TRY(copy_up(caller, /*with_data=*/false));
  TRY(new_parent->copy_up(caller, /*with_data=*/false));
  TRY(source->copy_up(caller, /*with_data=*/true));
  if (exchange) {
    TRY(target->copy_up(caller, /*with_data=*/true));
  }

  const bool hide_old_name = !exchange && lower_has(caller, old_name);
  // A directory landing on a lower name must not merge with it.
  if (source->is_dir() && new_parent->lower_has(caller, new_name)) {
    TRY(mark_opaque(internal, *source->upper_));
  }
  if (exchange && target->is_dir() && lower_has(caller, old_name)) {
    TRY(mark_opaque(internal, *target->upper_));
  }

  // A whiteout at the new name is replaced as if absent. A directory cannot
  // replace it in a rename, so the whiteout goes first, and comes back if
  // the rename fails.
  std::shared_ptr<Inode> upper_target = TRY(new_parent->upper_child(new_name));
  unsigned upper_flags = flags;
  bool removed_whiteout = false;
  if (upper_target && is_whiteout(*upper_target)) {
    upper_flags &= ~static_cast<unsigned>(RENAME_NOREPLACE);
    if (source->is_dir()) {
      TRY(new_parent->upper_->unlink(internal, new_name, *upper_target));
      removed_whiteout = true;
    }
  } else if (upper_target && target && !exchange && target->is_dir()) {
    TRY(target->remove_whiteouts());
  }

  auto renamed = upper_->rename(caller, old_name, *new_parent->upper_, new_name, upper_flags);
  if (!renamed.ok()) {
    if (removed_whiteout) {
      (void)new_parent->upper_->create(internal, new_name, whiteout_node());
    }
    return renamed;
  }
  if (hide_old_name) {
    TRY(upper_->create(internal, old_name, whiteout_node()));
  }
  if (target && !exchange) {
    target->orphan();
  }
  return ok();
}

Result<void> OverlayInode::set_attributes(const Caller& caller, const AttributeChange& change) {
  const bool truncates_to_zero = change.size && *change.size == 0;
  TRY(copy_up(caller, /*with_data=*/!truncates_to_zero));
  return upper_->set_attributes(caller, change);
}

}  // namespace ward::vfs
