#include "sentry/fs/sandbox_mounts.h"

#include "sentry/fs/devfs.h"
#include "sentry/fs/hostfs.h"
#include "sentry/fs/procfs.h"
#include "sentry/fs/synthetic.h"
#include "sentry/fs/sysfs.h"
#include "sentry/kernel/credentials.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/path_walk.h"

namespace ward::vfs {
namespace {

// The directory `name` in the root, for a mount to cover. When the host
// root lacks it, or it is a host kernel filesystem hostfs refuses, or not a
// directory, an empty directory of the sentry's replaces it.
VirtualDentry mountpoint_in_root(const VirtualDentry& root, const std::string& name) {
  const kernel::Credentials root_creds;
  const FsContext at_root(root, root);
  const Caller caller{.creds = root_creds, .fs = at_root, .task = nullptr};

  auto found = lookup_child(caller, root, name);
  if (found.ok() && found->mount == root.mount && found->dentry->inode().is_dir()) {
    return *found;
  }
  // NOTE: a stand-in directory does not show up in a listing of the root.
  static const auto stand_in_filesystem = std::make_shared<Filesystem>("none", 0);
  auto stand_in = std::make_shared<StaticDirectory>(stand_in_filesystem, 0555);
  return VirtualDentry{.mount = root.mount, .dentry = root.dentry->add_child(name, stand_in)};
}

Result<void> mount_in_root(MountNamespace& mounts, const std::string& name,
                           std::shared_ptr<Dentry> filesystem_root, const std::string& source,
                           const MountOptions& options) {
  const VirtualDentry mountpoint = mountpoint_in_root(mounts.root(), name);
  auto mount = std::make_shared<Mount>(std::move(filesystem_root), source, options);
  return mounts.attach(mountpoint, std::move(mount));
}

}  // namespace

Result<std::shared_ptr<MountNamespace>> make_sandbox_mounts(const std::string& host_root_path) {
  return make_sandbox_mounts(
      SandboxMountConfig{.host_root = host_root_path,
                         .overlay = OverlayMode::kNone,
                         .overlay_size_bytes = 0,
                         .binds = {},
                         .tmpfs = {}});
}

Result<std::shared_ptr<MountNamespace>> make_sandbox_mounts(const SandboxMountConfig& config) {
  // NOTE: binds and tmpfs mounts arrive with hostfs writes and tmpfs.
  if (!config.binds.empty() || !config.tmpfs.empty()) {
    return Errno{EINVAL};
  }
  std::shared_ptr<Dentry> host_root = TRY(HostFilesystem::create_root(config.host_root));

  // NOTE: the root is read-only until the overlay exists; every write,
  // create, rename or attribute change under it fails with EROFS.
  const MountOptions root_options{.read_only = true, .nodev = true};
  auto root_mount = std::make_shared<Mount>(std::move(host_root), "none", root_options);
  auto mounts = std::make_shared<MountNamespace>(std::move(root_mount));

  const MountOptions devfs_options{.read_only = true, .noexec = true, .nosuid = true};
  TRY(mount_in_root(*mounts, "dev", make_devfs_root(), "devtmpfs", devfs_options));

  const MountOptions kernel_options{
      .read_only = true, .nodev = true, .noexec = true, .nosuid = true};
  TRY(mount_in_root(*mounts, "proc", make_procfs_root(mounts), "proc", kernel_options));
  TRY(mount_in_root(*mounts, "sys", make_sysfs_root(), "sysfs", kernel_options));
  return mounts;
}

}  // namespace ward::vfs
