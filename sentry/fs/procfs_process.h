// The /proc/<pid> and /proc/<pid>/task/<tid> files that describe the state
// of a process or thread: stat, statm and limits, in the formats
// of Linux's fs/proc/array.c and fs/proc/base.c. status has a file of its
// own (procfs_status.h).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>

#include "sentry/vfs/caller.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {

// The 52 fields of a stat line, named and ordered as in proc(5).
struct ProcStat {
  pid_t pid = 0;
  std::string comm;
  char state = 'R';
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  int tty_nr = 0;
  int tpgid = -1;  // the terminal's foreground process group; -1 without a terminal
  uint64_t flags = 0;
  uint64_t minflt = 0;
  uint64_t cminflt = 0;
  uint64_t majflt = 0;
  uint64_t cmajflt = 0;
  uint64_t utime = 0;  // clock ticks, as all times here
  uint64_t stime = 0;
  int64_t cutime = 0;
  int64_t cstime = 0;
  int64_t priority = 20;
  int64_t nice = 0;
  int64_t num_threads = 1;
  uint64_t itrealvalue = 0;
  uint64_t starttime = 0;  // clock ticks since boot
  uint64_t vsize = 0;      // bytes
  uint64_t rss = 0;        // pages
  uint64_t rsslim = 0;     // bytes
  uint64_t startcode = 0;
  uint64_t endcode = 0;
  uint64_t startstack = 0;
  uint64_t kstkesp = 0;
  uint64_t kstkeip = 0;
  uint64_t signal = 0;  // pending, blocked, ignored and caught signals 1 to 31
  uint64_t blocked = 0;
  uint64_t sigignore = 0;
  uint64_t sigcatch = 0;
  uint64_t wchan = 0;  // 1 while the task waits, 0 otherwise
  uint64_t nswap = 0;
  uint64_t cnswap = 0;
  int exit_signal = 0;
  int processor = 0;
  uint64_t rt_priority = 0;
  uint64_t policy = 0;
  uint64_t delayacct_blkio_ticks = 0;
  uint64_t guest_time = 0;
  int64_t cguest_time = 0;
  uint64_t start_data = 0;
  uint64_t end_data = 0;
  uint64_t start_brk = 0;
  uint64_t arg_start = 0;
  uint64_t arg_end = 0;
  uint64_t env_start = 0;
  uint64_t env_end = 0;
  int exit_code = 0;
};

// The stat line, newline included.
std::string format_stat(const ProcStat& stat);

// The seven page counts of statm, of which Linux always prints lib and dt
// as 0.
struct ProcStatm {
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  uint64_t shared_pages = 0;
  uint64_t text_pages = 0;
  uint64_t data_pages = 0;
};
std::string format_statm(const ProcStatm& statm);

// The limits table, one line per RLIMIT_* resource.
std::string format_limits(const std::array<rlimit, RLIM_NLIMITS>& limits);

// The state letter stat and status show for `task` read by `caller`: R or
// S (see task_state in the source for what ward can tell apart).
char task_state_letter(const Caller& caller, kernel::Task& task);
bool task_is_running(const Caller& caller, kernel::Task& task);

// The files themselves, for `task` as `caller` reads them. `whole_process`
// selects /proc/<pid>/stat, whose counts cover every thread, over
// /proc/<pid>/task/<tid>/stat.
Result<std::string> stat_text(const Caller& caller, kernel::Task& task, bool whole_process);
Result<std::string> statm_text(kernel::Task& task);
std::string limits_text(kernel::Task& task);

}  // namespace ward::vfs
