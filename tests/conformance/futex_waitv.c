// futex_waitv(2) and the futex2 calls of Linux 6.7, futex_wake(2),
// futex_wait(2) and futex_requeue(2): their limits, each bad argument's
// errno, and a wait on several words that one wake ends.
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

// The numbers and flags of Linux 6.7, which older headers lack.
enum {
  kSysFutexWaitv = 449,
  kSysFutexWake = 454,
  kSysFutexWait = 455,
  kSysFutexRequeue = 456,
  kSizeU8 = 0x00,
  kSizeU32 = 0x02,
  kSizeU64 = 0x03,
  kPrivate = 128,
};

struct waitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

static long futex_waitv(struct waitv* waiters, unsigned count, unsigned flags,
                        const struct timespec* timeout, clockid_t clock) {
  return syscall(kSysFutexWaitv, waiters, count, flags, timeout, clock);
}

static struct waitv entry(unsigned int* word, uint32_t flags) {
  return (struct waitv){.val = *word, .uaddr = (uintptr_t)word, .flags = flags};
}

static struct timespec in_ms(clockid_t clock, long ms) {
  struct timespec now;
  clock_gettime(clock, &now);
  now.tv_nsec += ms * 1000000L;
  now.tv_sec += now.tv_nsec / 1000000000L;
  now.tv_nsec %= 1000000000L;
  return now;
}

static unsigned int words[4];

static void check_waitv_inputs(void) {
  struct waitv list[129];
  for (int i = 0; i < 129; i++) {
    list[i] = entry(&words[i % 4], kSizeU32 | kPrivate);
  }
  struct timespec past = {0, 0};
  struct timespec bad = {0, 1000000000};

  SHOW("futex_waitv with flags 1", futex_waitv(list, 1, 1, &past, CLOCK_MONOTONIC));
  SHOW("futex_waitv of 0 words", futex_waitv(list, 0, 0, &past, CLOCK_MONOTONIC));
  SHOW("futex_waitv of 129 words", futex_waitv(list, 129, 0, &past, CLOCK_MONOTONIC));
  SHOW("futex_waitv of 128 words until monotonic 0",
       futex_waitv(list, 128, 0, &past, CLOCK_MONOTONIC));
  SHOW("futex_waitv of NULL", futex_waitv(NULL, 1, 0, &past, CLOCK_MONOTONIC));
  SHOW("futex_waitv on CLOCK_BOOTTIME", futex_waitv(list, 1, 0, &past, CLOCK_BOOTTIME));
  SHOW("futex_waitv with tv_nsec 1e9", futex_waitv(list, 1, 0, &bad, CLOCK_MONOTONIC));
  SHOW("futex_waitv with a bad timeout pointer",
       futex_waitv(list, 1, 0, (void*)1, CLOCK_MONOTONIC));
  SHOW("futex_waitv until realtime 0", futex_waitv(list, 2, 0, &past, CLOCK_REALTIME));
  SHOW("futex_waitv of an unreadable array", futex_waitv((void*)8, 1, 0, &past, CLOCK_MONOTONIC));

  struct waitv one = entry(&words[0], kSizeU8);
  SHOW("futex_waitv of an 8-bit word", futex_waitv(&one, 1, 0, &past, CLOCK_MONOTONIC));
  one = entry(&words[0], kSizeU64);
  SHOW("futex_waitv of a 64-bit word", futex_waitv(&one, 1, 0, &past, CLOCK_MONOTONIC));
  one = entry(&words[0], kSizeU32 | 0x10);
  SHOW("futex_waitv with an unknown entry flag", futex_waitv(&one, 1, 0, &past, CLOCK_MONOTONIC));
  one = entry(&words[0], kSizeU32);
  one.reserved = 1;
  SHOW("futex_waitv with reserved set", futex_waitv(&one, 1, 0, &past, CLOCK_MONOTONIC));
  one = entry(&words[0], kSizeU32);
  one.val = 1ULL << 32;
  SHOW("futex_waitv with a value over 32 bits", futex_waitv(&one, 1, 0, &past, CLOCK_MONOTONIC));
  one = entry(&words[0], kSizeU32);
  one.uaddr += 2;
  SHOW("futex_waitv of a misaligned word", futex_waitv(&one, 1, 0, &past, CLOCK_MONOTONIC));
  one = entry(&words[0], kSizeU32);
  one.uaddr = 4096;
  SHOW("futex_waitv of an unmapped word", futex_waitv(&one, 1, 0, &past, CLOCK_MONOTONIC));
  struct waitv two[2] = {entry(&words[0], kSizeU32), entry(&words[1], kSizeU32)};
  two[1].val = 7;
  SHOW("futex_waitv whose second word differs", futex_waitv(two, 2, 0, NULL, 0));
}

