#include "sentry/fs/procfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/utsname.h>

#include <string>

#include "sentry/fs/procfs_pid.h"
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
    return Errno{ENOENT};
  }

 private:
  std::shared_ptr<Inode> file(GeneratedFile::Generator generate) {
    return std::make_shared<GeneratedFile>(filesystem_ref(), std::move(generate));
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

    // The sandbox runs on the host's CPUs and memory, so the host's
    // descriptions of them are its own.
    fixed_.push_back(
        {"cpuinfo", file([](const Caller&) { return read_host_file("/proc/cpuinfo"); })});
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

    auto kernel_directory = std::make_shared<StaticDirectory>(filesystem, 0555);
    kernel_directory->add("osrelease",
                          file([](const Caller&) { return uname_field(&utsname::release); }));
    kernel_directory->add("ostype",
                          file([](const Caller&) { return uname_field(&utsname::sysname); }));
    kernel_directory->add("hostname", file([](const Caller& caller) -> Result<std::string> {
                            // The sandbox's own hostname; without a kernel there is none.
                            if (caller.task == nullptr) {
                              return Errno{ENOENT};
                            }
                            return caller.task->kernel().options().hostname + "\n";
                          }));
    auto sys_directory = std::make_shared<StaticDirectory>(filesystem, 0555);
    sys_directory->add("kernel", kernel_directory);
    fixed_.push_back({"sys", sys_directory});
  }

  static Result<std::string> uname_field(char (utsname::*field)[65]) {
    struct utsname names {};
    if (uname(&names) != 0) {
      return Errno{errno};
    }
    return std::string(names.*field) + "\n";
  }

  std::weak_ptr<MountNamespace> mounts_;
  std::vector<Entry> fixed_;
};

}  // namespace

std::shared_ptr<Dentry> make_procfs_root(std::weak_ptr<MountNamespace> mounts) {
  auto filesystem = std::make_shared<Filesystem>(kProcfsType, PROC_SUPER_MAGIC);
  return Dentry::make_root(std::make_shared<ProcRoot>(filesystem, std::move(mounts)));
}

}  // namespace ward::vfs
