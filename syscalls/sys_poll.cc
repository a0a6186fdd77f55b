// poll, ppoll, select and pselect6: waiting until one of many files is
// ready, as Linux's fs/select.c does. Each pass calls every file's
// readiness() and watches every file's wait queue with one Waiter. When
// nothing is ready, the task parks until a queue is notified, the deadline
// passes or a signal arrives, and then polls every file again.
#include <poll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "syscalls/args.h"
#include "syscalls/handlers_poll.h"

namespace ward::syscalls {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr int64_t kNanosecondsPerMillisecond = 1'000'000;
constexpr int64_t kNanosecondsPerMicrosecond = 1'000;
constexpr int64_t kMillisecondsPerSecond = 1'000;
constexpr int64_t kMicrosecondsPerSecond = 1'000'000;

constexpr uint64_t kSigsetBytes = sizeof(kernel::SignalSet);

// pollfd entries move between guest and sentry memory a page's worth at a
// time, so that a bad address fails before the sentry allocates for the
// whole array.
constexpr size_t kPollfdsPerCopy = kPageSize / sizeof(pollfd);

// The events that put an fd into each of select's sets (fs/select.c), in
// the order of select's arguments: read, write, except. POLLNVAL, for an
// fd closed during the wait or opened with O_PATH, is in all three.
constexpr size_t kSelectSetCount = 3;
constexpr std::array<uint32_t, kSelectSetCount> kSelectSetEvents = {
    POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR | POLLNVAL,
    POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR | POLLNVAL,
    POLLPRI | POLLNVAL,
};
constexpr size_t kExceptSet = 2;

// An fd_set is an array of 64-bit words (Linux's unsigned long).
constexpr int kBitsPerWord = 64;
using FdSet = std::vector<uint64_t>;
using FdSets = std::array<FdSet, kSelectSetCount>;

// Linux's fd table starts with BITS_PER_LONG slots (NR_OPEN_DEFAULT).
constexpr int64_t kInitialFdTableSlots = 64;

// ---------------------------------------------------------------------------
// Timeouts

// The end of a wait is kept as Linux keeps it, as a CLOCK_MONOTONIC
// timespec. {0, 0} is a zero timeout, which polls once and is never
// written back.
bool is_zero(const timespec& value) { return value.tv_sec == 0 && value.tv_nsec == 0; }

timespec monotonic_timespec() {
  const int64_t now_ns = kernel::monotonic_now().time_since_epoch().count();
  return timespec{.tv_sec = now_ns / kNanosecondsPerSecond,
                  .tv_nsec = now_ns % kNanosecondsPerSecond};
}

// Turns a relative timeout into the end of the wait, as
// poll_select_set_timeout does: EINVAL for negative seconds or nanoseconds
// outside [0, 1 s). An end past the range of time_t saturates.
Result<timespec> end_time_after(int64_t seconds, int64_t nanoseconds) {
  if (seconds < 0 || nanoseconds < 0 || nanoseconds >= kNanosecondsPerSecond) {
    return Errno{EINVAL};
  }
  if (seconds == 0 && nanoseconds == 0) {
    return timespec{};
  }
  const timespec now = monotonic_timespec();
  timespec end{.tv_sec = now.tv_sec, .tv_nsec = now.tv_nsec + nanoseconds};
  if (end.tv_nsec >= kNanosecondsPerSecond) {
    end.tv_sec += 1;
    end.tv_nsec -= kNanosecondsPerSecond;
  }
  if (end.tv_sec > std::numeric_limits<time_t>::max() - seconds) {
    return timespec{.tv_sec = std::numeric_limits<time_t>::max(), .tv_nsec = 0};
  }
  end.tv_sec += seconds;
  return end;
}

// Reads a timespec timeout when `addr` is not null and returns the end of
// the wait it sets.
Result<std::optional<timespec>> copy_in_timespec_end(kernel::Task& task, GuestAddr addr) {
  if (addr.is_null()) {
    return std::optional<timespec>();
  }
  const timespec timeout = TRY(task.copy_in<timespec>(addr));
  const timespec end = TRY(end_time_after(timeout.tv_sec, timeout.tv_nsec));
  return std::optional(end);
}

// The Waiter deadline for `end`, or nullopt when `end` lies past what the
// sentry's clock holds (about 292 years of uptime), which no wait reaches.
std::optional<kernel::TimePoint> deadline_of(const timespec& end) {
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / kNanosecondsPerSecond - 1;
  if (end.tv_sec > kMaxSeconds) {
    return std::nullopt;
  }
  return kernel::TimePoint(kernel::Duration(end.tv_sec * kNanosecondsPerSecond + end.tv_nsec));
}

// The time left until `end`, zero once it has passed.
timespec time_left(const timespec& end) {
  const timespec now = monotonic_timespec();
  timespec left{.tv_sec = end.tv_sec - now.tv_sec, .tv_nsec = end.tv_nsec - now.tv_nsec};
  if (left.tv_nsec < 0) {
    left.tv_sec -= 1;
    left.tv_nsec += kNanosecondsPerSecond;
  }
  if (left.tv_sec < 0) {
    return timespec{};
  }
  return left;
}

// ---------------------------------------------------------------------------
// Signal masks and the end of a wait

// Installs the temporary signal mask of ppoll and pselect6, as
// set_user_sigmask does, and returns the mask to restore. Without
// `mask_addr` it returns nullopt and does not check the size.
Result<std::optional<kernel::SignalSet>> set_temporary_mask(kernel::Task& task, GuestAddr mask_addr,
                                                            uint64_t sigset_bytes) {
  if (mask_addr.is_null()) {
    return std::optional<kernel::SignalSet>();
  }
  if (sigset_bytes != kSigsetBytes) {
    return Errno{EINVAL};
  }
  const kernel::SignalSet mask = TRY(task.copy_in<kernel::SignalSet>(mask_addr));
  const kernel::SignalSet old_mask = task.signal_mask();
  task.set_signal_mask(mask);
  return std::optional(old_mask);
}

enum class TimeoutFormat { kTimeval, kTimespec };

// Ends ppoll, select and pselect6 as poll_select_finish does. The caller's
// signal mask comes back now, or after the signal's handler when a signal
// interrupted the wait. The time left is written back to the timeout,
// except for a zero timeout.
Result<int64_t> finish_wait(kernel::Task& task, Result<int64_t> result,
                            std::optional<kernel::SignalSet> old_mask, GuestAddr timeout_addr,
                            const std::optional<timespec>& end, TimeoutFormat format) {
  const bool interrupted = !result.ok() && result.error().value == ERESTARTNOHAND;
  if (old_mask) {
    if (interrupted) {
      task.set_saved_mask(*old_mask);
    } else {
      task.set_signal_mask(*old_mask);
    }
  }

  // NOTE: Linux leaves the timeout unchanged under the STICKY_TIMEOUTS
  // personality. ward has no personality(2), so that flag is never set.
  if (!end || is_zero(*end)) {
    return result;
  }
  const timespec left = time_left(*end);
  Result<void> stored = ok();
  if (format == TimeoutFormat::kTimeval) {
    const timeval left_timeval{.tv_sec = left.tv_sec,
                               .tv_usec = left.tv_nsec / kNanosecondsPerMicrosecond};
    stored = task.copy_out(timeout_addr, left_timeval);
  } else {
    stored = task.copy_out(timeout_addr, left);
  }
  // A timeout in read-only memory is no error, but without the time left
  // the call cannot restart, so an interrupted one fails with EINTR.
  if (!stored.ok() && interrupted) {
    return Errno{EINTR};
  }
  return result;
}

// ---------------------------------------------------------------------------
// Polling files

// The events of `mask` that the file at `fd` has now, or POLLNVAL when no
// file is open there. An O_PATH file counts as none, as Linux's fdget
// treats it.
// With `waiter`, the file's wait queue is watched for `mask`, and
// `watched` keeps the file, so that its queue outlives the wait.
uint32_t poll_one(kernel::Task& task, int fd, uint32_t mask, kernel::Waiter* waiter,
                  std::vector<vfs::FileRef>& watched) {
  auto file = task.fdtable().get(fd);
  if (!file.ok() || (*file)->path_only()) {
    return POLLNVAL;
  }
  if (waiter != nullptr) {
    kernel::WaitQueue* queue = (*file)->wait_queue();
    if (queue != nullptr) {
      waiter->watch(*queue, mask);
      watched.push_back(*file);
    }
  }
  return (*file)->readiness(mask) & mask;
}

// Runs `poll_pass(waiter, watched)`, which polls every file once and
// returns how many are ready, until one is, the wait ends or a signal
// arrives: the loop of Linux's do_poll and do_select. `end` is nullopt for
// no timeout. Returns the count, 0 when the time ran out, or ERESTARTNOHAND
// for a signal or an exit request.
template <typename PollPass>
Result<int64_t> wait_until_ready(kernel::Task& task, const std::optional<timespec>& end,
                                 PollPass poll_pass) {
  bool timed_out = end && is_zero(*end);
  std::optional<kernel::TimePoint> deadline;
  if (end && !timed_out) {
    deadline = deadline_of(*end);
  }

  // Each round parks at most once, until the deadline. A notification
  // without a ready file only starts another round.
  for (;;) {
    // `watched` is declared first so that the files' queues outlive the
    // waiter registered on them.
    std::vector<vfs::FileRef> watched;
    kernel::Waiter waiter(task.scheduler());
    const int64_t ready = poll_pass(timed_out ? nullptr : &waiter, watched);
    if (ready > 0) {
      return ready;
    }
    // With nothing ready, a pending signal wins, even over a timeout.
    if (task.has_deliverable_signal() || task.exit_requested()) {
      return Errno{ERESTARTNOHAND};
    }
    if (timed_out) {
      return 0;
    }

    if (deadline) {
      waiter.set_deadline(*deadline);
    }
    switch (task.block(waiter)) {
      case kernel::WakeReason::kInterrupted:
        return Errno{ERESTARTNOHAND};
      case kernel::WakeReason::kTimedOut:
        timed_out = true;  // Linux polls once more after the timeout
        break;
      case kernel::WakeReason::kNotified:
        break;
    }
  }
}

// ---------------------------------------------------------------------------
// poll and ppoll

// One pass over the pollfd entries, as do_pollfd does for each: a negative
// fd is skipped with revents 0, and POLLERR and POLLHUP are reported even
// when not requested. Files are watched only until one is ready.
int64_t poll_pass(kernel::Task& task, std::span<pollfd> entries, kernel::Waiter* waiter,
                  std::vector<vfs::FileRef>& watched) {
  int64_t ready = 0;
  for (pollfd& entry : entries) {
    entry.revents = 0;
    if (entry.fd < 0) {
      continue;
    }
    const uint32_t mask = static_cast<uint16_t>(entry.events) | POLLERR | POLLHUP;
    entry.revents = static_cast<int16_t>(
        poll_one(task, entry.fd, mask, ready == 0 ? waiter : nullptr, watched));
    if (entry.revents != 0) {
      ++ready;
    }
  }
  return ready;
}

Result<std::vector<pollfd>> copy_in_pollfds(kernel::Task& task, GuestAddr addr, uint32_t count) {
  std::vector<pollfd> entries;
  for (size_t done = 0; done < count;) {
    const size_t chunk = std::min<size_t>(count - done, kPollfdsPerCopy);
    entries.resize(done + chunk);
    TRY(task.copy_in(addr + done * sizeof(pollfd),
                     std::as_writable_bytes(std::span(entries).subspan(done, chunk))));
    done += chunk;
  }
  return entries;
}

// Stores each entry's revents in the guest's array, one field at a time
// as Linux does, so that fd and events stay as the guest left them. A fault
// stops the copy there.
Result<void> copy_out_revents(kernel::Task& task, GuestAddr addr, std::span<const pollfd> entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    TRY(task.copy_out(addr + i * sizeof(pollfd) + offsetof(pollfd, revents), entries[i].revents));
  }
  return ok();
}

