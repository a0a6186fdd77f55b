#include "sentry/fs/procfs_pid.h"

#include <charconv>
#include <functional>
#include <string>

#include "sentry/fs/file_gaps.h"
#include "sentry/fs/procfs_attributes.h"
#include "sentry/fs/procfs_memory.h"
#include "sentry/fs/procfs_mounts.h"
#include "sentry/fs/procfs_net.h"
#include "sentry/fs/procfs_process.h"
#include "sentry/fs/procfs_smaps.h"
#include "sentry/fs/procfs_status.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"

namespace ward::vfs {
namespace {

// Inode numbers of per-process files are computed from the pid (or tid),
// so a file keeps its number across lookups. They sit above the numbers
// the filesystem hands out one by one, and the files of a thread's
// directory (/proc/<pid>/task/<tid>) sit apart from its process's.
constexpr uint64_t kPidInoBase = uint64_t{1} << 40;
constexpr uint64_t kThreadInoBit = uint64_t{1} << 39;
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
  kCmdline,
  kStat,
  kStatm,
  kMaps,
  kEnviron,
  kAuxv,
  kLimits,
  kTaskDir,
  kMountinfo,
  kFdinfoDir,
  kSmaps,
  kCgroup,
  kOomScore,
  kOomScoreAdj,
  kLoginuid,
  kSessionid,
};

// Linux's AUDIT_UID_UNSET and AUDIT_SID_UNSET, which loginuid and sessionid
// read until a login sets them. ward has no audit subsystem.
constexpr const char* kAuditUnset = "4294967295";

// The process, or one thread of it, that a /proc/<pid> or
// /proc/<pid>/task/<tid> directory describes.
struct ProcTarget {
  pid_t pid = 0;
  pid_t tid = 0;  // 0 for the process as a whole

  bool is_thread() const { return tid != 0; }

  // The directory's path as a compatibility gap names it, with the ids
  // left out so that every process's misses count together.
  std::string gap_path() const { return is_thread() ? "/proc/<pid>/task/<tid>" : "/proc/<pid>"; }

  uint64_t ino(uint64_t index) const {
    const pid_t id = is_thread() ? tid : pid;
    return kPidInoBase + (is_thread() ? kThreadInoBit : 0) + (static_cast<uint64_t>(id) << 16) +
           index;
  }

  // The task whose files these are: the thread, or for a process its first
  // thread. ENOENT once it is gone, and for every target when there is no
  // kernel (a caller without a task).
  Result<kernel::Task*> resolve(const Caller& caller) const {
    if (caller.task == nullptr) {
      return Errno{ENOENT};
    }
    return resolve_in(caller.task->kernel(), caller.task);
  }

  // The same within `kernel`. `caller_task`, which may be null, is tried
  // before a lookup in the kernel's tables.
  Result<kernel::Task*> resolve_in(kernel::Kernel& kernel, kernel::Task* caller_task) const {
    if (is_thread()) {
      kernel::Task* task =
          caller_task != nullptr && caller_task->tid() == tid ? caller_task : kernel.find_task(tid);
      if (task == nullptr || task->pid() != pid) {
        return Errno{ENOENT};
      }
      return task;
    }
    kernel::ThreadGroup* group = caller_task != nullptr && caller_task->pid() == pid
                                     ? &caller_task->thread_group()
                                     : kernel.find_thread_group(pid);
    if (group == nullptr || group->tasks().empty()) {
      return Errno{ENOENT};
    }
    return group->tasks().front();
  }
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
  FdLink(std::shared_ptr<Filesystem> filesystem, ProcTarget target, int fd, mode_t permissions,
         uid_t uid, gid_t gid)
      : SyntheticSymlink(
            std::move(filesystem),
            [target, fd](const Caller& caller) -> Result<LinkTarget> {
              kernel::Task* task = TRY(target.resolve(caller));
              FileRef file = TRY(task->fdtable().get(fd));
              return LinkTarget{file->location()};
            },
            target.ino(kFdInoOffset + static_cast<uint64_t>(fd)), permissions),
        target_(target),
        fd_(fd),
        uid_(uid),
        gid_(gid) {}

