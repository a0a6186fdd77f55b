#include "sentry/fs/file_gaps.h"

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace ward::vfs {

void record_missing_file(const Caller& caller, std::string_view path) {
  if (caller.task == nullptr) {
    return;
  }
  kernel::Task& task = *caller.task;
  std::string detail(kMissingFileGap);
  detail += path;
  if (task.kernel().gaps().record(compat::GapHit{.kind = compat::GapKind::kProcFile,
                                                 .syscall = task.syscall_name(),
                                                 .detail = detail,
                                                 .program = task.thread_group().exe_path(),
                                                 .pid = task.pid(),
                                                 .tid = task.tid(),
                                                 .error = ENOENT})) {
    task.log(spdlog::level::warn, "unsupported: {}", detail);
  }
}

KernelFileDirectory::KernelFileDirectory(std::shared_ptr<Filesystem> filesystem, mode_t permissions,
                                         std::string path)
    : SyntheticDirectory(std::move(filesystem), permissions), path_(std::move(path)) {}

void KernelFileDirectory::add(std::string name, std::shared_ptr<Inode> inode) {
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
