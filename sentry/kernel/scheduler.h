// The scheduler: the sentry's one event loop. It runs ready fibers until each
// parks, then collects guest stops from the platform, expired timers and
// host fd readiness, and sleeps in one epoll_wait only when no fiber is
// ready. It never blocks on one source while another has work.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "sentry/kernel/clock.h"
#include "sentry/kernel/fiber.h"
#include "sentry/kernel/wait_queue.h"
#include "ward/platform.h"
#include "ward/result.h"
#include "ward/unique_fd.h"

namespace ward::kernel {

class Scheduler;

// A one-shot callback at a monotonic deadline. Cancelled on destruction.
class Timer {
 public:
  Timer(Scheduler& scheduler, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(TimePoint deadline);
  void cancel();
  bool armed() const { return armed_; }

 private:
  friend class Scheduler;

  Scheduler& scheduler_;
  std::function<void()> callback_;
  std::multimap<TimePoint, Timer*>::iterator position_;
  bool armed_ = false;
};

// Readiness of one host fd, watched edge-triggered in the scheduler's epoll
// set. Its queue is notified with the EPOLL* bits, which equal the POLL*
// bits. A handler tries its non-blocking operation first and waits on the
// queue only after EAGAIN, so no edge is missed.
class HostFdWatch {
 public:
  HostFdWatch(Scheduler& scheduler, int fd);
  ~HostFdWatch();
  HostFdWatch(const HostFdWatch&) = delete;
  HostFdWatch& operator=(const HostFdWatch&) = delete;

  WaitQueue& queue() { return queue_; }

  // False for fds epoll cannot watch (regular files), which never block.
  bool watched() const { return watched_; }

 private:
  friend class Scheduler;

  Scheduler& scheduler_;
  int fd_;
  bool watched_ = false;
  WaitQueue queue_;
};

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> create(platform::Platform& platform);

  // Makes a parked fiber runnable. Idempotent.
  void make_ready(Fiber* fiber);

  // The fiber now running, or nullptr in the loop itself.
  Fiber* current() const { return current_; }

  // Suspends the current fiber until make_ready() is called for it.
  void park();

  // Runs fibers and events until `done` returns true with no fiber ready.
  void run(const std::function<bool()>& done);

  // Called, outside any fiber, for each fiber whose body has returned, so
  // that its owner can destroy it.
  void set_finished_callback(std::function<void(Fiber*)> callback) {
    finished_callback_ = std::move(callback);
  }

  platform::Platform& platform() { return platform_; }

 private:
  friend class Timer;
  friend class HostFdWatch;

  explicit Scheduler(platform::Platform& platform) : platform_(platform) {}

  void run_ready_fibers();
  void fire_due_timers();
  void wait_for_events();
  void rearm_timerfd();

  platform::Platform& platform_;
  UniqueFd epoll_fd_;
  UniqueFd timer_fd_;
  std::deque<Fiber*> ready_;
  Fiber* current_ = nullptr;
  std::multimap<TimePoint, Timer*> timers_;
  std::optional<TimePoint> armed_deadline_;  // what the timerfd is set to fire at
  std::function<void(Fiber*)> finished_callback_;
};

}  // namespace ward::kernel
