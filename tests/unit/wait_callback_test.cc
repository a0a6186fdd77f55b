// WaitCallback: the callbacks a wait queue runs on notify(), which epoll
// instances register on the files they watch.
#include <gtest/gtest.h>
#include <poll.h>

#include <vector>

#include "sentry/kernel/wait_queue.h"

namespace ward::kernel {
namespace {

TEST(WaitCallbackTest, RunsOnMatchingEvents) {
  WaitQueue queue;
  std::vector<uint32_t> seen;
  WaitCallback callback([&](uint32_t events) {
    seen.push_back(events);
    return true;
  });
  callback.watch(queue, POLLIN);

  queue.notify(POLLOUT);
  queue.notify(POLLIN | POLLRDNORM);
  queue.notify();

  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], uint32_t{POLLIN | POLLRDNORM});
  EXPECT_EQ(seen[1], kAllEvents);
}

TEST(WaitCallbackTest, StaysRegisteredUntilUnwatch) {
  WaitQueue queue;
  int runs = 0;
  WaitCallback callback([&](uint32_t) {
    ++runs;
    return true;
  });
  callback.watch(queue);
  queue.notify();
  queue.notify();
  EXPECT_EQ(runs, 2);

  callback.unwatch();
  EXPECT_TRUE(queue.empty());
  queue.notify();
  EXPECT_EQ(runs, 2);
}

TEST(WaitCallbackTest, ExclusiveStopsAtFirstConsumer) {
  WaitQueue queue;
  std::vector<int> order;
  WaitCallback declines([&](uint32_t) {
    order.push_back(1);
    return false;
  });
  WaitCallback consumes([&](uint32_t) {
    order.push_back(2);
    return true;
  });
  WaitCallback never_reached([&](uint32_t) {
    order.push_back(3);
    return true;
  });
  WaitCallback shared([&](uint32_t) {
    order.push_back(4);
    return true;
  });
  declines.watch(queue, kAllEvents, true);
  consumes.watch(queue, kAllEvents, true);
  never_reached.watch(queue, kAllEvents, true);
  shared.watch(queue);

  queue.notify();

  EXPECT_EQ(order, (std::vector<int>{4, 1, 2}));
}

TEST(WaitCallbackTest, OutlivesItsQueue) {
  int runs = 0;
  WaitCallback callback([&](uint32_t) {
    ++runs;
    return true;
  });
  {
    WaitQueue queue;
    callback.watch(queue);
  }
  // The dying queue notified the callback once and let it go.
  EXPECT_EQ(runs, 1);
  callback.unwatch();
}

TEST(WaitCallbackTest, NotifySomeSkipsCallbacks) {
  WaitQueue queue;
  int runs = 0;
  WaitCallback callback([&](uint32_t) {
    ++runs;
    return true;
  });
  callback.watch(queue);
  EXPECT_EQ(queue.notify_some(1), 0u);
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace ward::kernel
