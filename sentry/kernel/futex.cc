#include "sentry/kernel/futex.h"

namespace ward::kernel {

WaitQueue& FutexTable::queue(const Key& key) {
  auto& slot = queues_[key];
  if (!slot) {
    slot = std::make_unique<WaitQueue>();
  }
  return *slot;
}

void FutexTable::release(const Key& key) {
  auto it = queues_.find(key);
  if (it != queues_.end() && it->second->empty()) {
    queues_.erase(it);
  }
}

}  // namespace ward::kernel
