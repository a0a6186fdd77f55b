// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and
// epoll_pwait2, as Linux's fs/eventpoll.c has them. The instances live in
// sentry/fs/eventpoll.h; this file decodes arguments and waits.
#include <sys/epoll.h>
#include <time.h>

#include <climits>
#include <limits>
#include <optional>

#include "sentry/fs/eventpoll.h"
#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/task_io.h"
#include "syscalls/args.h"
#include "syscalls/handlers_epoll.h"

namespace ward::syscalls {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr int64_t kNanosecondsPerMillisecond = 1'000'000;

// EP_MAX_EVENTS: the largest maxevents whose array size fits in an int.
constexpr int kMaxEvents = INT_MAX / static_cast<int>(sizeof(epoll_event));

constexpr uint64_t kSigsetBytes = sizeof(kernel::SignalSet);

// When a wait ends: never, at once (a zero timeout polls once), or at a
// CLOCK_MONOTONIC deadline.
struct WaitEnd {
  bool immediate = false;
  std::optional<kernel::TimePoint> deadline;
};

// The end of a wait of `timeout_ns` from now. A deadline past the range of
// the sentry's clock (about 292 years of uptime) is no deadline.
WaitEnd end_after(int64_t timeout_ns) {
  if (timeout_ns == 0) {
    return WaitEnd{.immediate = true, .deadline = std::nullopt};
  }
  const int64_t now_ns = kernel::monotonic_now().time_since_epoch().count();
  if (timeout_ns > std::numeric_limits<int64_t>::max() - now_ns) {
    return WaitEnd{};
  }
  return WaitEnd{.immediate = false,
                 .deadline = kernel::TimePoint(kernel::Duration(now_ns + timeout_ns))};
}

// An fd for epoll's lookups, which (like Linux's fdget) do not see O_PATH
// files.
Result<vfs::FileRef> get_file(kernel::Task& task, int fd) {
  vfs::FileRef file = TRY(task.fdtable().get(fd));
  if (file->path_only()) {
    return Errno{EBADF};
  }
  return file;
}

Result<int64_t> make_epoll_fd(kernel::Task& task, bool close_on_exec) {
  return TRY(task.fdtable().install(vfs::make_epoll(task.creds(), 0), close_on_exec));
}

// Delivers ready events of `epoll` to the guest array, waiting until one
// is ready, `end` passes or a signal arrives: Linux's ep_poll. epoll_wait
// is never restarted, so a signal ends it with EINTR even without a
// handler (after a stop and SIGCONT, for one).
Result<int64_t> wait_for_events(kernel::Task& task, vfs::EpollFile& epoll, GuestAddr events_addr,
                                int max_events, const WaitEnd& end) {
  auto deliver = [&task, events_addr, written = size_t{0}](const epoll_event& event) mutable {
    if (!task.copy_out(events_addr + written * sizeof(epoll_event), event).ok()) {
      return false;
    }
    ++written;
    return true;
  };

  bool timed_out = end.immediate;
  for (;;) {
    if (epoll.has_ready_items()) {
      const size_t delivered = TRY(epoll.collect(static_cast<size_t>(max_events), deliver));
      if (delivered > 0) {
        return static_cast<int64_t>(delivered);
      }
    }
    if (timed_out) {
      return 0;
    }
    if (task.has_deliverable_signal() || task.exit_requested()) {
      return Errno{EINTR};
    }

    kernel::Waiter waiter(task.scheduler());
    waiter.watch(epoll.event_queue());
    if (end.deadline) {
      waiter.set_deadline(*end.deadline);
    }
    switch (task.block(waiter)) {
      case kernel::WakeReason::kInterrupted:
        return Errno{EINTR};
      case kernel::WakeReason::kTimedOut:
        timed_out = true;  // one more look at the ready list, then 0
        break;
      case kernel::WakeReason::kNotified:
        break;
    }
  }
}

// do_epoll_wait: the argument checks in Linux's order, then the wait.
Result<int64_t> epoll_wait_common(kernel::Task& task, int epfd, GuestAddr events_addr,
                                  int max_events, const WaitEnd& end) {
  if (max_events <= 0 || max_events > kMaxEvents) {
    return Errno{EINVAL};
  }
  if (!vfs::guest_range_ok(events_addr, static_cast<uint64_t>(max_events) * sizeof(epoll_event))) {
    return Errno{EFAULT};
  }
  const vfs::FileRef file = TRY(get_file(task, epfd));
  auto* epoll = dynamic_cast<vfs::EpollFile*>(file.get());
  if (epoll == nullptr) {
    return Errno{EINVAL};
  }
  return wait_for_events(task, *epoll, events_addr, max_events, end);
}

// do_epoll_pwait: epoll_wait under a temporary signal mask. After EINTR the
// caller's mask comes back only once the signal's handler has run.
Result<int64_t> epoll_pwait_common(kernel::Task& task, int epfd, GuestAddr events_addr,
                                   int max_events, const WaitEnd& end, GuestAddr mask_addr,
                                   uint64_t sigset_bytes) {
  std::optional<kernel::SignalSet> old_mask;
  if (!mask_addr.is_null()) {
    if (sigset_bytes != kSigsetBytes) {
      return Errno{EINVAL};
    }
    const kernel::SignalSet mask = TRY(task.copy_in<kernel::SignalSet>(mask_addr));
    old_mask = task.signal_mask();
    task.set_signal_mask(mask);
  }

  Result<int64_t> result = epoll_wait_common(task, epfd, events_addr, max_events, end);

  if (old_mask) {
    if (!result.ok() && result.error().value == EINTR) {
      task.set_saved_mask(*old_mask);
    } else {
      task.set_signal_mask(*old_mask);
    }
  }
  return result;
}

// A millisecond timeout of epoll_wait and epoll_pwait: negative waits
// without end.
WaitEnd end_of_milliseconds(int timeout_ms) {
  if (timeout_ms < 0) {
    return WaitEnd{};
  }
  return end_after(int64_t{timeout_ms} * kNanosecondsPerMillisecond);
}

}  // namespace

