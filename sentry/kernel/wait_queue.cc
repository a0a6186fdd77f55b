#include "sentry/kernel/wait_queue.h"

#include <cassert>

#include "sentry/kernel/scheduler.h"

namespace ward::kernel {

WaitQueue::~WaitQueue() {
  // A queue that dies with waiters on it (a file closed under a blocked
  // reader) wakes them, so that none waits for an event that cannot come.
  notify();
  for (Entry& entry : entries_) {
    if (entry.callback != nullptr) {
      entry.callback->queue_ = nullptr;
    }
  }
}

void WaitQueue::notify(uint32_t events) {
  if (entries_.empty()) {
    return;
  }
  // Waking a waiter or running a callback can unregister other entries of
  // this queue (a waiter watching this queue and an epoll instance that a
  // callback notifies), so the matching entries are collected first. No
  // fiber runs during a notification, so none of them is destroyed.
  std::vector<Waiter*> waiters;
  std::vector<WaitCallback*> shared;
  std::vector<WaitCallback*> exclusive;
  for (const Entry& entry : entries_) {
    if ((entry.mask & events) == 0) {
      continue;
    }
    if (entry.waiter != nullptr) {
      waiters.push_back(entry.waiter);
    } else if (entry.exclusive) {
      exclusive.push_back(entry.callback);
    } else {
      shared.push_back(entry.callback);
    }
  }

  for (Waiter* waiter : waiters) {
    waiter->wake(WakeReason::kNotified, events);
  }
  for (WaitCallback* callback : shared) {
    callback->function_(events);
  }
  for (WaitCallback* callback : exclusive) {
    if (callback->function_(events)) {
      break;
    }
  }
}

size_t WaitQueue::notify_some(size_t count, uint32_t events) {
  size_t woken = 0;
  for (auto it = entries_.begin(); it != entries_.end() && woken < count;) {
    auto next = std::next(it);
    if (it->waiter != nullptr && (it->mask & events) != 0) {
      it->waiter->wake(WakeReason::kNotified, events);
      ++woken;
    }
    it = next;
  }
  return woken;
}

Waiter::Waiter(Scheduler& scheduler) : scheduler_(scheduler), fiber_(scheduler.current()) {
  assert(fiber_ != nullptr && "a Waiter belongs to a fiber");
}

Waiter::~Waiter() {
  for (auto& [queue, position] : registrations_) {
    queue->entries_.erase(position);
  }
}

void Waiter::watch(WaitQueue& queue, uint32_t mask) {
  queue.entries_.push_back(WaitQueue::Entry{.waiter = this, .mask = mask});
  registrations_.emplace_back(&queue, std::prev(queue.entries_.end()));
}

void Waiter::wake(WakeReason reason, uint32_t events) {
  if (reason_) {
    return;  // the first reason wins
  }
  reason_ = reason;
  events_ = events;
  for (auto& [queue, position] : registrations_) {
    queue->entries_.erase(position);
  }
  registrations_.clear();
  if (parked_) {
    scheduler_.make_ready(fiber_);
  }
}

void WaitCallback::watch(WaitQueue& queue, uint32_t mask, bool exclusive) {
  unwatch();
  const WaitQueue::Entry entry{.callback = this, .mask = mask, .exclusive = exclusive};
  position_ = queue.entries_.insert(queue.entries_.end(), entry);
  queue_ = &queue;
}

void WaitCallback::unwatch() {
  if (queue_ != nullptr) {
    queue_->entries_.erase(position_);
    queue_ = nullptr;
  }
}

void Waiter::interrupt() { wake(WakeReason::kInterrupted, 0); }

WakeReason Waiter::wait() {
  if (reason_) {
    return *reason_;
  }

  std::optional<Timer> timer;
  if (deadline_) {
    if (*deadline_ <= monotonic_now()) {
      wake(WakeReason::kTimedOut, 0);
      return *reason_;
    }
    timer.emplace(scheduler_, [this] { wake(WakeReason::kTimedOut, 0); });
    timer->arm(*deadline_);
  }

  parked_ = true;
  while (!reason_) {
    scheduler_.park();
  }
  parked_ = false;
  return *reason_;
}

}  // namespace ward::kernel
