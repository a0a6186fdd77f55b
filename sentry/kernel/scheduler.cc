#include "sentry/kernel/scheduler.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <cassert>

#include <spdlog/spdlog.h>

namespace ward::kernel {
namespace {

// epoll_event.data tags for the scheduler's own fds; host fd watches carry
// their HostFdWatch pointer instead.
constexpr uint64_t kPlatformTag = 1;
constexpr uint64_t kTimerTag = 2;

constexpr int kMaxEventsPerWait = 64;

Result<void> add_to_epoll(int epoll_fd, int fd, uint32_t events, uint64_t data) {
  epoll_event event{.events = events, .data = {.u64 = data}};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
    return Errno{errno};
  }
  return ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// Timer

Timer::Timer(Scheduler& scheduler, std::function<void()> callback)
    : scheduler_(scheduler), callback_(std::move(callback)) {}

Timer::~Timer() { cancel(); }

void Timer::arm(TimePoint deadline) {
  cancel();
  position_ = scheduler_.timers_.emplace(deadline, this);
  armed_ = true;
  if (position_ == scheduler_.timers_.begin()) {
    scheduler_.rearm_timerfd();
  }
}

void Timer::cancel() {
  if (!armed_) {
    return;
  }
  scheduler_.timers_.erase(position_);
  armed_ = false;
}

// ---------------------------------------------------------------------------
// HostFdWatch

HostFdWatch::HostFdWatch(Scheduler& scheduler, int fd) : scheduler_(scheduler), fd_(fd) {
  uint32_t events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  auto added = add_to_epoll(scheduler_.epoll_fd_.get(), fd_, events,
                            reinterpret_cast<uint64_t>(this));
  // EPERM: a regular file or directory, which epoll refuses and which is
  // always ready.
  watched_ = added.ok();
  if (!added.ok() && added.error().value != EPERM) {
    spdlog::error("sentry: cannot watch host fd {}: {}", fd_, errno_name(added.error().value));
  }
}

HostFdWatch::~HostFdWatch() {
  if (watched_) {
    epoll_ctl(scheduler_.epoll_fd_.get(), EPOLL_CTL_DEL, fd_, nullptr);
  }
}

// ---------------------------------------------------------------------------
// Scheduler

Result<std::unique_ptr<Scheduler>> Scheduler::create(platform::Platform& platform) {
  std::unique_ptr<Scheduler> scheduler(new Scheduler(platform));
  scheduler->epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!scheduler->epoll_fd_.valid()) {
    return Errno{errno};
  }
  scheduler->timer_fd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!scheduler->timer_fd_.valid()) {
    return Errno{errno};
  }
  int epoll_fd = scheduler->epoll_fd_.get();
  TRY(add_to_epoll(epoll_fd, platform.event_fd(), EPOLLIN, kPlatformTag));
  TRY(add_to_epoll(epoll_fd, scheduler->timer_fd_.get(), EPOLLIN, kTimerTag));
  return scheduler;
}

void Scheduler::make_ready(Fiber* fiber) {
  if (fiber->queued_ || fiber->finished()) {
    return;
  }
  fiber->queued_ = true;
  ready_.push_back(fiber);
}

void Scheduler::park() {
  Fiber* fiber = current_;
  assert(fiber != nullptr && "park() outside a fiber");
  fiber->suspend();
}

void Scheduler::run_ready_fibers() {
  while (!ready_.empty()) {
    Fiber* fiber = ready_.front();
    ready_.pop_front();
    fiber->queued_ = false;

    current_ = fiber;
    fiber->resume();
    current_ = nullptr;

    if (fiber->finished() && finished_callback_) {
      finished_callback_(fiber);
    }
  }
}

void Scheduler::fire_due_timers() {
  TimePoint now = monotonic_now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    Timer* timer = timers_.begin()->second;
    timers_.erase(timers_.begin());
    timer->armed_ = false;
    timer->callback_();
  }
}

void Scheduler::rearm_timerfd() {
  std::optional<TimePoint> earliest;
  if (!timers_.empty()) {
    earliest = timers_.begin()->first;
  }
  if (earliest == armed_deadline_) {
    return;  // the timerfd already fires then; this saves a syscall per wait
  }
  armed_deadline_ = earliest;

  itimerspec spec{};
  if (earliest) {
    auto since_epoch = earliest->time_since_epoch();
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    spec.it_value.tv_sec = seconds.count();
    spec.it_value.tv_nsec = (since_epoch - seconds).count();
    // A zero it_value disarms the timer; a deadline at the clock's origin
    // is long past anyway.
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) {
      spec.it_value.tv_nsec = 1;
    }
  }
  timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void Scheduler::wait_for_events() {
  rearm_timerfd();
  epoll_event events[kMaxEventsPerWait];
  int count = epoll_wait(epoll_fd_.get(), events, kMaxEventsPerWait, -1);
  if (count < 0) {
    if (errno != EINTR) {
      spdlog::error("sentry: epoll_wait failed: {}", errno_name(errno));
    }
    return;
  }
  for (int i = 0; i < count; ++i) {
    uint64_t tag = events[i].data.u64;
    if (tag == kPlatformTag) {
      platform_.dispatch_events();
      continue;
    }
    if (tag == kTimerTag) {
      uint64_t expirations = 0;
      while (::read(timer_fd_.get(), &expirations, sizeof(expirations)) > 0) {
      }
      // It fired, so it is disarmed until the next rearm.
      armed_deadline_.reset();
      continue;
    }
    auto* watch = reinterpret_cast<HostFdWatch*>(tag);
    watch->queue_.notify(events[i].events);
  }
}

void Scheduler::run(const std::function<bool()>& done) {
  // Stops that are already pending keep the platform's event fd readable,
  // so the first epoll_wait returns at once for them.
  for (;;) {
    run_ready_fibers();
    fire_due_timers();
    if (!ready_.empty()) {
      continue;
    }
    if (done()) {
      return;
    }
    wait_for_events();
  }
}

}  // namespace ward::kernel
