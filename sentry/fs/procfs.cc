#include "sentry/fs/procfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/utsname.h>

#include <chrono>
#include <string>

#include "sentry/fs/file_gaps.h"
#include "sentry/fs/procfs_pid.h"
#include "sentry/fs/procfs_system.h"
#include "sentry/fs/synthetic.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/locks.h"

namespace ward::vfs {
namespace {

// /proc itself: the system files, `self`, and the caller's process.
class ProcRoot final : public ProcDirectory {
 public:
  ProcRoot(std::shared_ptr<Filesystem> filesystem, std::weak_ptr<MountNamespace> mounts)
      : ProcDirectory(filesystem, 0555), mounts_(std::move(mounts)) {
    add_fixed_entries();
  }

  Result<std::vector<Entry>> entries(const Caller& caller) override {
    std::vector<Entry> list = fixed_;
    if (caller.task == nullptr) {
      return list;
    }
    for (kernel::ThreadGroup* group : caller.task->kernel().thread_groups()) {
      if (group->tasks().empty()) {
        continue;
      }
      list.push_back({std::to_string(group->tgid()),
                      TRY(make_pid_directory(filesystem_ref(), caller, group->tgid(), mounts_))});
    }
    return list;
  }

  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override {
    if (auto pid = parse_pid(name)) {
      return make_pid_directory(filesystem_ref(), caller, *pid, mounts_);
    }
    for (const Entry& entry : fixed_) {
      if (entry.name == name) {
        return entry.inode;
      }
    }
    // A number names a process that does not exist; anything else is a
    // file Linux may have.
    if (name.empty() || name[0] < '0' || name[0] > '9') {
      record_missing_file(caller, "/proc/" + std::string(name));
    }
    return Errno{ENOENT};
  }

 private:
  // A top-level file. Linux makes these with proc_create and no write
  // method, so a write to one that root opened fails with EIO.
  std::shared_ptr<Inode> file(GeneratedFile::Generator generate) {
    auto inode = std::make_shared<GeneratedFile>(filesystem_ref(), std::move(generate));
    inode->set_write_error(EIO);
    return inode;
  }

  std::shared_ptr<Inode> link(std::string text) {
    return std::make_shared<SyntheticSymlink>(
        filesystem_ref(),
        [text = std::move(text)](const Caller&) -> Result<LinkTarget> { return LinkTarget{text}; });
  }

  void add_fixed_entries() {
    auto filesystem = filesystem_ref();

    fixed_.push_back({"self", std::make_shared<SyntheticSymlink>(
                                  filesystem, [](const Caller& caller) -> Result<LinkTarget> {
                                    // Linux's /proc/self names nothing for a
                                    // caller outside the pid namespace.
                                    if (caller.task == nullptr) {
                                      return Errno{ENOENT};
                                    }
                                    return LinkTarget{std::to_string(caller.task->pid())};
                                  })});
    fixed_.push_back({"thread-self", std::make_shared<SyntheticSymlink>(
                                         filesystem, [](const Caller& caller) -> Result<LinkTarget> {
                                           if (caller.task == nullptr) {
                                             return Errno{ENOENT};
                                           }
                                           return LinkTarget{
                                               std::to_string(caller.task->pid()) + "/task/" +
                                               std::to_string(caller.task->tid())};
                                         })});
    fixed_.push_back({"mounts", link("self/mounts")});
    fixed_.push_back({"net", link("self/net")});

    // The sandbox runs on the host's CPUs and memory, so the host's
    // descriptions of them are its own.
    fixed_.push_back(
        {"cpuinfo", file([](const Caller&) { return read_host_file("/proc/cpuinfo"); })});
    // NOTE: ward sets no memory limit of its own, so the sandbox's view of
    // memory is the host's.
    fixed_.push_back(
        {"meminfo", file([](const Caller&) { return read_host_file("/proc/meminfo"); })});
    // The release and version are the host's, as uname(2) reports them.
    fixed_.push_back(
        {"version", file([](const Caller&) { return read_host_file("/proc/version"); })});
    fixed_.push_back(
        {"locks", file([](const Caller&) { return Result<std::string>(render_proc_locks()); })});
    fixed_.push_back({"filesystems", file([](const Caller&) -> Result<std::string> {
                        return std::string(
                            "nodev\tsysfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tpipefs\n"
                            "nodev\thostfs\n");
                      })});
    fixed_.push_back({"stat", file([](const Caller& caller) -> Result<std::string> {
                        const std::string host = TRY(read_host_file("/proc/stat"));
                        return rewrite_proc_stat(host, count_sandbox_tasks(caller),
                                                 sandbox_boot_time_seconds(caller));
                      })});
    fixed_.push_back({"uptime", file([this](const Caller& caller) { return uptime_text(caller); })});
    fixed_.push_back({"loadavg", file([](const Caller& caller) -> Result<std::string> {
                        const std::string host = TRY(read_host_file("/proc/loadavg"));
                        return format_loadavg(host, count_sandbox_tasks(caller));
                      })});
    fixed_.push_back({"sys", make_proc_sys_directory(filesystem)});
    fixed_.push_back({"sysvipc", make_proc_sysvipc_directory(filesystem)});
  }

  // The sandbox's uptime, and as idle time the host CPUs' idle time since
  // procfs was made, which is when the sandbox started.
  Result<std::string> uptime_text(const Caller& caller) const {
    using std::chrono::duration_cast;
    using std::chrono::nanoseconds;
    const nanoseconds uptime =
        caller.task != nullptr ? kernel::monotonic_now() - caller.task->kernel().boot_time()
                               : kernel::monotonic_now() - created_;
    const double host_idle_seconds =
        TRY(parse_uptime_idle_seconds(TRY(read_host_file("/proc/uptime"))));
    const double idle_seconds = std::max(host_idle_seconds - host_idle_at_start_seconds_, 0.0);
    return format_uptime(uptime, duration_cast<nanoseconds>(std::chrono::duration<double>(idle_seconds)));
  }

  static double host_idle_seconds_now() {
    auto text = read_host_file("/proc/uptime");
    if (!text.ok()) {
      return 0;
    }
    return parse_uptime_idle_seconds(*text).value_or(0);
  }

  kernel::TimePoint created_ = kernel::monotonic_now();
  double host_idle_at_start_seconds_ = host_idle_seconds_now();
  std::weak_ptr<MountNamespace> mounts_;
  std::vector<Entry> fixed_;
};

}  // namespace

std::shared_ptr<Dentry> make_procfs_root(std::weak_ptr<MountNamespace> mounts) {
  auto filesystem = std::make_shared<Filesystem>(kProcfsType, PROC_SUPER_MAGIC);
  return Dentry::make_root(std::make_shared<ProcRoot>(filesystem, std::move(mounts)));
}

}  // namespace ward::vfs
