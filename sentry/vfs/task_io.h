// Data transfer between a file and a task's memory, for read, write and
// their vector and positional forms. Guest buffers are copied through a
// bounded bounce buffer, so a huge count never makes the sentry allocate
// more than kIoChunkBytes; a read stops at end of file, and a stream read
// waits only for its first bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sentry/vfs/file.h"
#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {

// The bounce buffer size of one copy between a file and guest memory.
inline constexpr size_t kIoChunkBytes = 64 * 1024;

// Linux's MAX_RW_COUNT: one read or write moves at most INT_MAX rounded down
// to a page.
inline constexpr size_t kMaxRwCount = 0x7ffff000;

// Linux's UIO_MAXIOV: the most iovecs one readv or writev takes.
inline constexpr size_t kMaxIovecs = 1024;

// One guest buffer of a readv or writev.
struct GuestSegment {
  GuestAddr base;
  size_t length;
};

// Reads from `file` into the segments, at `offset` or at the file offset
// when nullopt (advanced by what reached the guest). With `nowait` the call
// never waits (RWF_NOWAIT). Returns the byte count, short at end of file or
// when a stream has no more data; an error only when nothing was read.
Result<size_t> read_to_guest(kernel::Task& task, FileDescription& file,
                             std::span<const GuestSegment> segments, std::optional<int64_t> offset,
                             bool nowait = false);

// Writes the segments to `file`, at `offset` or at the file offset. A
// blocking write to a stream waits until everything is written; EPIPE and
// signals cut it short, returning the count written so far if any.
Result<size_t> write_from_guest(kernel::Task& task, FileDescription& file,
                                std::span<const GuestSegment> segments,
                                std::optional<int64_t> offset, bool nowait = false);

// Copies in and checks an iovec array as Linux's import_iovec does: EINVAL
// for more than kMaxIovecs entries or a negative length, EFAULT for an
// unreadable array or a buffer outside the user address range. The total is
// capped at kMaxRwCount by shortening the later segments.
Result<std::vector<GuestSegment>> import_iovecs(kernel::Task& task, GuestAddr iov_addr,
                                                uint64_t iov_count);

// access_ok: the range [addr, addr + length) lies within user addresses.
bool guest_range_ok(GuestAddr addr, uint64_t length);

}  // namespace ward::vfs