// epoll_create(size): size is only checked, as Linux has ignored it since
// 2.6.8.
Result<int64_t> sys_epoll_create(kernel::Task& task, const SyscallArgs& args) {
  const int size = args.i32(0);
  if (size <= 0) {
    return Errno{EINVAL};
  }
  return make_epoll_fd(task, false);
}

// epoll_create1(flags): EPOLL_CLOEXEC only.
Result<int64_t> sys_epoll_create1(kernel::Task& task, const SyscallArgs& args) {
  const uint32_t flags = args.u32(0);
  if ((flags & ~static_cast<uint32_t>(EPOLL_CLOEXEC)) != 0) {
    return Errno{EINVAL};
  }
  return make_epoll_fd(task, (flags & EPOLL_CLOEXEC) != 0);
}

// epoll_ctl(epfd, op, fd, event): the event is read for every op but
// EPOLL_CTL_DEL, before either fd is looked up.
Result<int64_t> sys_epoll_ctl(kernel::Task& task, const SyscallArgs& args) {
  const int epfd = args.fd(0);
  const int op = args.i32(1);
  const int fd = args.fd(2);
  const GuestAddr event_addr = args.addr(3);

  epoll_event event{};
  if (op != EPOLL_CTL_DEL) {
    event = TRY(task.copy_in<epoll_event>(event_addr));
  }
  const vfs::FileRef file = TRY(get_file(task, epfd));
  const vfs::FileRef target = TRY(get_file(task, fd));
  if (!target->can_poll()) {
    return Errno{EPERM};
  }
  auto* epoll = dynamic_cast<vfs::EpollFile*>(file.get());
  if (epoll == nullptr || file == target) {
    return Errno{EINVAL};
  }
  // NOTE: EPOLLWAKEUP is kept as given: ward has no system suspend for it
  // to hold off, and Linux only drops it for a caller without
  // CAP_BLOCK_SUSPEND.
  TRY(epoll->control(op, target, fd, event));
  return 0;
}

// epoll_wait(epfd, events, maxevents, timeout_ms)
Result<int64_t> sys_epoll_wait(kernel::Task& task, const SyscallArgs& args) {
  const int epfd = args.fd(0);
  const GuestAddr events_addr = args.addr(1);
  const int max_events = args.i32(2);
  const int timeout_ms = args.i32(3);
  return epoll_wait_common(task, epfd, events_addr, max_events, end_of_milliseconds(timeout_ms));
}

// epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask, sigsetsize)
Result<int64_t> sys_epoll_pwait(kernel::Task& task, const SyscallArgs& args) {
  const int epfd = args.fd(0);
  const GuestAddr events_addr = args.addr(1);
  const int max_events = args.i32(2);
  const int timeout_ms = args.i32(3);
  const GuestAddr mask_addr = args.addr(4);
  const uint64_t sigset_bytes = args.u64(5);
  return epoll_pwait_common(task, epfd, events_addr, max_events, end_of_milliseconds(timeout_ms),
                            mask_addr, sigset_bytes);
}

// epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize): a
// timespec timeout, where null waits without end. The timeout is checked
// before anything else.
Result<int64_t> sys_epoll_pwait2(kernel::Task& task, const SyscallArgs& args) {
  const int epfd = args.fd(0);
  const GuestAddr events_addr = args.addr(1);
  const int max_events = args.i32(2);
  const GuestAddr timeout_addr = args.addr(3);
  const GuestAddr mask_addr = args.addr(4);
  const uint64_t sigset_bytes = args.u64(5);

  WaitEnd end;
  if (!timeout_addr.is_null()) {
    const timespec timeout = TRY(task.copy_in<timespec>(timeout_addr));
    if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= kNanosecondsPerSecond) {
      return Errno{EINVAL};
    }
    if (timeout.tv_sec > std::numeric_limits<int64_t>::max() / kNanosecondsPerSecond - 1) {
      end = WaitEnd{};  // past the range of the sentry's clock
    } else {
      end = end_after(timeout.tv_sec * kNanosecondsPerSecond + timeout.tv_nsec);
    }
  }
  return epoll_pwait_common(task, epfd, events_addr, max_events, end, mask_addr, sigset_bytes);
}

}  // namespace ward::syscalls
