// Time as the sentry's timers see it: CLOCK_MONOTONIC in nanoseconds.
#pragma once

#include <chrono>

namespace ward::kernel {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC in libstdc++
using TimePoint = std::chrono::time_point<Clock, std::chrono::nanoseconds>;
using Duration = std::chrono::nanoseconds;

inline TimePoint monotonic_now() { return Clock::now(); }

}  // namespace ward::kernel
