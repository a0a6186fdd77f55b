// The sentry's one blocking mechanism. A handler that must wait registers a
// Waiter on the wait queues of the events it needs (pipe readable, child
// exited, futex woken, host fd ready), optionally with a deadline, and parks
// its fiber; whoever produces the event notifies the queue, which makes the
// waiting fiber runnable again. The sentry is single-threaded and fibers
// switch only when they park, so a condition checked before wait() cannot
// change before the Waiter is registered.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <vector>

#include "sentry/kernel/clock.h"

namespace ward::kernel {

class Fiber;
class Scheduler;
class WaitCallback;
class Waiter;

// poll(2) event bits, which wait queues use as their event masks.
inline constexpr uint32_t kAllEvents = ~uint32_t{0};

class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  ~WaitQueue();

  // Wakes every waiter whose mask has one of `events` and runs the
  // callbacks watching for them: every shared one, then the exclusive ones
  // in order until one of them returns true.
  void notify(uint32_t events = kAllEvents);

  // Wakes at most `count` waiters, oldest first; returns how many woke.
  // Callbacks are not run.
  size_t notify_some(size_t count, uint32_t events = kAllEvents);

  bool empty() const { return entries_.empty(); }

 private:
  friend class Waiter;
  friend class WaitCallback;

  // Exactly one of `waiter` and `callback` is set.
  struct Entry {
    Waiter* waiter = nullptr;
    WaitCallback* callback = nullptr;
    uint32_t mask = 0;
    bool exclusive = false;
  };
  std::list<Entry> entries_;
};

enum class WakeReason {
  kNotified,     // a watched queue was notified
  kTimedOut,     // the deadline passed
  kInterrupted,  // interrupt() was called: a signal for the task, or the task must exit
};

// One wait of one fiber; unregisters from everything on destruction.
class Waiter {
 public:
  explicit Waiter(Scheduler& scheduler);
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  void watch(WaitQueue& queue, uint32_t mask = kAllEvents);
  void set_deadline(TimePoint deadline) { deadline_ = deadline; }

  // Parks the calling fiber until a watched queue is notified, the deadline
  // passes or interrupt() is called. Returns at once if one of those already
  // happened since the Waiter was made.
  WakeReason wait();

  // Wakes the waiter with kInterrupted. Safe to call at any time.
  void interrupt();

  // The events of the notification that woke this waiter.
  uint32_t events() const { return events_; }

 private:
  friend class WaitQueue;
  friend class Scheduler;

  void wake(WakeReason reason, uint32_t events);

  Scheduler& scheduler_;
  Fiber* fiber_;
  std::vector<std::pair<WaitQueue*, std::list<WaitQueue::Entry>::iterator>> registrations_;
  std::optional<TimePoint> deadline_;
  std::optional<WakeReason> reason_;
  uint32_t events_ = 0;
  bool parked_ = false;
};

// A function run on every notification of one queue, for a listener that is
// not a parked fiber: an epoll instance watching a file. Unlike a Waiter it
// stays registered until unwatch(), its destruction or the queue's.
class WaitCallback {
 public:
  // Receives the notified events and returns whether it consumed the
  // notification, which matters only for an exclusive registration.
  using Function = std::function<bool(uint32_t events)>;

  explicit WaitCallback(Function function) : function_(std::move(function)) {}
  ~WaitCallback() { unwatch(); }
  WaitCallback(const WaitCallback&) = delete;
  WaitCallback& operator=(const WaitCallback&) = delete;

  // Registers on `queue`, replacing an earlier registration. Exclusive
  // callbacks run after the shared ones, as Linux's add_wait_queue_exclusive
  // places them.
  void watch(WaitQueue& queue, uint32_t mask = kAllEvents, bool exclusive = false);
  void unwatch();

 private:
  friend class WaitQueue;

  Function function_;
  WaitQueue* queue_ = nullptr;
  std::list<WaitQueue::Entry>::iterator position_;
};

}  // namespace ward::kernel
