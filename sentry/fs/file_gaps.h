// Compatibility gaps for the kernel files of procfs and sysfs: a name a
// guest looks up in a directory whose Linux counterpart has it, but ward's
// does not, is recorded like a missing syscall flag, with the detail
// "missing file <path>".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sentry/fs/synthetic.h"
#include "sentry/vfs/caller.h"

namespace ward::vfs {

// The prefix of the gap detail of a missing file.
inline constexpr std::string_view kMissingFileGap = "missing file ";

// Records that the caller's task looked up `path`, which ward lacks, under
// the syscall it is running. Does nothing for a caller without a task.
void record_missing_file(const Caller& caller, std::string_view path);

// The prefix of the gap detail of a write to a file ward cannot change.
inline constexpr std::string_view kUnsupportedWriteGap = "write to ";

// Records that the caller's task opened `path` for writing, which Linux
// allows but ward does not support (a sysctl), failing with EACCES.
void record_unsupported_write(const Caller& caller, std::string_view path);

// A directory with a fixed set of entries, like StaticDirectory, whose
// lookup of any other name records a missing file under `path`.
class KernelFileDirectory final : public SyntheticDirectory {
 public:
  // `path` is the directory's path inside the sandbox ("/proc/sys/kernel").
  KernelFileDirectory(std::shared_ptr<Filesystem> filesystem, mode_t permissions, std::string path);

  // Adds an entry. Under /proc/sys a GeneratedFile becomes a sysctl
  // (GeneratedFile::set_sysctl_path).
  void add(std::string name, std::shared_ptr<Inode> inode);

  const std::string& path() const { return path_; }

  Result<std::vector<Entry>> entries(const Caller& caller) override;
  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override;

 private:
  std::string path_;
  std::vector<Entry> entries_;
};

}  // namespace ward::vfs
