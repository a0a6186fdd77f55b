#include "sentry/kernel/fiber.h"

#include <boost/context/preallocated.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

#include <cstdlib>
#include <exception>

#include <spdlog/spdlog.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define WARD_ASAN_FIBERS 1
#endif

namespace ward::kernel {
namespace ctx = boost::context;

namespace {

// Tells AddressSanitizer that the thread is about to switch to the stack
// [bottom, bottom + size), and afterwards that the switch happened. Without
// these, ASan reports false stack overflows after every switch.
void begin_switch([[maybe_unused]] void** fake_stack_save, [[maybe_unused]] const void* bottom,
                  [[maybe_unused]] size_t size) {
#ifdef WARD_ASAN_FIBERS
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#endif
}

void end_switch([[maybe_unused]] void* fake_stack_save, [[maybe_unused]] const void** old_bottom,
                [[maybe_unused]] size_t* old_size) {
#ifdef WARD_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(fake_stack_save, old_bottom, old_size);
#endif
}

}  // namespace

Fiber::Fiber(std::function<void()> body) : body_(std::move(body)) {
  ctx::protected_fixedsize_stack allocator(kStackBytes);
  ctx::stack_context stack = allocator.allocate();
  stack_bottom_ = static_cast<char*>(stack.sp) - stack.size;
  stack_size_ = stack.size;

  self_ = ctx::fiber(std::allocator_arg, ctx::preallocated(stack.sp, stack.size, stack), allocator,
                     [this](ctx::fiber&& caller) {
                       end_switch(nullptr, &caller_stack_bottom_, &caller_stack_size_);
                       caller_ = std::move(caller);
                       try {
                         body_();
                       } catch (const ctx::detail::forced_unwind&) {
                         // Destroying a suspended fiber unwinds its stack
                         // with this exception; it must reach Boost.Context.
                         finished_ = true;
                         throw;
                       } catch (const std::exception& error) {
                         spdlog::critical("sentry: uncaught exception in a task: {}",
                                          error.what());
                         std::abort();
                       }
                       finished_ = true;
                       begin_switch(nullptr, caller_stack_bottom_, caller_stack_size_);
                       return std::move(caller_);
                     });
}

Fiber::~Fiber() = default;

void Fiber::resume() {
  void* fake_stack = nullptr;
  begin_switch(&fake_stack, stack_bottom_, stack_size_);
  self_ = std::move(self_).resume();
  end_switch(fake_stack, nullptr, nullptr);
}

void Fiber::suspend() {
  void* fake_stack = nullptr;
  begin_switch(&fake_stack, caller_stack_bottom_, caller_stack_size_);
  caller_ = std::move(caller_).resume();
  end_switch(fake_stack, &caller_stack_bottom_, &caller_stack_size_);
}

}  // namespace ward::kernel
