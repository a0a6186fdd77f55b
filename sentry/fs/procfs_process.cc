#include "sentry/fs/procfs_process.h"

#include <fmt/format.h>
#include <sched.h>
#include <signal.h>

#include <chrono>
#include <optional>
#include <vector>

#include "sentry/fs/procfs_host.h"
#include "sentry/fs/procfs_memory.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fs_context.h"

namespace ward::vfs {
namespace {

// Linux's USER_HZ: the clock ticks per second of every time in stat.
constexpr int64_t kClockTicksPerSecond = 100;

// Linux's PF_RANDOMIZE task flag: the address space layout is randomised,
// as ward's loader always does.
constexpr uint64_t kPfRandomize = 0x00400000;

// The old signal fields of stat hold signals 1 to 31 only.
constexpr uint64_t kStatSignalBits = 0x7fffffff;

// The handler values of SIG_DFL and SIG_IGN in a guest sigaction.
constexpr uint64_t kDefaultHandler = 0;
constexpr uint64_t kIgnoreHandler = 1;

// A resource's name and unit in the limits table. The two priority limits
// have no unit.
struct LimitName {
  const char* name;
  const char* unit;
};
constexpr std::array<LimitName, RLIM_NLIMITS> kLimitNames = {{
    {"Max cpu time", "seconds"},
    {"Max file size", "bytes"},
    {"Max data size", "bytes"},
    {"Max stack size", "bytes"},
    {"Max core file size", "bytes"},
    {"Max resident set", "bytes"},
    {"Max processes", "processes"},
    {"Max open files", "files"},
    {"Max locked memory", "bytes"},
    {"Max address space", "bytes"},
    {"Max file locks", "locks"},
    {"Max pending signals", "signals"},
    {"Max msgqueue size", "bytes"},
    {"Max nice priority", nullptr},
    {"Max realtime priority", nullptr},
    {"Max realtime timeout", "us"},
}};

std::string limit_value(rlim_t value) {
  return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
}

// Linux's ptrace_may_access in PTRACE_MODE_READ_FSCREDS mode, which
// guards the addresses in stat: the caller's fsuid and fsgid must match
// all of the target's real, effective and saved ids, unless the caller
// is root (CAP_SYS_PTRACE).
bool may_read_process(const kernel::Credentials& caller, const kernel::Credentials& target) {
  if (caller.fs_uid == 0) {
    return true;
  }
  const bool same_user = caller.fs_uid == target.real_uid &&
                         caller.fs_uid == target.effective_uid && caller.fs_uid == target.saved_uid;
  const bool same_group = caller.fs_gid == target.real_gid &&
                          caller.fs_gid == target.effective_gid &&
                          caller.fs_gid == target.saved_gid;
  return same_user && same_group;
}

// The state letter of stat. The reader itself is running.
//
// NOTE: the scheduler keeps no task states, so another task's state comes
// from its host thread (`host_thread`): R while it runs guest code, and S
// while it is in the sentry. A task in the sentry that is ready to run
// shows S where Linux shows R, and stopped and zombie tasks do not exist yet.
char task_state(const Caller& caller, const kernel::Task& task,
                const std::optional<HostStat>& host_thread) {
  if (&task == caller.task) {
    return 'R';
  }
  return host_thread && host_thread->state == 'R' ? 'R' : 'S';
}

std::optional<HostStat> host_thread_stat(kernel::Task& task) {
  if (!task.has_context()) {
    return std::nullopt;
  }
  auto stat =
      read_host_thread_stat(task.mm().address_space().host_pid(), task.context().host_tid());
  return stat.ok() ? std::optional<HostStat>(*stat) : std::nullopt;
}

uint64_t ticks_since(kernel::TimePoint start, kernel::TimePoint now) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start).count();
  constexpr int64_t kNanosecondsPerTick = 1'000'000'000 / kClockTicksPerSecond;
  return elapsed > 0 ? static_cast<uint64_t>(elapsed / kNanosecondsPerTick) : 0;
}

}  // namespace