// Polls the `count` pollfd entries at `addr` until one is ready or `end`
// passes, and stores their revents: Linux's do_sys_poll.
Result<int64_t> poll_guest_array(kernel::Task& task, GuestAddr addr, uint32_t count,
                                 const std::optional<timespec>& end) {
  if (count > task.thread_group().limit(RLIMIT_NOFILE).rlim_cur) {
    return Errno{EINVAL};
  }
  std::vector<pollfd> entries = TRY(copy_in_pollfds(task, addr, count));

  Result<int64_t> ready =
      wait_until_ready(task, end, [&](kernel::Waiter* waiter, std::vector<vfs::FileRef>& watched) {
        return poll_pass(task, entries, waiter, watched);
      });

  // revents are stored after an interrupted wait too, and a fault while
  // storing them wins over the count.
  TRY(copy_out_revents(task, addr, entries));
  return ready;
}

// poll's wait. A signal without a handler restarts it through
// restart_syscall with the same deadline, as do_restart_poll does. After a
// handler it fails with EINTR.
Result<int64_t> poll_with_restart(kernel::Task& task, GuestAddr addr, uint32_t count,
                                  std::optional<timespec> end) {
  Result<int64_t> ready = poll_guest_array(task, addr, count, end);
  if (ready.ok() || ready.error().value != ERESTARTNOHAND) {
    return ready;
  }
  task.set_restart_function([addr, count, end](kernel::Task& restarted) {
    return poll_with_restart(restarted, addr, count, end);
  });
  return Errno{ERESTART_RESTARTBLOCK};
}