  Result<std::string> readlink(const Caller& caller) override {
    kernel::Task* task = TRY(target_.resolve(caller));
    FileRef file = TRY(task->fdtable().get(fd_));
    return file->display_path(caller.fs.root());
  }

 protected:
  // Linux's proc_fd_instantiate gives every fd link an st_size of 64,
  // whatever its target.
  off_t size_bytes() const override { return 64; }

  Result<std::pair<uid_t, gid_t>> owner() const override {
    return std::pair<uid_t, gid_t>{uid_, gid_};
  }

 private:
  ProcTarget target_;
  int fd_;
  uid_t uid_;
  gid_t gid_;
};

// /proc/<pid>/fd: one link per open descriptor.
class FdDirectory final : public ProcDirectory {
 public:
  FdDirectory(std::shared_ptr<Filesystem> filesystem, ProcTarget target, uid_t uid, gid_t gid)
      : ProcDirectory(std::move(filesystem), 0500, target.ino(kFdDir)),
        target_(target),
        uid_(uid),
        gid_(gid) {}

  Result<std::vector<Entry>> entries(const Caller& caller) override {
    kernel::Task* task = TRY(target_.resolve(caller));
    std::vector<Entry> list;
    for (int fd : task->fdtable().open_fds()) {
      list.push_back(Entry{.name = std::to_string(fd), .inode = TRY(make_link(*task, fd))});
    }
    return list;
  }

  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override {
    kernel::Task* task = TRY(target_.resolve(caller));
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
    // The link's permission bits show the access mode as Linux's
    // fs/proc/fd.c sets them: read adds r-x, write adds -wx, and an O_PATH
    // descriptor, which can do neither, gets none.
    mode_t permissions = 0;
    if (file->readable()) {
      permissions |= 0500;
    }
    if (file->writable()) {
      permissions |= 0300;
    }
    const auto& creds = task.creds();
    return std::shared_ptr<Inode>(std::make_shared<FdLink>(
        filesystem_ref(), target_, fd, permissions, creds.effective_uid, creds.effective_gid));
  }

  ProcTarget target_;
  uid_t uid_;
  gid_t gid_;
};

// /proc/<pid>/fdinfo: one file per open descriptor with its offset, flags,
// mount and inode.
class FdInfoDirectory final : public ProcDirectory {
 public:
  FdInfoDirectory(std::shared_ptr<Filesystem> filesystem, ProcTarget target, uid_t uid, gid_t gid)
      : ProcDirectory(std::move(filesystem), 0555, target.ino(kFdinfoDir)),
        target_(target),
        uid_(uid),
        gid_(gid) {}

  Result<std::vector<Entry>> entries(const Caller& caller) override {
    kernel::Task* task = TRY(target_.resolve(caller));
    std::vector<Entry> list;
    for (int fd : task->fdtable().open_fds()) {
      list.push_back(Entry{.name = std::to_string(fd), .inode = make_file(fd)});
    }
    return list;
  }

  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override {
    kernel::Task* task = TRY(target_.resolve(caller));
    int fd = -1;
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (error != std::errc() || end != name.data() + name.size() || fd < 0 ||
        !task->fdtable().get(fd).ok()) {
      return Errno{ENOENT};
    }
    return make_file(fd);
  }

 protected:
  Result<std::pair<uid_t, gid_t>> owner() const override {
    return std::pair<uid_t, gid_t>{uid_, gid_};
  }

 private:
  std::shared_ptr<Inode> make_file(int fd) {
    auto file = std::make_shared<GeneratedFile>(
        filesystem_ref(),
        [target = target_, fd](const Caller& caller) -> Result<std::string> {
          kernel::Task* task = TRY(target.resolve(caller));
          auto text = fdinfo_text(*task, fd);
          // A descriptor closed since the lookup is gone, as on Linux.
          if (!text.ok() && text.error() == Errno{EBADF}) {
            return Errno{ENOENT};
          }
          return text;
        },
        0444);
    file->set_owner(uid_, gid_);
    return file;
  }

