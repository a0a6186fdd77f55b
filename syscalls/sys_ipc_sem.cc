// semget, semop, semtimedop and semctl: System V semaphores.
#include <sys/sem.h>
#include <sys/stat.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "sentry/kernel/ipc/sem.h"
#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "syscalls/args.h"
#include "syscalls/handlers_ipc.h"

namespace ward::syscalls {
namespace {

// Maximum relative timeout in seconds (about 136 years). A longer timeout
// is cut to it because the nanosecond deadline would overflow otherwise.
constexpr int64_t kMaxTimeoutSeconds = int64_t{1} << 32;

using kernel::ipc::IpcNamespace;
using kernel::ipc::SemOp;
using kernel::ipc::SemSet;

// Linux's struct semid64_ds on x86-64.
struct GuestSemidDs {
  kernel::ipc::GuestIpcPerm perm;
  int64_t operation_time;
  uint64_t unused1;
  int64_t change_time;
  uint64_t unused2;
  uint64_t count;
  uint64_t unused3;
  uint64_t unused4;
};
static_assert(sizeof(GuestSemidDs) == 104);

// Linux's struct seminfo (IPC_INFO and SEM_INFO).
struct GuestSemInfo {
  int32_t semmap;
  int32_t semmni;
  int32_t semmns;
  int32_t semmnu;
  int32_t semmsl;
  int32_t semopm;
  int32_t semume;
  int32_t semusz;
  int32_t semvmx;
  int32_t semaem;
};

// Linux's SEMUSZ, the size IPC_INFO reports for an undo structure.
constexpr int32_t kSemUndoBytes = 20;

constexpr int kReadAccess = S_IRUSR | S_IRGRP | S_IROTH;
constexpr int kWriteAccess = S_IWUSR | S_IWGRP | S_IWOTH;

Result<int64_t> sem_info(kernel::Task& task, IpcNamespace& ipc, int command, GuestAddr buffer) {
  GuestSemInfo info{.semmap = kernel::ipc::kSemMaxTotal,
                    .semmni = kernel::ipc::kSemMaxSets,
                    .semmns = kernel::ipc::kSemMaxTotal,
                    .semmnu = kernel::ipc::kSemMaxTotal,
                    .semmsl = kernel::ipc::kSemMaxPerSet,
                    .semopm = kernel::ipc::kSemMaxOps,
                    .semume = kernel::ipc::kSemMaxOps,
                    .semusz = kSemUndoBytes,
                    .semvmx = kernel::ipc::kSemMaxValue,
                    .semaem = kernel::ipc::kSemMaxAdjustment};
  if (command == SEM_INFO) {
    // SEM_INFO reuses two fields for the sets and semaphores in use.
    info.semusz = ipc.sem().in_use();
    info.semaem = static_cast<int32_t>(ipc.used_semaphores);
  }
  const int64_t result = std::max(ipc.sem().max_index(), 0);
  TRY(task.copy_out(buffer, info));
  return result;
}

Result<int64_t> sem_stat(kernel::Task& task, IpcNamespace& ipc, int semid, int command,
                         GuestAddr buffer) {
  const bool by_index = command == SEM_STAT || command == SEM_STAT_ANY;
  std::shared_ptr<SemSet> set =
      by_index ? TRY(ipc.sem().find_index(semid)) : TRY(ipc.sem().find_id(semid));
  if (command != SEM_STAT_ANY &&
      !kernel::ipc::ipc_permitted(set->perm, task.creds(), kReadAccess)) {
    return Errno{EACCES};
  }
  GuestSemidDs status{.perm = set->perm.to_guest(),
                      .operation_time = set->operation_time(),
                      .unused1 = 0,
                      .change_time = set->change_time,
                      .unused2 = 0,
                      .count = set->size(),
                      .unused3 = 0,
                      .unused4 = 0};
  TRY(task.copy_out(buffer, status));
  return by_index ? set->perm.id : 0;
}

// GETALL, SETALL, GETVAL, GETPID, GETNCNT and GETZCNT (Linux's
// semctl_main), in its order: the set, the permission, then the index.
Result<int64_t> sem_values(kernel::Task& task, IpcNamespace& ipc, int semid, int semnum,
                           int command, GuestAddr array) {
  std::shared_ptr<SemSet> set = TRY(ipc.sem().find_id(semid));
  const int access = command == SETALL ? kWriteAccess : kReadAccess;
  if (!kernel::ipc::ipc_permitted(set->perm, task.creds(), access)) {
    return Errno{EACCES};
  }
  const size_t count = set->size();

  if (command == GETALL) {
    std::vector<uint16_t> values(count);
    for (size_t i = 0; i < count; ++i) {
      values[i] = set->semaphore(i).value;
    }
    TRY(task.copy_out(array, std::as_bytes(std::span(values))));
    return 0;
  }
  if (command == SETALL) {
    std::vector<uint16_t> values(count);
    TRY(task.copy_in(array, std::as_writable_bytes(std::span(values))));
    for (uint16_t value : values) {
      if (value > kernel::ipc::kSemMaxValue) {
        return Errno{ERANGE};
      }
    }
    for (size_t i = 0; i < count; ++i) {
      set->set_value(i, values[i], task.pid());
    }
    set->change_time = kernel::ipc::ipc_now_seconds();
    set->wake_waiters();
    return 0;
  }

  if (semnum < 0 || static_cast<size_t>(semnum) >= count) {
    return Errno{EINVAL};
  }
  const auto index = static_cast<size_t>(semnum);
  switch (command) {
    case GETVAL:
      return set->semaphore(index).value;
    case GETPID:
      return set->semaphore(index).pid;
    case GETNCNT:
      return set->count_waiters(index, /*for_zero=*/false);
    case GETZCNT:
      return set->count_waiters(index, /*for_zero=*/true);
    default:
      return Errno{EINVAL};
  }
}

// SETVAL (Linux's semctl_setval): ERANGE comes before the lookup.
Result<int64_t> sem_set_value(kernel::Task& task, IpcNamespace& ipc, int semid, int semnum,
                              int value) {
  if (value > kernel::ipc::kSemMaxValue || value < 0) {
    return Errno{ERANGE};
  }
  std::shared_ptr<SemSet> set = TRY(ipc.sem().find_id(semid));
  if (semnum < 0 || static_cast<size_t>(semnum) >= set->size()) {
    return Errno{EINVAL};
  }
  if (!kernel::ipc::ipc_permitted(set->perm, task.creds(), kWriteAccess)) {
    return Errno{EACCES};
  }
  set->set_value(static_cast<size_t>(semnum), static_cast<uint16_t>(value), task.pid());
  set->change_time = kernel::ipc::ipc_now_seconds();
  set->wake_waiters();
  return 0;
}

// IPC_SET and IPC_RMID, for the owner, the creator or CAP_SYS_ADMIN.
Result<int64_t> sem_change(kernel::Task& task, IpcNamespace& ipc, int semid, int command,
                           const GuestSemidDs& requested) {
  std::shared_ptr<SemSet> set = TRY(ipc.sem().find_id(semid));
  TRY(kernel::ipc::check_ipc_owner(set->perm, task.creds()));
  if (command == IPC_RMID) {
    kernel::ipc::sem_remove(ipc, set);
    return 0;
  }
  TRY(kernel::ipc::update_ipc_permission(set->perm, requested.perm));
  set->change_time = kernel::ipc::ipc_now_seconds();
  return 0;
}

// Parks the task until `waiter` has been served, the deadline passes or a
// signal comes: 0 or the errno the waker set, EAGAIN on timeout, EINTR on
// a signal (semop is never restarted, even with SA_RESTART).
Result<int64_t> wait_for_operations(kernel::Task& task, SemSet& set, kernel::ipc::SemWaiter& waiter,
                                    std::optional<kernel::TimePoint> deadline) {
  // The waiter leaves the set's queue however the wait ends, including
  // when the fiber unwinds as the sandbox stops.
  struct Unqueue {
    SemSet& set;
    kernel::ipc::SemWaiter& waiter;
    ~Unqueue() { set.remove_waiter(waiter); }
  };
  set.add_waiter(waiter);
  const Unqueue unqueue{set, waiter};
  for (;;) {
    kernel::Waiter wait(task.scheduler());
    wait.watch(waiter.queue);
    if (deadline) {
      wait.set_deadline(*deadline);
    }
    const kernel::WakeReason reason = task.block(wait);
    if (waiter.status) {
      if (*waiter.status != 0) {
        return Errno{*waiter.status};
      }
      return 0;
    }
    if (reason == kernel::WakeReason::kNotified) {
      continue;
    }
    return Errno{reason == kernel::WakeReason::kTimedOut ? EAGAIN : EINTR};
  }
}

// Linux's do_semtimedop: the checks in its order, then the operations now
// or after a wait.
Result<int64_t> do_semtimedop(kernel::Task& task, int semid, GuestAddr ops_addr, uint64_t count,
                              const std::optional<timespec>& timeout) {
  if (count < 1 || semid < 0) {
    return Errno{EINVAL};
  }
  if (count > kernel::ipc::kSemMaxOps) {
    return Errno{E2BIG};
  }
  std::vector<SemOp> ops(count);
  TRY(task.copy_in(ops_addr, std::as_writable_bytes(std::span(ops))));

  std::optional<kernel::TimePoint> deadline;
  if (timeout) {
    if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L) {
      return Errno{EINVAL};
    }
    const int64_t seconds = std::min<int64_t>(timeout->tv_sec, kMaxTimeoutSeconds);
    deadline = kernel::monotonic_now() + std::chrono::seconds(seconds) +
               std::chrono::nanoseconds(timeout->tv_nsec);
  }

