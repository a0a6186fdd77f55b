// The VFS's event hooks, called where Linux's fsnotify hooks sit: after a
// name is created, removed or renamed, after attributes change, and on
// open, read, write and the last close of a file. Each reports to the
// inotify watches (inotify.h) of the inode concerned and, with the name, of
// its parent directory. A hook whose inodes have no watch returns at once.
#pragma once

#include <cstddef>
#include <string_view>

#include "sentry/vfs/inode.h"

namespace ward::vfs {

class Dentry;
class FileDescription;

// IN_CREATE on `parent` for the new name `child`.
void notify_created(const Dentry& parent, const Dentry& child);

// A hard link made at `child`: IN_ATTRIB on the inode, for its link count,
// then IN_CREATE on `parent`.
void notify_linked(const Dentry& parent, const Dentry& child);

// `child` removed from `parent` by unlink or rmdir: IN_ATTRIB on a
// non-directory, IN_DELETE_SELF and the end of its watches when no link is
// left, then IN_DELETE on `parent`.
void notify_removed(const Dentry& parent, const Dentry& child);

// A rename of `old_name` in `old_parent` to where `moved` now is:
// IN_MOVED_FROM and IN_MOVED_TO with one cookie, then IN_MOVE_SELF. With
// `exchange`, `other` made the opposite move; otherwise `other` is the
// replaced target or null.
void notify_renamed(const Dentry& old_parent, std::string_view old_name, const Dentry& moved,
                    const Dentry* other, bool exchange);

// chmod, chown, truncate and utimensat of the inode at `dentry`, as
// Linux's fsnotify_change maps the changed fields to events.
void notify_attributes_changed(const Dentry& dentry, const AttributeChange& change);

// IN_MODIFY for an ftruncate or O_TRUNC of the file at `dentry`.
void notify_truncated(const Dentry& dentry);

// IN_OPEN, IN_ACCESS, IN_MODIFY and IN_CLOSE_WRITE or IN_CLOSE_NOWRITE for
// `file`. O_PATH files report nothing, and a read or write of 0 bytes
// reports nothing either.
void notify_opened(const FileDescription& file);
void notify_accessed(const FileDescription& file, size_t bytes);
void notify_modified(const FileDescription& file, size_t bytes);
void notify_closed(const FileDescription& file);

}  // namespace ward::vfs