  ProcTarget target_;
  uid_t uid_;
  gid_t gid_;
};

// The text of a file of `task`, read by `caller`.
using TaskFileText = std::function<Result<std::string>(const Caller& caller, kernel::Task& task)>;

// /proc/<pid> for a process, or /proc/<pid>/task/<tid> for one of its
// threads. A process's directory also lists `task`.
class PidDirectory final : public ProcDirectory {
 public:
  // `uid` and `gid` are the task's effective ids, which own its directory
  // and files as Linux shows for a dumpable process.
  PidDirectory(std::shared_ptr<Filesystem> filesystem, ProcTarget target,
               std::weak_ptr<MountNamespace> mounts, uid_t uid, gid_t gid)
      : ProcDirectory(std::move(filesystem), 0555, target.ino(kPidDir)),
        target_(target),
        mounts_(std::move(mounts)),
        uid_(uid),
        gid_(gid) {}

  // The entries in Linux's order.
  Result<std::vector<Entry>> entries(const Caller& caller) override;

  // Searches entries(), and records a name Linux has but ward lacks.
  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override {
    const std::vector<Entry> list = TRY(entries(caller));
    for (const Entry& entry : list) {
      if (entry.name == name) {
        return entry.inode;
      }
    }
    record_missing_file(caller, target_.gap_path() + "/" + std::string(name));
    return Errno{ENOENT};
  }

 protected:
  Result<std::pair<uid_t, gid_t>> owner() const override {
    return std::pair<uid_t, gid_t>{uid_, gid_};
  }

 private:
  std::shared_ptr<GeneratedFile> file(PidFile index, mode_t permissions, TaskFileText text) const;
  std::shared_ptr<Inode> link(PidFile index,
                              std::function<Result<LinkTarget>(kernel::Task&)> target) const;
  // A file the process may write: `write` gets the target task.
  std::shared_ptr<Inode> writable_file(
      PidFile index, ProcFileKind kind, TaskFileText text,
      std::function<Result<size_t>(const ProcWriter&, kernel::Task&, std::span<const std::byte>)>
          write) const;

  ProcTarget target_;
  std::weak_ptr<MountNamespace> mounts_;
  uid_t uid_;
  gid_t gid_;
};

// /proc/<pid>/task: one directory per thread of the process.
class TaskDirectory final : public ProcDirectory {
 public:
  TaskDirectory(std::shared_ptr<Filesystem> filesystem, pid_t pid,
                std::weak_ptr<MountNamespace> mounts, uid_t uid, gid_t gid)
      : ProcDirectory(std::move(filesystem), 0555, ProcTarget{.pid = pid}.ino(kTaskDir)),
        pid_(pid),
        mounts_(std::move(mounts)),
        uid_(uid),
        gid_(gid) {}

  Result<std::vector<Entry>> entries(const Caller& caller) override {
    kernel::Task* leader = TRY(ProcTarget{.pid = pid_}.resolve(caller));
    std::vector<Entry> list;
    for (kernel::Task* thread : leader->thread_group().tasks()) {
      list.push_back({std::to_string(thread->tid()), make_thread_directory(*thread)});
    }
    return list;
  }

  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override {
    const auto tid = parse_pid(name);
    if (!tid) {
      return Errno{ENOENT};
    }
    kernel::Task* thread = TRY((ProcTarget{.pid = pid_, .tid = *tid}.resolve(caller)));
    return make_thread_directory(*thread);
  }

 protected:
  Result<std::pair<uid_t, gid_t>> owner() const override {
    return std::pair<uid_t, gid_t>{uid_, gid_};
  }

 private:
  std::shared_ptr<Inode> make_thread_directory(kernel::Task& thread) {
    const auto& creds = thread.creds();
    return std::make_shared<PidDirectory>(filesystem_ref(),
                                          ProcTarget{.pid = pid_, .tid = thread.tid()}, mounts_,
                                          creds.effective_uid, creds.effective_gid);
  }

