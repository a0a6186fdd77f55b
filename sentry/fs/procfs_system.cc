#include "sentry/fs/procfs_system.h"

#include <fmt/format.h>
#include <sys/random.h>
#include <sys/utsname.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <sstream>

#include "sentry/fs/file_gaps.h"
#include "sentry/fs/procfs_process.h"
#include "sentry/fs/synthetic.h"
#include "sentry/kernel/mqueue/mqueue_namespace.h"
#include "sentry/kernel/credentials.h"
#include "sentry/kernel/ipc/msg.h"
#include "sentry/kernel/ipc/sem.h"
#include "sentry/kernel/ipc/shm.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"

namespace ward::vfs {
namespace {

using std::chrono::nanoseconds;

// Linux's defaults for the settings ward has no value of its own for:
// NGROUPS_MAX (which setgroups enforces), the overflow ids of 16-bit
// interfaces, and the ceiling setrlimit enforces for RLIMIT_NOFILE.
constexpr int kNgroupsMax = 65536;
constexpr int kOverflowId = 65534;
constexpr int kNrOpen = 1024 * 1024;
// NOTE: ward enforces neither of these; they are Linux's defaults. Pids
// never wrap in ward, and F_SETPIPE_SZ is not supported yet.
constexpr int kPidMaxLimit = 4 * 1024 * 1024;
constexpr int kPipeMaxSizeBytes = 1024 * 1024;
// NOTE: Linux's vm.max_map_count default; ward sets no limit on the
// number of VMAs.
constexpr int kMaxMapCount = 65530;

std::string number_line(int64_t value) { return std::to_string(value) + "\n"; }

Result<std::string> uname_field(char (utsname::*field)[65]) {
  struct utsname names {};
  if (uname(&names) != 0) {
    return Errno{errno};
  }
  return std::string(names.*field) + "\n";
}

// Two decimals of a duration in seconds, cut as Linux prints them.
std::string seconds_with_centiseconds(nanoseconds duration) {
  const int64_t total = std::max<int64_t>(duration.count(), 0);
  const int64_t seconds = total / 1'000'000'000;
  const int64_t centiseconds = (total % 1'000'000'000) / 10'000'000;
  return fmt::format("{}.{:02}", seconds, centiseconds);
}

// Whether `line` starts with `key` and a space.
bool is_line_with_key(std::string_view line, std::string_view key) {
  return line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ';
}

std::shared_ptr<Inode> text_file(const std::shared_ptr<Filesystem>& filesystem, mode_t permissions,
                                 GeneratedFile::Generator generate) {
  return std::make_shared<GeneratedFile>(filesystem, std::move(generate), permissions);
}

std::shared_ptr<Inode> constant_file(const std::shared_ptr<Filesystem>& filesystem,
                                     mode_t permissions, std::string text) {
  return text_file(filesystem, permissions,
                   [text = std::move(text)](const Caller&) -> Result<std::string> { return text; });
}

std::shared_ptr<Inode> host_file(const std::shared_ptr<Filesystem>& filesystem, mode_t permissions,
                                 std::string path) {
  return text_file(filesystem, permissions, [path = std::move(path)](const Caller&) {
    return read_host_file(path.c_str());
  });
}

std::shared_ptr<KernelFileDirectory> make_kernel_directory(
    const std::shared_ptr<Filesystem>& filesystem) {
  auto kernel = std::make_shared<KernelFileDirectory>(filesystem, 0555, "/proc/sys/kernel");
  // The sandbox's own names. Without a kernel (a caller without a task)
  // there is no sandbox, so they are absent.
  kernel->add("hostname",
              text_file(filesystem, 0644, [](const Caller& caller) -> Result<std::string> {
                if (caller.task == nullptr) {
                  return Errno{ENOENT};
                }
                return caller.task->kernel().options().hostname + "\n";
              }));
  // uname(2) in ward reports no NIS domain, as Linux does until one is set.
  kernel->add("domainname", constant_file(filesystem, 0644, "(none)\n"));
  // The release, type and version are the host's, as uname(2) reports them.
  kernel->add("osrelease", text_file(filesystem, 0444,
                                     [](const Caller&) { return uname_field(&utsname::release); }));
  kernel->add("ostype", text_file(filesystem, 0444,
                                  [](const Caller&) { return uname_field(&utsname::sysname); }));
  kernel->add("version", text_file(filesystem, 0444,
                                   [](const Caller&) { return uname_field(&utsname::version); }));
  kernel->add("pid_max", constant_file(filesystem, 0644, number_line(kPidMaxLimit)));
  kernel->add("ngroups_max", constant_file(filesystem, 0444, number_line(kNgroupsMax)));
  kernel->add("cap_last_cap", constant_file(filesystem, 0444, number_line(kernel::kCapLastCap)));
  kernel->add("overflowuid", constant_file(filesystem, 0644, number_line(kOverflowId)));
  kernel->add("overflowgid", constant_file(filesystem, 0644, number_line(kOverflowId)));

  // The System V IPC limits the sentry applies, which ipcs -l reads.
  kernel->add("shmmax", constant_file(filesystem, 0644,
                                      fmt::format("{}\n", kernel::ipc::kShmMaxBytes)));
  kernel->add("shmall", constant_file(filesystem, 0644,
                                      fmt::format("{}\n", kernel::ipc::kShmAllPages)));
  kernel->add("shmmni", constant_file(filesystem, 0644, number_line(kernel::ipc::kShmMaxSegments)));
  kernel->add("sem", constant_file(filesystem, 0644,
                                   fmt::format("{}\t{}\t{}\t{}\n", kernel::ipc::kSemMaxPerSet,
                                               kernel::ipc::kSemMaxTotal, kernel::ipc::kSemMaxOps,
                                               kernel::ipc::kSemMaxSets)));
  kernel->add("msgmax", constant_file(filesystem, 0644, number_line(kernel::ipc::kMsgMaxBytes)));
  kernel->add("msgmnb", constant_file(filesystem, 0644, number_line(kernel::ipc::kMsgQueueBytes)));
  kernel->add("msgmni", constant_file(filesystem, 0644, number_line(kernel::ipc::kMsgMaxQueues)));

  auto random = std::make_shared<KernelFileDirectory>(filesystem, 0555, "/proc/sys/kernel/random");
  random->add("boot_id", constant_file(filesystem, 0444, random_uuid_line()));
  random->add("uuid", text_file(filesystem, 0444, [](const Caller&) -> Result<std::string> {
                return random_uuid_line();
              }));
  kernel->add("random", random);
  return kernel;
}

}  // namespace

std::string format_uptime(nanoseconds uptime, nanoseconds idle) {
  return seconds_with_centiseconds(uptime) + " " + seconds_with_centiseconds(idle) + "\n";
}

Result<double> parse_uptime_idle_seconds(std::string_view host_uptime) {
  std::istringstream fields{std::string(host_uptime)};
  double uptime = 0;
  double idle = 0;
  if (!(fields >> uptime >> idle)) {
    return Errno{EINVAL};
  }
  return idle;
}

Result<std::string> format_loadavg(std::string_view host_loadavg, const SandboxTaskCounts& counts) {
  std::istringstream fields{std::string(host_loadavg)};
  std::array<std::string, 3> averages;
  for (std::string& average : averages) {
    if (!(fields >> average)) {
      return Errno{EINVAL};
    }
  }
  return fmt::format("{} {} {} {}/{} {}\n", averages[0], averages[1], averages[2], counts.running,
                     counts.total, counts.last_pid);
}

std::string rewrite_proc_stat(std::string_view host_stat, const SandboxTaskCounts& counts,
                              int64_t boot_time_seconds) {
  std::string text;
  size_t start = 0;
  while (start < host_stat.size()) {
    size_t end = host_stat.find('\n', start);
    if (end == std::string_view::npos) {
      end = host_stat.size();
    }
    const std::string_view line = host_stat.substr(start, end - start);
    start = end + 1;

    if (is_line_with_key(line, "btime")) {
      text += fmt::format("btime {}\n", boot_time_seconds);
    } else if (is_line_with_key(line, "processes")) {
      // NOTE: Linux counts every fork since boot. ward keeps no such count,
      // and its last allocated id is the nearest figure, because ids are
      // handed out in order and never reused.
      text += fmt::format("processes {}\n", counts.last_pid);
    } else if (is_line_with_key(line, "procs_running")) {
      text += fmt::format("procs_running {}\n", counts.running);
    } else if (is_line_with_key(line, "procs_blocked")) {
      // No sandbox task is ever in uninterruptible disk sleep.
      text += "procs_blocked 0\n";
    } else {
      text += line;
      text += '\n';
    }
  }
  return text;
}

std::string random_uuid_line() {
  std::array<uint8_t, 16> bytes{};
  size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t got = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (got > 0) {
      filled += static_cast<size_t>(got);
    } else if (errno != EINTR) {
      // getrandom(2) without GRND_NONBLOCK fails only with EFAULT or EINVAL,
      // which these arguments cannot cause.
      std::abort();
    }
  }
  // RFC 4122: version 4 in the high nibble of byte 6, variant 10 in the
  // high bits of byte 8.
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);
  std::string text;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      text += '-';
    }
    text += fmt::format("{:02x}", bytes[i]);
  }
  return text + "\n";
}

