// The system-wide files of procfs that describe the sandbox rather than one
// process: stat, uptime and loadavg, whose counters mix the host's CPU
// figures with the sandbox's own tasks and boot time, and the /proc/sys
// tree of kernel settings.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/inode.h"
#include "ward/result.h"

namespace ward::vfs {

// /proc/uptime: seconds since boot and idle CPU seconds, each with two
// decimals cut (not rounded) as Linux's uptime_proc_show does.
std::string format_uptime(std::chrono::nanoseconds uptime, std::chrono::nanoseconds idle);

// Parses the idle seconds, the second field of a host /proc/uptime.
// EINVAL for a line without one.
Result<double> parse_uptime_idle_seconds(std::string_view host_uptime);

// Task counts of the sandbox, as loadavg and stat report them.
struct SandboxTaskCounts {
  int running = 0;     // tasks running guest code, and the reader itself
  int total = 0;       // every task (thread) of the sandbox
  pid_t last_pid = 0;  // the most recently allocated pid or tid
};

// /proc/loadavg: the host's three load averages (the sandbox shares the
// host's CPUs), then the sandbox's running/total tasks and last pid.
// EINVAL when `host_loadavg` lacks the three averages.
Result<std::string> format_loadavg(std::string_view host_loadavg, const SandboxTaskCounts& counts);

// /proc/stat: the host's CPU, interrupt and context-switch lines, with
// btime, processes, procs_running and procs_blocked replaced by the
// sandbox's. `boot_time_seconds` is the sandbox's boot, in seconds since
// the epoch.
std::string rewrite_proc_stat(std::string_view host_stat, const SandboxTaskCounts& counts,
                              int64_t boot_time_seconds);

// A random (version 4) UUID in the 36-character form with a newline, as
// /proc/sys/kernel/random/uuid returns one per read.
std::string random_uuid_line();

// The counts above for the caller's sandbox; all zero without a task.
SandboxTaskCounts count_sandbox_tasks(const Caller& caller);

// The sandbox's boot in seconds since the epoch (btime), from the
// kernel's monotonic boot time.
int64_t sandbox_boot_time_seconds(const Caller& caller);

// /proc/sys with kernel/, vm/ and fs/. Its random/boot_id is chosen now,
// so it is stable for the life of the sandbox.
std::shared_ptr<Inode> make_proc_sys_directory(const std::shared_ptr<Filesystem>& filesystem);

// /proc/sysvipc with shm, sem and msg: the sandbox's System V IPC objects
// in Linux's columns, which ipcs(1) reads.
std::shared_ptr<Inode> make_proc_sysvipc_directory(const std::shared_ptr<Filesystem>& filesystem);

}  // namespace ward::vfs