  pid_t pid_;
  std::weak_ptr<MountNamespace> mounts_;
  uid_t uid_;
  gid_t gid_;
};

std::shared_ptr<GeneratedFile> PidDirectory::file(PidFile index, mode_t permissions,
                                                  TaskFileText text) const {
  auto generated = std::make_shared<GeneratedFile>(
      filesystem_ref(),
      [target = target_, text = std::move(text)](const Caller& caller) -> Result<std::string> {
        kernel::Task* task = TRY(target.resolve(caller));
        return text(caller, *task);
      },
      permissions, 0, target_.ino(index));
  generated->set_owner(uid_, gid_);
  return generated;
}

std::shared_ptr<Inode> PidDirectory::writable_file(
    PidFile index, ProcFileKind kind, TaskFileText text,
    std::function<Result<size_t>(const ProcWriter&, kernel::Task&, std::span<const std::byte>)>
        write) const {
  auto read = [target = target_,
               text = std::move(text)](const Caller& caller) -> Result<std::string> {
    kernel::Task* task = TRY(target.resolve(caller));
    return text(caller, *task);
  };
  auto apply = [target = target_, write = std::move(write)](
                   const ProcWriter& writer, std::span<const std::byte> data) -> Result<size_t> {
    // Linux's get_proc_task: ESRCH once the task is gone.
    if (writer.kernel == nullptr) {
      return Errno{ESRCH};
    }
    auto task = target.resolve_in(*writer.kernel, nullptr);
    if (!task.ok()) {
      return Errno{ESRCH};
    }
    return write(writer, **task, data);
  };
  return std::make_shared<ProcWritableFile>(filesystem_ref(), std::move(read), std::move(apply),
                                            kind, 0644, target_.ino(index), uid_, gid_);
}

std::shared_ptr<Inode> PidDirectory::link(
    PidFile index, std::function<Result<LinkTarget>(kernel::Task&)> target) const {
  return std::make_shared<OwnedSymlink>(
      filesystem_ref(),
      [owner = target_, target = std::move(target)](const Caller& caller) -> Result<LinkTarget> {
        kernel::Task* task = TRY(owner.resolve(caller));
        return target(*task);
      },
      target_.ino(index), 0777, uid_, gid_);
}

Result<std::vector<SyntheticDirectory::Entry>> PidDirectory::entries(const Caller& caller) {
  kernel::Task* task = TRY(target_.resolve(caller));
  auto filesystem = filesystem_ref();
  const bool whole_process = !target_.is_thread();
  std::vector<Entry> list;

  if (whole_process) {
    list.push_back(
        {"task", std::make_shared<TaskDirectory>(filesystem, target_.pid, mounts_, uid_, gid_)});
  }
  list.push_back({"fd", std::make_shared<FdDirectory>(filesystem, target_, uid_, gid_)});
  list.push_back({"fdinfo", std::make_shared<FdInfoDirectory>(filesystem, target_, uid_, gid_)});
  list.push_back({"environ", file(kEnviron, 0400, [](const Caller&, kernel::Task& owner) {
                    return Result<std::string>(
                        read_environ(owner.mm().image_info(), guest_memory_reader(owner.mm())));
                  })});
  list.push_back({"auxv", file(kAuxv, 0400, [](const Caller&, kernel::Task& owner) {
                    return Result<std::string>(auxv_bytes(owner.mm().image_info()));
                  })});
  list.push_back({"status", file(kStatus, 0444, [](const Caller& who, kernel::Task& owner) {
                    return status_text(who, owner);
                  })});
  list.push_back({"limits", file(kLimits, 0444, [](const Caller&, kernel::Task& owner) {
                    return Result<std::string>(limits_text(owner));
                  })});
  list.push_back({"comm", writable_file(
                              kComm, ProcFileKind::kSeqFile,
                              [](const Caller&, kernel::Task& owner) {
                                return Result<std::string>(owner.comm() + "\n");
                              },
                              write_comm)});
  list.push_back({"cmdline", file(kCmdline, 0444, [](const Caller&, kernel::Task& owner) {
                    return Result<std::string>(
                        read_cmdline(owner.mm().image_info(), guest_memory_reader(owner.mm())));
                  })});
  list.push_back(
      {"stat", file(kStat, 0444, [whole_process](const Caller& who, kernel::Task& owner) {
         return stat_text(who, owner, whole_process);
       })});
  list.push_back({"statm", file(kStatm, 0444, [](const Caller&, kernel::Task& owner) {
                    return statm_text(owner);
                  })});
  list.push_back({"maps", file(kMaps, 0444, [](const Caller&, kernel::Task& owner) {
                    return maps_text(owner);
                  })});
  list.push_back({"cwd", link(kCwd, [](kernel::Task& owner) -> Result<LinkTarget> {
                    return LinkTarget{owner.fs().cwd()};
                  })});
  list.push_back({"root", link(kRoot, [](kernel::Task& owner) -> Result<LinkTarget> {
                    return LinkTarget{owner.fs().root()};
                  })});
  // The executable's path, walked again inside the sandbox when followed.
  if (!task->thread_group().exe_path().empty()) {
    list.push_back({"exe", link(kExe, [](kernel::Task& owner) -> Result<LinkTarget> {
                      return LinkTarget{owner.thread_group().exe_path()};
                    })});
  }
  auto mounts_file = file(
      kMounts, 0444, [mounts = mounts_](const Caller&, kernel::Task& owner) -> Result<std::string> {
        auto tree = owner.fs().mount_namespace() ? owner.fs().mount_namespace() : mounts.lock();
        if (!tree) {
          return Errno{ENOENT};
        }
        return mounts_text(owner.fs().root(), *tree);
      });
  auto mountinfo_file = file(
      kMountinfo, 0444,
      [mounts = mounts_](const Caller&, kernel::Task& owner) -> Result<std::string> {
        auto tree = owner.fs().mount_namespace() ? owner.fs().mount_namespace() : mounts.lock();
        if (!tree) {
          return Errno{ENOENT};
        }
        return mountinfo_text(owner.fs().root(), *tree);
      });
  // Linux's mounts_poll reports these readable only, never writable.
  // NOTE: it adds POLLERR and POLLPRI after a mount change since the open;
  // ward does not.
  mounts_file->set_poll_events(POLLIN | POLLRDNORM);
  mountinfo_file->set_poll_events(POLLIN | POLLRDNORM);
  list.push_back({"mounts", mounts_file});
  list.push_back({"mountinfo", mountinfo_file});
  list.push_back({"smaps", file(kSmaps, 0444, [](const Caller&, kernel::Task& owner) {
                    return smaps_text(owner);
                  })});
  // The sandbox is the root of its own cgroup hierarchy, a cgroup v2 one.
  list.push_back({"cgroup", file(kCgroup, 0444, [](const Caller&, kernel::Task&) {
                    return Result<std::string>("0::/\n");
                  })});
  list.push_back({"oom_score", file(kOomScore, 0444, [](const Caller&, kernel::Task& owner) {
                    return oom_score_text(owner);
                  })});
  list.push_back(
      {"oom_score_adj",
       writable_file(
           kOomScoreAdj, ProcFileKind::kPlain,
           [](const Caller&, kernel::Task& owner) {
             return Result<std::string>(std::to_string(owner.thread_group().oom_score_adj()) +
                                        "\n");
           },
           [](const ProcWriter& writer, kernel::Task& owner, std::span<const std::byte> data) {
             return write_oom_score_adj(writer, owner.thread_group(), data);
           })});
  // Linux prints both ids without a newline.
  // NOTE: loginuid is writable on Linux. ward has no audit login ids, so
  // it keeps no written value, and a write fails with EINVAL.
  list.push_back({"loginuid", file(kLoginuid, 0644, [](const Caller&, kernel::Task&) {
                    return Result<std::string>(kAuditUnset);
                  })});
  list.push_back({"sessionid", file(kSessionid, 0444, [](const Caller&, kernel::Task&) {
                    return Result<std::string>(kAuditUnset);
                  })});
  list.push_back({"net", proc_net_directory(filesystem)});
  return list;
}

}  // namespace

std::optional<pid_t> parse_pid(std::string_view name) {
  pid_t pid = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (error != std::errc() || end != name.data() + name.size() || pid <= 0 || name[0] == '0') {
    return std::nullopt;
  }
  return pid;
}

Result<std::shared_ptr<Inode>> make_pid_directory(const std::shared_ptr<Filesystem>& filesystem,
                                                  const Caller& caller, pid_t pid,
                                                  std::weak_ptr<MountNamespace> mounts) {
  const ProcTarget target{.pid = pid};
  kernel::Task* task = TRY(target.resolve(caller));
  const auto& creds = task->creds();
  return std::shared_ptr<Inode>(std::make_shared<PidDirectory>(
      filesystem, target, std::move(mounts), creds.effective_uid, creds.effective_gid));
}

}  // namespace ward::vfs
