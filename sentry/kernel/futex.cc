#include "sentry/kernel/futex.h"

#include <algorithm>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/memory_manager.h"

namespace ward::kernel {

// ---------------------------------------------------------------------------
// Keys and queues

Result<FutexKey> futex_key(Task& task, GuestAddr word, bool shared) {
  if (word.value() % sizeof(uint32_t) != 0) {
    return Errno{EINVAL};
  }
  if (word.value() > kTaskSize - sizeof(uint32_t)) {
    return Errno{EFAULT};
  }
  FutexKey private_key{.kind = FutexKey::Kind::kPrivate,
                       .object = reinterpret_cast<uint64_t>(task.mm_ref().get()),
                       .offset = word.value()};
  if (!shared) {
    return private_key;
  }

  // Linux pins the page behind a shared key, which fails for an address
  // that nothing maps.
  const mm::Vma* vma = task.mm().find_vma(word);
  if (vma == nullptr) {
    return Errno{EFAULT};
  }
  // Linux keys by the page: an anonymous page (a private mapping's copy)
  // by address, a page of a file by the file, which a private file mapping
  // shows until it is written. NOTE: a private file mapping counts as
  // written when it is writable, since the sentry does not track which of
  // its pages were copied.
  bool file_page = vma->file && (vma->shared() || (vma->prot & PROT_WRITE) == 0);
  if (!vma->shared() && !file_page) {
    private_key.kind = FutexKey::Kind::kSharedPrivateMemory;
    return private_key;
  }
  uint64_t offset = vma->file_offset + (word - vma->start);
  if (vma->file) {
    return FutexKey{.kind = FutexKey::Kind::kFile,
                    .object = vma->file->inode,
                    .device = vma->file->device,
                    .offset = offset};
  }
  if (vma->shared_anonymous) {
    return FutexKey{.kind = FutexKey::Kind::kSharedAnonymous,
                    .object = reinterpret_cast<uint64_t>(vma->shared_anonymous.get()),
                    .offset = offset};
  }
  private_key.kind = FutexKey::Kind::kSharedPrivateMemory;
  return private_key;
}

void FutexTable::enqueue(FutexWaiter& waiter) {
  auto& queue = queues_[waiter.key];
  waiter.position = queue.insert(queue.end(), &waiter);
  waiter.queued = true;
}

void FutexTable::dequeue(FutexWaiter& waiter) {
  if (!waiter.queued) {
    return;
  }
  auto it = queues_.find(waiter.key);
  it->second.erase(waiter.position);
  waiter.queued = false;
  if (it->second.empty()) {
    queues_.erase(it);
  }
  forget_unused_pi_owner(waiter.key);
}

void FutexTable::requeue(FutexWaiter& waiter, const FutexKey& key) {
  FutexKey old_key = waiter.key;
  dequeue(waiter);
  waiter.key = key;
  enqueue(waiter);
  forget_unused_pi_owner(old_key);
}

std::vector<FutexWaiter*> FutexTable::waiters(const FutexKey& key) const {
  auto it = queues_.find(key);
  if (it == queues_.end()) {
    return {};
  }
  return {it->second.begin(), it->second.end()};
}

FutexWaiter* FutexTable::top_waiter(const FutexKey& key) const {
  auto it = queues_.find(key);
  return it == queues_.end() ? nullptr : it->second.front();
}

void FutexTable::wake(FutexWaiter& waiter) {
  dequeue(waiter);
  waiter.woken = true;
  waiter.wakeup.notify();
}

Task* FutexTable::pi_owner(const FutexKey& key) const {
  auto it = pi_owners_.find(key);
  return it == pi_owners_.end() ? nullptr : it->second;
}

void FutexTable::set_pi_owner(const FutexKey& key, Task* owner) { pi_owners_[key] = owner; }

void FutexTable::forget_unused_pi_owner(const FutexKey& key) {
  if (!queues_.contains(key)) {
    pi_owners_.erase(key);
  }
}

std::vector<FutexKey> FutexTable::pi_keys_owned_by(const Task& task) const {
  std::vector<FutexKey> keys;
  for (const auto& [key, owner] : pi_owners_) {
    if (owner == &task) {
      keys.push_back(key);
    }
  }
  return keys;
}

namespace {

constexpr int kRobustListLimit = 2048;  // Linux's ROBUST_LIST_LIMIT

FutexTable& table(Task& task) { return task.kernel().futexes(); }

// Parks the task until `waiter` is woken, the deadline passes or a signal
// or exit request interrupts it.
WakeReason park(Task& task, FutexWaiter& waiter, std::optional<TimePoint> deadline) {
  Waiter wait(task.scheduler());
  wait.watch(waiter.wakeup);
  if (deadline) {
    wait.set_deadline(*deadline);
  }
  return task.block(wait);
}

// How many tasks a wake count lets go: Linux counts a wake before it
// compares, so zero or a negative count still wakes one.
int64_t wake_limit(int32_t count) { return count <= 0 ? 1 : count; }

// Wakes up to `limit` waiters of `key` whose bitset meets `bitset`. A PI
// waiter, or one in FUTEX_WAIT_REQUEUE_PI, may be woken only by its own
// protocol: meeting one is EINVAL, as in Linux.
Result<int64_t> wake_key(FutexTable& futexes, const FutexKey& key, int64_t limit,
                         uint32_t bitset) {
  int64_t woken = 0;
  for (FutexWaiter* waiter : futexes.waiters(key)) {
    if (waiter->pi || waiter->requeue_pi_key) {
      return Errno{EINVAL};
    }
    if ((waiter->bitset & bitset) == 0) {
      continue;
    }
    futexes.wake(*waiter);
    if (++woken >= limit) {
      break;
    }
  }
  return woken;
}

// Whether the task with `tid` exists and has not yet ended.
Task* live_task(Task& task, pid_t tid) {
  Task* found = task.kernel().find_task(tid);
  return found != nullptr && !found->finished() ? found : nullptr;
}

// Linux's futex_lock_pi_atomic: tries to take the PI lock `word` (read and
// written through `task`'s memory) for `locker`. Returns 1 when `locker`
// now owns it, 0 when it must wait (FUTEX_WAITERS is then set and the
// owner recorded), or the error. `set_waiters` is requeue-PI's: the new
// owner's word gets FUTEX_WAITERS too.
Result<int> lock_pi_atomic(Task& task, GuestAddr word, const FutexKey& key, Task& locker,
                           bool set_waiters) {
  FutexTable& futexes = table(task);
  uint32_t value = TRY(task.copy_in<uint32_t>(word));
  pid_t owner_tid = static_cast<pid_t>(value & FUTEX_TID_MASK);
  if (owner_tid == locker.tid()) {
    return Errno{EDEADLK};
  }

  if (futexes.top_waiter(key) != nullptr) {
    // Others wait already: the word must name the owner the kernel holds.
    Task* owner = futexes.pi_owner(key);
    if (owner == nullptr || owner->tid() != owner_tid) {
      return Errno{EINVAL};
    }
    return 0;
  }

  // Setting FUTEX_WAITERS atomically first freezes the word: guest threads
  // change a PI word only by compare-and-exchange from values without the
  // bit, and every other change comes through the sentry. So the plain
  // writes below cannot lose a guest's update.
  if ((value & FUTEX_WAITERS) == 0) {
    TRY(task.mm().address_space().atomic_or_u32(word, FUTEX_WAITERS));
    value = TRY(task.copy_in<uint32_t>(word));
    owner_tid = static_cast<pid_t>(value & FUTEX_TID_MASK);
    if (owner_tid == locker.tid()) {
      return Errno{EDEADLK};
    }
  }

  if (owner_tid == 0) {
    // The lock is free (the waiters or owner-died bit sent the caller
    // here). Take it, keeping FUTEX_OWNER_DIED for the new owner to see.
    uint32_t taken = (value & FUTEX_OWNER_DIED) | static_cast<uint32_t>(locker.tid());
    if (set_waiters) {
      taken |= FUTEX_WAITERS;
    }
    TRY(task.copy_out(word, taken));
    if (set_waiters) {
      futexes.set_pi_owner(key, &locker);
    }
    return 1;
  }

  // The first waiter: FUTEX_WAITERS is set, so the owner's unlock comes to
  // the kernel. Find the owner; Linux leaves the bit set when it is gone.
  Task* owner = live_task(task, owner_tid);
  if (owner == nullptr) {
    return Errno{ESRCH};
  }
  futexes.set_pi_owner(key, owner);
  return 0;
}

// Gives the PI lock of `waiter`'s key to it: the word becomes its tid with
// FUTEX_WAITERS (Linux keeps that bit while the kernel tracks the lock)
// and `extra_bits`.
Result<void> hand_off_pi(FutexTable& futexes, FutexWaiter& waiter, uint32_t extra_bits) {
  uint32_t value = FUTEX_WAITERS | extra_bits | static_cast<uint32_t>(waiter.task->tid());
  TRY(waiter.task->copy_out(waiter.word, value));
  FutexKey key = waiter.key;
  waiter.acquired = true;
  futexes.wake(waiter);
  if (futexes.top_waiter(key) != nullptr) {
    futexes.set_pi_owner(key, waiter.task);
  }
  return ok();
}

// Linux's handle_futex_death for one robust list entry. Returns false when
// the walk must stop.
bool handle_futex_death(Task& task, GuestAddr word, bool pi, bool pending_op) {
  if (word.value() % sizeof(uint32_t) != 0) {
    return false;
  }
  auto value = task.copy_in<uint32_t>(word);
  if (!value.ok()) {
    return false;
  }
  pid_t owner = static_cast<pid_t>(*value & FUTEX_TID_MASK);

  // The thread died between taking the pending lock's word to zero and
  // waking a waiter: wake one for it.
  if (pending_op && !pi && owner == 0) {
    (void)futex_wake(task, word, true, 1, FUTEX_BITSET_MATCH_ANY);
    return true;
  }
  if (owner != task.tid()) {
    return true;
  }

  // The new word has no owner, so the next locker takes it and learns
  // from FUTEX_OWNER_DIED that the data may be inconsistent.
  uint32_t died = (*value & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
  if (!task.copy_out(word, died).ok()) {
    return false;
  }
  // PI waiters get the lock from the PI hand-off in release_futexes.
  if (!pi && (*value & FUTEX_WAITERS) != 0) {
    (void)futex_wake(task, word, true, 1, FUTEX_BITSET_MATCH_ANY);
  }
  return true;
}

// Reads one robust list pointer: the entry's address, with bit 0 saying
// whether the lock is a PI one.
Result<std::pair<GuestAddr, bool>> fetch_robust_entry(Task& task, GuestAddr at) {
  uint64_t raw = TRY(task.copy_in<uint64_t>(at));
  return std::pair(GuestAddr(raw & ~uint64_t{1}), (raw & 1) != 0);
}

// Linux's exit_robust_list. The head is struct robust_list_head: the list
// pointer, futex_offset (from an entry to its lock word) and
// list_op_pending (a lock being taken or released at the time of death).
void exit_robust_list(Task& task, GuestAddr head) {
  auto first = fetch_robust_entry(task, head);
  auto futex_offset = task.copy_in<int64_t>(head + 8);
  auto pending = fetch_robust_entry(task, head + 16);
  if (!first.ok() || !futex_offset.ok() || !pending.ok()) {
    return;
  }
  auto [entry, pi] = *first;
  auto [pending_entry, pending_pi] = *pending;
  int limit = kRobustListLimit;
  while (entry != head) {
    auto next = fetch_robust_entry(task, entry);
    if (entry != pending_entry) {
      GuestAddr word(entry.value() + static_cast<uint64_t>(*futex_offset));
      if (!handle_futex_death(task, word, pi, false)) {
        return;
      }
    }
    if (!next.ok()) {
      return;
    }
    std::tie(entry, pi) = *next;
    if (--limit == 0) {
      break;
    }
  }
  if (!pending_entry.is_null()) {
    GuestAddr word(pending_entry.value() + static_cast<uint64_t>(*futex_offset));
    handle_futex_death(task, word, pending_pi, true);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Wait and wake

Result<int64_t> futex_wait(Task& task, GuestAddr word, bool shared, uint32_t expected,
                           std::optional<TimePoint> deadline, uint32_t bitset) {
  if (bitset == 0) {
    return Errno{EINVAL};
  }
  FutexKey key = TRY(futex_key(task, word, shared));
  uint32_t value = TRY(task.copy_in<uint32_t>(word));
  if (value != expected) {
    return Errno{EAGAIN};
  }

  FutexWaiter waiter{.task = &task, .word = word, .key = key, .bitset = bitset};
  table(task).enqueue(waiter);
  WakeReason reason = park(task, waiter, deadline);
  table(task).dequeue(waiter);

  // A wake that came with a timeout or signal still counts as a wake.
  if (waiter.woken) {
    return 0;
  }
  if (reason == WakeReason::kTimedOut) {
    return Errno{ETIMEDOUT};
  }
  if (!deadline) {
    return Errno{ERESTARTSYS};
  }
  // With a timeout Linux restarts only through restart_syscall, which
  // waits on to the same deadline; a signal handler makes the call EINTR.
  task.set_restart_function([=](Task& restarted) {
    return futex_wait(restarted, word, shared, expected, deadline, bitset);
  });
  return Errno{ERESTART_RESTARTBLOCK};
}

Result<int64_t> futex_wake(Task& task, GuestAddr word, bool shared, int32_t count,
                           uint32_t bitset, bool strict) {
  if (bitset == 0) {
    return Errno{EINVAL};
  }
  FutexKey key = TRY(futex_key(task, word, shared));
  if (strict && count == 0) {
    return 0;
  }
  return wake_key(table(task), key, wake_limit(count), bitset);
}

Result<int64_t> futex_requeue(Task& task, GuestAddr word, bool shared, GuestAddr target,
                              bool target_shared, int32_t wake_count, int32_t requeue_count,
                              std::optional<uint32_t> compare) {
  if (wake_count < 0 || requeue_count < 0) {
    return Errno{EINVAL};
  }
  FutexKey key = TRY(futex_key(task, word, shared));
  FutexKey target_key = TRY(futex_key(task, target, target_shared));
  if (compare) {
    uint32_t value = TRY(task.copy_in<uint32_t>(word));
    if (value != *compare) {
      return Errno{EAGAIN};
    }
  }

  FutexTable& futexes = table(task);
  int64_t count = 0;
  for (FutexWaiter* waiter : futexes.waiters(key)) {
    if (count - wake_count >= requeue_count) {
      break;
    }
    if (waiter->pi || waiter->requeue_pi_key) {
      return Errno{EINVAL};
    }
    if (++count <= wake_count) {
      futexes.wake(*waiter);
    } else {
      futexes.requeue(*waiter, target_key);
    }
  }
  return count;
}

Result<int64_t> futex_wake_op(Task& task, GuestAddr word, GuestAddr target, bool shared,
                              int32_t wake_count, int32_t target_wake_count,
                              uint32_t encoded_op) {
  FutexKey key = TRY(futex_key(task, word, shared));
  FutexKey target_key = TRY(futex_key(task, target, shared));

  // The operation: bits 28-30 the op, bit 31 FUTEX_OP_OPARG_SHIFT, bits
  // 24-27 the comparison, then two signed 12-bit arguments.
  uint32_t op = (encoded_op >> 28) & 7;
  uint32_t cmp = (encoded_op >> 24) & 15;
  auto sign_extend_12 = [](uint32_t bits) {
    return static_cast<int32_t>(bits << 20) >> 20;
  };
  int32_t oparg = sign_extend_12((encoded_op >> 12) & 0xfff);
  int32_t cmparg = sign_extend_12(encoded_op & 0xfff);
  if ((encoded_op & (uint32_t{FUTEX_OP_OPARG_SHIFT} << 28)) != 0) {
    // Linux masks a shift outside 0-31 (and logs that the program is
    // wrong) rather than fail.
    oparg = static_cast<int32_t>(uint32_t{1} << (static_cast<uint32_t>(oparg) & 31));
  }
  if (op > FUTEX_OP_XOR) {
    return Errno{ENOSYS};
  }

  int32_t old_value = static_cast<int32_t>(TRY(task.copy_in<uint32_t>(target)));
  int32_t new_value = 0;
  switch (op) {
    case FUTEX_OP_SET:
      new_value = oparg;
      break;
    case FUTEX_OP_ADD:
      new_value = static_cast<int32_t>(static_cast<uint32_t>(old_value) +
                                       static_cast<uint32_t>(oparg));
      break;
    case FUTEX_OP_OR:
      new_value = old_value | oparg;
      break;
    case FUTEX_OP_ANDN:
      new_value = old_value & ~oparg;
      break;
    case FUTEX_OP_XOR:
      new_value = old_value ^ oparg;
      break;
  }
  TRY(task.copy_out(target, static_cast<uint32_t>(new_value)));

  // Linux compares after the store, so an unknown comparison fails with
  // the word already changed.
  bool wake_target = false;
  switch (cmp) {
    case FUTEX_OP_CMP_EQ:
      wake_target = old_value == cmparg;
      break;
    case FUTEX_OP_CMP_NE:
      wake_target = old_value != cmparg;
      break;
    case FUTEX_OP_CMP_LT:
      wake_target = old_value < cmparg;
      break;
    case FUTEX_OP_CMP_GE:
      wake_target = old_value >= cmparg;
      break;
    case FUTEX_OP_CMP_LE:
      wake_target = old_value <= cmparg;
      break;
    case FUTEX_OP_CMP_GT:
      wake_target = old_value > cmparg;
      break;
    default:
      return Errno{ENOSYS};
  }

  FutexTable& futexes = table(task);
  int64_t woken = TRY(wake_key(futexes, key, wake_limit(wake_count), FUTEX_BITSET_MATCH_ANY));
  if (wake_target) {
    woken += TRY(wake_key(futexes, target_key, wake_limit(target_wake_count),
                          FUTEX_BITSET_MATCH_ANY));
  }
  return woken;
}

Result<int64_t> futex_waitv(Task& task, const std::vector<FutexWaitvEntry>& entries,
                            std::optional<TimePoint> deadline) {
  std::vector<FutexKey> keys;
  keys.reserve(entries.size());
  for (const FutexWaitvEntry& entry : entries) {
    keys.push_back(TRY(futex_key(task, entry.word, entry.shared)));
  }
  for (const FutexWaitvEntry& entry : entries) {
    uint32_t value = TRY(task.copy_in<uint32_t>(entry.word));
    if (value != entry.expected) {
      return Errno{EAGAIN};
    }
  }

  // std::list keeps each waiter in place, which the queues point into.
  std::list<FutexWaiter> waiters;
  Waiter wait(task.scheduler());
  for (size_t i = 0; i < entries.size(); ++i) {
    FutexWaiter& waiter = waiters.emplace_back();
    waiter.task = &task;
    waiter.word = entries[i].word;
    waiter.key = keys[i];
    table(task).enqueue(waiter);
    wait.watch(waiter.wakeup);
  }
  if (deadline) {
    wait.set_deadline(*deadline);
  }
  WakeReason reason = task.block(wait);

  std::optional<int64_t> woken_index;
  int64_t index = 0;
  for (FutexWaiter& waiter : waiters) {
    table(task).dequeue(waiter);
    if (waiter.woken) {
      woken_index = index;
    }
    ++index;
  }
  if (woken_index) {
    return *woken_index;
  }
  return reason == WakeReason::kTimedOut ? Errno{ETIMEDOUT} : Errno{ERESTARTSYS};
}

// ---------------------------------------------------------------------------
// Priority inheritance

Result<int64_t> futex_lock_pi(Task& task, GuestAddr word, bool shared,
                              std::optional<TimePoint> deadline, bool trylock) {
  FutexKey key = TRY(futex_key(task, word, shared));
  FutexTable& futexes = table(task);
  int taken = TRY(lock_pi_atomic(task, word, key, task, false));
  if (taken == 1) {
    return 0;
  }
  if (trylock) {
    // FUTEX_WAITERS stays set in the word, as in Linux.
    futexes.forget_unused_pi_owner(key);
    return Errno{EAGAIN};
  }

  FutexWaiter waiter{.task = &task, .word = word, .key = key, .pi = true};
  futexes.enqueue(waiter);
  WakeReason reason = park(task, waiter, deadline);
  futexes.dequeue(waiter);
  if (waiter.acquired) {
    return 0;
  }
  // A signal restarts the call: the lock is still wanted, and the deadline
  // is absolute.
  return reason == WakeReason::kTimedOut ? Errno{ETIMEDOUT} : Errno{ERESTARTNOINTR};
}

Result<int64_t> futex_unlock_pi(Task& task, GuestAddr word, bool shared) {
  uint32_t value = TRY(task.copy_in<uint32_t>(word));
  if (static_cast<pid_t>(value & FUTEX_TID_MASK) != task.tid()) {
    return Errno{EPERM};
  }
  FutexKey key = TRY(futex_key(task, word, shared));
  FutexTable& futexes = table(task);
  FutexWaiter* next = futexes.top_waiter(key);
  if (next != nullptr) {
    if (!next->pi) {
      return Errno{EINVAL};
    }
    TRY(hand_off_pi(futexes, *next, 0));
    return 0;
  }
  // No task waits in the kernel, so the lock becomes free. FUTEX_OWNER_DIED
  // is cleared too, since the owner that saw it has dealt with it.
  TRY(task.copy_out(word, uint32_t{0}));
  return 0;
}

Result<int64_t> futex_wait_requeue_pi(Task& task, GuestAddr word, bool shared, uint32_t expected,
                                      std::optional<TimePoint> deadline, GuestAddr target) {
  if (word == target) {
    return Errno{EINVAL};
  }
  FutexKey target_key = TRY(futex_key(task, target, shared));
  FutexKey key = TRY(futex_key(task, word, shared));
  uint32_t value = TRY(task.copy_in<uint32_t>(word));
  if (value != expected) {
    return Errno{EAGAIN};
  }
  if (key == target_key) {
    return Errno{EINVAL};
  }

  FutexTable& futexes = table(task);
  FutexWaiter waiter{.task = &task,
                     .word = word,
                     .key = key,
                     .requeue_pi_key = target_key,
                     .requeue_pi_word = target};
  futexes.enqueue(waiter);
  WakeReason reason = park(task, waiter, deadline);
  // Once requeued, the waiter waits for the PI lock like FUTEX_LOCK_PI
  // until it gets it, times out or is interrupted.
  while (waiter.requeued && !waiter.acquired && reason == WakeReason::kNotified) {
    reason = park(task, waiter, deadline);
  }
  futexes.dequeue(waiter);
  if (waiter.acquired) {
    return 0;
  }
  if (reason == WakeReason::kTimedOut) {
    return Errno{ETIMEDOUT};
  }
  // After a requeue a restart would find the first word changed, so Linux
  // returns EAGAIN at once.
  return waiter.requeued ? Errno{EAGAIN} : Errno{ERESTARTNOINTR};
}

Result<int64_t> futex_cmp_requeue_pi(Task& task, GuestAddr word, bool shared, GuestAddr target,
                                     int32_t wake_count, int32_t requeue_count, uint32_t compare) {
  if (wake_count < 0 || requeue_count < 0) {
    return Errno{EINVAL};
  }
  if (wake_count != 1) {
    return Errno{EINVAL};
  }
  FutexKey key = TRY(futex_key(task, word, shared));
  FutexKey target_key = TRY(futex_key(task, target, shared));
  if (key == target_key) {
    return Errno{EINVAL};
  }
  uint32_t value = TRY(task.copy_in<uint32_t>(word));
  if (value != compare) {
    return Errno{EAGAIN};
  }

  FutexTable& futexes = table(task);
  int64_t count = 0;
  FutexWaiter* top = futexes.top_waiter(key);
  if (top != nullptr) {
    if (!top->requeue_pi_key || top->pi || *top->requeue_pi_key != target_key) {
      return Errno{EINVAL};
    }
    // Try to take the PI lock for the first waiter, which then returns
    // holding it.
    int taken = TRY(lock_pi_atomic(task, target, target_key, *top->task, true));
    if (taken == 1) {
      top->acquired = true;
      futexes.wake(*top);
      ++count;
    }
  }

  // Linux's loop bound: without the first waiter woken it moves one more
  // than requeue_count.
  Result<int64_t> result = 0;
  for (FutexWaiter* waiter : futexes.waiters(key)) {
    if (count - wake_count >= requeue_count) {
      break;
    }
    if (!waiter->requeue_pi_key || waiter->pi || *waiter->requeue_pi_key != target_key) {
      result = Errno{EINVAL};
      break;
    }
    if (futexes.pi_owner(target_key) == waiter->task) {
      result = Errno{EDEADLK};
      break;
    }
    waiter->word = waiter->requeue_pi_word;
    waiter->pi = true;
    waiter->requeued = true;
    futexes.requeue(*waiter, target_key);
    ++count;
  }
  futexes.forget_unused_pi_owner(target_key);
  if (!result.ok()) {
    return result;
  }
  return count;
}

// ---------------------------------------------------------------------------
// Thread exit

void release_futexes(Task& task) {
  if (task.mm_ref() == nullptr) {
    return;
  }
  if (!task.robust_list().is_null()) {
    exit_robust_list(task, task.robust_list());
    task.set_robust_list(GuestAddr());
  }

  // Linux's exit_pi_state_list: the first waiter of each PI lock this task
  // still owns gets it, marked FUTEX_OWNER_DIED.
  FutexTable& futexes = table(task);
  for (const FutexKey& key : futexes.pi_keys_owned_by(task)) {
    FutexWaiter* next = futexes.top_waiter(key);
    if (next == nullptr || !next->pi || !hand_off_pi(futexes, *next, FUTEX_OWNER_DIED).ok()) {
      futexes.set_pi_owner(key, nullptr);
      futexes.forget_unused_pi_owner(key);
    }
  }
}

void wake_cleared_tid(Task& task, GuestAddr word) {
  (void)futex_wake(task, word, true, 1, FUTEX_BITSET_MATCH_ANY);
}

}  // namespace ward::kernel