char task_state_letter(const Caller& caller, kernel::Task& task) {
  return task_state(caller, task, host_thread_stat(task));
}

bool task_is_running(const Caller& caller, kernel::Task& task) {
  return task_state_letter(caller, task) == 'R';
}

std::string format_stat(const ProcStat& s) {
  std::string text = fmt::format("{} ({}) {} {} {} {} {} {} {} ", s.pid, s.comm, s.state, s.ppid,
                                 s.pgrp, s.session, s.tty_nr, s.tpgid, s.flags);
  text += fmt::format("{} {} {} {} {} {} {} {} {} {} {} {} {} ", s.minflt, s.cminflt, s.majflt,
                      s.cmajflt, s.utime, s.stime, s.cutime, s.cstime, s.priority, s.nice,
                      s.num_threads, s.itrealvalue, s.starttime);
  text += fmt::format("{} {} {} {} {} {} {} {} ", s.vsize, s.rss, s.rsslim, s.startcode, s.endcode,
                      s.startstack, s.kstkesp, s.kstkeip);
  text += fmt::format("{} {} {} {} {} {} {} {} {} ", s.signal, s.blocked, s.sigignore, s.sigcatch,
                      s.wchan, s.nswap, s.cnswap, s.exit_signal, s.processor);
  text += fmt::format("{} {} {} {} {} ", s.rt_priority, s.policy, s.delayacct_blkio_ticks,
                      s.guest_time, s.cguest_time);
  text += fmt::format("{} {} {} {} {} {} {} {}\n", s.start_data, s.end_data, s.start_brk,
                      s.arg_start, s.arg_end, s.env_start, s.env_end, s.exit_code);
  return text;
}

std::string format_statm(const ProcStatm& statm) {
  return fmt::format("{} {} {} {} 0 {} 0\n", statm.size_pages, statm.resident_pages,
                     statm.shared_pages, statm.text_pages, statm.data_pages);
}

std::string format_limits(const std::array<rlimit, RLIM_NLIMITS>& limits) {
  std::string text =
      fmt::format("{:<25} {:<20} {:<20} {:<10}\n", "Limit", "Soft Limit", "Hard Limit", "Units");
  for (size_t i = 0; i < limits.size(); ++i) {
    text += fmt::format("{:<25} {:<20} {:<20} ", kLimitNames[i].name,
                        limit_value(limits[i].rlim_cur), limit_value(limits[i].rlim_max));
    if (kLimitNames[i].unit != nullptr) {
      text += fmt::format("{:<10}", kLimitNames[i].unit);
    }
    text += '\n';
  }
  return text;
}

