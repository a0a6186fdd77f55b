#include "sentry/kernel/cpu_usage.h"

#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <string_view>

#include "sentry/kernel/task.h"
#include "sentry/mm/memory_manager.h"
#include "ward/unique_fd.h"

namespace ward::kernel {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr int64_t kNanosecondsPerMicrosecond = 1'000;

// A common tick length (HZ=250), for a host whose coarse clocks do not
// report theirs.
constexpr int64_t kDefaultTickNs = 4'000'000;

// Large enough for a /proc stat, schedstat or status file.
constexpr size_t kProcFileMaxBytes = 4096;

// Reads a small host /proc file; nullopt when it cannot be read, as when
// the thread has just died.
std::optional<std::string> read_proc_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return std::nullopt;
  }
  std::string text(kProcFileMaxBytes, '\0');
  ssize_t length = ::read(fd.get(), text.data(), text.size());
  if (length <= 0) {
    return std::nullopt;
  }
  text.resize(static_cast<size_t>(length));
  return text;
}

std::string host_thread_path(pid_t host_pid, pid_t host_tid, std::string_view file) {
  return "/proc/" + std::to_string(host_pid) + "/task/" + std::to_string(host_tid) + "/" +
         std::string(file);
}

// Parses the decimal number at the start of `text`, skipping blanks first.
std::optional<int64_t> parse_number(std::string_view text) {
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    return std::nullopt;
  }
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data() + start, text.data() + text.size(), value);
  if (error != std::errc()) {
    return std::nullopt;
  }
  return value;
}

// The number after `key` in a "Key:  value" file such as /proc/pid/status.
std::optional<int64_t> find_status_value(std::string_view text, std::string_view key) {
  size_t at = text.find(key);
  while (at != std::string_view::npos && at != 0 && text[at - 1] != '\n') {
    at = text.find(key, at + 1);
  }
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  return parse_number(text.substr(at + key.size()));
}

std::optional<HostThreadSample> read_host_thread(pid_t host_pid, pid_t host_tid) {
  auto schedstat = read_proc_file(host_thread_path(host_pid, host_tid, "schedstat"));
  auto stat = read_proc_file(host_thread_path(host_pid, host_tid, "stat"));
  if (!schedstat || !stat) {
    return std::nullopt;
  }
  HostThreadSample sample;
  sample.runtime_ns = parse_number(*schedstat).value_or(0);

  // The command name in parentheses may hold blanks, so the fields are
  // counted from its closing parenthesis: field 3 (state) follows it.
  size_t after_name = stat->rfind(')');
  if (after_name == std::string::npos) {
    return std::nullopt;
  }
  std::array<int64_t, 16> fields{};  // fields 3 to 15 of proc_pid_stat(5), by number
  std::string_view rest = std::string_view(*stat).substr(after_name + 1);
  for (size_t number = 3; number < fields.size(); ++number) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
      return std::nullopt;
    }
    rest.remove_prefix(start);
    fields[number] = parse_number(rest).value_or(0);
    size_t end = rest.find(' ');
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  sample.minor_faults = fields[10];
  sample.major_faults = fields[12];
  sample.user_ticks = fields[14];
  sample.system_ticks = fields[15];
  return sample;
}

struct ContextSwitches {
  int64_t voluntary = 0;
  int64_t involuntary = 0;
};

ContextSwitches read_host_switches(pid_t host_pid, pid_t host_tid) {
  auto status = read_proc_file(host_thread_path(host_pid, host_tid, "status"));
  if (!status) {
    return {};
  }
  return ContextSwitches{
      .voluntary = find_status_value(*status, "voluntary_ctxt_switches:").value_or(0),
      .involuntary = find_status_value(*status, "nonvoluntary_ctxt_switches:").value_or(0),
  };
}

// The peak resident set of a stub (VmHWM), in KiB: Linux's hiwater_rss of
// the address space, which the stub's guest memory is.
int64_t read_host_max_rss_kb(pid_t host_pid) {
  auto status = read_proc_file("/proc/" + std::to_string(host_pid) + "/status");
  if (!status) {
    return 0;
  }
  return find_status_value(*status, "VmHWM:").value_or(0);
}

