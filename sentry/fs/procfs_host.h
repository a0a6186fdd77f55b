// Facts procfs reads from the host's own /proc about the host processes and
// threads that run the guest: CPU times and fault counts, resident memory,
// and the mappings the host kernel puts in every process (vDSO, vvar,
// vsyscall). Every guest thread runs as one host thread and every guest
// address space as one host process (the platform's stub), so the host's
// counters for those are the guest's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ward/result.h"

namespace ward::vfs {

// The fields of a host /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat line
// that procfs passes on.
struct HostStat {
  char state = 'R';
  uint64_t minor_faults = 0;
  uint64_t major_faults = 0;
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  int processor = 0;
};

// Parses a host stat line. The command name in parentheses may contain
// spaces and parentheses, so the fields are counted from its last ')'.
// EINVAL for a line that is cut short.
Result<HostStat> parse_host_stat(std::string_view line);

// The whole host process (every thread it ever had, as Linux sums them) or
// one host thread.
Result<HostStat> read_host_process_stat(pid_t host_pid);
Result<HostStat> read_host_thread_stat(pid_t host_pid, pid_t host_tid);

// Resident and shared pages of a host process, from its statm.
struct HostStatm {
  uint64_t resident_pages = 0;
  uint64_t shared_pages = 0;
};
Result<HostStatm> read_host_statm(pid_t host_pid);

// A mapping the host kernel provides: [vdso], [vvar], [vvar_vclock] or
// [vsyscall], with its permissions as maps shows them ("r-xp").
struct HostSpecialMapping {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string permissions;
  std::string name;

  // [vsyscall] is no VMA of the process, so Linux leaves it out of the
  // mapped size.
  bool counts_as_mapped() const { return name != "[vsyscall]"; }
};

// The host kernel's mappings in the host process `host_pid`, in address
// order, from its maps.
Result<std::vector<HostSpecialMapping>> read_host_special_mappings(pid_t host_pid);

}  // namespace ward::vfs
