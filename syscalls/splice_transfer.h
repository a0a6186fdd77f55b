// The transfers behind splice, sendfile and copy_file_range: the sentry
// copies between file descriptions through a bounded buffer, since its
// pipes and files share no page cache to move pages through. Each one
// waits as Linux's fs/splice.c does, on the pipe's or file's wait queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "sentry/fs/pipe.h"
#include "sentry/vfs/file.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::syscalls {

// splice(2)'s flags (Linux's SPLICE_F_*); SPLICE_F_MOVE, SPLICE_F_MORE
// and SPLICE_F_GIFT are hints that a copy may ignore.
inline constexpr uint32_t kSpliceMove = 0x01;
inline constexpr uint32_t kSpliceNonblock = 0x02;
inline constexpr uint32_t kSpliceMore = 0x04;
inline constexpr uint32_t kSpliceGift = 0x08;
inline constexpr uint32_t kSpliceAllFlags = kSpliceMove | kSpliceNonblock | kSpliceMore | kSpliceGift;

// An open pipe end: its file, for the wait queue and flags, and its pipe.
struct PipeEndRef {
  vfs::FileDescription& file;
  vfs::Pipe& pipe;
};

// Whether Linux can splice from `file` into a pipe (its file has a
// splice_read): regular files, devices and ward's sockets here. EINVAL
// otherwise, and a recorded gap for another socket inode, which Linux
// allows.
Result<void> check_splice_source(kernel::Task& task, vfs::FileDescription& file);

// The same for splicing from a pipe into `file` (splice_write).
Result<void> check_splice_destination(kernel::Task& task, vfs::FileDescription& file);

// Reads up to `count` bytes of `source` into the pipe once it has a free
// buffer (then checks the source as check_splice_source), as Linux's
// splice_file_to_pipe: at `position`, which advances,
// or for a stream at its own position when nullopt. EPIPE (with SIGPIPE)
// without readers, EAGAIN when full and `nonblocking`.
Result<size_t> splice_file_to_pipe(kernel::Task& task, vfs::FileDescription& source,
                                   std::optional<int64_t>& position, PipeEndRef destination,
                                   size_t count, bool nonblocking);

// Writes up to `count` bytes from the pipe to `destination` once the pipe
// has data, as Linux's iter_file_splice_write: at `position`, which
// advances, or at the stream's own position when nullopt. 0 when the pipe
// is empty without writers, EAGAIN when empty and `nonblocking`.
Result<size_t> splice_pipe_to_file(kernel::Task& task, PipeEndRef source,
                                   vfs::FileDescription& destination,
                                   std::optional<int64_t>& position, size_t count,
                                   bool nonblocking);

// Copies up to `count` bytes from `source` at `source_position` to
// `destination` at `destination_position` (nullopt: a stream written at
// its own position), chunk by chunk until `count`, the end of the source,
// or an error. Both positions advance by the bytes copied. An error is
// returned only when nothing was copied.
Result<size_t> copy_file_to_file(kernel::Task& task, vfs::FileDescription& source,
                                 int64_t& source_position, vfs::FileDescription& destination,
                                 std::optional<int64_t>& destination_position, size_t count);

// Waits until `end`'s pipe contains data or has no writers (Linux's
// ipipe_prep): EAGAIN when it would wait and `nonblocking`.
Result<void> wait_pipe_readable(kernel::Task& task, PipeEndRef end, bool nonblocking);

// Waits until `end`'s pipe has a free buffer (Linux's opipe_prep and
// wait_for_space): EPIPE with SIGPIPE without readers, EAGAIN when it
// would wait and `nonblocking`.
Result<void> wait_pipe_writable(kernel::Task& task, PipeEndRef end, bool nonblocking);

}  // namespace ward::syscalls