SandboxTaskCounts count_sandbox_tasks(const Caller& caller) {
  SandboxTaskCounts counts;
  if (caller.task == nullptr) {
    return counts;
  }
  kernel::Kernel& kernel = caller.task->kernel();
  for (kernel::ThreadGroup* group : kernel.thread_groups()) {
    for (kernel::Task* task : group->tasks()) {
      ++counts.total;
      if (task_is_running(caller, *task)) {
        ++counts.running;
      }
    }
  }
  counts.last_pid = kernel.last_allocated_id();
  return counts;
}

int64_t sandbox_boot_time_seconds(const Caller& caller) {
  const auto wall_now = std::chrono::system_clock::now();
  if (caller.task == nullptr) {
    return std::chrono::duration_cast<std::chrono::seconds>(wall_now.time_since_epoch()).count();
  }
  const auto since_boot = kernel::monotonic_now() - caller.task->kernel().boot_time();
  const auto boot = wall_now.time_since_epoch() - since_boot;
  return std::chrono::duration_cast<std::chrono::seconds>(boot).count();
}

std::shared_ptr<Inode> make_proc_sysvipc_directory(const std::shared_ptr<Filesystem>& filesystem) {
  using Render = std::string (*)(kernel::ipc::IpcNamespace&);
  auto table = [&](Render render) {
    return text_file(filesystem, 0444, [render](const Caller& caller) -> Result<std::string> {
      if (caller.task == nullptr) {
        return Errno{ENOENT};
      }
      return render(*kernel::ipc::IpcNamespace::of(caller.task->kernel()));
    });
  };
  auto sysvipc = std::make_shared<KernelFileDirectory>(filesystem, 0555, "/proc/sysvipc");
  sysvipc->add("shm", table(kernel::ipc::render_proc_sysvipc_shm));
  sysvipc->add("sem", table(kernel::ipc::render_proc_sysvipc_sem));
  sysvipc->add("msg", table(kernel::ipc::render_proc_sysvipc_msg));
  return sysvipc;
}

