// eventfd: a 64-bit counter that write(2) adds to and read(2) takes from,
// as Linux's fs/eventfd.c has it. Readable while the counter is not zero,
// writable while one more can be added.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sentry/kernel/credentials.h"
#include "sentry/vfs/file.h"

namespace ward::vfs {

// eventfd2's EFD_SEMAPHORE: each read takes 1 instead of the whole counter.
inline constexpr uint32_t kEventfdSemaphore = 1;

// A new inode of Linux's anonymous inode filesystem, which eventfd and epoll
// files live on, owned by `creds`' fsuid and fsgid. /proc/pid/fd shows
// `name`, such as "anon_inode:[eventfd]".
std::shared_ptr<Inode> make_anon_inode(std::string name, const kernel::Credentials& creds);

// A new eventfd holding `initial_count`, open O_RDWR plus `status_flags`
// (O_NONBLOCK). `semaphore` selects EFD_SEMAPHORE reads. Its inode belongs
// to `creds`' fsuid and fsgid.
FileRef make_eventfd(uint64_t initial_count, bool semaphore, const kernel::Credentials& creds,
                     uint32_t status_flags);

}  // namespace ward::vfs