// ---------------------------------------------------------------------------
// select and pselect6

bool has_fd(const FdSet& set, int fd) {
  return ((set[static_cast<size_t>(fd / kBitsPerWord)] >> (fd % kBitsPerWord)) & 1) != 0;
}

// The slots of Linux's fd table (fdt->max_fds), which bound select's nfds:
// BITS_PER_LONG at first, grown to the next power of two above an fd
// opened beyond them.
// NOTE: Linux never shrinks the table, so a process that closed its
// highest fds can have a larger bound there than the one computed here.
int64_t fd_table_slots(const vfs::FdTable& table) {
  const std::vector<int> open_fds = table.open_fds();
  int64_t slots = kInitialFdTableSlots;
  while (!open_fds.empty() && slots <= open_fds.back()) {
    slots *= 2;
  }
  return slots;
}

// How many fds select looks at: one past the highest fd below `count` in
// any set. EBADF when a set names an fd that is not open, which
// max_select_fd checks before any polling. An O_PATH fd counts as open.
Result<int> selected_fd_limit(kernel::Task& task, int count, const FdSets& requested) {
  int limit = 0;
  for (size_t word = 0; word < requested[0].size(); ++word) {
    uint64_t bits = requested[0][word] | requested[1][word] | requested[2][word];
    const int first_fd = static_cast<int>(word) * kBitsPerWord;
    if (count - first_fd < kBitsPerWord) {
      bits &= (uint64_t{1} << (count - first_fd)) - 1;  // bits at and past `count` are ignored
    }
    for (; bits != 0; bits &= bits - 1) {
      const int fd = first_fd + std::countr_zero(bits);
      if (!task.fdtable().get(fd).ok()) {
        return Errno{EBADF};
      }
      limit = fd + 1;
    }
  }
  return limit;
}

