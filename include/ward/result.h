// Result<T>: a value or a Linux errno, the return type of every fallible
// sentry operation. No exception crosses the syscall boundary; a handler
// returns the errno itself and TRY(...) propagates it.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "ward/errno_name.h"

namespace ward {

// Kernel-internal restart codes. A blocking handler interrupted by a signal
// returns one of these; the syscall exit path turns it into EINTR or a
// restart of the call, as the signal's SA_RESTART flag and the code say.
// They never reach the guest.
inline constexpr int ERESTARTSYS = 512;
inline constexpr int ERESTARTNOINTR = 513;
inline constexpr int ERESTARTNOHAND = 514;
inline constexpr int ERESTART_RESTARTBLOCK = 516;

// A positive Linux errno value.
struct Errno {
  int value;

  constexpr bool operator==(const Errno&) const = default;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Errno error) : storage_(std::in_place_index<1>, error) {}         // NOLINT: implicit by design

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Errno error() const { return std::get<1>(storage_); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Errno> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Errno error) : error_(error.value) {}  // NOLINT: implicit by design

  bool ok() const { return error_ == 0; }
  explicit operator bool() const { return ok(); }
  void value() const {}
  Errno error() const { return Errno{error_}; }

 private:
  int error_ = 0;
};

// Shorthand for an empty success: `return ok();`.
inline Result<void> ok() { return {}; }

}  // namespace ward

// Evaluates a Result expression; on error returns the errno from the
// enclosing function, otherwise yields the value. Uses a GNU statement
// expression so that the happy path reads straight down.
#define TRY(expr)                          \
  ({                                       \
    auto&& ward_try_result_ = (expr);      \
    if (!ward_try_result_.ok()) {          \
      return ward_try_result_.error();     \
    }                                      \
    std::move(ward_try_result_).value();   \
  })
