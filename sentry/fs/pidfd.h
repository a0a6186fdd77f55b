// pidfds: file descriptors that refer to a process (pidfd_open, clone's
// CLONE_PIDFD). They are readable in poll(2) once the process has exited,
// name the process in waitid(P_PIDFD), pidfd_send_signal and pidfd_getfd,
// and cannot be read, written or seeked.
#pragma once

#include <memory>

#include "sentry/kernel/credentials.h"
#include "sentry/kernel/process_handle.h"
#include "sentry/vfs/file.h"

namespace ward::vfs {

// A new pidfd for `process`, open O_RDWR plus `status_flags` (O_NONBLOCK,
// which makes waitid on it fail with EAGAIN rather than block). Its inode
// belongs to `creds`' fsuid and fsgid.
FileRef make_pidfd(std::shared_ptr<kernel::ProcessHandle> process,
                   const kernel::Credentials& creds, uint32_t status_flags);

// The process a pidfd refers to, or null when `file` is not a pidfd.
std::shared_ptr<kernel::ProcessHandle> pidfd_process(const FileDescription& file);

}  // namespace ward::vfs