// One pass over the fds below `limit` in select's sets, as do_select makes:
// stores the ready ones in `ready` and returns how many set bits that
// made. Files are watched only until one is ready.
int64_t select_pass(kernel::Task& task, int limit, const FdSets& requested, FdSets& ready,
                    kernel::Waiter* waiter, std::vector<vfs::FileRef>& watched) {
  int64_t count = 0;
  for (FdSet& set : ready) {
    std::fill(set.begin(), set.end(), 0);
  }
  for (int fd = 0; fd < limit; ++fd) {
    const size_t word = static_cast<size_t>(fd / kBitsPerWord);
    if ((requested[0][word] | requested[1][word] | requested[2][word]) == 0) {
      fd += kBitsPerWord - 1 - fd % kBitsPerWord;  // skip the rest of an empty word
      continue;
    }
    // The except events are always asked for, as Linux's wait key has them.
    uint32_t mask = kSelectSetEvents[kExceptSet];
    bool selected = false;
    for (size_t set = 0; set < kSelectSetCount; ++set) {
      if (has_fd(requested[set], fd)) {
        mask |= kSelectSetEvents[set];
        selected = true;
      }
    }
    if (!selected) {
      continue;
    }

    const uint32_t events = poll_one(task, fd, mask, count == 0 ? waiter : nullptr, watched);
    for (size_t set = 0; set < kSelectSetCount; ++set) {
      if (has_fd(requested[set], fd) && (events & kSelectSetEvents[set]) != 0) {
        ready[set][word] |= uint64_t{1} << (fd % kBitsPerWord);
        ++count;
      }
    }
  }
  return count;
}

// select's work for nfds `count` and the sets at `set_addrs`, where a null
// address is an empty set: Linux's core_sys_select. The sets are written
// back only when the wait was not interrupted.
Result<int64_t> select_guest_sets(kernel::Task& task, int count,
                                  const std::array<GuestAddr, kSelectSetCount>& set_addrs,
                                  const std::optional<timespec>& end) {
  if (count < 0) {
    return Errno{EINVAL};
  }
  // Bits at and past the fd table's size are neither read nor written.
  count = static_cast<int>(std::min<int64_t>(count, fd_table_slots(task.fdtable())));
  const size_t words = static_cast<size_t>((count + kBitsPerWord - 1) / kBitsPerWord);

  FdSets requested;
  FdSets ready;
  for (size_t set = 0; set < kSelectSetCount; ++set) {
    requested[set].assign(words, 0);
    ready[set].assign(words, 0);
    if (!set_addrs[set].is_null()) {
      TRY(task.copy_in(set_addrs[set], std::as_writable_bytes(std::span(requested[set]))));
    }
  }
  const int limit = TRY(selected_fd_limit(task, count, requested));

  const int64_t found = TRY(
      wait_until_ready(task, end, [&](kernel::Waiter* waiter, std::vector<vfs::FileRef>& watched) {
        return select_pass(task, limit, requested, ready, waiter, watched);
      }));

  for (size_t set = 0; set < kSelectSetCount; ++set) {
    if (!set_addrs[set].is_null()) {
      TRY(task.copy_out(set_addrs[set], std::as_bytes(std::span(ready[set]))));
    }
  }
  return found;
}

