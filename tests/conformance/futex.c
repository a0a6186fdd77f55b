// futex in one thread: FUTEX_WAIT with a value that does not match, timed
// waits, wakes without waiters, bitsets, and argument errors.
// futex_requeue.c checks FUTEX_CMP_REQUEUE and FUTEX_WAKE_OP, and
// futex_threads.c checks a wake between two threads.
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long futex(void* word, int operation, unsigned int value, const struct timespec* timeout,
                  void* other, unsigned int value3) {
  return syscall(SYS_futex, word, operation, value, timeout, other, value3);
}

static long long now_ns(clockid_t clock) {
  struct timespec value = {0};
  clock_gettime(clock, &value);
  return (long long)value.tv_sec * 1000000000LL + value.tv_nsec;
}

static void check_single_thread(void) {
  int word = 1;
  SHOW("FUTEX_WAIT with a mismatched value", futex(&word, FUTEX_WAIT, 2, NULL, NULL, 0));
  SHOW("FUTEX_WAIT_PRIVATE with a mismatched value",
       futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));

  struct timespec timeout = {0, 20 * 1000000L};
  long long start = now_ns(CLOCK_MONOTONIC);
  SHOW("FUTEX_WAIT 20 ms with a matching value",
       futex(&word, FUTEX_WAIT_PRIVATE, 1, &timeout, NULL, 0));
  EXPECT("the timed wait took at least 20 ms", now_ns(CLOCK_MONOTONIC) - start >= 20 * 1000000LL);

  // FUTEX_WAIT_BITSET takes an absolute deadline.
  struct timespec past = {1, 0};
  SHOW("FUTEX_WAIT_BITSET with a deadline in the past",
       futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &past, NULL, FUTEX_BITSET_MATCH_ANY));
  SHOW("FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME in the past",
       futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &past, NULL,
             FUTEX_BITSET_MATCH_ANY));
  struct timespec deadline = {0};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_nsec += 20 * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  SHOW("FUTEX_WAIT_BITSET 20 ms ahead",
       futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &deadline, NULL, FUTEX_BITSET_MATCH_ANY));
  EXPECT("the deadline has passed",
         now_ns(CLOCK_MONOTONIC) >= (long long)deadline.tv_sec * 1000000000LL + deadline.tv_nsec);
  SHOW("FUTEX_WAIT_BITSET with bitset 0",
       futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &past, NULL, 0));

  SHOW("FUTEX_WAKE with no waiters", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE 0 waiters", futex(&word, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAKE_BITSET with bitset 0",
       futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0));

  // Argument errors.
  struct timespec bad_timeout = {0, 1000000000L};
  SHOW("FUTEX_WAIT with tv_nsec 1e9", futex(&word, FUTEX_WAIT_PRIVATE, 1, &bad_timeout, NULL, 0));
  bad_timeout.tv_sec = -1;
  bad_timeout.tv_nsec = 0;
  SHOW("FUTEX_WAIT with tv_sec -1", futex(&word, FUTEX_WAIT_PRIVATE, 1, &bad_timeout, NULL, 0));
  SHOW("FUTEX_WAIT with a bad timeout pointer",
       futex(&word, FUTEX_WAIT_PRIVATE, 1, (void*)1, NULL, 0));
  SHOW("FUTEX_WAIT on an unaligned word",
       futex((char*)&word + 1, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE on an unaligned word",
       futex((char*)&word + 1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAIT on NULL", futex(NULL, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0));
  char* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(page, 4096);
  SHOW("FUTEX_WAIT on an unmapped word", futex(page, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  SHOW("futex operation 99", futex(&word, 99, 0, NULL, NULL, 0));
  SHOW("FUTEX_CLOCK_REALTIME with FUTEX_WAKE",
       futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));
}

int main(void) {
  check_single_thread();
  return finish_checks();
}
