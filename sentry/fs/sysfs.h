// sysfs: the sandbox's /sys, with only the files language runtimes read to
// size their thread pools: /sys/devices/system/cpu/{online,possible,present},
// copied from the host. The host's /sys is never visible.
#pragma once

#include <memory>

#include "sentry/vfs/dentry.h"

namespace ward::vfs {

// The filesystem type sysfs reports in /proc/mounts.
inline constexpr const char* kSysfsType = "sysfs";

// A new sysfs; returns its root dentry.
std::shared_ptr<Dentry> make_sysfs_root();

}  // namespace ward::vfs