// The sixth argument of pselect6 points to the signal mask's address and
// size, since x86_64 passes at most six arguments.
struct SigsetArgument {
  uint64_t mask_addr;
  uint64_t size_bytes;
};

}  // namespace

// poll(fds, nfds, timeout_ms): a negative timeout waits without end.
Result<int64_t> sys_poll(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr fds_addr = args.addr(0);
  const uint32_t count = args.u32(1);
  const int32_t timeout_ms = args.i32(2);

  std::optional<timespec> end;
  if (timeout_ms >= 0) {
    end = TRY(end_time_after(timeout_ms / kMillisecondsPerSecond,
                             (timeout_ms % kMillisecondsPerSecond) * kNanosecondsPerMillisecond));
  }
  return poll_with_restart(task, fds_addr, count, end);
}

// ppoll(fds, nfds, timeout, sigmask, sigsetsize): poll with a timespec
// timeout, which gets the time left, and a signal mask for the wait.
Result<int64_t> sys_ppoll(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr fds_addr = args.addr(0);
  const uint32_t count = args.u32(1);
  const GuestAddr timeout_addr = args.addr(2);
  const GuestAddr mask_addr = args.addr(3);
  const uint64_t sigset_bytes = args.u64(4);

  const std::optional<timespec> end = TRY(copy_in_timespec_end(task, timeout_addr));
  const std::optional<kernel::SignalSet> old_mask =
      TRY(set_temporary_mask(task, mask_addr, sigset_bytes));

  Result<int64_t> result = poll_guest_array(task, fds_addr, count, end);
  return finish_wait(task, result, old_mask, timeout_addr, end, TimeoutFormat::kTimespec);
}

// select(nfds, readfds, writefds, exceptfds, timeout): the timeval timeout
// gets the time left.
Result<int64_t> sys_select(kernel::Task& task, const SyscallArgs& args) {
  const int count = args.i32(0);
  const std::array<GuestAddr, kSelectSetCount> set_addrs = {args.addr(1), args.addr(2),
                                                            args.addr(3)};
  const GuestAddr timeout_addr = args.addr(4);

  std::optional<timespec> end;
  if (!timeout_addr.is_null()) {
    const timeval timeout = TRY(task.copy_in<timeval>(timeout_addr));
    // Whole seconds of tv_usec carry into tv_sec, with the wrap-around of
    // Linux's arithmetic. A negative tv_usec is EINVAL.
    const uint64_t carried_seconds =
        static_cast<uint64_t>(timeout.tv_usec / kMicrosecondsPerSecond);
    const auto seconds =
        static_cast<int64_t>(static_cast<uint64_t>(timeout.tv_sec) + carried_seconds);
    const int64_t nanoseconds =
        timeout.tv_usec % kMicrosecondsPerSecond * kNanosecondsPerMicrosecond;
    end = TRY(end_time_after(seconds, nanoseconds));
  }

  Result<int64_t> result = select_guest_sets(task, count, set_addrs, end);
  return finish_wait(task, result, std::nullopt, timeout_addr, end, TimeoutFormat::kTimeval);
}

// pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask_argument):
// select with a timespec timeout and a signal mask for the wait.
Result<int64_t> sys_pselect6(kernel::Task& task, const SyscallArgs& args) {
  const int count = args.i32(0);
  const std::array<GuestAddr, kSelectSetCount> set_addrs = {args.addr(1), args.addr(2),
                                                            args.addr(3)};
  const GuestAddr timeout_addr = args.addr(4);
  const GuestAddr sigset_argument_addr = args.addr(5);

  SigsetArgument sigset{};
  if (!sigset_argument_addr.is_null()) {
    sigset = TRY(task.copy_in<SigsetArgument>(sigset_argument_addr));
  }
  const std::optional<timespec> end = TRY(copy_in_timespec_end(task, timeout_addr));
  const std::optional<kernel::SignalSet> old_mask =
      TRY(set_temporary_mask(task, GuestAddr(sigset.mask_addr), sigset.size_bytes));

  Result<int64_t> result = select_guest_sets(task, count, set_addrs, end);
  return finish_wait(task, result, old_mask, timeout_addr, end, TimeoutFormat::kTimespec);
}

}  // namespace ward::syscalls
