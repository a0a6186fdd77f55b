// Futex wait queues, keyed by the address space and the futex word's
// address.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <utility>

#include "sentry/kernel/wait_queue.h"
#include "ward/guest_addr.h"

namespace ward::kernel {

class FutexTable {
 public:
  // The key of a futex word. `space` is the owner of the address space
  // (the memory manager), so the same address in two processes differs.
  // NOTE: a futex word in MAP_SHARED memory is keyed by address space too,
  // so waiters in two processes sharing the page do not meet.
  using Key = std::pair<const void*, uint64_t>;

  WaitQueue& queue(const Key& key);

  // Forgets the queue of `key` once nobody waits on it.
  void release(const Key& key);

 private:
  std::map<Key, std::unique_ptr<WaitQueue>> queues_;
};

}  // namespace ward::kernel
