#include "sentry/kernel/ipc/sem.h"

#include <fmt/format.h>
#include <sys/sem.h>

#include <algorithm>

#include "sentry/kernel/task.h"

namespace ward::kernel::ipc {

// ---------------------------------------------------------------------------
// SemSet

SemSet::SemSet(IpcPermission perm_in, int count) : semaphores_(static_cast<size_t>(count)) {
  perm = perm_in;
  change_time = ipc_now_seconds();
}

Result<bool> SemSet::try_operations(std::span<const SemOp> ops,
                                    const std::shared_ptr<SemUndoList>& undo, pid_t pid,
                                    size_t& blocking) {
  // The operations run in order on a copy, so that one semaphore named
  // twice starts from the first operation's result, and nothing changes unless
  // all of them can run.
  std::vector<int> values(semaphores_.size());
  for (size_t i = 0; i < semaphores_.size(); ++i) {
    values[i] = semaphores_[i].value;
  }
  std::vector<int16_t>* adjustments = nullptr;
  std::vector<int> new_adjustments;
  if (undo != nullptr) {
    adjustments = &adjustments_[undo.get()];
    adjustments->resize(semaphores_.size(), 0);
    new_adjustments.assign(adjustments->begin(), adjustments->end());
  }

  for (size_t i = 0; i < ops.size(); ++i) {
    const SemOp& op = ops[i];
    const int value = values[op.num];
    const int result = value + op.op;
    const bool would_block = op.op == 0 ? value != 0 : result < 0;
    if (would_block) {
      blocking = i;
      if ((op.flags & IPC_NOWAIT) != 0) {
        return Errno{EAGAIN};
      }
      return false;
    }
    if (result > kSemMaxValue) {
      return Errno{ERANGE};
    }
    if ((op.flags & SEM_UNDO) != 0 && adjustments != nullptr) {
      const int adjustment = new_adjustments[op.num] - op.op;
      if (adjustment < -kSemMaxAdjustment - 1 || adjustment > kSemMaxAdjustment) {
        return Errno{ERANGE};
      }
      new_adjustments[op.num] = adjustment;
    }
    values[op.num] = result;
  }

  for (const SemOp& op : ops) {
    semaphores_[op.num].value = static_cast<uint16_t>(values[op.num]);
    semaphores_[op.num].pid = pid;
  }
  if (adjustments != nullptr) {
    std::copy(new_adjustments.begin(), new_adjustments.end(), adjustments->begin());
  }
  if (!ops.empty()) {
    semaphores_[ops.front().num].operation_time = ipc_now_seconds();
  }
  return true;
}

void SemSet::wake_waiters() {
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      SemWaiter& waiter = **it;
      size_t blocking = 0;
      Result<bool> done = try_operations(waiter.ops, waiter.undo, waiter.pid, blocking);
      if (done.ok() && !*done) {
        waiter.blocking = blocking;
        ++it;
        continue;
      }
      it = waiters_.erase(it);
      waiter.status = done.ok() ? 0 : done.error().value;
      waiter.queue.notify();
      // A change may let an older waiter through, so the scan starts again.
      progress = progress || done.ok();
    }
  }
}

void SemSet::set_value(size_t index, uint16_t value, pid_t pid) {
  semaphores_[index].value = value;
  semaphores_[index].pid = pid;
  for (auto& [undo, adjustments] : adjustments_) {
    if (index < adjustments.size()) {
      adjustments[index] = 0;
    }
  }
}

int SemSet::count_waiters(size_t index, bool for_zero) const {
  int count = 0;
  for (const SemWaiter* waiter : waiters_) {
    const SemOp& op = waiter->ops[waiter->blocking];
    if (op.num != index) {
      continue;
    }
    if (for_zero ? op.op == 0 : op.op < 0) {
      ++count;
    }
  }
  return count;
}

void SemSet::remove() {
  perm.removed = true;
  for (SemWaiter* waiter : waiters_) {
    waiter->status = EIDRM;
    waiter->queue.notify();
  }
  waiters_.clear();
  adjustments_.clear();
}

