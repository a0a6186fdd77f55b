#include "sentry/vfs/locks.h"

#include <fmt/format.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/fdtable.h"

namespace ward::vfs {
namespace {

// Linux's MAX_DEADLK_ITERATIONS: how many waiting owners the deadlock
// check follows before it gives up and lets the request wait.
constexpr int kMaxDeadlockIterations = 10;

// A request parked until a conflicting lock goes. It lives on the stack of
// the waiting syscall, registered in blocked_requests() while it waits.
struct BlockedRequest {
  FileLock request;
  FileLocks* locks = nullptr;
  const void* blocker_owner = nullptr;
  uint64_t blocker_sequence = 0;
  bool blocker_is_posix = false;  // only these take part in deadlock checks
};

// The registries are never destroyed, so that an inode ending after
// static destruction can still unregister.
std::vector<BlockedRequest*>& blocked_requests() {
  static auto* requests = new std::vector<BlockedRequest*>();
  return *requests;
}

// Every FileLocks alive, for /proc/locks.
std::vector<FileLocks*>& all_file_locks() {
  static auto* all = new std::vector<FileLocks*>();
  return *all;
}

// Registers a blocked request for its wait and removes it afterwards,
// unless notify_changed() already has.
class BlockedRegistration {
 public:
  BlockedRegistration(const FileLock& request, FileLocks& locks, const FileLock& blocker)
      : blocked_{.request = request,
                 .locks = &locks,
                 .blocker_owner = blocker.owner,
                 .blocker_sequence = blocker.sequence,
                 .blocker_is_posix = blocker.kind == LockKind::kPosix} {
    blocked_requests().push_back(&blocked_);
  }
  ~BlockedRegistration() { std::erase(blocked_requests(), &blocked_); }
  BlockedRegistration(const BlockedRegistration&) = delete;
  BlockedRegistration& operator=(const BlockedRegistration&) = delete;

