// The mount tree of a new sandbox: the host directory given as its root,
// under an overlay that keeps changes in a sentry tmpfs (or read-only
// without one).
// The sentry's devfs, procfs and sysfs cover /dev, /proc and /sys, so the
// host's own are never reachable, and a tmpfs is mounted on /dev/shm.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sentry/vfs/mount.h"
#include "ward/result.h"

namespace ward::vfs {

// The way writes to the sandbox root are kept.
enum class OverlayMode {
  kMemory,  // an overlay whose upper layer is a tmpfs in the sentry's memory
  // The same overlay, but its regular files keep their data in unnamed
  // files of the host directory SandboxMountConfig::overlay_directory.
  kHostDirectory,
  kNone,  // the host root, read-only
};

// A host directory or file mounted at a path of the sandbox.
struct BindMount {
  std::string host_path;
  std::string guest_path;  // absolute
  bool read_only = true;
};

// A tmpfs mounted at a path of the sandbox.
struct TmpfsMount {
  std::string guest_path;   // absolute
  uint64_t size_bytes = 0;  // 0: the default limit
};

// Everything that shapes a sandbox's mount tree. Binds and tmpfs mounts are
// attached in order after /dev, /proc and /sys.
struct SandboxMountConfig {
  std::string host_root = "/";
  OverlayMode overlay = OverlayMode::kMemory;
  uint64_t overlay_size_bytes = 0;  // 0: the default limit of the upper layer
  std::vector<BindMount> binds;
  std::vector<TmpfsMount> tmpfs;
  std::string overlay_directory;  // the host directory of kHostDirectory
};

// Builds the namespace `config` describes. A tmpfs mount path must be
// absolute and free of ".." (EINVAL); missing directories on the way are
// made. Bind mounts are EINVAL for now.
Result<std::shared_ptr<MountNamespace>> make_sandbox_mounts(const SandboxMountConfig& config);

// Builds the namespace on `host_root_path` ("/" for `ward do`, the bundle's
// rootfs for OCI), read-only, with no overlay, binds or tmpfs mounts. Fails with the host's errno when the root cannot be
// opened, ENOTDIR when it is not a directory, EACCES when it is a host
// kernel filesystem, and ENODEV without the host's /proc, which hostfs
// needs to reopen files.
Result<std::shared_ptr<MountNamespace>> make_sandbox_mounts(const std::string& host_root_path);

}  // namespace ward::vfs

// Also named ward::fs::make_sandbox_mounts, as the command line calls it.
namespace ward::fs {
using vfs::make_sandbox_mounts;
}  // namespace ward::fs