int64_t SemSet::operation_time() const {
  int64_t latest = 0;
  for (const Semaphore& semaphore : semaphores_) {
    latest = std::max(latest, semaphore.operation_time);
  }
  return latest;
}

void SemSet::apply_undo(const SemUndoList& undo, pid_t pid) {
  auto it = adjustments_.find(&undo);
  if (it == adjustments_.end()) {
    return;
  }
  for (size_t i = 0; i < it->second.size() && i < semaphores_.size(); ++i) {
    if (it->second[i] == 0) {
      continue;
    }
    const int value = std::clamp(semaphores_[i].value + it->second[i], 0, kSemMaxValue);
    semaphores_[i].value = static_cast<uint16_t>(value);
    semaphores_[i].pid = pid;
  }
  adjustments_.erase(it);
}

// ---------------------------------------------------------------------------
// SemUndoList

SemUndoList::~SemUndoList() {
  for (const std::weak_ptr<SemSet>& weak : sets_) {
    if (std::shared_ptr<SemSet> set = weak.lock()) {
      set->forget_undo(*this);
    }
  }
}

void SemUndoList::track(const std::shared_ptr<SemSet>& set) {
  for (const std::weak_ptr<SemSet>& weak : sets_) {
    if (weak.lock() == set) {
      return;
    }
  }
  sets_.push_back(set);
}

void SemUndoList::apply(pid_t pid) {
  std::vector<std::weak_ptr<SemSet>> sets = std::move(sets_);
  sets_.clear();
  for (const std::weak_ptr<SemSet>& weak : sets) {
    std::shared_ptr<SemSet> set = weak.lock();
    if (set == nullptr || set->perm.removed) {
      continue;
    }
    set->apply_undo(*this, pid);
    set->wake_waiters();
  }
}

void exit_semaphores(Task& task) {
  std::shared_ptr<SemUndoList>& undo = task.sem_undo();
  if (undo == nullptr) {
    return;
  }
  if (undo.use_count() == 1) {
    undo->apply(task.pid());
  }
  undo.reset();
}

// ---------------------------------------------------------------------------
// semget and IPC_RMID

Result<int> sem_get(Task& task, int32_t key, int count, int flags) {
  if (count < 0 || count > kSemMaxPerSet) {
    return Errno{EINVAL};
  }
  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());

  auto create = [&]() -> Result<int> {
    // Linux's newary.
    if (count == 0) {
      return Errno{EINVAL};
    }
    if (ipc->used_semaphores + static_cast<uint64_t>(count) > kSemMaxTotal) {
      return Errno{ENOSPC};
    }
    auto set = std::make_shared<SemSet>(new_ipc_permission(key, flags, task.creds()), count);
    const int id = TRY(ipc->sem().add(set, kSemMaxSets));
    ipc->used_semaphores += static_cast<uint64_t>(count);
    return id;
  };
  auto more_checks = [&](const SemSet& existing) -> Result<void> {
    if (static_cast<size_t>(count) > existing.size()) {
      return Errno{EINVAL};
    }
    return ok();
  };
  return ipc_get<SemSet>(ipc->sem(), key, flags, task.creds(), create, more_checks);
}

void sem_remove(IpcNamespace& ipc, const std::shared_ptr<SemSet>& set) {
  set->remove();
  ipc.used_semaphores -= set->size();
  ipc.sem().remove(*set);
}

std::string render_proc_sysvipc_sem(IpcNamespace& ipc) {
  std::string text =
      "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n";
  for (const std::shared_ptr<SemSet>& set : ipc.sem().objects()) {
    const IpcPermission& perm = set->perm;
    text += fmt::format("{:>10} {:>10}  {:>4o} {:>10} {:>5} {:>5} {:>5} {:>5} {:>10} {:>10}\n",
                        perm.key, perm.id, perm.mode, set->size(), perm.uid, perm.gid, perm.cuid,
                        perm.cgid, set->operation_time(), set->change_time);
  }
  return text;
}

}  // namespace ward::kernel::ipc
