#include "sentry/fs/procfs.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/utsname.h>

#include <charconv>
#include <string>

#include "sentry/fs/synthetic.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"

namespace ward::vfs {
namespace {

// Inode numbers of per-process files are computed from the pid, so a file
// keeps its number across lookups. They sit above the numbers the
// filesystem hands out one by one.
constexpr uint64_t kPidInoBase = uint64_t{1} << 40;
constexpr uint64_t kFdInoOffset = 0x8000;

enum PidFile : uint64_t {
  kPidDir = 1,
  kCwd,
  kRoot,
  kFdDir,
  kComm,
  kStatus,
  kMounts,
  kExe,
  kCmdline
};

// The maximum bytes /proc/<pid>/cmdline returns; Linux reads the whole argv
// area, which execve bounds the same way (ARG_MAX).
constexpr uint64_t kMaxCmdlineBytes = 2 * 1024 * 1024;

uint64_t pid_ino(pid_t pid, uint64_t index) {
  return kPidInoBase + (static_cast<uint64_t>(pid) << 16) + index;
}

std::optional<pid_t> parse_pid(std::string_view name) {
  pid_t pid = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (error != std::errc() || end != name.data() + name.size() || pid <= 0 || name[0] == '0') {
    return std::nullopt;
  }
  return pid;
}

// The task that stands for process `pid`: its first thread. ENOENT for a
// pid that names no live process, and for every pid when there is no
// kernel (a caller without a task).
Result<kernel::Task*> task_for(const Caller& caller, pid_t pid) {
  if (caller.task == nullptr) {
    return Errno{ENOENT};
  }
  if (caller.task->pid() == pid) {
    return caller.task;
  }
  kernel::ThreadGroup* group = caller.task->kernel().find_thread_group(pid);
  if (group == nullptr || group->tasks().empty()) {
    return Errno{ENOENT};
  }
  return group->tasks().front();
}

// Escapes a path for /proc/mounts the way Linux's mangle() does.
std::string escape_mount_field(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      escaped += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// A procfs directory. Its entries depend on the caller and change as
// processes come and go, so looked-up children are never reused.
class ProcDirectory : public SyntheticDirectory {
 public:
  using SyntheticDirectory::SyntheticDirectory;
  bool revalidate(const Caller&, std::string_view, const Inode&) override { return false; }
};

class OwnedSymlink final : public SyntheticSymlink {
 public:
  OwnedSymlink(std::shared_ptr<Filesystem> filesystem, Target target, uint64_t ino,
               mode_t permissions, uid_t uid, gid_t gid)
      : SyntheticSymlink(std::move(filesystem), std::move(target), ino, permissions),
        uid_(uid),
        gid_(gid) {}

 protected:
  Result<std::pair<uid_t, gid_t>> owner() const override {
    return std::pair<uid_t, gid_t>{uid_, gid_};
  }

 private:
  uid_t uid_;
  gid_t gid_;
};

// /proc/<pid>/fd/<n>: a magic link to the open file itself.
class FdLink final : public SyntheticSymlink {
 public:
  FdLink(std::shared_ptr<Filesystem> filesystem, pid_t pid, int fd, mode_t permissions, uid_t uid,
         gid_t gid)
      : SyntheticSymlink(
            std::move(filesystem),
            [pid, fd](const Caller& caller) -> Result<LinkTarget> {
              kernel::Task* task = TRY(task_for(caller, pid));
              FileRef file = TRY(task->fdtable().get(fd));
              return LinkTarget{file->location()};
            },
            pid_ino(pid, kFdInoOffset + static_cast<uint64_t>(fd)), permissions),
        pid_(pid),
        fd_(fd),
        uid_(uid),
        gid_(gid) {}

  Result<std::string> readlink(const Caller& caller) override {
    kernel::Task* task = TRY(task_for(caller, pid_));
    FileRef file = TRY(task->fdtable().get(fd_));
    return file->display_path(caller.fs.root());
  }

 protected:
  Result<std::pair<uid_t, gid_t>> owner() const override {
    return std::pair<uid_t, gid_t>{uid_, gid_};
  }

 private:
  pid_t pid_;
  int fd_;
  uid_t uid_;
  gid_t gid_;
};

// /proc/<pid>/fd: one link per open descriptor.
class FdDirectory final : public ProcDirectory {
 public:
  FdDirectory(std::shared_ptr<Filesystem> filesystem, pid_t pid, uid_t uid, gid_t gid)
      : ProcDirectory(std::move(filesystem), 0500, pid_ino(pid, kFdDir)),
        pid_(pid),
        uid_(uid),
        gid_(gid) {}

  Result<std::vector<Entry>> entries(const Caller& caller) override {
    kernel::Task* task = TRY(task_for(caller, pid_));
    std::vector<Entry> list;
    for (int fd : task->fdtable().open_fds()) {
      list.push_back(Entry{.name = std::to_string(fd), .inode = TRY(make_link(*task, fd))});
    }
    return list;
  }

  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override {
    kernel::Task* task = TRY(task_for(caller, pid_));
    int fd = -1;
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (error != std::errc() || end != name.data() + name.size() || fd < 0) {
      return Errno{ENOENT};
    }
    auto link = make_link(*task, fd);
    if (!link.ok()) {
      return Errno{ENOENT};
    }
    return *link;
  }

 protected:
  Result<std::pair<uid_t, gid_t>> owner() const override {
    return std::pair<uid_t, gid_t>{uid_, gid_};
  }

 private:
  Result<std::shared_ptr<Inode>> make_link(kernel::Task& task, int fd) {
    FileRef file = TRY(task.fdtable().get(fd));
    // The link's permission bits show the access mode, as on Linux.
    mode_t permissions = 0;
    if (file->readable() || file->path_only()) {
      permissions |= 0500;
    }
    if (file->writable()) {
      permissions |= 0200;
    }
    const auto& creds = task.creds();
    return std::shared_ptr<Inode>(std::make_shared<FdLink>(
        filesystem_ref(), pid_, fd, permissions, creds.effective_uid, creds.effective_gid));
  }

  pid_t pid_;
  uid_t uid_;
  gid_t gid_;
};

// /proc/<pid>/status, with the fields the sentry can fill.
Result<std::string> status_text(kernel::Task& task) {
  const kernel::Credentials& creds = task.creds();
  kernel::ThreadGroup& group = task.thread_group();
  const kernel::ThreadGroup* parent = group.parent();
  std::string text;
  text += fmt::format("Name:\t{}\n", task.comm());
  text += fmt::format("Umask:\t{:04o}\n", task.fs().umask());
  // TODO: State, TracerPid and the Vm*, Sig* and Cpus_allowed fields need
  // the scheduler's task states, ptrace, and signal and memory accounting.
  text += fmt::format("Tgid:\t{}\n", task.pid());
  text += fmt::format("Pid:\t{}\n", task.pid());
  text += fmt::format("PPid:\t{}\n", parent != nullptr ? parent->tgid() : 0);
  text += fmt::format("Uid:\t{}\t{}\t{}\t{}\n", creds.real_uid, creds.effective_uid,
                      creds.saved_uid, creds.fs_uid);
  text += fmt::format("Gid:\t{}\t{}\t{}\t{}\n", creds.real_gid, creds.effective_gid,
                      creds.saved_gid, creds.fs_gid);
  text += "Groups:\t";
  for (gid_t supplementary : creds.supplementary_groups) {
    text += fmt::format("{} ", supplementary);
  }
  text += "\n";
  text += fmt::format("Threads:\t{}\n", group.tasks().size());
  return text;
}

// /proc/<pid>/cmdline: the argv area of the process's initial stack, NULs
// included.
Result<std::string> cmdline_text(kernel::Task& task) {
  const auto& image = task.mm().image_info();
  if (image.arg_end <= image.arg_start) {
    return std::string();
  }
  const uint64_t length = std::min(image.arg_end - image.arg_start, kMaxCmdlineBytes);
  std::string text(length, '\0');
  TRY(task.mm().copy_in(image.arg_start, std::as_writable_bytes(std::span(text))));
  return text;
}

Result<std::string> mounts_text(const Caller& caller, const std::weak_ptr<MountNamespace>& mounts) {
  auto tree = mounts.lock();
  if (!tree) {
    return Errno{ENOENT};
  }
  std::string text;
  for (const auto& mount : tree->mounts()) {
    const PathName at = name_from_root(caller.fs.root(), {mount, mount->root()});
    if (!at.reachable) {
      continue;
    }
    const std::string& type = mount->root()->inode().filesystem().type_name();
    text += fmt::format("{} {} {} {} 0 0\n", escape_mount_field(mount->source()),
                        escape_mount_field(at.path), type, mount->options_string());
  }
  return text;
}

// /proc/<pid>: the calling process's own directory.
class PidDirectory final : public ProcDirectory {
 public:
  // `uid` and `gid` are the process's effective ids, which own its
  // directory as Linux shows for a dumpable process.
  PidDirectory(std::shared_ptr<Filesystem> filesystem, pid_t pid,
               std::weak_ptr<MountNamespace> mounts, uid_t uid, gid_t gid)
      : ProcDirectory(std::move(filesystem), 0555, pid_ino(pid, kPidDir)),
        pid_(pid),
        mounts_(std::move(mounts)),
        uid_(uid),
        gid_(gid) {}

  // NOTE: stat (and statm, maps, environ) are absent until the scheduler
  // and memory manager keep the states and counters they report.
  Result<std::vector<Entry>> entries(const Caller& caller) override {
    kernel::Task* task = TRY(task_for(caller, pid_));
    const auto& creds = task->creds();
    const uid_t uid = creds.effective_uid;
    const gid_t gid = creds.effective_gid;
    auto filesystem = filesystem_ref();
    const pid_t pid = pid_;

    std::vector<Entry> list;
    list.push_back({"cwd", std::make_shared<OwnedSymlink>(
                               filesystem,
                               [pid](const Caller& who) -> Result<LinkTarget> {
                                 kernel::Task* owner = TRY(task_for(who, pid));
                                 return LinkTarget{owner->fs().cwd()};
                               },
                               pid_ino(pid, kCwd), 0777, uid, gid)});
    list.push_back({"root", std::make_shared<OwnedSymlink>(
                                filesystem,
                                [pid](const Caller& who) -> Result<LinkTarget> {
                                  kernel::Task* owner = TRY(task_for(who, pid));
                                  return LinkTarget{owner->fs().root()};
                                },
                                pid_ino(pid, kRoot), 0777, uid, gid)});
    list.push_back({"fd", std::make_shared<FdDirectory>(filesystem, pid, uid, gid)});
    // The executable's path, walked again inside the sandbox when followed.
    if (!task->thread_group().exe_path().empty()) {
      list.push_back({"exe", std::make_shared<OwnedSymlink>(
                                 filesystem,
                                 [pid](const Caller& who) -> Result<LinkTarget> {
                                   kernel::Task* owner = TRY(task_for(who, pid));
                                   return LinkTarget{owner->thread_group().exe_path()};
                                 },
                                 pid_ino(pid, kExe), 0777, uid, gid)});
    }
    list.push_back({"cmdline", std::make_shared<GeneratedFile>(
                                   filesystem,
                                   [pid](const Caller& who) -> Result<std::string> {
                                     kernel::Task* owner = TRY(task_for(who, pid));
                                     return cmdline_text(*owner);
                                   },
                                   0444, 0, pid_ino(pid, kCmdline))});
    list.push_back({"comm", std::make_shared<GeneratedFile>(
                                filesystem,
                                [pid](const Caller& who) -> Result<std::string> {
                                  kernel::Task* owner = TRY(task_for(who, pid));
                                  return owner->comm() + "\n";
                                },
                                0644, 0, pid_ino(pid, kComm))});
    list.push_back({"status", std::make_shared<GeneratedFile>(
                                  filesystem,
                                  [pid](const Caller& who) -> Result<std::string> {
                                    kernel::Task* owner = TRY(task_for(who, pid));
                                    return status_text(*owner);
                                  },
                                  0444, 0, pid_ino(pid, kStatus))});
    list.push_back(
        {"mounts",
         std::make_shared<GeneratedFile>(
             filesystem, [mounts = mounts_](const Caller& who) { return mounts_text(who, mounts); },
             0444, 0, pid_ino(pid, kMounts))});
    return list;
  }

 protected:
  Result<std::pair<uid_t, gid_t>> owner() const override {
    return std::pair<uid_t, gid_t>{uid_, gid_};
  }

 private:
  pid_t pid_;
  std::weak_ptr<MountNamespace> mounts_;
  uid_t uid_;
  gid_t gid_;
};

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
      list.push_back({std::to_string(group->tgid()), make_pid_directory(*group->tasks().front())});
    }
    return list;
  }

  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override {
    if (auto pid = parse_pid(name)) {
      kernel::Task* task = TRY(task_for(caller, *pid));
      return make_pid_directory(*task);
    }
    for (const Entry& entry : fixed_) {
      if (entry.name == name) {
        return entry.inode;
      }
    }
    return Errno{ENOENT};
  }

 private:
  std::shared_ptr<Inode> make_pid_directory(kernel::Task& task) {
    const auto& creds = task.creds();
    return std::make_shared<PidDirectory>(filesystem_ref(), task.pid(), mounts_,
                                          creds.effective_uid, creds.effective_gid);
  }

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
