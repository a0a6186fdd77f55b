#include "sentry/fs/sandbox_mounts.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <string_view>

#include "sentry/fs/devfs.h"
#include "sentry/fs/hostfs.h"
#include "sentry/fs/overlay.h"
#include "sentry/fs/procfs.h"
#include "sentry/fs/synthetic.h"
#include "sentry/fs/sysfs.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/kernel/credentials.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/path_walk.h"
#include "ward/errno_name.h"

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

// The directory at the absolute `path`, for a tmpfs mount to cover. A
// missing component is made as a directory where the filesystem can make
// one (a tmpfs, a writable root). Elsewhere a small read-only tmpfs covers
// it and the rest of the path is made there, so the sandbox root's host
// directory is never written.
Result<VirtualDentry> mountpoint_at(MountNamespace& mounts, std::string_view path) {
  const kernel::Credentials root_creds;
  const FsContext at_root(mounts.root(), mounts.root());
  const Caller caller{.creds = root_creds, .fs = at_root, .task = nullptr};

  VirtualDentry current = mounts.root();
  size_t position = 0;
  while (position < path.size()) {
    const size_t end = std::min(path.find('/', position), path.size());
    const std::string_view name = path.substr(position, end - position);
    position = end + 1;
    if (name.empty() || name == ".") {
      continue;
    }
    if (name == "..") {
      return Errno{EINVAL};
    }

    auto found = lookup_child(caller, current, name);
    if (found.ok()) {
      if (!found->dentry->inode().is_dir()) {
        return Errno{ENOTDIR};
      }
      current = std::move(*found);
      continue;
    }
    if (found.error().value != ENOENT) {
      return found.error();
    }

    const NewNode directory{
        .mode = S_IFDIR | 0755, .uid = 0, .gid = 0, .device = 0, .link_target = {}};
    auto made = current.dentry->inode().create(caller, name, directory);
    if (made.ok()) {
      current.dentry = current.dentry->add_child(name, std::move(*made));
      continue;
    }
    // NOTE: the stand-in does not show up in a listing of its parent.
    auto stand_in = std::make_shared<StaticDirectory>(
        std::make_shared<Filesystem>("none", 0), 0755);
    const VirtualDentry covered{.mount = current.mount,
                                .dentry = current.dentry->add_child(name, stand_in)};
    auto cover = std::make_shared<Mount>(make_tmpfs_root(0, 0755), "tmpfs",
                                         MountOptions{.read_only = true, .nodev = true,
                                                      .noexec = false, .nosuid = true});
    TRY(mounts.attach(covered, cover));
    current = cross_mounts(covered);
  }
  return current;
}

// Mounts a new tmpfs of `size_bytes` (0: the default) with `permissions`
// at the absolute `path`.
Result<void> mount_tmpfs(MountNamespace& mounts, std::string_view path, uint64_t size_bytes,
                         mode_t permissions) {
  if (path.empty() || path.front() != '/') {
    return Errno{EINVAL};
  }
  const VirtualDentry mountpoint = TRY(mountpoint_at(mounts, path));
  // Linux's /dev/shm and container runtimes' tmpfs mounts are nosuid,nodev.
  const MountOptions options{.read_only = false, .nodev = true, .noexec = false, .nosuid = true};
  auto mount = std::make_shared<Mount>(make_tmpfs_root(size_bytes, permissions), "tmpfs", options);
  return mounts.attach(mountpoint, std::move(mount));
}

Result<void> mount_in_root(MountNamespace& mounts, const std::string& name,
                           std::shared_ptr<Dentry> filesystem_root, const std::string& source,
                           const MountOptions& options) {
  const VirtualDentry mountpoint = mountpoint_in_root(mounts.root(), name);
  auto mount = std::make_shared<Mount>(std::move(filesystem_root), source, options);
  return mounts.attach(mountpoint, std::move(mount));
}

// The place a bind of a directory (`directory`) or a file is mounted at:
// `guest_path` walked from the root, following symlinks inside the sandbox
// as mount(2) does. Every missing component gets a stand-in of the sentry's,
// a directory, or for a file bind's last component an empty file, as
// mountpoint_in_root makes. ENOTDIR when an existing component above is not
// a directory or the existing last one is not of the bind's kind.
Result<VirtualDentry> bind_mountpoint(const MountNamespace& mounts, const std::string& guest_path,
                                      bool directory) {
  const kernel::Credentials root_creds;
  const FsContext at_root(mounts.root(), mounts.root());
  const Caller caller{.creds = root_creds, .fs = at_root, .task = nullptr};
  static const auto stand_in_filesystem = std::make_shared<Filesystem>("none", 0);

  std::vector<std::string> components;
  for (size_t start = 0; start < guest_path.size();) {
    size_t end = guest_path.find('/', start);
    if (end == std::string::npos) {
      end = guest_path.size();
    }
    std::string component = guest_path.substr(start, end - start);
    if (!component.empty() && component != ".") {
      components.push_back(std::move(component));
    }
    start = end + 1;
  }

  VirtualDentry current = mounts.root();
  for (size_t index = 0; index < components.size(); ++index) {
    const std::string& name = components[index];
    const bool last = index + 1 == components.size();
    const bool want_directory = !last || directory;

    auto found = walk_path(caller, current, name, WalkOptions{.follow_final = true});
    // EACCES: hostfs refuses a host kernel filesystem there.
    if (found.ok() || (found.error().value != ENOENT && found.error().value != EACCES)) {
      VirtualDentry location = TRY(std::move(found));
      if (location.dentry->inode().is_dir() != want_directory) {
        return Errno{ENOTDIR};
      }
      current = std::move(location);
      continue;
    }

    std::shared_ptr<Inode> stand_in;
    if (want_directory) {
      stand_in = std::make_shared<StaticDirectory>(stand_in_filesystem, 0555);
    } else {
      stand_in = std::make_shared<GeneratedFile>(
          stand_in_filesystem, [](const Caller&) -> Result<std::string> { return std::string(); });
    }
    // A stand-in directory lists what is made in it, so that `ls` shows the
    // way to a nested bind.
    if (auto* parent = dynamic_cast<StaticDirectory*>(&current.dentry->inode())) {
      parent->add(name, stand_in);
    }
    current = VirtualDentry{.mount = current.mount,
                            .dentry = current.dentry->add_child(name, std::move(stand_in))};
  }
  return current;
}

