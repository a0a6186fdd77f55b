// Futexes: the queues of tasks waiting on futex words, the kernel's half of
// the priority-inheritance (PI) word protocol, and the robust list walk of
// a dying thread. syscalls/sys_futex.cc decodes the syscalls and calls the
// operations declared here.
//
// NOTE: apart from setting FUTEX_WAITERS on a PI word, which is atomic,
// the sentry reads and then writes a futex word in two steps. That is safe
// for the PI protocol (see lock_pi_atomic). It is not for FUTEX_WAKE_OP,
// because a guest thread that changes the word at the same time can lose
// its change. glibc no longer uses FUTEX_WAKE_OP.
//
// NOTE: priority inheritance itself has no effect: the sandbox gives its
// tasks no real-time priorities to lend. The word protocol (owner tid,
// FUTEX_WAITERS, FUTEX_OWNER_DIED, hand-off in FIFO order) is Linux's.
#pragma once

#include <linux/futex.h>

#include <compare>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <vector>

#include "sentry/kernel/clock.h"
#include "sentry/kernel/wait_queue.h"
#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::kernel {

class Task;

// The identity of a futex word. A word keyed with FUTEX_PRIVATE_FLAG, or
// one in private memory, is its address in one address space. A word in a
// MAP_SHARED mapping (or a read-only private file mapping) is its offset
// in the file or shared anonymous memory behind the mapping, so that
// processes mapping it at any address meet.
// A word in private memory keyed without FUTEX_PRIVATE_FLAG is its address
// too, but Linux marks such a key, so that it never meets the same word
// keyed with the flag.
struct FutexKey {
  enum class Kind : uint8_t { kPrivate, kSharedPrivateMemory, kFile, kSharedAnonymous };
  Kind kind = Kind::kPrivate;
  uint64_t object = 0;  // the MemoryManager, the inode or the SharedAnonymousMemory
  uint64_t device = 0;  // the file's device, for kFile
  uint64_t offset = 0;  // the address in the MemoryManager, else the offset in the object

  auto operator<=>(const FutexKey&) const = default;
};

// The key of the 32-bit word at `word`: EINVAL unless it is 4-byte
// aligned, EFAULT outside the user address space or, for a shared key, in
// no mapping. `shared` is false with FUTEX_PRIVATE_FLAG.
Result<FutexKey> futex_key(Task& task, GuestAddr word, bool shared);

// One task blocked on a futex word, on the stack of its syscall.
struct FutexWaiter {
  Task* task = nullptr;
  GuestAddr word{};  // in task's address space
  FutexKey key{};
  uint32_t bitset = FUTEX_BITSET_MATCH_ANY;
  bool pi = false;  // waits for a PI lock: FUTEX_LOCK_PI, or requeued onto one
  // FUTEX_WAIT_REQUEUE_PI: the PI futex it may be requeued onto.
  std::optional<FutexKey> requeue_pi_key{};
  GuestAddr requeue_pi_word{};
  bool requeued = false;  // moved onto the PI futex by FUTEX_CMP_REQUEUE_PI
  bool woken = false;     // taken off its queue by a wake or a hand-off
  bool acquired = false;  // the PI lock was handed to it
  WaitQueue wakeup{};     // what the blocked task's Waiter watches

  // Bookkeeping of FutexTable.
  bool queued = false;
  std::list<FutexWaiter*>::iterator position{};
};

class FutexTable {
 public:
  // Adds `waiter` at the tail of the queue of waiter.key.
  void enqueue(FutexWaiter& waiter);
  // Takes `waiter` off its queue, if it is still on one.
  void dequeue(FutexWaiter& waiter);
  // Moves `waiter` to the tail of the queue of `key`.
  void requeue(FutexWaiter& waiter, const FutexKey& key);

  // The waiters of `key`, oldest first; empty when none.
  std::vector<FutexWaiter*> waiters(const FutexKey& key) const;
  FutexWaiter* top_waiter(const FutexKey& key) const;

  // Takes `waiter` off its queue and makes its task runnable.
  void wake(FutexWaiter& waiter);

  // The task recorded as owner of the PI futex `key` while tasks wait for
  // it, or null.
  Task* pi_owner(const FutexKey& key) const;
  void set_pi_owner(const FutexKey& key, Task* owner);
  // Forgets the owner of `key` once no task waits for it.
  void forget_unused_pi_owner(const FutexKey& key);
  // The PI futexes whose recorded owner is `task`.
  std::vector<FutexKey> pi_keys_owned_by(const Task& task) const;

 private:
  std::map<FutexKey, std::list<FutexWaiter*>> queues_;
  std::map<FutexKey, Task*> pi_owners_;
};

// The futex operations, with Linux's checks in Linux's order. `shared` is
// false with FUTEX_PRIVATE_FLAG. A wake count of zero or less wakes one
// task, as Linux's futex(2) does, unless `strict` (futex_wake(2)).

Result<int64_t> futex_wait(Task& task, GuestAddr word, bool shared, uint32_t expected,
                           std::optional<TimePoint> deadline, uint32_t bitset);
Result<int64_t> futex_wake(Task& task, GuestAddr word, bool shared, int32_t count,
                           uint32_t bitset, bool strict = false);
// FUTEX_REQUEUE (no `compare`), FUTEX_CMP_REQUEUE and futex_requeue(2).
Result<int64_t> futex_requeue(Task& task, GuestAddr word, bool shared, GuestAddr target,
                              bool target_shared, int32_t wake_count, int32_t requeue_count,
                              std::optional<uint32_t> compare);
Result<int64_t> futex_wake_op(Task& task, GuestAddr word, GuestAddr target, bool shared,
                              int32_t wake_count, int32_t target_wake_count,
                              uint32_t encoded_op);
// FUTEX_LOCK_PI, FUTEX_LOCK_PI2 and (with `trylock`) FUTEX_TRYLOCK_PI.
Result<int64_t> futex_lock_pi(Task& task, GuestAddr word, bool shared,
                              std::optional<TimePoint> deadline, bool trylock);
Result<int64_t> futex_unlock_pi(Task& task, GuestAddr word, bool shared);
Result<int64_t> futex_wait_requeue_pi(Task& task, GuestAddr word, bool shared, uint32_t expected,
                                      std::optional<TimePoint> deadline, GuestAddr target);
Result<int64_t> futex_cmp_requeue_pi(Task& task, GuestAddr word, bool shared, GuestAddr target,
                                     int32_t wake_count, int32_t requeue_count, uint32_t compare);

// futex_waitv(2) after its arguments were checked: one word per entry.
struct FutexWaitvEntry {
  GuestAddr word{};
  uint32_t expected = 0;
  bool shared = true;
};
Result<int64_t> futex_waitv(Task& task, const std::vector<FutexWaitvEntry>& entries,
                            std::optional<TimePoint> deadline);

// Releases the futexes of a thread that leaves its address space (exit, a
// fatal signal, execve). It walks the robust list, marking each lock the
// thread owns with FUTEX_OWNER_DIED and waking a waiter, and hands each PI
// lock it owns to the first waiter. Then it clears the robust list head.
void release_futexes(Task& task);

// CLONE_CHILD_CLEARTID's wake of one waiter on the cleared tid word.
void wake_cleared_tid(Task& task, GuestAddr word);

}  // namespace ward::kernel
