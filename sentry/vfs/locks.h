// File locks, kept per inode as Linux's fs/locks.c keeps them:
//
// - POSIX record locks (F_SETLK, F_SETLKW, F_GETLK) belong to the process,
//   through its fd table (Linux's files_struct). Closing any descriptor of
//   the inode releases all of them, as does the end of the fd table at exit.
//   fork does not pass them on.
// - OFD locks (F_OFD_SETLK, F_OFD_SETLKW, F_OFD_GETLK) belong to the open
//   file description, so dup and fork share them; they go with the
//   description's last reference. They share the list of POSIX locks and
//   conflict with them.
// - flock(2) locks belong to the open file description too, cover the whole
//   file and never conflict with record locks.
//
// A request that must wait parks on the inode's wait queue, notified
// whenever a lock there goes or weakens, and tries again when woken.
#pragma once

#include <fcntl.h>

#include <memory>
#include <string>
#include <vector>

#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/lock_list.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {

class FdTable;

// The locks of one inode, which the inode owns (Inode::file_locks) and
// makes on the first lock request.
class FileLocks {
 public:
  explicit FileLocks(Inode& inode);
  ~FileLocks();
  FileLocks(const FileLocks&) = delete;
  FileLocks& operator=(const FileLocks&) = delete;

  Inode& inode() const { return inode_; }

  // POSIX and OFD locks.
  RecordLockList& records() { return records_; }
  const RecordLockList& records() const { return records_; }

  // flock locks, oldest first.
  std::vector<FileLock>& flocks() { return flocks_; }
  const std::vector<FileLock>& flocks() const { return flocks_; }

  // Wakes every request waiting on this inode, after a lock went or
  // weakened, so that each tries again.
  void notify_changed();
  kernel::WaitQueue& changed_queue() { return changed_; }

 private:
  Inode& inode_;
  RecordLockList records_;
  std::vector<FileLock> flocks_;
  kernel::WaitQueue changed_;
};

// The variant of a record lock command.
struct RecordLockCommand {
  bool ofd = false;   // F_OFD_*: owned by the description, l_pid must be 0
  bool wait = false;  // F_SETLKW, F_OFD_SETLKW
};

// F_GETLK and F_OFD_GETLK: rewrites `lock` to describe the first lock that
// would conflict with it, or sets only l_type to F_UNLCK when none would.
// EINVAL for a bad l_type or l_whence, or a nonzero l_pid with F_OFD_GETLK.
Result<void> test_record_lock(kernel::Task& task, FileDescription& file, RecordLockCommand command,
                              struct flock& lock);

// F_SETLK, F_SETLKW, F_OFD_SETLK and F_OFD_SETLKW on descriptor `fd`, which
// refers to `file`. Fails with EAGAIN for a conflict without waiting, and
// with EDEADLK when a POSIX wait would close a cycle of waiting processes.
// ERESTARTSYS when a signal ends the wait. EBADF when the access mode does
// not allow the lock type, or when `fd` was closed while the call waited.
Result<void> set_record_lock(kernel::Task& task, int fd, const FileRef& file,
                             RecordLockCommand command, const struct flock& lock);

// flock(2) with F_RDLCK (LOCK_SH), F_WRLCK (LOCK_EX) or F_UNLCK (LOCK_UN).
// A description that holds the other type loses it before the new one is
// tried, as in Linux, so a failed conversion leaves no lock. EAGAIN
// (EWOULDBLOCK) for a conflict without `wait`, ERESTARTSYS when a signal
// ends the wait.
Result<void> set_flock(kernel::Task& task, FileDescription& file, short type, bool wait);

// Releases the POSIX locks that `fdtable`'s process holds on `file`'s inode,
// as closing any descriptor of the inode does.
void release_posix_locks(const FileDescription& file, const FdTable& fdtable);

// Releases the OFD and flock locks of `file`, whose last reference is going.
void release_description_locks(const FileDescription& file);

// The text of /proc/locks: every lock, newest first, and under each the
// requests waiting for it, in Linux's format.
std::string render_proc_locks();

}  // namespace ward::vfs
