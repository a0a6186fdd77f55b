#include "sentry/fs/eventpoll.h"

#include <poll.h>

#include <algorithm>

#include "sentry/fs/eventfd.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

constexpr uint32_t kReadableEvents = POLLIN | POLLRDNORM;

// The map size from which epoll_ctl's doubling rule for sweeping out items
// of closed files starts.
constexpr size_t kMinItemsBeforeSweep = 8;

EpollFile* as_epoll(FileDescription* file) { return dynamic_cast<EpollFile*>(file); }

}  // namespace

uint32_t poll_item(EpollItem& item) {
  const FileRef file = item.file.lock();
  if (!file) {
    return 0;
  }
  return file->readiness(item.events & ~kEpollPrivateBits) & item.events;
}

EpollFile::EpollFile(VirtualDentry location, uint32_t flags)
    : FileDescription(std::move(location), flags) {}

EpollFile::~EpollFile() {
  for (auto& [key, item] : items_) {
    if (auto nested = item->nested.lock()) {
      as_epoll(nested.get())->watchers_.erase(item.get());
    }
  }
}

Result<void> EpollFile::control(int op, const FileRef& target, int fd, epoll_event event) {
  EpollFile* target_epoll = as_epoll(target.get());
  const bool has_event = op != EPOLL_CTL_DEL;
  if (has_event && (event.events & EPOLLEXCLUSIVE) != 0) {
    if (op == EPOLL_CTL_MOD) {
      return Errno{EINVAL};
    }
    if (op == EPOLL_CTL_ADD &&
        (target_epoll != nullptr || (event.events & ~kEpollExclusiveAllowedBits) != 0)) {
      return Errno{EINVAL};
    }
  }
  if (op == EPOLL_CTL_ADD && target_epoll != nullptr &&
      would_loop_or_nest_too_deep(*target_epoll)) {
    return Errno{ELOOP};
  }

  // Items of closed files are swept once the map has doubled since the last
  // sweep, which keeps epoll_ctl O(log n) amortized. An item found here for
  // a closed file is one whose description's memory was reused by `target`.
  if (items_.size() >= 2 * items_after_sweep_) {
    remove_closed_items();
  }
  const ItemKey key{target.get(), fd};
  if (auto stale = items_.find(key); stale != items_.end() && stale->second->file.expired()) {
    remove(key);
  }
  const auto found = items_.find(key);
  const bool exists = found != items_.end();
  switch (op) {
    case EPOLL_CTL_ADD:
      if (exists) {
        return Errno{EEXIST};
      }
      event.events |= EPOLLERR | EPOLLHUP;
      return insert(target, fd, event);
    case EPOLL_CTL_DEL:
      if (!exists) {
        return Errno{ENOENT};
      }
      remove(key);
      return ok();
    case EPOLL_CTL_MOD:
      if (!exists) {
        return Errno{ENOENT};
      }
      // An exclusive item cannot be modified at all.
      if ((found->second->events & EPOLLEXCLUSIVE) != 0) {
        return Errno{EINVAL};
      }
      event.events |= EPOLLERR | EPOLLHUP;
      modify(*found->second, event);
      return ok();
    default:
      return Errno{EINVAL};
  }
}

Result<void> EpollFile::insert(const FileRef& target, int fd, epoll_event event) {
  auto item = std::make_unique<EpollItem>();
  item->owner = this;
  item->file = target;
  item->fd = fd;
  item->events = event.events;
  item->data = event.data.u64;
  if (EpollFile* nested = as_epoll(target.get())) {
    item->nested = target;
    nested->watchers_.insert(item.get());
  }
  EpollItem& added = *item;
  item->callback = std::make_unique<kernel::WaitCallback>(
      [this, &added](uint32_t events) { return handle_notification(added, events); });
  if (kernel::WaitQueue* queue = target->wait_queue()) {
    added.callback->watch(*queue, kernel::kAllEvents, (event.events & EPOLLEXCLUSIVE) != 0);
  }
  items_.emplace(ItemKey{target.get(), fd}, std::move(item));

  // A file already ready goes on the ready list at once.
  if (poll_item(added) != 0) {
    mark_ready(added);
    wake_after_ready();
  }
  return ok();
}

void EpollFile::modify(EpollItem& item, epoll_event event) {
  item.events = event.events;
  item.data = event.data.u64;
  // Re-polling with the new events re-arms a one-shot or edge-triggered
  // item whose file is ready now.
  if (poll_item(item) != 0) {
    mark_ready(item);
    wake_after_ready();
  }
}

void EpollFile::remove(ItemKey key) {
  const auto found = items_.find(key);
  EpollItem& item = *found->second;
  unmark_ready(item);
  if (auto nested = item.nested.lock()) {
    as_epoll(nested.get())->watchers_.erase(&item);
  }
  items_.erase(found);
}

void EpollFile::remove_closed_items() {
  for (auto it = items_.begin(); it != items_.end();) {
    auto next = std::next(it);
    if (it->second->file.expired()) {
      remove(it->first);
    }
    it = next;
  }
  items_after_sweep_ = std::max<size_t>(items_.size(), kMinItemsBeforeSweep);
}

