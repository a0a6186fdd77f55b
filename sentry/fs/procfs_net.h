// /proc/<pid>/net, which /proc/net links to: the sandbox's network
// interfaces and sockets as Linux's procfs shows them.
#pragma once

#include <memory>

#include "sentry/vfs/inode.h"

namespace ward::vfs {

// The net directory of procfs `filesystem`, made once and shared by every
// process, because the sandbox has one network namespace.
std::shared_ptr<Inode> proc_net_directory(const std::shared_ptr<Filesystem>& filesystem);

}  // namespace ward::vfs