// Splits `runtime_ns` into user and system time in the ratio of the tick
// counts, as Linux's cputime_adjust does: all user time until a system
// tick is seen, and neither part ever below what `previous` reported.
CpuTimes split_runtime(int64_t runtime_ns, int64_t user_ticks, int64_t system_ticks,
                       CpuTimes& previous) {
  if (previous.user_ns + previous.system_ns >= runtime_ns) {
    return previous;
  }
  int64_t system_ns = 0;
  if (system_ticks != 0 && user_ticks == 0) {
    system_ns = runtime_ns;
  } else if (system_ticks != 0) {
    __int128 scaled = static_cast<__int128>(system_ticks) * runtime_ns / (system_ticks + user_ticks);
    system_ns = static_cast<int64_t>(std::min<__int128>(scaled, runtime_ns));
  }
  system_ns = std::max(system_ns, previous.system_ns);
  int64_t user_ns = runtime_ns - system_ns;
  if (user_ns < previous.user_ns) {
    user_ns = previous.user_ns;
    system_ns = runtime_ns - user_ns;
  }
  previous = CpuTimes{.user_ns = user_ns, .system_ns = system_ns};
  return previous;
}

void add_times(CpuTimes& total, const CpuTimes& more) {
  total.user_ns += more.user_ns;
  total.system_ns += more.system_ns;
}

void add_counters(UsageCounters& total, const UsageCounters& more) {
  total.minor_faults += more.minor_faults;
  total.major_faults += more.major_faults;
  total.voluntary_switches += more.voluntary_switches;
  total.involuntary_switches += more.involuntary_switches;
  total.max_rss_kb = std::max(total.max_rss_kb, more.max_rss_kb);
}

bool runs_on_host(Task& task) { return task.has_context() && task.mm_ref() != nullptr; }

// Reads `task`'s current host thread into its account and returns the
// thread's user and system split. A task moved to a new host thread
// without account_exec keeps what its old thread had used when last read.
CpuTimes sample_host_thread(Task& task, TaskAccounts::Account& account) {
  if (!runs_on_host(task)) {
    return account.last_split;
  }
  pid_t host_pid = task.mm().address_space().host_pid();
  pid_t host_tid = task.context().host_tid();
  if (account.host_pid != host_pid || account.host_tid != host_tid) {
    if (account.host_tid != 0) {
      add_times(account.carried_time, account.last_split);
      account.carried_counters.minor_faults += account.last_sample.minor_faults;
      account.carried_counters.major_faults += account.last_sample.major_faults;
    }
    account.host_pid = host_pid;
    account.host_tid = host_tid;
    account.last_sample = HostThreadSample{};
    account.last_split = CpuTimes{};
  }
  if (auto sample = read_host_thread(host_pid, host_tid)) {
    account.last_sample = *sample;
    split_runtime(sample->runtime_ns, sample->user_ticks, sample->system_ticks, account.last_split);
  }
  return account.last_split;
}

// The counters of `task`'s current host thread and its earlier ones; the
// thread's own peak resident set is that of its address space.
UsageCounters task_counters(Task& task, TaskAccounts::Account& account) {
  UsageCounters counters = account.carried_counters;
  if (!runs_on_host(task) || account.host_tid == 0) {
    return counters;
  }
  counters.minor_faults += account.last_sample.minor_faults;
  counters.major_faults += account.last_sample.major_faults;
  ContextSwitches switches = read_host_switches(account.host_pid, account.host_tid);
  counters.voluntary_switches += switches.voluntary;
  counters.involuntary_switches += switches.involuntary;
  counters.max_rss_kb = std::max(counters.max_rss_kb, read_host_max_rss_kb(account.host_pid));
  return counters;
}

struct timeval to_timeval(int64_t nanoseconds) {
  return timeval{.tv_sec = nanoseconds / kNanosecondsPerSecond,
                 .tv_usec = (nanoseconds % kNanosecondsPerSecond) / kNanosecondsPerMicrosecond};
}

}  // namespace

int64_t cpu_clock_value(const CpuTimes& times, CpuClockType type) {
  return type == CpuClockType::kVirtual ? times.user_ns : times.user_ns + times.system_ns;
}

CpuTimes task_cpu_times(Task& task) {
  TaskAccounts::Account& account = task.thread_group().task_accounts().get(task.tid());
  CpuTimes times = sample_host_thread(task, account);
  add_times(times, account.carried_time);
  return times;
}

CpuTimes process_cpu_times(ThreadGroup& group) {
  CpuTimes times = group.exited_tasks_time();
  for (Task* task : group.tasks()) {
    add_times(times, task_cpu_times(*task));
  }
  return times;
}

Usage thread_usage(Task& task) {
  TaskAccounts::Account& account = task.thread_group().task_accounts().get(task.tid());
  Usage usage;
  usage.time = task_cpu_times(task);
  usage.counters = task_counters(task, account);
  // Linux reports the larger of the address space's peak and the peak of
  // the images the process ran before execve.
  usage.counters.max_rss_kb =
      std::max(usage.counters.max_rss_kb, task.thread_group().exited_tasks_usage().max_rss_kb);
  return usage;
}

