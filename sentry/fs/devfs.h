// devfs: the sandbox's /dev. It has null, zero, full, random and urandom,
// the links fd, stdin, stdout and stderr into /proc/self/fd, and an empty
// shm directory. No device is the host's: each is served by the sentry.
//
// NOTE: terminals are not served yet, so pts, ptmx and tty are absent
// (ENOENT). The mount is read-only, so creating files in /dev/shm fails with
// EROFS until tmpfs exists.
#pragma once

#include <memory>

#include "sentry/vfs/dentry.h"

namespace ward::vfs {

// The filesystem type devfs reports in /proc/mounts.
inline constexpr const char* kDevfsType = "devtmpfs";

// A new devfs; returns its root dentry.
std::shared_ptr<Dentry> make_devfs_root();

}  // namespace ward::vfs
