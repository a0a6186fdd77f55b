// The byte-range arithmetic of fcntl record locks: one lock, the list of
// record locks on one inode, and the range a struct flock describes. The
// rules are those of Linux's fs/locks.c. An owner's own locks never
// conflict with each other. A new lock replaces the owner's locks under its
// range and splits those that reach past it. It merges with the owner's
// adjacent or overlapping locks of the same type.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "ward/result.h"

namespace ward::vfs {

// Linux's OFFSET_MAX: the end of a lock that runs to the end of the file,
// however far the file grows.
inline constexpr int64_t kLockOffsetMax = std::numeric_limits<int64_t>::max();

enum class LockKind : uint8_t {
  kPosix,  // F_SETLK: owned by a process's fd table
  kOfd,    // F_OFD_SETLK: owned by an open file description
  kFlock,  // flock(2): owned by an open file description, whole file
};

// A held lock, or a request for one.
struct FileLock {
  LockKind kind = LockKind::kPosix;
  short type = F_UNLCK;  // F_RDLCK or F_WRLCK, or F_UNLCK in a request
  // The fd table of a POSIX lock's process, or the description of an OFD
  // or flock lock. Only compared, never dereferenced.
  const void* owner = nullptr;
  pid_t pid = 0;  // the virtual pid of the process that set the lock
  int64_t start = 0;
  int64_t end = kLockOffsetMax;  // inclusive
  uint64_t sequence = 0;         // the order locks were made in, for /proc/locks

  bool overlaps(const FileLock& other) const { return start <= other.end && other.start <= end; }
};

// A fresh sequence number, larger than every earlier one.
uint64_t next_lock_sequence();

// The record locks (POSIX and OFD) of one inode, in Linux's list order:
// each owner's locks together and sorted by start, owners in the order
// their first lock arrived. The locks of one owner never overlap.
class RecordLockList {
 public:
  // The first lock of another owner that overlaps `request` where either
  // is a write lock, or null. A request of type F_UNLCK, which only
  // F_OFD_GETLK makes, finds the first overlapping lock of its own owner.
  const FileLock* find_conflict(const FileLock& request) const;

  // Gives request.owner a lock of request.type on [start, end], or with
  // F_UNLCK none there. Returns true when the list changed.
  bool apply(const FileLock& request);

  // Removes every lock of `owner` and returns true when there was one.
  bool remove_owner(const void* owner);

  const std::vector<FileLock>& locks() const { return locks_; }
  bool empty() const { return locks_.empty(); }

 private:
  std::vector<FileLock> locks_;
};

// The first and last byte a struct flock names. l_start counts from
// SEEK_SET, SEEK_CUR (`position`) or SEEK_END (`size_bytes`). An l_len of 0
// runs to the end of the file, and a negative l_len names the bytes before
// l_start. Checked as Linux's flock_to_posix_lock checks it: EINVAL for
// another whence or a range starting below 0, EOVERFLOW past kLockOffsetMax.
struct LockRange {
  int64_t start = 0;
  int64_t end = kLockOffsetMax;
};
Result<LockRange> lock_range(int whence, int64_t l_start, int64_t l_len, int64_t position,
                             int64_t size_bytes);

}  // namespace ward::vfs
