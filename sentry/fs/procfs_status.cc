#include "sentry/fs/procfs_status.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>

#include "sentry/fs/procfs_memory.h"
#include "sentry/fs/procfs_process.h"
#include "sentry/fs/synthetic.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"

namespace ward::vfs {
namespace {

constexpr std::array<std::string_view, 19> kHostStatusKeys = {
    "VmHWM",
    "VmRSS",
    "RssAnon",
    "RssFile",
    "RssShmem",
    "VmPTE",
    "VmSwap",
    "HugetlbPages",
    "untag_mask",
    "Speculation_Store_Bypass",
    "SpeculationIndirectBranch",
    // The sentry applies a guest's CPU affinity to its host thread, so the
    // host's masks are the guest's.
    "Cpus_allowed",
    "Cpus_allowed_list",
    "Mems_allowed",
    "Mems_allowed_list",
    "voluntary_ctxt_switches",
    "nonvoluntary_ctxt_switches",
    "x86_Thread_features",
    "x86_Thread_features_locked",
};

// The handler values of SIG_DFL and SIG_IGN in a guest sigaction.
constexpr uint64_t kDefaultHandler = 0;
constexpr uint64_t kIgnoreHandler = 1;

// Linux's FDSize: the size of the fd table's arrays, which start at one
// word of bits (64) and grow to 128 times a power of two that covers the
// highest descriptor.
int fd_table_size(const std::vector<int>& open_fds) {
  constexpr int kInitialFds = 64;
  constexpr int kGrowthUnit = 128;
  const int highest = open_fds.empty() ? 0 : open_fds.back();
  if (highest < kInitialFds) {
    return kInitialFds;
  }
  int units = 1;
  while (units < highest / kGrowthUnit + 1) {
    units *= 2;
  }
  return units * kGrowthUnit;
}

std::string kilobytes(uint64_t pages) { return fmt::format("{:>8} kB", pages * kPageSize / 1024); }

std::string signal_set(uint64_t signals) { return fmt::format("{:016x}", signals); }

// The memory sizes of status that the VMA list gives.
struct StatusMemory {
  uint64_t total_pages = 0;
  uint64_t locked_pages = 0;
  uint64_t data_pages = 0;
  uint64_t stack_pages = 0;
  uint64_t exe_pages = 0;
  uint64_t exec_pages = 0;
};

StatusMemory status_memory(kernel::Task& task) {
  const std::vector<mm::Vma> vmas = task.mm().vmas();
  const std::vector<HostSpecialMapping> special =
      host_special_mappings(task).value_or(std::vector<HostSpecialMapping>{});
  const MemoryCounts counts = count_memory(vmas, special);
  const std::string& exe_path = task.thread_group().exe_path();

  StatusMemory memory{.total_pages = counts.total_pages};
  for (const mm::Vma& vma : vmas) {
    const uint64_t pages = vma.length() / kPageSize;
    const bool writable = (vma.prot & PROT_WRITE) != 0;
    const bool stack = (vma.flags & MAP_GROWSDOWN) != 0;
    if ((vma.flags & MAP_LOCKED) != 0) {
      memory.locked_pages += pages;
    }
    if (stack) {
      memory.stack_pages += pages;
    } else if ((vma.prot & PROT_EXEC) != 0 && !writable) {
      memory.exec_pages += pages;
      // NOTE: Linux's VmExe is the main program's code segment. The loader
      // does not record it, so the executable mappings of the program's
      // file stand in for it.
      if (vma.file != nullptr && vma.file->path == exe_path) {
        memory.exe_pages += pages;
      }
    }
  }
  memory.data_pages = counts.data_pages - memory.stack_pages;
  return memory;
}

// The host's status of the host thread that runs `task`, or of its whole
// stub process when the task has no thread yet.
std::vector<StatusLine> host_status(kernel::Task& task) {
  const pid_t host_pid = task.mm().address_space().host_pid();
  std::string path = "/proc/" + std::to_string(host_pid);
  if (task.has_context()) {
    path += "/task/" + std::to_string(task.context().host_tid());
  }
  path += "/status";
  auto text = read_host_file(path.c_str());
  return text.ok() ? parse_status_lines(*text) : std::vector<StatusLine>{};
}

std::vector<StatusLine> sandbox_status(const Caller& caller, kernel::Task& task) {
  const kernel::Credentials& creds = task.creds();
  kernel::ThreadGroup& group = task.thread_group();
  const kernel::ThreadGroup* parent = group.parent();
  const char state = task_state_letter(caller, task);
  std::vector<StatusLine> lines;
  auto add = [&lines](std::string key, std::string value) {
    lines.push_back({std::move(key), std::move(value)});
  };

  add("Name", task.comm());
  add("Umask", fmt::format("{:04o}", task.fs().umask()));
  add("State", state == 'R' ? "R (running)" : "S (sleeping)");
  add("Tgid", std::to_string(task.pid()));
  add("Ngid", "0");
  add("Pid", std::to_string(task.tid()));
  add("PPid", std::to_string(parent != nullptr ? parent->tgid() : 0));
  // NOTE: ward has no ptrace(2), so no task is ever traced.
  add("TracerPid", "0");
  add("Uid", fmt::format("{}\t{}\t{}\t{}", creds.real_uid, creds.effective_uid, creds.saved_uid,
                         creds.fs_uid));
  add("Gid", fmt::format("{}\t{}\t{}\t{}", creds.real_gid, creds.effective_gid, creds.saved_gid,
                         creds.fs_gid));
  add("FDSize", std::to_string(fd_table_size(task.fdtable().open_fds())));
  // Linux separates the groups by spaces and ends the list with one more.
  std::string groups;
  for (gid_t supplementary : creds.supplementary_groups) {
    groups += fmt::format("{}{}", groups.empty() ? "" : " ", supplementary);
  }
  add("Groups", groups + " ");
  // The sandbox is one pid namespace, so each id has one level.
  add("NStgid", std::to_string(task.pid()));
  add("NSpid", std::to_string(task.tid()));
  add("NSpgid", std::to_string(group.pgid()));
  add("NSsid", std::to_string(group.sid()));
  add("Kthread", "0");

  const StatusMemory memory = status_memory(task);
  // NOTE: ward keeps no peak of the address space size, so VmPeak shows the
  // current size.
  add("VmPeak", kilobytes(memory.total_pages));
  add("VmSize", kilobytes(memory.total_pages));
  add("VmLck", kilobytes(memory.locked_pages));
  add("VmPin", kilobytes(0));
  add("VmData", kilobytes(memory.data_pages));
  add("VmStk", kilobytes(memory.stack_pages));
  add("VmExe", kilobytes(memory.exe_pages));
  add("VmLib", kilobytes(memory.exec_pages - memory.exe_pages));
  // ward writes no core files.
  add("CoreDumping", "0");
  add("THP_enabled", task.attributes().mm->thp_disable == 0 ? "1" : "0");

  add("Threads", std::to_string(group.tasks().size()));
  const size_t queued = task.pending().queued() + group.shared_pending().queued();
  add("SigQ", fmt::format("{}/{}", queued, group.limit(RLIMIT_SIGPENDING).rlim_cur));
  add("SigPnd", signal_set(task.pending().set()));
  add("ShdPnd", signal_set(group.shared_pending().set()));
  add("SigBlk", signal_set(task.signal_mask()));
  uint64_t ignored = 0;
  uint64_t caught = 0;
  const kernel::SignalHandlers& handlers = group.signal_handlers();
  for (int signal = 1; signal <= kernel::kSignalCount; ++signal) {
    const uint64_t handler = handlers[static_cast<size_t>(signal - 1)].handler;
    if (handler == kIgnoreHandler) {
      ignored |= kernel::signal_bit(signal);
    } else if (handler != kDefaultHandler) {
      caught |= kernel::signal_bit(signal);
    }
  }
  add("SigIgn", signal_set(ignored));
  add("SigCgt", signal_set(caught));
  add("CapInh", signal_set(creds.cap_inheritable.bits()));
  add("CapPrm", signal_set(creds.cap_permitted.bits()));
  add("CapEff", signal_set(creds.cap_effective.bits()));
  add("CapBnd", signal_set(creds.cap_bset.bits()));
  add("CapAmb", signal_set(creds.cap_ambient.bits()));
  add("NoNewPrivs", task.no_new_privs() ? "1" : "0");
  add("Seccomp", std::to_string(static_cast<int>(task.seccomp().mode)));
  int filters = 0;
  for (const kernel::SeccompFilter* filter = task.seccomp().filter.get(); filter != nullptr;
       filter = filter->prev.get()) {
    ++filters;
  }
  add("Seccomp_filters", std::to_string(filters));
  return lines;
}

}  // namespace

std::vector<StatusLine> parse_status_lines(std::string_view text) {
  std::vector<StatusLine> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value[0] == '\t') {
      value.remove_prefix(1);
    }
    lines.push_back({std::string(line.substr(0, colon)), std::string(value)});
  }
  return lines;
}

bool is_host_status_key(std::string_view key) {
  return std::find(kHostStatusKeys.begin(), kHostStatusKeys.end(), key) != kHostStatusKeys.end();
}

std::string merge_status(std::span<const StatusLine> sandbox, std::span<const StatusLine> host) {
  std::string text;
  auto append = [&text](const StatusLine& line) {
    text += line.key;
    text += ":\t";
    text += line.value;
    text += '\n';
  };
  if (host.empty()) {
    for (const StatusLine& line : sandbox) {
      append(line);
    }
    return text;
  }
  for (const StatusLine& host_line : host) {
    const auto own = std::find_if(sandbox.begin(), sandbox.end(), [&](const StatusLine& line) {
      return line.key == host_line.key;
    });
    if (own != sandbox.end()) {
      append(*own);
    } else if (is_host_status_key(host_line.key)) {
      append(host_line);
    }
  }
  return text;
}

Result<std::string> status_text(const Caller& caller, kernel::Task& task) {
  const std::vector<StatusLine> sandbox = sandbox_status(caller, task);
  const std::vector<StatusLine> host = host_status(task);
  return merge_status(sandbox, host);
}

}  // namespace ward::vfs
