// /proc/<pid>/status and /proc/<pid>/task/<tid>/status, as Linux's
// proc_pid_status prints them (fs/proc/array.c and task_mmu.c).
//
// The keys a kernel prints change between versions. The host's status of
// the host thread that runs the guest thread is therefore the template:
// its keys, in its order. The sentry's own values fill the keys it keeps
// (ids, credentials, signals, memory sizes). The host's values fill what
// only the host counts (resident memory, page tables, CPU and memory
// masks, context switches). A host key in neither group is left out.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sentry/vfs/caller.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {

// One "Key:\tvalue" line of a status file, without the newline.
struct StatusLine {
  std::string key;
  std::string value;
};

// Splits a status text into its lines; lines without ':' are skipped.
std::vector<StatusLine> parse_status_lines(std::string_view text);

// Whether the host's value of `key` is passed on as the guest's.
bool is_host_status_key(std::string_view key);

// Merges the sandbox's lines into the host's template as described above.
// With an empty template, the sandbox's lines alone, in their order.
std::string merge_status(std::span<const StatusLine> sandbox, std::span<const StatusLine> host);

// The status file of `task` as `caller` reads it.
Result<std::string> status_text(const Caller& caller, kernel::Task& task);

}  // namespace ward::vfs
