#include "sentry/vfs/inotify.h"

#include <poll.h>

#include <algorithm>
#include <cstring>

#include "sentry/kernel/task.h"
#include "sentry/vfs/dentry.h"

namespace ward::vfs {
namespace {

// The x86_64 value of FIONREAD.
constexpr uint32_t kFionread = 0x541B;

// Removes `watch` from the list of its inode, and the list from the inode
// when it empties.
void unlink_from_inode(InotifyWatch& watch) {
  Inode& inode = watch.dentry->inode();
  std::shared_ptr<InodeWatches>& list = inode.watches();
  if (list == nullptr) {
    return;
  }
  std::erase(list->watches, &watch);
  if (list->watches.empty()) {
    list.reset();
  }
}

}  // namespace

InotifyFile::InotifyFile(VirtualDentry location, uint32_t flags)
    : FileDescription(std::move(location), flags) {}

InotifyFile::~InotifyFile() {
  for (auto& [wd, watch] : watches_) {
    unlink_from_inode(*watch);
  }
}

Result<int> InotifyFile::add_watch(const std::shared_ptr<Dentry>& dentry, uint32_t mask) {
  Inode& inode = dentry->inode();
  const uint32_t kept = mask & (IN_ALL_EVENTS | kInotifyWatchFlags);

  std::shared_ptr<InodeWatches>& list = inode.watches();
  if (list != nullptr) {
    for (InotifyWatch* watch : list->watches) {
      if (watch->owner != this) {
        continue;
      }
      if ((mask & IN_MASK_CREATE) != 0) {
        return Errno{EEXIST};
      }
      watch->mask = (mask & IN_MASK_ADD) != 0 ? watch->mask | kept : kept;
      return watch->wd;
    }
  }

  // NOTE: Linux limits the watches of a user (max_user_watches); ward
  // sets no limit.
  const int wd = next_wd_++;
  auto watch = std::make_unique<InotifyWatch>(
      InotifyWatch{.owner = this, .wd = wd, .mask = kept, .dentry = dentry});
  if (list == nullptr) {
    list = std::make_shared<InodeWatches>();
  }
  list->watches.push_back(watch.get());
  watches_.emplace(wd, std::move(watch));
  return wd;
}

void InotifyFile::detach_watch(int wd) {
  auto found = watches_.find(wd);
  if (found == watches_.end()) {
    return;
  }
  unlink_from_inode(*found->second);
  watches_.erase(found);
}

Result<void> InotifyFile::remove_watch(int wd) {
  if (!watches_.contains(wd)) {
    return Errno{EINVAL};
  }
  detach_watch(wd);
  queue_event(wd, IN_IGNORED, 0, {});
  return ok();
}

size_t InotifyFile::record_size(const Event& event) {
  if (event.name.empty()) {
    return sizeof(inotify_event);
  }
  // Linux pads the name with NULs to a multiple of the header size.
  const size_t padded = (event.name.size() + sizeof(inotify_event)) / sizeof(inotify_event) *
                        sizeof(inotify_event);
  return sizeof(inotify_event) + padded;
}

void InotifyFile::queue_event(int wd, uint32_t mask, uint32_t cookie, std::string_view name) {
  if (events_.size() >= kInotifyMaxQueuedEvents) {
    if (overflow_queued_) {
      return;
    }
    overflow_queued_ = true;
    events_.push_back(Event{.wd = -1, .mask = IN_Q_OVERFLOW, .cookie = 0, .name = {}});
    queued_bytes_ += sizeof(inotify_event);
    queue_.notify(POLLIN | POLLRDNORM);
    return;
  }

  // An event equal to the last queued one is merged into it.
  if (!events_.empty()) {
    const Event& last = events_.back();
    if (last.wd == wd && last.mask == mask && last.cookie == cookie && last.name == name) {
      return;
    }
  }
  events_.push_back(Event{.wd = wd, .mask = mask, .cookie = cookie, .name = std::string(name)});
  queued_bytes_ += record_size(events_.back());
  queue_.notify(POLLIN | POLLRDNORM);
}

Result<size_t> InotifyFile::read(std::span<std::byte> buffer, std::optional<int64_t>) {
  if (events_.empty()) {
    return Errno{EAGAIN};
  }
  size_t used = 0;
  while (!events_.empty()) {
    const Event& event = events_.front();
    const size_t size = record_size(event);
    if (size > buffer.size() - used) {
      if (used == 0) {
        return Errno{EINVAL};
      }
      break;
    }
    inotify_event header{};
    header.wd = event.wd;
    header.mask = event.mask;
    header.cookie = event.cookie;
    header.len = static_cast<uint32_t>(size - sizeof(inotify_event));
    std::byte* out = buffer.data() + used;
    std::memset(out, 0, size);
    std::memcpy(out, &header, sizeof(header));
    std::memcpy(out + sizeof(header), event.name.data(), event.name.size());

    used += size;
    queued_bytes_ -= size;
    if (event.mask == IN_Q_OVERFLOW) {
      overflow_queued_ = false;
    }
    events_.pop_front();
  }
  return used;
}

uint32_t InotifyFile::readiness(uint32_t mask) {
  const uint32_t events = events_.empty() ? 0 : POLLIN | POLLRDNORM;
  return events & mask;
}

Result<int64_t> InotifyFile::ioctl(kernel::Task& task, uint32_t request, GuestAddr arg) {
  if (request != kFionread) {
    return Errno{ENOTTY};
  }
  const int queued = static_cast<int>(queued_bytes_);
  TRY(task.copy_out(arg, queued));
  return 0;
}

InotifyFile* as_inotify(FileDescription& file) { return dynamic_cast<InotifyFile*>(&file); }

}  // namespace ward::vfs