// Linux's ep_poll_callback. Returns whether an exclusive item consumed the
// wake-up: only when a caller of epoll_wait waits on this instance and the
// notified events are ones the item requests.
bool EpollFile::handle_notification(EpollItem& item, uint32_t events) {
  const bool exclusive = (item.events & EPOLLEXCLUSIVE) != 0;
  // A notification for all events is Linux's wake-up without a key.
  const uint32_t key = events == kernel::kAllEvents ? 0 : events;
  const bool disabled = (item.events & ~kEpollPrivateBits) == 0;
  if (item.file.expired() || disabled || (key != 0 && (key & item.events) == 0)) {
    return !exclusive;
  }

  mark_ready(item);
  bool consumed = !exclusive;
  if (!event_queue_.empty()) {
    if (exclusive) {
      switch (key & (EPOLLIN | EPOLLOUT)) {
        case EPOLLIN:
        case EPOLLOUT:
          consumed = (item.events & key & (EPOLLIN | EPOLLOUT)) != 0;
          break;
        case 0:
          consumed = true;
          break;
        default:
          break;
      }
    }
  }
  wake_after_ready();
  return consumed;
}

void EpollFile::mark_ready(EpollItem& item) {
  if (!item.ready) {
    item.ready_position = ready_list_.insert(ready_list_.end(), &item);
    item.ready = true;
  }
}

void EpollFile::unmark_ready(EpollItem& item) {
  if (item.ready) {
    ready_list_.erase(item.ready_position);
    item.ready = false;
  }
}

// Each caller of epoll_wait waits exclusively, so a new ready item wakes
// one of them. Every poller of the epoll fd and every enclosing instance is
// notified.
void EpollFile::wake_after_ready() {
  event_queue_.notify_some(1);
  poll_queue_.notify(kReadableEvents);
}

Result<size_t> EpollFile::collect(size_t max_events,
                                  const std::function<bool(const epoll_event&)>& deliver) {
  std::list<EpollItem*> scanned;
  scanned.splice(scanned.end(), ready_list_);
  std::list<EpollItem*> requeued;
  size_t delivered = 0;
  bool faulted = false;

  while (!scanned.empty() && delivered < max_events) {
    EpollItem* item = scanned.front();
    scanned.pop_front();
    item->ready = false;
    const uint32_t revents = poll_item(*item);
    if (revents == 0) {
      continue;
    }
    epoll_event event{};
    event.events = revents;
    event.data.u64 = item->data;
    if (!deliver(event)) {
      // The item stays ready for the next call.
      item->ready_position = scanned.insert(scanned.begin(), item);
      item->ready = true;
      faulted = true;
      break;
    }
    ++delivered;

    if ((item->events & EPOLLONESHOT) != 0) {
      item->events &= kEpollPrivateBits;
    } else if ((item->events & EPOLLET) == 0) {
      // A level-triggered item is polled again by the next call, after the
      // items not yet reported.
      item->ready_position = requeued.insert(requeued.end(), item);
      item->ready = true;
    }
  }

  // Splicing keeps each item's ready_position valid. Items made ready while
  // scanning (none in practice) stay first.
  ready_list_.splice(ready_list_.end(), scanned);
  ready_list_.splice(ready_list_.end(), requeued);
  // Another caller of epoll_wait gets the items still ready, as Linux's
  // ep_done_scan passes them on.
  if (!ready_list_.empty()) {
    event_queue_.notify_some(1);
  }
  if (faulted && delivered == 0) {
    return Errno{EFAULT};
  }
  return delivered;
}

// Linux's ep_eventpoll_poll: items on the ready list that are no longer
// ready are dropped from it on the way.
uint32_t EpollFile::readiness(uint32_t mask) {
  for (auto it = ready_list_.begin(); it != ready_list_.end();) {
    EpollItem* item = *it;
    if (poll_item(*item) != 0) {
      return kReadableEvents & (mask | POLLERR | POLLHUP);
    }
    it = ready_list_.erase(it);
    item->ready = false;
  }
  return 0;
}

// ep_loop_check: adding `target` here must not make a cycle, and the chain
// of instances from the outermost one down to the deepest must not pass
// kEpollMaxNests + 1.
bool EpollFile::would_loop_or_nest_too_deep(EpollFile& target) {
  const int below = target.depth_below(*this, 0);
  if (below > kEpollMaxNests) {
    return true;
  }
  return below + 1 + depth_above() > kEpollMaxNests;
}

// How many levels of instances lie below this one; more than
// kEpollMaxNests when `inserting_into` is among them.
int EpollFile::depth_below(const EpollFile& inserting_into, int depth) const {
  int result = 0;
  for (const auto& [key, item] : items_) {
    const FileRef nested = item->nested.lock();
    if (!nested) {
      continue;
    }
    const auto* child = as_epoll(nested.get());
    if (child == &inserting_into || depth > kEpollMaxNests) {
      result = kEpollMaxNests + 1;
    } else {
      result = std::max(result, child->depth_below(inserting_into, depth + 1) + 1);
    }
    if (result > kEpollMaxNests) {
      break;
    }
  }
  return result;
}

// How many levels of instances lie above this one.
int EpollFile::depth_above() const {
  int result = 0;
  for (const EpollItem* watcher : watchers_) {
    result = std::max(result, watcher->owner->depth_above() + 1);
  }
  return result;
}

FileRef make_epoll(const kernel::Credentials& creds, uint32_t status_flags) {
  VirtualDentry location = make_anonymous_location(make_anon_inode("anon_inode:[eventpoll]", creds));
  return std::make_shared<EpollFile>(std::move(location), O_RDWR | status_flags);
}

}  // namespace ward::vfs
