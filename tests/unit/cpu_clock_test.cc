// The CPU-clock helpers of the timers: which clock ids are CPU clocks,
// what each clock type reads, and how the accounts of a task follow an
// execve that changes its tid.
#include <time.h>

#include <gtest/gtest.h>

#include "sentry/kernel/cpu_usage.h"
#include "sentry/kernel/timers.h"

namespace ward::kernel {
namespace {

// The kernel's encoding (include/linux/posix-timers.h).
constexpr clockid_t make_process_cpu_clock(pid_t pid, int type) {
  return static_cast<clockid_t>((~static_cast<unsigned>(pid) << 3) | static_cast<unsigned>(type));
}
constexpr clockid_t make_thread_cpu_clock(pid_t tid, int type) {
  return make_process_cpu_clock(tid, type) | 4;
}
constexpr int kClockFdType = 3;

TEST(CpuClockTest, RecognisesCpuClockIds) {
  EXPECT_TRUE(is_cpu_clock_id(CLOCK_PROCESS_CPUTIME_ID));
  EXPECT_TRUE(is_cpu_clock_id(CLOCK_THREAD_CPUTIME_ID));
  EXPECT_TRUE(is_cpu_clock_id(make_process_cpu_clock(0, 2)));
  EXPECT_TRUE(is_cpu_clock_id(make_process_cpu_clock(1234, 0)));
  EXPECT_TRUE(is_cpu_clock_id(make_thread_cpu_clock(1234, 1)));
  // Type 3 with the thread bit is a CPU clock Linux rejects later, with
  // EINVAL; without it, it is a clock fd.
  EXPECT_TRUE(is_cpu_clock_id(make_thread_cpu_clock(0, 3)));
  EXPECT_FALSE(is_cpu_clock_id(make_process_cpu_clock(3, kClockFdType)));
  EXPECT_FALSE(is_cpu_clock_id(CLOCK_REALTIME));
  EXPECT_FALSE(is_cpu_clock_id(CLOCK_MONOTONIC));
  EXPECT_FALSE(is_cpu_clock_id(CLOCK_BOOTTIME));
}

TEST(CpuClockTest, ClockTypesReadTheirPart) {
  CpuTimes times{.user_ns = 300, .system_ns = 200};
  EXPECT_EQ(cpu_clock_value(times, CpuClockType::kVirtual), 300);
  EXPECT_EQ(cpu_clock_value(times, CpuClockType::kProf), 500);
  EXPECT_EQ(cpu_clock_value(times, CpuClockType::kSched), 500);
}

TEST(CpuClockTest, AccountFollowsRenamedTid) {
  TaskAccounts accounts;
  accounts.get(7).carried_time.user_ns = 42;
  accounts.get(1).carried_time.user_ns = 5;
  accounts.rename(7, 1);
  EXPECT_EQ(accounts.get(1).carried_time.user_ns, 42);
  EXPECT_EQ(accounts.get(7).carried_time.user_ns, 0);
  accounts.rename(99, 1);  // no account to move: the target stays
  EXPECT_EQ(accounts.get(1).carried_time.user_ns, 42);
}

TEST(CpuClockTest, HostTickIsPlausible) {
  EXPECT_GE(host_tick_ns(), 1'000'000);
  EXPECT_LE(host_tick_ns(), 10'000'000);
  EXPECT_GE(host_cpu_count(), 1);
}

}  // namespace
}  // namespace ward::kernel
