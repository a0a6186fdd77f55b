// getrusage and times: the CPU time and resource usage of the caller, its
// thread and its reaped children, from sentry/kernel/cpu_usage.h.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <unistd.h>

#include "sentry/kernel/cpu_usage.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/handlers_timer.h"

namespace ward::syscalls {
namespace {

// Linux's USER_HZ, the unit of struct tms.
constexpr int64_t kNanosecondsPerClockTick = 1'000'000'000 / 100;

clock_t to_clock_ticks(int64_t nanoseconds) {
  return static_cast<clock_t>(nanoseconds / kNanosecondsPerClockTick);
}

}  // namespace

// getrusage(who, usage)
Result<int64_t> sys_getrusage(kernel::Task& task, const SyscallArgs& args) {
  int who = args.i32(0);
  GuestAddr usage_addr = args.addr(1);

  kernel::Usage usage;
  switch (who) {
    case RUSAGE_SELF:
      usage = kernel::process_usage(task.thread_group());
      break;
    case RUSAGE_CHILDREN:
      usage = kernel::children_usage(task.thread_group());
      break;
    case RUSAGE_THREAD:
      usage = kernel::thread_usage(task);
      break;
    default:
      return Errno{EINVAL};
  }
  TRY(task.copy_out(usage_addr, kernel::to_rusage(usage)));
  return 0;
}

// times(buf): buf may be NULL. Returns the clock ticks since an arbitrary
// point, the host's own, which Linux counts from shortly before boot.
Result<int64_t> sys_times(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr buffer_addr = args.addr(0);

  if (!buffer_addr.is_null()) {
    kernel::ThreadGroup& group = task.thread_group();
    kernel::CpuTimes self = kernel::process_cpu_times(group);
    const kernel::CpuTimes& children = group.reaped_children_time();
    struct tms result {
      .tms_utime = to_clock_ticks(self.user_ns), .tms_stime = to_clock_ticks(self.system_ns),
      .tms_cutime = to_clock_ticks(children.user_ns),
      .tms_cstime = to_clock_ticks(children.system_ns),
    };
    TRY(task.copy_out(buffer_addr, result));
  }
  return static_cast<int64_t>(::syscall(SYS_times, nullptr));
}

}  // namespace ward::syscalls