 private:
  BlockedRequest blocked_;
};

// The inode whose locks `file` takes, or null for a description without a
// dentry.
// NOTE: hostfs makes one Inode per name it looks up, so two hard links of
// one host file hold separate locks and do not conflict.
Inode* lock_inode(const FileDescription& file) {
  const auto& dentry = file.location().dentry;
  return dentry != nullptr ? &dentry->inode() : nullptr;
}

FileLocks& locks_of(Inode& inode) {
  std::shared_ptr<FileLocks>& locks = inode.file_locks();
  if (locks == nullptr) {
    locks = std::make_shared<FileLocks>(inode);
  }
  return *locks;
}

FileLocks* existing_locks(const FileDescription& file) {
  Inode* inode = lock_inode(file);
  return inode != nullptr ? inode->file_locks().get() : nullptr;
}

// Linux's posix_locks_deadlock: whether waiting for `blocker` would close
// a cycle, because blocker's owner waits, through a chain of waiting POSIX
// owners, for a lock of the requester. OFD requests are never checked,
// since no process owns them.
bool would_deadlock(const FileLock& request, const FileLock& blocker) {
  if (request.kind == LockKind::kOfd) {
    return false;
  }
  const void* owner = blocker.owner;
  for (int hops = 0;; ++hops) {
    const auto& requests = blocked_requests();
    const auto waiting = std::find_if(requests.begin(), requests.end(), [owner](auto* blocked) {
      return blocked->blocker_is_posix && blocked->request.owner == owner;
    });
    if (waiting == requests.end()) {
      return false;
    }
    if (hops > kMaxDeadlockIterations) {
      return false;
    }
    if ((*waiting)->blocker_owner == request.owner) {
      return true;
    }
    owner = (*waiting)->blocker_owner;
  }
}

// Parks `task` until the locks of `locks` change. ERESTARTSYS when a
// signal or an exit ends the wait.
Result<void> wait_for_change(kernel::Task& task, FileLocks& locks, const FileLock& request,
                             const FileLock& blocker) {
  BlockedRegistration registration(request, locks, blocker);
  kernel::Waiter waiter(task.scheduler());
  waiter.watch(locks.changed_queue());
  if (task.block(waiter) == kernel::WakeReason::kInterrupted) {
    return Errno{ERESTARTSYS};
  }
  return ok();
}

// Sets or clears a record lock, waiting for conflicting locks to go when
// `wait` is set.
Result<void> lock_records(kernel::Task& task, FileLocks& locks, const FileLock& request,
                          bool wait) {
  for (;;) {
    const FileLock* conflict =
        request.type == F_UNLCK ? nullptr : locks.records().find_conflict(request);
    if (conflict == nullptr) {
      if (locks.records().apply(request)) {
        locks.notify_changed();
      }
      return ok();
    }
    if (!wait) {
      return Errno{EAGAIN};
    }
    if (would_deadlock(request, *conflict)) {
      return Errno{EDEADLK};
    }
    const FileLock blocker = *conflict;
    TRY(wait_for_change(task, locks, request, blocker));
  }
}

// The lock a struct flock requests on `file`, with no owner set yet.
Result<FileLock> record_request(FileDescription& file, const struct flock& lock) {
  int64_t size_bytes = 0;
  if (lock.l_whence == SEEK_END) {
    size_bytes = TRY(file.stat()).st_size;
  }
  const LockRange range =
      TRY(lock_range(lock.l_whence, lock.l_start, lock.l_len, file.offset(), size_bytes));
  if (lock.l_type != F_RDLCK && lock.l_type != F_WRLCK && lock.l_type != F_UNLCK) {
    return Errno{EINVAL};
  }
  return FileLock{.type = lock.l_type, .start = range.start, .end = range.end};
}

// Makes `request` an OFD lock of `file` or a POSIX lock of the caller's
// process. EINVAL for an OFD request whose l_pid is not 0.
Result<void> assign_owner(kernel::Task& task, FileDescription& file, RecordLockCommand command,
                          const struct flock& lock, FileLock& request) {
  request.pid = task.pid();
  if (command.ofd) {
    if (lock.l_pid != 0) {
      return Errno{EINVAL};
    }
    request.kind = LockKind::kOfd;
    request.owner = &file;
    return ok();
  }
  request.kind = LockKind::kPosix;
  request.owner = &task.fdtable();
  return ok();
}

// Linux's check_fmode_for_setlk: a read lock needs a readable file, a
// write lock a writable one.
Result<void> check_access_for_lock(const FileDescription& file, short type) {
  if (type == F_RDLCK && !file.readable()) {
    return Errno{EBADF};
  }
  if (type == F_WRLCK && !file.writable()) {
    return Errno{EBADF};
  }
  return ok();
}

const char* lock_type_name(short type) {
  switch (type) {
    case F_WRLCK:
      return "WRITE";
    case F_RDLCK:
      return "READ";
    default:
      return "UNLCK";
  }
}

const char* lock_class_name(const FileLock& lock) {
  switch (lock.kind) {
    case LockKind::kPosix:
      return "POSIX  ADVISORY ";
    case LockKind::kOfd:
      return "OFDLCK ADVISORY ";
    case LockKind::kFlock:
      return "FLOCK  ADVISORY ";
  }
  return "UNKNOWN UNKNOWN ";
}

// One line of /proc/locks, as Linux's lock_get_status writes it.
std::string proc_locks_line(size_t id, bool waiting, const FileLock& lock, const struct stat& st) {
  const pid_t pid = lock.kind == LockKind::kOfd ? -1 : lock.pid;
  std::string line = fmt::format("{}: {}{} {} {} {:02x}:{:02x}:{} ", id, waiting ? "-> " : "",
                                 lock_class_name(lock), lock_type_name(lock.type), pid,
                                 major(st.st_dev), minor(st.st_dev), st.st_ino);
  if (lock.kind == LockKind::kFlock || lock.end == kLockOffsetMax) {
    line += fmt::format("{} EOF\n", lock.kind == LockKind::kFlock ? 0 : lock.start);
  } else {
    line += fmt::format("{} {}\n", lock.start, lock.end);
  }
  return line;
}

}  // namespace

FileLocks::FileLocks(Inode& inode) : inode_(inode) { all_file_locks().push_back(this); }

FileLocks::~FileLocks() { std::erase(all_file_locks(), this); }

void FileLocks::notify_changed() {
  // The woken requests no longer wait for a lock until they park again,
  // as Linux takes a woken waiter out of its blocked list.
  std::erase_if(blocked_requests(),
                [this](BlockedRequest* blocked) { return blocked->locks == this; });
  changed_.notify();
}

Result<void> test_record_lock(kernel::Task& task, FileDescription& file, RecordLockCommand command,
                              struct flock& lock) {
  // Only F_OFD_GETLK may test with F_UNLCK: it finds the description's own
  // lock over the range.
  if (!command.ofd && lock.l_type != F_RDLCK && lock.l_type != F_WRLCK) {
    return Errno{EINVAL};
  }
  FileLock request = TRY(record_request(file, lock));
  TRY(assign_owner(task, file, command, lock, request));

