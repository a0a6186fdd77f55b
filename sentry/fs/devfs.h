// devfs: the sandbox's /dev. It has null, zero, full, random and urandom,
// the links fd, stdin, stdout and stderr into /proc/self/fd, and an empty
// shm directory. No device is the host's: each is served by the sentry.
//
// The sandbox mounts a tmpfs on shm (sandbox_mounts.h).
//
// NOTE: terminals are not served yet, so pts, ptmx and tty are absent
// (ENOENT).
#pragma once

#include <memory>

#include "sentry/vfs/dentry.h"

namespace ward::vfs {

// The filesystem type devfs reports in /proc/mounts.
inline constexpr const char* kDevfsType = "devtmpfs";

// A new devfs; returns its root dentry.
std::shared_ptr<Dentry> make_devfs_root();

}  // namespace ward::vfs
