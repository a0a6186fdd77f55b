// The per-process directories of procfs: /proc/<pid> with its files, fd
// links and task/ directory, and /proc/<pid>/task/<tid> for each thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string_view>

#include "sentry/fs/synthetic.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/mount.h"
#include "ward/result.h"

namespace ward::vfs {

// A procfs directory. Its entries depend on the caller and change as
// processes come and go, so looked-up children are never reused.
class ProcDirectory : public SyntheticDirectory {
 public:
  using SyntheticDirectory::SyntheticDirectory;
  bool revalidate(const Caller&, std::string_view, const Inode&) override { return false; }
};

// The pid a directory name stands for: decimal, positive, without a
// leading zero.
std::optional<pid_t> parse_pid(std::string_view name);

// /proc/<pid> for process `pid`, looked up for `caller`, with mounts files
// describing `mounts`. ENOENT when no such process exists, and for every
// pid when there is no kernel (a caller without a task).
Result<std::shared_ptr<Inode>> make_pid_directory(const std::shared_ptr<Filesystem>& filesystem,
                                                  const Caller& caller, pid_t pid,
                                                  std::weak_ptr<MountNamespace> mounts);

}  // namespace ward::vfs