  const FileLocks* locks = existing_locks(file);
  const FileLock* found = locks != nullptr ? locks->records().find_conflict(request) : nullptr;
  if (found == nullptr) {
    lock.l_type = F_UNLCK;
    return ok();
  }
  lock.l_type = found->type;
  lock.l_whence = SEEK_SET;
  lock.l_start = found->start;
  lock.l_len = found->end == kLockOffsetMax ? 0 : found->end - found->start + 1;
  lock.l_pid = found->kind == LockKind::kOfd ? -1 : found->pid;
  return ok();
}

Result<void> set_record_lock(kernel::Task& task, int fd, const FileRef& file,
                             RecordLockCommand command, const struct flock& lock) {
  FileLock request = TRY(record_request(*file, lock));
  TRY(check_access_for_lock(*file, request.type));
  TRY(assign_owner(task, *file, command, lock, request));
  Inode* inode = lock_inode(*file);
  if (inode == nullptr) {
    return Errno{EBADF};
  }

  TRY(lock_records(task, locks_of(*inode), request, command.wait));

  // Another thread may have closed `fd` while this one waited. That close
  // released the process's locks before this lock was set, so this lock is
  // released too and the call fails, as in Linux.
  if (request.kind == LockKind::kPosix && request.type != F_UNLCK) {
    auto current = task.fdtable().get(fd);
    if (!current.ok() || *current != file) {
      release_posix_locks(*file, task.fdtable());
      return Errno{EBADF};
    }
  }
  return ok();
}

Result<void> set_flock(kernel::Task& task, FileDescription& file, short type, bool wait) {
  Inode* inode = lock_inode(file);
  if (inode == nullptr) {
    return Errno{EBADF};
  }
  FileLocks& locks = locks_of(*inode);
  std::vector<FileLock>& flocks = locks.flocks();
  const FileLock request{.kind = LockKind::kFlock, .type = type, .owner = &file, .pid = task.pid()};

  for (;;) {
    // The description's own lock goes first, unless it already has the
    // requested type; others waiting for it get their chance meanwhile.
    const auto own = std::find_if(flocks.begin(), flocks.end(),
                                  [&](const FileLock& held) { return held.owner == &file; });
    if (own != flocks.end()) {
      if (own->type == type) {
        return ok();
      }
      flocks.erase(own);
      locks.notify_changed();
    }
    if (type == F_UNLCK) {
      return ok();
    }

    const auto conflict = std::find_if(flocks.begin(), flocks.end(), [&](const FileLock& held) {
      return held.owner != &file && (held.type == F_WRLCK || type == F_WRLCK);
    });
    if (conflict == flocks.end()) {
      FileLock added = request;
      added.sequence = next_lock_sequence();
      flocks.push_back(added);
      return ok();
    }
    if (!wait) {
      return Errno{EAGAIN};
    }
    const FileLock blocker = *conflict;
    TRY(wait_for_change(task, locks, request, blocker));
  }
}

void release_posix_locks(const FileDescription& file, const FdTable& fdtable) {
  FileLocks* locks = existing_locks(file);
  if (locks != nullptr && locks->records().remove_owner(&fdtable)) {
    locks->notify_changed();
  }
}

void release_description_locks(const FileDescription& file) {
  FileLocks* locks = existing_locks(file);
  if (locks == nullptr) {
    return;
  }
  bool changed = locks->records().remove_owner(&file);
  changed |= std::erase_if(locks->flocks(),
                           [&](const FileLock& held) { return held.owner == &file; }) != 0;
  if (changed) {
    locks->notify_changed();
  }
}

std::string render_proc_locks() {
  struct ListedLock {
    const FileLock* lock;
    const FileLocks* inode_locks;
  };
  std::vector<ListedLock> listed;
  for (const FileLocks* locks : all_file_locks()) {
    for (const FileLock& lock : locks->flocks()) {
      listed.push_back({&lock, locks});
    }
    for (const FileLock& lock : locks->records().locks()) {
      listed.push_back({&lock, locks});
    }
  }
  std::sort(listed.begin(), listed.end(), [](const ListedLock& a, const ListedLock& b) {
    return a.lock->sequence > b.lock->sequence;
  });

  std::string text;
  size_t id = 0;
  for (const ListedLock& entry : listed) {
    ++id;
    auto st = entry.inode_locks->inode().stat();
    if (!st.ok()) {
      continue;
    }
    text += proc_locks_line(id, false, *entry.lock, *st);
    for (const BlockedRequest* blocked : blocked_requests()) {
      if (blocked->locks == entry.inode_locks &&
          blocked->blocker_sequence == entry.lock->sequence) {
        text += proc_locks_line(id, true, blocked->request, *st);
      }
    }
  }
  return text;
}

}  // namespace ward::vfs