std::shared_ptr<Inode> make_proc_sys_directory(const std::shared_ptr<Filesystem>& filesystem) {
  auto vm = std::make_shared<KernelFileDirectory>(filesystem, 0555, "/proc/sys/vm");
  // The sandbox's memory is the host's, so the host's overcommit policy
  // decides whether its mappings succeed.
  vm->add("overcommit_memory", host_file(filesystem, 0644, "/proc/sys/vm/overcommit_memory"));
  vm->add("max_map_count", constant_file(filesystem, 0644, number_line(kMaxMapCount)));
  vm->add("mmap_min_addr", constant_file(filesystem, 0644, number_line(mm::kMmapMinAddr)));

  auto fs = std::make_shared<KernelFileDirectory>(filesystem, 0555, "/proc/sys/fs");
  // Open files of the sandbox are host files too, so the host's system-wide
  // ceiling applies.
  fs->add("file-max", host_file(filesystem, 0644, "/proc/sys/fs/file-max"));
  fs->add("nr_open", constant_file(filesystem, 0644, number_line(kNrOpen)));
  fs->add("pipe-max-size", constant_file(filesystem, 0644, number_line(kPipeMaxSizeBytes)));

  // The message queue limits of the sandbox's own IPC namespace, which
  // start at Linux's defaults and cannot be changed.
  const kernel::MqueueLimits mqueue_limits;
  auto mqueue = std::make_shared<KernelFileDirectory>(filesystem, 0555, "/proc/sys/fs/mqueue");
  mqueue->add("msg_default",
              constant_file(filesystem, 0644, number_line(mqueue_limits.msg_default)));
  mqueue->add("msg_max", constant_file(filesystem, 0644, number_line(mqueue_limits.msg_max)));
  mqueue->add("msgsize_default",
              constant_file(filesystem, 0644, number_line(mqueue_limits.msgsize_default)));
  mqueue->add("msgsize_max",
              constant_file(filesystem, 0644, number_line(mqueue_limits.msgsize_max)));
  mqueue->add("queues_max",
              constant_file(filesystem, 0644, number_line(mqueue_limits.queues_max)));
  fs->add("mqueue", mqueue);

  auto sys = std::make_shared<KernelFileDirectory>(filesystem, 0555, "/proc/sys");
  sys->add("kernel", make_kernel_directory(filesystem));
  sys->add("vm", vm);
  sys->add("fs", fs);
  return sys;
}

}  // namespace ward::vfs