// Attaches a hostfs of each bind's host path at its guest path, in order,
// so that a later bind may sit inside an earlier one. A read-only bind is a
// read-only mount of a read-only hostfs. A read-write one lets the guest
// change the host files below the bind and nothing outside it.
Result<void> attach_binds(MountNamespace& mounts, const std::vector<BindMount>& binds) {
  for (const BindMount& bind : binds) {
    auto attached = [&]() -> Result<void> {
      std::shared_ptr<Dentry> bind_root =
          TRY(HostFilesystem::create_bind_root(bind.host_path, !bind.read_only));
      const VirtualDentry mountpoint =
          TRY(bind_mountpoint(mounts, bind.guest_path, bind_root->inode().is_dir()));
      const MountOptions options{.read_only = bind.read_only, .nodev = true, .nosuid = true};
      return mounts.attach(mountpoint,
                           std::make_shared<Mount>(std::move(bind_root), bind.host_path, options));
    }();
    if (!attached.ok()) {
      spdlog::error("sentry: cannot bind {} at {}: {}", bind.host_path, bind.guest_path,
                    errno_name(attached.error().value));
      return attached.error();
    }
  }
  return ok();
}

// Makes the read-write overlay mount of `host_root` under the tmpfs root
// `upper_base`.
Result<std::shared_ptr<Mount>> make_overlay_mount(Dentry& host_root,
                                                  std::shared_ptr<Inode> upper_base) {
  std::shared_ptr<Dentry> root =
      TRY(OverlayFilesystem::create_root(host_root.inode_ref(), std::move(upper_base)));
  const MountOptions options{.read_only = false, .nodev = true};
  return std::make_shared<Mount>(std::move(root), kOverlayType, options);
}

// The root mount: the host root read-only, or an overlay of it whose upper
// layer is a tmpfs of `config.overlay_size_bytes`. Its default is tmpfs's,
// half the host's RAM, when the data stays in memory, and the size of the
// host filesystem when the data goes to `config.overlay_directory`. All are
// nodev: the host's device nodes stay closed.
Result<std::shared_ptr<Mount>> make_root_mount(const SandboxMountConfig& config) {
  std::shared_ptr<Dentry> host_root = TRY(HostFilesystem::create_root(config.host_root));
  switch (config.overlay) {
    case OverlayMode::kNone: {
      const MountOptions options{.read_only = true, .nodev = true};
      return std::make_shared<Mount>(std::move(host_root), "none", options);
    }
    case OverlayMode::kMemory: {
      auto upper_base = make_tmpfs_root_inode(config.overlay_size_bytes, 0755);
      return make_overlay_mount(*host_root, std::move(upper_base));
    }
    case OverlayMode::kHostDirectory: {
      auto upper_base = make_host_backed_tmpfs_root_inode(config.overlay_size_bytes, 0755,
                                                          config.overlay_directory);
      if (!upper_base.ok()) {
        spdlog::error("sentry: failed to open the overlay directory {}: {}",
                      config.overlay_directory, errno_name(upper_base.error().value));
        return upper_base.error();
      }
      return make_overlay_mount(*host_root, std::move(*upper_base));
    }
  }
  return Errno{EINVAL};
}

}  // namespace

Result<std::shared_ptr<MountNamespace>> make_sandbox_mounts(const std::string& host_root_path) {
  return make_sandbox_mounts(SandboxMountConfig{.host_root = host_root_path,
                                                .overlay = OverlayMode::kNone,
                                                .overlay_size_bytes = 0,
                                                .binds = {},
                                                .tmpfs = {},
                                                .overlay_directory = {}});
}

Result<std::shared_ptr<MountNamespace>> make_sandbox_mounts(const SandboxMountConfig& config) {
  auto mounts = std::make_shared<MountNamespace>(TRY(make_root_mount(config)));

  const MountOptions devfs_options{.read_only = true, .noexec = true, .nosuid = true};
  TRY(mount_in_root(*mounts, "dev", make_devfs_root(), "devtmpfs", devfs_options));

  // /proc is read-write as on Linux: each file's mode and open method
  // decide whether it takes writes (comm, oom_score_adj). sysfs stays
  // read-only.
  const MountOptions procfs_options{
      .read_only = false, .nodev = true, .noexec = true, .nosuid = true};
  const MountOptions sysfs_options{
      .read_only = true, .nodev = true, .noexec = true, .nosuid = true};
  TRY(mount_in_root(*mounts, "proc", make_procfs_root(mounts), "proc", procfs_options));
  TRY(mount_in_root(*mounts, "sys", make_sysfs_root(), "sysfs", sysfs_options));

  // POSIX shared memory (shm_open, sem_open) lives in /dev/shm.
  TRY(mount_tmpfs(*mounts, "/dev/shm", 0, 01777));
  TRY(attach_binds(*mounts, config.binds));
  for (const TmpfsMount& tmpfs : config.tmpfs) {
    TRY(mount_tmpfs(*mounts, tmpfs.guest_path, tmpfs.size_bytes, 01777));
  }
  return mounts;
}

}  // namespace ward::vfs
