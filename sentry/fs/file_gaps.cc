#include "sentry/fs/file_gaps.h"

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace ward::vfs {

namespace {

void record_proc_file_gap(const Caller& caller, std::string detail, int error) {
  if (caller.task == nullptr) {
    return;
  }
  kernel::Task& task = *caller.task;
  if (task.kernel().gaps().record(compat::GapHit{.kind = compat::GapKind::kProcFile,
                                                 .syscall = task.syscall_name(),
                                                 .detail = detail,
                                                 .program = task.thread_group().exe_path(),
                                                 .pid = task.pid(),
                                                 .tid = task.tid(),
                                                 .error = error})) {
    task.log(spdlog::level::warn, "unsupported: {}", detail);
  }
}

}  // namespace

void record_missing_file(const Caller& caller, std::string_view path) {
  record_proc_file_gap(caller, std::string(kMissingFileGap) + std::string(path), ENOENT);
}

void record_unsupported_write(const Caller& caller, std::string_view path) {
  record_proc_file_gap(caller, std::string(kUnsupportedWriteGap) + std::string(path), EACCES);
}

KernelFileDirectory::KernelFileDirectory(std::shared_ptr<Filesystem> filesystem, mode_t permissions,
                                         std::string path)
    : SyntheticDirectory(std::move(filesystem), permissions), path_(std::move(path)) {}

void KernelFileDirectory::add(std::string name, std::shared_ptr<Inode> inode) {
  if (path_ == "/proc/sys" || path_.starts_with("/proc/sys/")) {
    if (auto* file = dynamic_cast<GeneratedFile*>(inode.get())) {
      file->set_sysctl_path(path_ + "/" + name);
    }
  }
  entries_.push_back(Entry{.name = std::move(name), .inode = std::move(inode)});
}

Result<std::vector<SyntheticDirectory::Entry>> KernelFileDirectory::entries(const Caller&) {
  return entries_;
}

Result<std::shared_ptr<Inode>> KernelFileDirectory::lookup(const Caller& caller,
                                                           std::string_view name) {
  for (const Entry& entry : entries_) {
    if (entry.name == name) {
      return entry.inode;
    }
  }
  record_missing_file(caller, path_ + "/" + std::string(name));
  return Errno{ENOENT};
}

}  // namespace ward::vfs