  size_t highest = 0;
  bool undo = false;
  bool alter = false;
  for (const SemOp& op : ops) {
    highest = std::max<size_t>(highest, op.num);
    undo = undo || (op.flags & SEM_UNDO) != 0;
    alter = alter || op.op != 0;
  }

  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());
  std::shared_ptr<SemSet> set = TRY(ipc->sem().find_id(semid));
  if (highest >= set->size()) {
    return Errno{EFBIG};
  }
  const int access = alter ? kWriteAccess : kReadAccess;
  if (!kernel::ipc::ipc_permitted(set->perm, task.creds(), access)) {
    return Errno{EACCES};
  }

  std::shared_ptr<kernel::ipc::SemUndoList> undo_list;
  if (undo) {
    if (task.sem_undo() == nullptr) {
      task.sem_undo() = std::make_shared<kernel::ipc::SemUndoList>();
    }
    undo_list = task.sem_undo();
    undo_list->track(set);
  }

  size_t blocking = 0;
  const bool done = TRY(set->try_operations(ops, undo_list, task.pid(), blocking));
  if (done) {
    if (alter) {
      set->wake_waiters();
    }
    return 0;
  }

  kernel::ipc::SemWaiter waiter{.ops = std::move(ops),
                                .undo = undo_list,
                                .pid = task.pid(),
                                .blocking = blocking,
                                .status = std::nullopt,
                                .queue = {}};
  return wait_for_operations(task, *set, waiter, deadline);
}

}  // namespace

