#include "compat/sandbox_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "sentry/fs/sandbox_mounts.h"
#include "sentry/kernel/credentials.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/inode.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/open.h"
#include "sentry/vfs/path_walk.h"

namespace ward::compat {

Result<ObjectFile> open_sandbox_file(std::shared_ptr<vfs::MountNamespace> mounts,
                                     std::string_view path) {
  if (path.empty()) {
    return Errno{ENOENT};
  }
  const kernel::Credentials root_user;
  auto fs = std::make_shared<vfs::FsContext>(mounts->root(), mounts->root());
  const vfs::Caller caller{.creds = root_user, .fs = *fs, .task = nullptr};

  const vfs::VirtualDentry location = TRY(vfs::walk_path(caller, fs->root(), path));
  // Only regular files: opening a FIFO or a device could block or read
  // without end.
  if (!location.dentry->inode().is_regular()) {
    return Errno{EACCES};
  }
  vfs::FileRef file = TRY(vfs::open_location(caller, location, O_RDONLY));
  const struct stat st = TRY(file->stat());

  // The reader keeps the mount tree and the open file alive.
  ReadAt read = [mounts, file](uint64_t offset, std::span<std::byte> buffer) -> Result<size_t> {
    return file->read(buffer, static_cast<int64_t>(offset));
  };
  return ObjectFile{.read = std::move(read), .size_bytes = static_cast<uint64_t>(st.st_size)};
}

Result<std::unique_ptr<SandboxRootFiles>> SandboxRootFiles::for_host_root(
    const std::string& host_root) {
  vfs::SandboxMountConfig config;
  config.host_root = host_root;
  config.overlay = vfs::OverlayMode::kNone;
  std::shared_ptr<vfs::MountNamespace> mounts = TRY(vfs::make_sandbox_mounts(config));
  return std::make_unique<SandboxRootFiles>(std::move(mounts));
}

Result<ObjectFile> SandboxRootFiles::open(std::string_view path) {
  return open_sandbox_file(mounts_, path);
}

}  // namespace ward::compat
