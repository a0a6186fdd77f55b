// procfs: the sandbox's /proc, filled by the sentry. It has a directory per
// process, with one per thread under its task/, `self` for the calling
// process, `mounts`, the system files that language runtimes read, and the
// /proc/sys settings they read. The host's /proc is never visible: the CPU
// times and memory counts read there for the platform's stub processes
// reach the guest only as numbers. A lookup of a name ward lacks is
// recorded as a compatibility gap (file_gaps.h).
#pragma once

#include <memory>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {

// The filesystem type procfs reports in /proc/mounts.
inline constexpr const char* kProcfsType = "proc";

// A new procfs whose mounts files describe `mounts`; returns its root
// dentry.
std::shared_ptr<Dentry> make_procfs_root(std::weak_ptr<MountNamespace> mounts);

}  // namespace ward::vfs
