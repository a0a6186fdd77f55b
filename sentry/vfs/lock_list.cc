#include "sentry/vfs/lock_list.h"

#include <unistd.h>

#include <algorithm>

namespace ward::vfs {
namespace {

bool same_lock(const FileLock& a, const FileLock& b) {
  return a.kind == b.kind && a.type == b.type && a.owner == b.owner && a.pid == b.pid &&
         a.start == b.start && a.end == b.end;
}

bool same_locks(const std::vector<FileLock>& a, const std::vector<FileLock>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), same_lock);
}

}  // namespace

uint64_t next_lock_sequence() {
  static uint64_t last_sequence = 0;
  return ++last_sequence;
}

const FileLock* RecordLockList::find_conflict(const FileLock& request) const {
  for (const FileLock& held : locks_) {
    if (!held.overlaps(request)) {
      continue;
    }
    if (request.type == F_UNLCK) {
      if (held.owner == request.owner) {
        return &held;
      }
      continue;
    }
    if (held.owner != request.owner && (held.type == F_WRLCK || request.type == F_WRLCK)) {
      return &held;
    }
  }
  return nullptr;
}

bool RecordLockList::apply(const FileLock& request) {
  const auto owned = [&](const FileLock& lock) { return lock.owner == request.owner; };
  const auto first = std::find_if(locks_.begin(), locks_.end(), owned);
  const auto last = std::find_if_not(first, locks_.end(), owned);
  const std::vector<FileLock> before(first, last);

  // The owner's locks after the request: the parts of the old ones outside
  // its range, and the new lock grown over the same-type locks it touches.
  std::vector<FileLock> after;
  FileLock added = request;
  added.sequence = 0;
  for (const FileLock& held : before) {
    // "start - 1" rather than "end + 1", which overflows at kLockOffsetMax.
    const bool touches = held.end >= added.start - 1 && held.start - 1 <= added.end;
    if (request.type != F_UNLCK && held.type == request.type && touches) {
      added.start = std::min(added.start, held.start);
      added.end = std::max(added.end, held.end);
      if (added.sequence == 0) {
        added.sequence = held.sequence;
      }
      continue;
    }
    if (!held.overlaps(request)) {
      after.push_back(held);
      continue;
    }

    const bool keeps_left = held.start < request.start;
    const bool keeps_right = held.end > request.end;
    if (keeps_left) {
      FileLock left = held;
      left.end = request.start - 1;
      after.push_back(left);
    }
    if (keeps_right) {
      FileLock right = held;
      right.start = request.end + 1;
      if (keeps_left) {
        right.sequence = next_lock_sequence();
      }
      after.push_back(right);
    }
    // A lock the request covers whole is replaced in its place, as Linux
    // reuses it, so /proc/locks keeps its position.
    if (!keeps_left && !keeps_right && request.type != F_UNLCK && added.sequence == 0) {
      added.sequence = held.sequence;
    }
  }
  if (request.type != F_UNLCK) {
    if (added.sequence == 0) {
      added.sequence = next_lock_sequence();
    }
    after.push_back(added);
  }
  std::sort(after.begin(), after.end(),
            [](const FileLock& a, const FileLock& b) { return a.start < b.start; });

  if (same_locks(before, after)) {
    return false;
  }
  // A new owner's locks go to the end of the list, as Linux appends them.
  const auto position = locks_.erase(first, last);
  locks_.insert(position, after.begin(), after.end());
  return true;
}

bool RecordLockList::remove_owner(const void* owner) {
  const size_t removed =
      std::erase_if(locks_, [owner](const FileLock& lock) { return lock.owner == owner; });
  return removed != 0;
}

Result<LockRange> lock_range(int whence, int64_t l_start, int64_t l_len, int64_t position,
                             int64_t size_bytes) {
  int64_t base = 0;
  switch (whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR:
      base = position;
      break;
    case SEEK_END:
      base = size_bytes;
      break;
    default:
      return Errno{EINVAL};
  }

  if (l_start > kLockOffsetMax - base) {
    return Errno{EOVERFLOW};
  }
  LockRange range;
  range.start = base + l_start;
  if (range.start < 0) {
    return Errno{EINVAL};
  }

  if (l_len > 0) {
    if (l_len - 1 > kLockOffsetMax - range.start) {
      return Errno{EOVERFLOW};
    }
    range.end = range.start + (l_len - 1);
  } else if (l_len < 0) {
    // POSIX.1-2001: the l_len bytes before l_start, l_start excluded.
    if (range.start + l_len < 0) {
      return Errno{EINVAL};
    }
    range.end = range.start - 1;
    range.start += l_len;
  } else {
    range.end = kLockOffsetMax;
  }
  return range;
}

}  // namespace ward::vfs
