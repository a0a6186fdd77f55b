#include "sentry/vfs/fsnotify.h"

#include <sys/inotify.h>

#include <vector>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/inotify.h"

namespace ward::vfs {
namespace {

// The cookie that pairs IN_MOVED_FROM with IN_MOVED_TO: one counter for the
// sentry, as Linux has one for the system.
uint32_t next_move_cookie() {
  static uint32_t cookie = 0;
  return ++cookie;
}

uint32_t directory_flag(const Inode& inode) { return inode.is_dir() ? IN_ISDIR : 0; }

// Queues `event` on every watch of `inode` whose mask includes it, then ends the
// IN_ONESHOT ones. `subject` is the inode a file event is about, which an
// IN_EXCL_UNLINK watch ignores once it is unlinked.
void deliver(Inode& inode, uint32_t event, uint32_t cookie, std::string_view name,
             Inode* subject = nullptr) {
  if (!inode.has_watches()) {
    return;
  }
  // Delivering cannot change the list, but ending a one-shot watch does,
  // so the loop runs over a copy.
  const std::vector<InotifyWatch*> watches = inode.watches()->watches;
  std::vector<std::pair<InotifyFile*, int>> one_shots;
  for (InotifyWatch* watch : watches) {
    if ((watch->mask & event & IN_ALL_EVENTS) == 0) {
      continue;
    }
    if ((watch->mask & IN_EXCL_UNLINK) != 0 && subject != nullptr && subject->unlinked()) {
      continue;
    }
    watch->owner->queue_event(watch->wd, event, cookie, name);
    if ((watch->mask & IN_ONESHOT) != 0) {
      one_shots.emplace_back(watch->owner, watch->wd);
    }
  }
  for (auto [owner, wd] : one_shots) {
    (void)owner->remove_watch(wd);
  }
}

// `event` on the inode of `dentry` and, with its name, on its parent
// directory: the parent first, as Linux's fsnotify reports them.
void deliver_with_parent(const Dentry& dentry, uint32_t event, Inode* subject) {
  Inode& inode = dentry.inode();
  event |= directory_flag(inode);
  if (dentry.parent() != nullptr) {
    deliver(dentry.parent()->inode(), event, 0, dentry.name(), subject);
  }
  deliver(inode, event, 0, {}, subject);
}

bool watched_with_parent(const Dentry& dentry) {
  return dentry.inode().has_watches() ||
         (dentry.parent() != nullptr && dentry.parent()->inode().has_watches());
}

// IN_DELETE_SELF on `inode`, then the end of each of its watches with
// IN_IGNORED, as when Linux evicts an inode without links.
void report_inode_gone(Inode& inode) {
  if (!inode.has_watches()) {
    return;
  }
  deliver(inode, IN_DELETE_SELF | directory_flag(inode), 0, {});
  while (inode.has_watches()) {
    InotifyWatch* watch = inode.watches()->watches.front();
    (void)watch->owner->remove_watch(watch->wd);
  }
}

// Whether `inode` has no name left: a directory that was removed, or a
// file whose last link went.
bool has_no_links(Inode& inode) {
  if (inode.is_dir()) {
    return true;
  }
  auto st = inode.stat();
  return st.ok() && st->st_nlink == 0;
}

// One move of Linux's fsnotify_move: `moved` went from `old_name` in
// `old_parent` to its present name.
void report_move(const Dentry& old_parent, std::string_view old_name, const Dentry& moved,
                 Inode* replaced) {
  const uint32_t is_dir = directory_flag(moved.inode());
  const uint32_t cookie = next_move_cookie();
  deliver(old_parent.inode(), IN_MOVED_FROM | is_dir, cookie, old_name);
  deliver(moved.parent()->inode(), IN_MOVED_TO | is_dir, cookie, moved.name());
  if (replaced != nullptr) {
    deliver(*replaced, IN_ATTRIB | directory_flag(*replaced), 0, {});
  }
  deliver(moved.inode(), IN_MOVE_SELF | is_dir, 0, {});
}

}  // namespace

void notify_created(const Dentry& parent, const Dentry& child) {
  if (!parent.inode().has_watches()) {
    return;
  }
  deliver(parent.inode(), IN_CREATE | directory_flag(child.inode()), 0, child.name());
}

void notify_linked(const Dentry& parent, const Dentry& child) {
  Inode& inode = child.inode();
  deliver(inode, IN_ATTRIB | directory_flag(inode), 0, {});
  notify_created(parent, child);
}

void notify_removed(const Dentry& parent, const Dentry& child) {
  Inode& inode = child.inode();
  if (!inode.has_watches() && !parent.inode().has_watches()) {
    return;
  }
  const uint32_t is_dir = directory_flag(inode);
  if (is_dir == 0) {
    deliver(inode, IN_ATTRIB, 0, {});
  }
  // NOTE: Linux reports IN_DELETE_SELF of a file still open at its last
  // close; ward reports it when the last link goes.
  if (has_no_links(inode)) {
    report_inode_gone(inode);
  }
  deliver(parent.inode(), IN_DELETE | is_dir, 0, child.name());
}

void notify_renamed(const Dentry& old_parent, std::string_view old_name, const Dentry& moved,
                    const Dentry* other, bool exchange) {
  const bool watched = old_parent.inode().has_watches() || moved.inode().has_watches() ||
                       moved.parent()->inode().has_watches() ||
                       (other != nullptr && other->inode().has_watches());
  if (!watched) {
    return;
  }
  if (exchange) {
    report_move(old_parent, old_name, moved, nullptr);
    report_move(*moved.parent(), moved.name(), *other, nullptr);
    return;
  }
  Inode* replaced = other != nullptr ? &other->inode() : nullptr;
  report_move(old_parent, old_name, moved, replaced);
  if (replaced != nullptr && has_no_links(*replaced)) {
    report_inode_gone(*replaced);
  }
}

void notify_attributes_changed(const Dentry& dentry, const AttributeChange& change) {
  if (!watched_with_parent(dentry)) {
    return;
  }
  uint32_t event = 0;
  if (change.uid || change.gid || change.mode) {
    event |= IN_ATTRIB;
  }
  if (change.size) {
    event |= IN_MODIFY;
  }
  // Both times is a utimes call; one alone is an access or a modification.
  if (change.atime && change.mtime) {
    event |= IN_ATTRIB;
  } else if (change.atime) {
    event |= IN_ACCESS;
  } else if (change.mtime) {
    event |= IN_MODIFY;
  }
  if (event != 0) {
    deliver_with_parent(dentry, event, nullptr);
  }
}

void notify_truncated(const Dentry& dentry) {
  if (watched_with_parent(dentry)) {
    deliver_with_parent(dentry, IN_MODIFY, nullptr);
  }
}

namespace {

void report_file_event(const FileDescription& file, uint32_t event) {
  if (file.location().dentry == nullptr) {
    return;
  }
  const Dentry& dentry = *file.location().dentry;
  if (file.path_only() || !watched_with_parent(dentry)) {
    return;
  }
  deliver_with_parent(dentry, event, &dentry.inode());
}

}  // namespace

void notify_opened(const FileDescription& file) { report_file_event(file, IN_OPEN); }

void notify_accessed(const FileDescription& file, size_t bytes) {
  if (bytes > 0) {
    report_file_event(file, IN_ACCESS);
  }
}

void notify_modified(const FileDescription& file, size_t bytes) {
  if (bytes > 0) {
    report_file_event(file, IN_MODIFY);
  }
}

void notify_closed(const FileDescription& file) {
  report_file_event(file, file.writable() ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
}

}  // namespace ward::vfs
