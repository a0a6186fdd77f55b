// sysfs: the sandbox's /sys, with only the files language runtimes and
// their allocators read to size thread pools and pick page sizes:
//   devices/system/cpu/{online,possible,present} and each present CPU's
//     topology/, copied from the host, whose CPUs the sandbox runs on;
//   devices/system/node/ (online, possible, nodeN/{cpulist,cpumap,
//     distance,meminfo}), as libnuma reads them, from the host;
//   kernel/mm/transparent_hugepage/{enabled,defrag,hpage_pmd_size}, from
//     the host, which backs the sandbox's memory;
//   fs/cgroup, a minimal cgroup v2 root for the sandbox, which
//     /proc/<pid>/cgroup names as "0::/": no CPU or memory limit.
// The host's /sys is never visible. A lookup of a name ward lacks is
// recorded as a compatibility gap (file_gaps.h).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "sentry/vfs/dentry.h"

namespace ward::vfs {

// The filesystem type sysfs reports in /proc/mounts.
inline constexpr const char* kSysfsType = "sysfs";

// A new sysfs; returns its root dentry.
std::shared_ptr<Dentry> make_sysfs_root();

// Parses a kernel CPU or node list ("0-3,8,10-11\n"); an empty or
// malformed list gives no numbers.
std::vector<int> parse_cpu_list(std::string_view text);

}  // namespace ward::vfs
