// procfs: the sandbox's /proc, filled by the sentry. It has a directory per
// process, with one per thread under its task/, `self` for the calling
// process, `mounts`, the system files that language runtimes read, and
// /proc/sys/kernel/{osrelease,ostype,hostname}. The host's /proc is never
// visible: the CPU times and memory counts procfs_host.h reads there for
// the platform's stub processes reach the guest only as numbers.
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
