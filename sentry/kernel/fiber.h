// Fiber: a stackful coroutine (Boost.Context) on which one task's syscall
// handling runs, so that a handler can park in the middle of a call while
// the single sentry thread serves other tasks.
#pragma once

#include <boost/context/fiber.hpp>

#include <functional>

namespace ward::kernel {

class Fiber {
 public:
  // Stack reserved per fiber. Pages are touched lazily, so most of it is
  // never backed by memory; a guard page below it turns an overflow into a
  // crash rather than silent corruption.
  static constexpr size_t kStackBytes = 1024 * 1024;

  explicit Fiber(std::function<void()> body);
  ~Fiber();

  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the fiber until it suspends or its body returns. Called only from
  // outside any fiber (the scheduler loop).
  void resume();

  // Suspends the running fiber and returns to whoever resumed it. Called
  // only from inside this fiber.
  void suspend();

  bool finished() const { return finished_; }

 private:
  friend class Scheduler;

  std::function<void()> body_;
  boost::context::fiber self_;    // where resume() continues the fiber
  boost::context::fiber caller_;  // where suspend() returns to
  bool finished_ = false;
  bool queued_ = false;  // in the scheduler's ready queue

  // Stack bounds, which AddressSanitizer must be told at every switch.
  const void* stack_bottom_ = nullptr;
  size_t stack_size_ = 0;
  const void* caller_stack_bottom_ = nullptr;
  size_t caller_stack_size_ = 0;
};

}  // namespace ward::kernel
