// epoll instances, as Linux's fs/eventpoll.c has them. An instance keeps one
// item per (open file description, fd number) it watches. Each item has a
// callback on the file's wait queue that puts it on the ready list when the
// file reports an event the item requests. epoll_wait then polls the ready
// items again and reports those still ready. Level-triggered items go back
// on the list after being reported, edge-triggered ones wait for the next
// notification, and one-shot ones are disabled until EPOLL_CTL_MOD.
//
// An item does not keep its file open: it goes away when the last
// reference to the open file description is dropped, so an item whose fd
// was closed while a dup of it remains keeps reporting events.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "sentry/kernel/credentials.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/file.h"

namespace ward::vfs {

// The flags of an item's events that are not poll events (EP_PRIVATE_BITS).
inline constexpr uint32_t kEpollPrivateBits = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;

// The events EPOLLEXCLUSIVE may be combined with (EPOLLEXCLUSIVE_OK_BITS).
inline constexpr uint32_t kEpollExclusiveAllowedBits =
    EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

// How many epoll instances may be nested under the outermost one
// (EP_MAX_NESTS).
inline constexpr int kEpollMaxNests = 4;

class EpollFile;

// One watched (file, fd) pair of an epoll instance (Linux's epitem).
struct EpollItem {
  EpollFile* owner = nullptr;
  std::weak_ptr<FileDescription> file;
  int fd = -1;
  uint32_t events = 0;  // requested events plus the private flags
  uint64_t data = 0;
  // The watched file when it is an epoll instance, for the nesting checks.
  std::weak_ptr<FileDescription> nested;
  bool ready = false;  // whether the item is on the owner's ready list
  std::list<EpollItem*>::iterator ready_position;
  std::unique_ptr<kernel::WaitCallback> callback;
};

class EpollFile final : public FileDescription {
 public:
  EpollFile(VirtualDentry location, uint32_t flags);
  ~EpollFile() override;

  // epoll_ctl's work once the caller has checked that `target` can be
  // polled and is not this instance: `op` on the item of (`target`, `fd`),
  // in Linux's order of checks. EINVAL for misused EPOLLEXCLUSIVE, ELOOP
  // for a cycle or nesting too deep, EEXIST, ENOENT, and EINVAL for an
  // unknown op.
  Result<void> control(int op, const FileRef& target, int fd, epoll_event event);

  // Removes up to `max_events` ready items from the ready list and passes
  // each event to `deliver`, which returns false when the guest buffer
  // faulted. Returns how many were delivered, or EFAULT when the first one
  // faulted (ep_send_events).
  Result<size_t> collect(size_t max_events, const std::function<bool(const epoll_event&)>& deliver);

  // Whether the ready list has items, which may or may not still be ready.
  bool has_ready_items() const { return !ready_list_.empty(); }

  // The queue epoll_wait's callers wait on. Each new ready item wakes one.
  kernel::WaitQueue& event_queue() { return event_queue_; }

  // An epoll fd is readable while an item on its ready list is ready.
  uint32_t readiness(uint32_t mask) override;
  kernel::WaitQueue* wait_queue() override { return &poll_queue_; }
  bool can_poll() override { return true; }

  // NOTE: Linux's epoll has noop_llseek, so lseek returns 0 there, but a
  // stream here fails lseek with ESPIPE. pread and pwrite fail with ESPIPE
  // in both.
  bool stream() const override { return true; }

 private:
  using ItemKey = std::pair<const FileDescription*, int>;

  Result<void> insert(const FileRef& target, int fd, epoll_event event);
  void modify(EpollItem& item, epoll_event event);
  void remove(ItemKey key);

  // Drops the items whose file has been closed for good.
  void remove_closed_items();

  bool handle_notification(EpollItem& item, uint32_t events);
  void mark_ready(EpollItem& item);
  void unmark_ready(EpollItem& item);
  void wake_after_ready();

  // The nesting checks of ep_loop_check.
  bool would_loop_or_nest_too_deep(EpollFile& target);
  int depth_below(const EpollFile& inserting_into, int depth) const;
  int depth_above() const;

  std::map<ItemKey, std::unique_ptr<EpollItem>> items_;
  size_t items_after_sweep_ = 0;  // items_.size() after remove_closed_items
  std::list<EpollItem*> ready_list_;
  // The items of other epoll instances that watch this one.
  std::set<EpollItem*> watchers_;
  kernel::WaitQueue event_queue_;
  kernel::WaitQueue poll_queue_;
};

// A new epoll instance, open O_RDWR plus `status_flags`. Its inode belongs
// to `creds`' fsuid and fsgid.
FileRef make_epoll(const kernel::Credentials& creds, uint32_t status_flags);

// The poll events of an item's file that the item reports now.
uint32_t poll_item(EpollItem& item);

}  // namespace ward::vfs
