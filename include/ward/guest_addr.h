// GuestAddr: an address in a guest's address space. It is a distinct type so
// that a guest pointer can never be dereferenced by the sentry by mistake;
// guest memory is reached only through the copy helpers of the memory manager.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>

#include <fmt/format.h>

namespace ward {

inline constexpr uint64_t kPageSize = 4096;

// One past the highest user address of x86_64 with 4-level paging, as Linux
// defines TASK_SIZE_MAX: 2^47 minus one guard page.
inline constexpr uint64_t kTaskSize = (uint64_t{1} << 47) - kPageSize;

class GuestAddr {
 public:
  constexpr GuestAddr() = default;
  constexpr explicit GuestAddr(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }
  constexpr bool is_null() const { return value_ == 0; }

  constexpr bool is_page_aligned() const { return (value_ & (kPageSize - 1)) == 0; }
  constexpr GuestAddr page_down() const { return GuestAddr(value_ & ~(kPageSize - 1)); }

  // Rounds up to a page boundary, or nullopt when that overflows.
  constexpr std::optional<GuestAddr> page_up() const {
    if (value_ > UINT64_MAX - (kPageSize - 1)) {
      return std::nullopt;
    }
    return GuestAddr((value_ + kPageSize - 1) & ~(kPageSize - 1));
  }

  // Adds an offset, or nullopt when the sum wraps around.
  constexpr std::optional<GuestAddr> checked_add(uint64_t offset) const {
    if (value_ > UINT64_MAX - offset) {
      return std::nullopt;
    }
    return GuestAddr(value_ + offset);
  }

  constexpr GuestAddr operator+(uint64_t offset) const { return GuestAddr(value_ + offset); }
  constexpr GuestAddr operator-(uint64_t offset) const { return GuestAddr(value_ - offset); }
  constexpr uint64_t operator-(GuestAddr other) const { return value_ - other.value_; }
  constexpr GuestAddr& operator+=(uint64_t offset) {
    value_ += offset;
    return *this;
  }

  constexpr auto operator<=>(const GuestAddr&) const = default;

 private:
  uint64_t value_ = 0;
};

// Rounds a byte count up to whole pages, or nullopt when that overflows.
constexpr std::optional<uint64_t> page_round_up(uint64_t size_bytes) {
  if (size_bytes > UINT64_MAX - (kPageSize - 1)) {
    return std::nullopt;
  }
  return (size_bytes + kPageSize - 1) & ~(kPageSize - 1);
}

}  // namespace ward

template <>
struct fmt::formatter<ward::GuestAddr> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(ward::GuestAddr addr, FormatContext& ctx) const {
    return fmt::format_to(ctx.out(), "{:#x}", addr.value());
  }
};