Usage process_usage(ThreadGroup& group) {
  Usage usage{.time = group.exited_tasks_time(), .counters = group.exited_tasks_usage()};
  TaskAccounts& accounts = group.task_accounts();
  for (Task* task : group.tasks()) {
    add_times(usage.time, task_cpu_times(*task));
    add_counters(usage.counters, task_counters(*task, accounts.get(task->tid())));
  }
  return usage;
}

Usage children_usage(const ThreadGroup& group) {
  return Usage{.time = group.reaped_children_time(), .counters = group.reaped_children_usage()};
}

Usage process_and_children_usage(ThreadGroup& group) {
  Usage usage = process_usage(group);
  Usage children = children_usage(group);
  add_times(usage.time, children.time);
  add_counters(usage.counters, children.counters);
  return usage;
}

struct rusage to_rusage(const Usage& usage) {
  struct rusage result {};
  result.ru_utime = to_timeval(usage.time.user_ns);
  result.ru_stime = to_timeval(usage.time.system_ns);
  result.ru_maxrss = usage.counters.max_rss_kb;
  result.ru_minflt = usage.counters.minor_faults;
  result.ru_majflt = usage.counters.major_faults;
  result.ru_nvcsw = usage.counters.voluntary_switches;
  result.ru_nivcsw = usage.counters.involuntary_switches;
  // NOTE: ru_inblock and ru_oublock stay zero, because the sentry does the
  // guest's file I/O and the stub's block I/O counts do not include it.
  return result;
}

struct rusage child_rusage(ThreadGroup& child) {
  return to_rusage(process_and_children_usage(child));
}

void account_task_exit(Task& task) {
  ThreadGroup& group = task.thread_group();
  TaskAccounts& accounts = group.task_accounts();
  TaskAccounts::Account& account = accounts.get(task.tid());

  add_times(group.exited_tasks_time(), task_cpu_times(task));
  add_counters(group.exited_tasks_usage(), task_counters(task, account));
  accounts.erase(task.tid());
}

void account_exec(Task& task, pid_t tid_before_exec) {
  ThreadGroup& group = task.thread_group();
  TaskAccounts& accounts = group.task_accounts();
  if (tid_before_exec != task.tid()) {
    accounts.rename(tid_before_exec, task.tid());
  }
  TaskAccounts::Account& account = accounts.get(task.tid());

  CpuTimes old_thread_time = sample_host_thread(task, account);
  UsageCounters old_thread_counters = task_counters(task, account);
  old_thread_counters.minor_faults -= account.carried_counters.minor_faults;
  old_thread_counters.major_faults -= account.carried_counters.major_faults;
  old_thread_counters.voluntary_switches -= account.carried_counters.voluntary_switches;
  old_thread_counters.involuntary_switches -= account.carried_counters.involuntary_switches;

  // The process keeps the peak of the image it leaves, as Linux's exec
  // does with the old address space's hiwater_rss.
  UsageCounters& exited = group.exited_tasks_usage();
  exited.max_rss_kb = std::max(exited.max_rss_kb, old_thread_counters.max_rss_kb);
  old_thread_counters.max_rss_kb = 0;

  add_times(account.carried_time, old_thread_time);
  add_counters(account.carried_counters, old_thread_counters);
  account.host_pid = 0;
  account.host_tid = 0;
  account.last_sample = HostThreadSample{};
  account.last_split = CpuTimes{};

  // The other threads are gone by now.
  accounts.erase_unless([&group](pid_t tid) {
    return std::any_of(group.tasks().begin(), group.tasks().end(),
                       [tid](const Task* member) { return member->tid() == tid; });
  });
}

void account_reaped_child(ThreadGroup& parent, const ThreadGroup& child) {
  add_times(parent.reaped_children_time(), child.exited_tasks_time());
  add_times(parent.reaped_children_time(), child.reaped_children_time());
  add_counters(parent.reaped_children_usage(), child.exited_tasks_usage());
  add_counters(parent.reaped_children_usage(), child.reaped_children_usage());
}

int64_t host_tick_ns() {
  // Linux reports the tick as the resolution of its coarse clocks
  // (KTIME_LOW_RES).
  static const int64_t tick_ns = [] {
    timespec resolution{};
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &resolution) != 0 || resolution.tv_sec != 0 ||
        resolution.tv_nsec <= 0) {
      return kDefaultTickNs;
    }
    return static_cast<int64_t>(resolution.tv_nsec);
  }();
  return tick_ns;
}

int host_cpu_count() {
  static const int count = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
      return static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    }
    return std::max(1, CPU_COUNT(&set));
  }();
  return count;
}

}  // namespace ward::kernel
