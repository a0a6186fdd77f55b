// The mount tree of a new sandbox: the host directory given as its root,
// read-only, with the sentry's devfs on /dev, procfs on /proc and sysfs on
// /sys, so that the host's own /dev, /proc and /sys are never reachable.
#pragma once

#include <memory>
#include <string>

#include "sentry/vfs/mount.h"
#include "ward/result.h"

namespace ward::vfs {

// Builds the namespace on `host_root_path` ("/" for `ward do`, the bundle's
// rootfs for OCI). Fails with the host's errno when the root cannot be
// opened, ENOTDIR when it is not a directory, EACCES when it is a host
// kernel filesystem, and ENODEV without the host's /proc, which hostfs
// needs to reopen files.
Result<std::shared_ptr<MountNamespace>> make_sandbox_mounts(const std::string& host_root_path);

}  // namespace ward::vfs

// Also named ward::fs::make_sandbox_mounts, as the command line calls it.
namespace ward::fs {
using vfs::make_sandbox_mounts;
}  // namespace ward::fs
