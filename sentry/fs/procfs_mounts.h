// /proc/<pid>/mounts and /proc/<pid>/mountinfo: the mounts of the sandbox's
// namespace that the process's root reaches, with paths seen from that
// root, in the formats of Linux's fs/proc_namespace.c.
#pragma once

#include <string>

#include "sentry/vfs/mount.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

// One line per mount: "source mountpoint type options 0 0".
std::string mounts_text(const VirtualDentry& root, const MountNamespace& mounts);

// One line per mount: "id parent major:minor root mountpoint options -
// type source super_options". The namespace's root mount is its own
// parent. ward has no mount propagation, so no optional fields appear.
Result<std::string> mountinfo_text(const VirtualDentry& root, const MountNamespace& mounts);

}  // namespace ward::vfs
