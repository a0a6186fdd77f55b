// open(2) flag values as the x86_64 kernel defines them, for the ones glibc
// spells differently (O_LARGEFILE is 0 in glibc's x86_64 headers, and its
// __O_TMPFILE includes O_DIRECTORY).
#pragma once

#include <fcntl.h>

#include <cstdint>

namespace ward::vfs {

inline constexpr uint32_t kOpenLargefile = 0100000;
// The kernel's __O_TMPFILE bit; O_TMPFILE is this plus O_DIRECTORY.
inline constexpr uint32_t kOpenTmpfileBit = 020000000;
// The kernel's __O_SYNC bit; O_SYNC is this plus O_DSYNC.
inline constexpr uint32_t kOpenSyncBit = 04000000;

// Linux's VALID_OPEN_FLAGS: every flag open(2) accepts.
inline constexpr uint64_t kValidOpenFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC |
                                            O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT |
                                            kOpenLargefile | O_DIRECTORY | O_NOFOLLOW | O_NOATIME |
                                            O_CLOEXEC | O_PATH | kOpenTmpfileBit | kOpenSyncBit;

// Linux's O_PATH_FLAGS: the flags O_PATH keeps.
inline constexpr uint64_t kPathOpenFlags = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

}  // namespace ward::vfs
