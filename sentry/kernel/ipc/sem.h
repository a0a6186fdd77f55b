// System V semaphore sets (Linux's ipc/sem.c): semop's all-or-nothing
// operations on one set, the tasks waiting for an operation to become
// possible, and the SEM_UNDO adjustments a process leaves behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sentry/kernel/ipc/ipc_namespace.h"
#include "sentry/kernel/wait_queue.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::kernel::ipc {

// Linux's defaults: SEMMSL semaphores per set, SEMMNS in all, SEMOPM
// operations per semop, SEMMNI sets, SEMVMX the largest value and SEMAEM
// the largest adjustment.
inline constexpr int kSemMaxPerSet = 32000;
inline constexpr int kSemMaxTotal = 1024000000;
inline constexpr int kSemMaxOps = 500;
inline constexpr int kSemMaxSets = 32000;
inline constexpr int kSemMaxValue = 32767;
inline constexpr int kSemMaxAdjustment = kSemMaxValue;

// Linux's struct sembuf.
struct SemOp {
  uint16_t num;
  int16_t op;
  int16_t flags;
};
static_assert(sizeof(SemOp) == 6);

class SemUndoList;

// One semop that waits for its operations to become possible. The task
// that changes the set performs them on the waiter's behalf and sets
// `status`.
struct SemWaiter {
  std::vector<SemOp> ops;
  std::shared_ptr<SemUndoList> undo;
  pid_t pid = 0;
  // The operation that blocked: GETNCNT and GETZCNT count the waiters
  // whose blocking operation is on their semaphore.
  size_t blocking = 0;
  // 0 once performed, or the errno that ended the wait (EIDRM, ERANGE).
  std::optional<int> status;
  WaitQueue queue;
};

class SemSet final : public IpcObject {
 public:
  struct Semaphore {
    uint16_t value = 0;
    pid_t pid = 0;  // the last process to change it (GETPID)
    int64_t operation_time = 0;
  };

  SemSet(IpcPermission perm, int count);

  size_t size() const { return semaphores_.size(); }
  const Semaphore& semaphore(size_t index) const { return semaphores_[index]; }

  // Performs `ops` all together or not at all, as Linux's
  // perform_atomic_semop: returns true when done, false when one of them
  // must wait (`blocking` is its index), or ERANGE past SEMVMX or SEMAEM.
  // With `undo`, SEM_UNDO operations record their opposite in its
  // adjustments.
  Result<bool> try_operations(std::span<const SemOp> ops, const std::shared_ptr<SemUndoList>& undo,
                              pid_t pid, size_t& blocking);

  // Queues a waiter; the caller unqueues it when its wait ends unfinished.
  void add_waiter(SemWaiter& waiter) { waiters_.push_back(&waiter); }
  void remove_waiter(SemWaiter& waiter) { waiters_.remove(&waiter); }

  // Retries the waiting operations after a change, oldest first, until no
  // more of them can complete (Linux's update_queue).
  void wake_waiters();

  // SETVAL and SETALL: new values, with every process's adjustment of the
  // semaphore cleared.
  void set_value(size_t index, uint16_t value, pid_t pid);

  // GETNCNT and GETZCNT.
  int count_waiters(size_t index, bool for_zero) const;

  // IPC_RMID: every waiter ends with EIDRM and every adjustment goes.
  void remove();

  // The latest semop time of any semaphore (sem_otime).
  int64_t operation_time() const;
  int64_t change_time = 0;

  // Applies the adjustments of `undo` as its process exits, clamped to
  // 0 and SEMVMX as Linux's exit_sem does.
  void apply_undo(const SemUndoList& undo, pid_t pid);
  void forget_undo(const SemUndoList& undo) { adjustments_.erase(&undo); }

 private:
  std::vector<Semaphore> semaphores_;
  std::list<SemWaiter*> waiters_;
  // Linux's semadj arrays, one per undo list that used SEM_UNDO here.
  std::map<const SemUndoList*, std::vector<int16_t>> adjustments_;
};

// The SEM_UNDO adjustments of one process, shared by the threads that
// CLONE_SYSVSEM made. Applied when the last of them exits.
class SemUndoList {
 public:
  SemUndoList() = default;
  ~SemUndoList();
  SemUndoList(const SemUndoList&) = delete;
  SemUndoList& operator=(const SemUndoList&) = delete;

  void track(const std::shared_ptr<SemSet>& set);

  // Linux's exit_sem: applies every adjustment and wakes the waiters they
  // let through.
  void apply(pid_t pid);

 private:
  std::vector<std::weak_ptr<SemSet>> sets_;
};

// Applies the task's SEM_UNDO adjustments if it is the last task that
// shares them, and drops its reference; called as a task exits.
void exit_semaphores(Task& task);

// semget(2).
Result<int> sem_get(Task& task, int32_t key, int count, int flags);

// IPC_RMID of a set.
void sem_remove(IpcNamespace& ipc, const std::shared_ptr<SemSet>& set);

// /proc/sysvipc/sem, in Linux's columns.
std::string render_proc_sysvipc_sem(IpcNamespace& ipc);

}  // namespace ward::kernel::ipc
