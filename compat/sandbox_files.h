// Reading files of a sandbox's mount tree for the compatibility report:
// object files to symbolize guest stacks and, for preflight, the binaries
// and libraries of a root. Paths are walked by the sentry's own path walk
// from the namespace's root, so a symlink is resolved inside the sandbox
// and never leads to a host file outside it.
#pragma once

#include <memory>
#include <string_view>

#include "compat/preflight.h"
#include "compat/symbolizer.h"
#include "ward/result.h"

namespace ward::vfs {
class MountNamespace;
}

namespace ward::compat {

// Opens the regular file at `path` in `mounts` as the sandbox's root user,
// following symlinks inside the sandbox. EACCES for a file that is not
// regular; the walk's errno (ENOENT, ELOOP...) otherwise.
Result<ObjectFile> open_sandbox_file(std::shared_ptr<vfs::MountNamespace> mounts,
                                     std::string_view path);

// The files of a sandbox's mount tree, for preflight.
class SandboxRootFiles final : public RootFiles {
 public:
  explicit SandboxRootFiles(std::shared_ptr<vfs::MountNamespace> mounts)
      : mounts_(std::move(mounts)) {}

  // Builds the read-only mount tree of the host directory `host_root`.
  static Result<std::unique_ptr<SandboxRootFiles>> for_host_root(const std::string& host_root);

  Result<ObjectFile> open(std::string_view path) override;

 private:
  std::shared_ptr<vfs::MountNamespace> mounts_;
};

}  // namespace ward::compat