static struct waitv waited[3];
static long waitv_result;

static void* wait_on_three(void* unused) {
  (void)unused;
  struct timespec deadline = in_ms(CLOCK_MONOTONIC, 5000);
  waitv_result = futex_waitv(waited, 3, 0, &deadline, CLOCK_MONOTONIC);
  return NULL;
}

static void check_waitv_wake(void) {
  waited[0] = entry(&words[0], kSizeU32 | kPrivate);
  waited[1] = entry(&words[1], kSizeU32);
  waited[2] = entry(&words[2], kSizeU32 | kPrivate);
  pthread_t thread;
  pthread_create(&thread, NULL, wait_on_three, NULL);
  long woken = 0;
  for (int attempt = 0; attempt < 5000 && woken == 0; attempt++) {
    woken = syscall(SYS_futex, &words[1], FUTEX_WAKE, 1, NULL, NULL, 0);
    if (woken == 0) {
      usleep(1000);
    }
  }
  pthread_join(thread, NULL);
  show_value("FUTEX_WAKE of the second word woke", woken);
  show_value("  futex_waitv returned the index", waitv_result);
}

static void check_futex2_calls(void) {
  unsigned int word = 5;
  struct timespec past = {0, 0};
  SHOW("futex_wake with no size", syscall(kSysFutexWake, &word, ~0UL, 1, 0));
  SHOW("futex_wake with an unknown flag", syscall(kSysFutexWake, &word, ~0UL, 1, kSizeU32 | 0x40));
  SHOW("futex_wake of a 64-bit word", syscall(kSysFutexWake, &word, ~0UL, 1, kSizeU64));
  SHOW("futex_wake with mask 0", syscall(kSysFutexWake, &word, 0UL, 1, kSizeU32));
  SHOW("futex_wake with a mask over 32 bits", syscall(kSysFutexWake, &word, ~0UL, 1, kSizeU32));
  SHOW("futex_wake of 0", syscall(kSysFutexWake, &word, 0xffffffffUL, 0, kSizeU32 | kPrivate));
  SHOW("futex_wake of 1", syscall(kSysFutexWake, &word, 0xffffffffUL, 1, kSizeU32 | kPrivate));
  SHOW("futex_wake of a misaligned word",
       syscall(kSysFutexWake, (char*)&word + 1, 0xffffffffUL, 1, kSizeU32));

  SHOW("futex_wait with another value",
       syscall(kSysFutexWait, &word, 6UL, 0xffffffffUL, kSizeU32, NULL, CLOCK_MONOTONIC));
  SHOW("futex_wait with a value over 32 bits",
       syscall(kSysFutexWait, &word, 5UL | (1UL << 32), 0xffffffffUL, kSizeU32, NULL,
               CLOCK_MONOTONIC));
  SHOW("futex_wait with mask 0",
       syscall(kSysFutexWait, &word, 5UL, 0UL, kSizeU32, &past, CLOCK_MONOTONIC));
  SHOW("futex_wait until monotonic 0",
       syscall(kSysFutexWait, &word, 5UL, 0xffffffffUL, kSizeU32 | kPrivate, &past,
               CLOCK_MONOTONIC));
  struct timespec soon = in_ms(CLOCK_REALTIME, 10);
  SHOW("futex_wait for 10 ms on CLOCK_REALTIME",
       syscall(kSysFutexWait, &word, 5UL, 0xffffffffUL, kSizeU32, &soon, CLOCK_REALTIME));
  SHOW("futex_wait on CLOCK_TAI",
       syscall(kSysFutexWait, &word, 5UL, 0xffffffffUL, kSizeU32, &past, CLOCK_TAI));

  unsigned int other = 0;
  struct waitv pair[2] = {entry(&word, kSizeU32 | kPrivate), entry(&other, kSizeU32 | kPrivate)};
  SHOW("futex_requeue with flags 1", syscall(kSysFutexRequeue, pair, 1, 1, 1));
  SHOW("futex_requeue", syscall(kSysFutexRequeue, pair, 0, 1, 1));
  pair[0].val = 9;
  SHOW("futex_requeue with another value", syscall(kSysFutexRequeue, pair, 0, 1, 1));
  pair[0].val = 5;
  SHOW("futex_requeue with a negative count", syscall(kSysFutexRequeue, pair, 0, 1, -1));
  pair[1].flags = 0;
  SHOW("futex_requeue with no size on the second", syscall(kSysFutexRequeue, pair, 0, 1, 1));
  SHOW("futex_requeue of an unreadable pair", syscall(kSysFutexRequeue, (void*)8, 0, 1, 1));
}

int main(void) {
  check_waitv_inputs();
  check_waitv_wake();
  check_futex2_calls();
  return finish_checks();
}