// semget(key, nsems, semflg)
Result<int64_t> sys_semget(kernel::Task& task, const SyscallArgs& args) {
  const int32_t key = args.i32(0);
  const int count = args.i32(1);
  const int flags = args.i32(2);
  return TRY(kernel::ipc::sem_get(task, key, count, flags));
}

// semop(semid, sops, nsops)
Result<int64_t> sys_semop(kernel::Task& task, const SyscallArgs& args) {
  const int semid = args.i32(0);
  const GuestAddr ops = args.addr(1);
  const uint64_t count = args.u64(2);
  return do_semtimedop(task, semid, ops, count, std::nullopt);
}

// semtimedop(semid, sops, nsops, timeout)
Result<int64_t> sys_semtimedop(kernel::Task& task, const SyscallArgs& args) {
  const int semid = args.i32(0);
  const GuestAddr ops = args.addr(1);
  const uint64_t count = args.u64(2);
  const GuestAddr timeout_addr = args.addr(3);

  // The timeout is read before anything else is checked.
  std::optional<timespec> timeout;
  if (!timeout_addr.is_null()) {
    timeout = TRY(task.copy_in<timespec>(timeout_addr));
  }
  return do_semtimedop(task, semid, ops, count, timeout);
}

// semctl(semid, semnum, cmd, arg)
Result<int64_t> sys_semctl(kernel::Task& task, const SyscallArgs& args) {
  const int semid = args.i32(0);
  const int semnum = args.i32(1);
  const int command = args.i32(2);
  // union semun: an int for SETVAL, else a pointer.
  const uint64_t argument = args.u64(3);
  const GuestAddr pointer(argument);

  if (semid < 0) {
    return Errno{EINVAL};
  }
  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());
  switch (command) {
    case IPC_INFO:
    case SEM_INFO:
      return sem_info(task, *ipc, command, pointer);
    case IPC_STAT:
    case SEM_STAT:
    case SEM_STAT_ANY:
      return sem_stat(task, *ipc, semid, command, pointer);
    case GETALL:
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT:
    case SETALL:
      return sem_values(task, *ipc, semid, semnum, command, pointer);
    case SETVAL:
      return sem_set_value(task, *ipc, semid, semnum, static_cast<int>(argument));
    case IPC_SET: {
      const auto requested = TRY(task.copy_in<GuestSemidDs>(pointer));
      return sem_change(task, *ipc, semid, command, requested);
    }
    case IPC_RMID:
      return sem_change(task, *ipc, semid, command, GuestSemidDs{});
    default:
      return Errno{EINVAL};
  }
}

}  // namespace ward::syscalls
