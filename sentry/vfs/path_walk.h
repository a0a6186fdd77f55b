// The sentry's path walk, in the manner of Linux's fs/namei.c: one component
// at a time from the caller's root or a start directory, with `.` and `..`
// resolved on the sentry's own dentries (never above the caller's root),
// mounts crossed both ways, and symlinks followed inside the sandbox's
// namespace: an absolute target restarts at the caller's root.
//
// Errors, with Linux's values: ENOENT for a missing component, ENOTDIR for a
// non-directory in the middle or a trailing slash on a non-directory,
// EACCES when a directory on the way may not be searched, ELOOP past 40
// symlinks, ENAMETOOLONG for a component over 255 bytes or a path of
// PATH_MAX bytes or more.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

// Linux's MAXSYMLINKS: symlinks one walk may follow.
inline constexpr int kMaxSymlinks = 40;

struct WalkOptions {
  // Follow a symlink in the final component (cleared by AT_SYMLINK_NOFOLLOW
  // and O_NOFOLLOW). A trailing slash always follows.
  bool follow_final = true;
  // The result must be a directory (O_DIRECTORY): ENOTDIR otherwise.
  bool require_directory = false;

  // openat2's RESOLVE_* restrictions.
  bool no_xdev = false;         // EXDEV on crossing a mount, either way
  bool no_magic_links = false;  // ELOOP on a procfs magic link
  bool no_symlinks = false;     // ELOOP on any symlink
  bool beneath = false;         // EXDEV on leaving the start directory
  bool in_root = false;         // the start directory is the root of the walk
};

// The kind of a path's last component, which create and remove calls check
// before they look it up (Linux's LAST_NORM, LAST_DOT...).
enum class LastComponent { kNormal, kDot, kDotDot, kRoot };

// The result of walking all but the last component.
struct ParentWalk {
  VirtualDentry parent;
  std::string last;  // empty for kRoot
  LastComponent last_type = LastComponent::kNormal;
  bool trailing_slash = false;  // the path ends in '/' after `last`
};

// Walks `path` from `start` (used when the path is relative) and returns
// the location it names. `path` must not be empty (the caller returns
// ENOENT or handles AT_EMPTY_PATH first).
Result<VirtualDentry> walk_path(const Caller& caller, const VirtualDentry& start,
                                std::string_view path, const WalkOptions& options = {});

// Walks all but the last component of `path`, for calls that create or
// remove the last one. Search permission on the parent is checked.
Result<ParentWalk> walk_parent(const Caller& caller, const VirtualDentry& start,
                               std::string_view path, const WalkOptions& options = {});

// The result of an open(O_CREAT) walk: the file when it exists, otherwise
// the directory and name to create it under.
struct CreateWalk {
  std::optional<VirtualDentry> existing;
  VirtualDentry parent;
  std::string name;
};

// Walks `path` for open(O_CREAT). A final symlink is followed unless
// `options.follow_final` is false, and a final name that does not exist
// becomes the result's parent and name. EISDIR for a trailing slash on an
// ordinary final component, as Linux's open_last_lookups.
Result<CreateWalk> walk_for_create(const Caller& caller, const VirtualDentry& start,
                                   std::string_view path, const WalkOptions& options = {});

// Looks up one ordinary component in the directory `parent` (no `.` or
// `..`, no symlink following) and crosses any mount on the result. Does not
// check search permission. ENAMETOOLONG for a name over NAME_MAX.
Result<VirtualDentry> lookup_child(const Caller& caller, const VirtualDentry& parent,
                                   std::string_view name);

// The location `..` of `location` leads to, seen from `root`: the parent
// dentry, out of mounts as needed, never above `root`.
VirtualDentry parent_of(const VirtualDentry& root, const VirtualDentry& location);

}  // namespace ward::vfs