// NOTE: some stat fields lack a source in ward yet. Controlling terminals
// do not exist (tty_nr 0, tpgid -1). The children's totals (cutime,
// cstime, cminflt, cmajflt) stay 0, and the host's counts restart at
// execve, which gives the guest a new stub process. A thread shows its
// process's start time. The loader records neither the code and data
// segments nor the initial stack pointer, so startcode, endcode,
// startstack, start_data and end_data read 0.
Result<std::string> stat_text(const Caller& caller, kernel::Task& task, bool whole_process) {
  kernel::ThreadGroup& group = task.thread_group();
  mm::MemoryManager& mm = task.mm();
  const bool is_thread_leader = task.tid() == task.pid();
  const pid_t host_pid = mm.address_space().host_pid();
  const bool permitted = may_read_process(caller.creds, task.creds());

  std::optional<HostStat> host_thread;
  if (task.has_context()) {
    host_thread = TRY(read_host_thread_stat(host_pid, task.context().host_tid()));
  }

  ProcStat stat;
  stat.pid = whole_process ? task.pid() : task.tid();
  stat.comm = task.comm();
  stat.state = task_state(caller, task, host_thread);
  stat.ppid = group.parent() != nullptr ? group.parent()->tgid() : 0;
  stat.pgrp = group.pgid();
  stat.session = group.sid();
  stat.flags = kPfRandomize;

  // CPU times and fault counts are the host's: the whole stub process,
  // exited threads included, for a process, and the host thread for a
  // thread.
  if (host_thread) {
    stat.processor = host_thread->processor;
  }
  const HostStat host =
      whole_process || !host_thread ? TRY(read_host_process_stat(host_pid)) : *host_thread;
  stat.minflt = host.minor_faults;
  stat.majflt = host.major_faults;
  stat.utime = host.utime_ticks;
  stat.stime = host.stime_ticks;

  // Linux's task_prio: 20 + nice for the fair policies, and -1 minus the
  // real-time priority for SCHED_FIFO and SCHED_RR.
  const kernel::SchedAttributes& sched = task.attributes().sched;
  stat.nice = sched.nice;
  stat.policy = static_cast<uint64_t>(sched.policy);
  stat.rt_priority = sched.rt_priority;
  const bool real_time = sched.policy == SCHED_FIFO || sched.policy == SCHED_RR;
  stat.priority = real_time ? -1 - static_cast<int64_t>(sched.rt_priority) : 20 + sched.nice;
  stat.num_threads = static_cast<int64_t>(group.tasks().size());
  stat.starttime = ticks_since(task.kernel().boot_time(), group.start_time());

  const std::vector<mm::Vma> vmas = mm.vmas();
  const std::vector<HostSpecialMapping> special = TRY(host_special_mappings(task));
  const MemoryCounts counts = count_memory(vmas, special);
  stat.vsize = counts.total_pages * kPageSize;
  stat.rss = TRY(read_host_statm(host_pid)).resident_pages;
  stat.rsslim = group.limit(RLIMIT_RSS).rlim_cur;

  // The sentry queues no signals, so none is ever pending.
  stat.blocked = task.signal_mask() & kStatSignalBits;
  const kernel::SignalHandlers& handlers = group.signal_handlers();
  for (int signal = 1; signal <= kernel::kSignalCount; ++signal) {
    const uint64_t handler = handlers[static_cast<size_t>(signal - 1)].handler;
    if (handler == kIgnoreHandler) {
      stat.sigignore |= kernel::signal_bit(signal);
    } else if (handler != kDefaultHandler) {
      stat.sigcatch |= kernel::signal_bit(signal);
    }
  }
  stat.sigignore &= kStatSignalBits;
  stat.sigcatch &= kStatSignalBits;
  if (permitted && (!whole_process || group.tasks().size() < 2)) {
    stat.wchan = stat.state == 'R' ? 0 : 1;
  }

  // A thread's exit signal is -1.
  stat.exit_signal = whole_process || is_thread_leader ? group.exit_signal() : -1;

  // Linux hides the addresses from readers without ptrace access, and shows
  // 1 for the code range.
  if (!permitted) {
    stat.startcode = 1;
    stat.endcode = 1;
    return format_stat(stat);
  }
  const auto& image = mm.image_info();
  stat.start_brk = heap_start(vmas, mm.brk()).value();
  stat.arg_start = image.arg_start.value();
  stat.arg_end = image.arg_end.value();
  stat.env_start = image.env_start.value();
  stat.env_end = image.env_end.value();
  return format_stat(stat);
}

Result<std::string> statm_text(kernel::Task& task) {
  const std::vector<mm::Vma> vmas = task.mm().vmas();
  const std::vector<HostSpecialMapping> special = TRY(host_special_mappings(task));
  const MemoryCounts counts = count_memory(vmas, special);
  const HostStatm host = TRY(read_host_statm(task.mm().address_space().host_pid()));

  // NOTE: text, the pages of the code segment, reads 0 because the loader
  // does not record that segment.
  return format_statm(ProcStatm{.size_pages = counts.total_pages,
                                .resident_pages = host.resident_pages,
                                .shared_pages = host.shared_pages,
                                .text_pages = 0,
                                .data_pages = counts.data_pages});
}

std::string limits_text(kernel::Task& task) { return format_limits(task.thread_group().limits()); }

}  // namespace ward::vfs
