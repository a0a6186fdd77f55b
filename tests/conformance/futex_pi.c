// Priority-inheritance futexes: the word protocol of FUTEX_LOCK_PI,
// FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI and FUTEX_UNLOCK_PI (owner tid,
// FUTEX_WAITERS, FUTEX_OWNER_DIED, EDEADLK, ESRCH, EPERM, the timeout
// clocks), and glibc's PTHREAD_PRIO_INHERIT mutexes under contention.
#include <linux/futex.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long futex(void* word, int operation, unsigned int value, const void* timeout,
                  void* other, unsigned int value3) {
  return syscall(SYS_futex, word, operation, value, timeout, other, value3);
}

static pid_t gettid_now(void) { return (pid_t)syscall(SYS_gettid); }

// The word's flag bits, without the owner tid.
static void show_flags(const char* label, unsigned int word) {
  show_hex(label, word & ~(unsigned)FUTEX_TID_MASK);
}

static struct timespec in_ms(clockid_t clock, long ms) {
  struct timespec now;
  clock_gettime(clock, &now);
  now.tv_nsec += ms * 1000000L;
  now.tv_sec += now.tv_nsec / 1000000000L;
  now.tv_nsec %= 1000000000L;
  return now;
}

static void* note_tid(void* argument) {
  *(pid_t*)argument = gettid_now();
  return NULL;
}

static void check_free_and_own_word(void) {
  unsigned int word = 0;
  SHOW("FUTEX_TRYLOCK_PI of a free word", futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  EXPECT("  the word holds the caller's tid", word == (unsigned)gettid_now());
  SHOW("FUTEX_LOCK_PI of the caller's own lock",
       futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_TRYLOCK_PI of the caller's own lock",
       futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_UNLOCK_PI by the owner", futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  show_hex("  the word", word);
  SHOW("FUTEX_LOCK_PI of a free word", futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  EXPECT("  the word holds the caller's tid", word == (unsigned)gettid_now());
  SHOW("FUTEX_UNLOCK_PI", futex(&word, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));

  word = FUTEX_OWNER_DIED;
  SHOW("FUTEX_LOCK_PI of a word whose owner died",
       futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  EXPECT("  the word holds the caller's tid", (word & FUTEX_TID_MASK) == (unsigned)gettid_now());
  show_flags("  its flags", word);
  SHOW("FUTEX_UNLOCK_PI", futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  show_hex("  the word", word);

  word = FUTEX_WAITERS;
  SHOW("FUTEX_TRYLOCK_PI of a free word with FUTEX_WAITERS",
       futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  show_flags("  its flags", word);
  futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
}

static void check_dead_owner(void) {
  pid_t dead_tid = 0;
  pthread_t thread;
  pthread_create(&thread, NULL, note_tid, &dead_tid);
  pthread_join(thread, NULL);
  // The thread's tid stays free: nothing else in this program makes tasks.
  unsigned int word = (unsigned)dead_tid;
  SHOW("FUTEX_LOCK_PI of a word owned by an exited thread",
       futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  show_flags("  its flags", word);
  word = (unsigned)dead_tid;
  SHOW("FUTEX_TRYLOCK_PI of it", futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_UNLOCK_PI of it", futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  word = 0x3ffffff0;
  SHOW("FUTEX_LOCK_PI of a word owned by no task",
       futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
}

static unsigned int held_word;
static atomic_int holder_state;  // 1: holds the lock, 2: may unlock, 3: unlocked
static long holder_unlock_result;

static void* hold_lock(void* unused) {
  (void)unused;
  futex(&held_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  atomic_store(&holder_state, 1);
  while (atomic_load(&holder_state) != 2) {
    usleep(1000);
  }
  usleep(50000);
  holder_unlock_result = futex(&held_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  atomic_store(&holder_state, 3);
  return NULL;
}

static void check_held_by_another_thread(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, hold_lock, NULL);
  while (atomic_load(&holder_state) != 1) {
    usleep(1000);
  }
  SHOW("FUTEX_TRYLOCK_PI of another thread's lock",
       futex(&held_word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  show_flags("  its flags", held_word);
  SHOW("FUTEX_UNLOCK_PI by a thread that does not own it",
       futex(&held_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));

  struct timespec realtime_soon = in_ms(CLOCK_REALTIME, 20);
  SHOW("FUTEX_LOCK_PI until 20 ms from now on CLOCK_REALTIME",
       futex(&held_word, FUTEX_LOCK_PI_PRIVATE, 0, &realtime_soon, NULL, 0));
  struct timespec monotonic_soon = in_ms(CLOCK_MONOTONIC, 20);
  SHOW("FUTEX_LOCK_PI2 until 20 ms from now on CLOCK_MONOTONIC",
       futex(&held_word, FUTEX_LOCK_PI2_PRIVATE, 0, &monotonic_soon, NULL, 0));
  realtime_soon = in_ms(CLOCK_REALTIME, 20);
  SHOW("FUTEX_LOCK_PI2 with FUTEX_CLOCK_REALTIME until 20 ms from now",
       futex(&held_word, FUTEX_LOCK_PI2_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &realtime_soon, NULL,
             0));
  // The clock of each: a deadline 20 ms ahead on the other clock is far in
  // the past (CLOCK_MONOTONIC counts from boot) or far in the future.
  struct timespec start = in_ms(CLOCK_MONOTONIC, 0);
  monotonic_soon = in_ms(CLOCK_MONOTONIC, 20);
  SHOW("FUTEX_LOCK_PI until a CLOCK_MONOTONIC time",
       futex(&held_word, FUTEX_LOCK_PI_PRIVATE, 0, &monotonic_soon, NULL, 0));
  struct timespec end = in_ms(CLOCK_MONOTONIC, 0);
  long waited_ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
  EXPECT("  it read the time as CLOCK_REALTIME and returned at once", waited_ms < 1000);
  start = in_ms(CLOCK_MONOTONIC, 0);
  monotonic_soon = in_ms(CLOCK_MONOTONIC, 20);
  futex(&held_word, FUTEX_LOCK_PI2_PRIVATE, 0, &monotonic_soon, NULL, 0);
  end = in_ms(CLOCK_MONOTONIC, 0);
  waited_ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
  EXPECT("  FUTEX_LOCK_PI2 waited on CLOCK_MONOTONIC", waited_ms >= 19);

  struct timespec bad = {0, -1};
  SHOW("FUTEX_LOCK_PI with a bad timeout", futex(&held_word, FUTEX_LOCK_PI_PRIVATE, 0, &bad, NULL, 0));
  SHOW("FUTEX_LOCK_PI with a bad timeout pointer",
       futex(&held_word, FUTEX_LOCK_PI_PRIVATE, 0, (void*)1, NULL, 0));

  atomic_store(&holder_state, 2);
  SHOW("FUTEX_LOCK_PI until the owner unlocks",
       futex(&held_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  EXPECT("  the word holds the caller's tid",
         (held_word & FUTEX_TID_MASK) == (unsigned)gettid_now());
  pthread_join(thread, NULL);
  show_value("the owner's FUTEX_UNLOCK_PI", holder_unlock_result);
  SHOW("FUTEX_UNLOCK_PI by the new owner",
       futex(&held_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  show_hex("  the word", held_word);
}

// FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI, which move a condition
// waiter onto a PI lock.
static unsigned int condition_word;
static unsigned int pi_lock_word;
static unsigned int other_pi_word;

struct requeue_waiter {
  pthread_t thread;
  pid_t tid;
  long result;
  int error;
  bool held_lock;
  long unlock_result;
};

static void* wait_requeue_pi(void* argument) {
  struct requeue_waiter* waiter = argument;
  waiter->tid = gettid_now();
  struct timespec deadline = in_ms(CLOCK_MONOTONIC, 5000);
  waiter->result = futex(&condition_word, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, &deadline,
                         &pi_lock_word, 0);
  waiter->error = errno;
  waiter->held_lock = (pi_lock_word & FUTEX_TID_MASK) == (unsigned)waiter->tid;
  if (waiter->result == 0) {
    waiter->unlock_result = futex(&pi_lock_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  }
  return NULL;
}

// Waits until the requeue-PI waiter is queued. A FUTEX_WAKE of a word with
// such a waiter fails with EINVAL and wakes nobody, so it is the probe.
static void wait_until_queued(void) {
  for (int attempt = 0; attempt < 5000; attempt++) {
    if (futex(&condition_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == -1) {
      return;
    }
    usleep(1000);
  }
}

static void show_requeue_waiter(const struct requeue_waiter* waiter) {
  show_result("  the waiter's FUTEX_WAIT_REQUEUE_PI", waiter->result, waiter->error);
  show_bool("  it held the PI lock on return", waiter->held_lock);
  show_value("  its FUTEX_UNLOCK_PI", waiter->unlock_result);
}

static void check_requeue_pi(void) {
  struct timespec deadline = in_ms(CLOCK_MONOTONIC, 20);
  SHOW("FUTEX_WAIT_REQUEUE_PI until 20 ms from now",
       futex(&condition_word, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, &deadline, &pi_lock_word, 0));
  deadline = in_ms(CLOCK_REALTIME, 20);
  SHOW("FUTEX_WAIT_REQUEUE_PI with FUTEX_CLOCK_REALTIME until 20 ms from now",
       futex(&condition_word, FUTEX_WAIT_REQUEUE_PI_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &deadline,
             &pi_lock_word, 0));

  // A free lock: the first waiter takes it at once.
  struct requeue_waiter first = {0};
  pthread_create(&first.thread, NULL, wait_requeue_pi, &first);
  wait_until_queued();
  SHOW("FUTEX_WAKE of a requeue-PI waiter", futex(&condition_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_CMP_REQUEUE of a requeue-PI waiter",
       futex(&condition_word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)1, &other_pi_word, 0));
  SHOW("FUTEX_CMP_REQUEUE_PI onto another PI word",
       futex(&condition_word, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void*)1, &other_pi_word, 0));
  SHOW("FUTEX_CMP_REQUEUE_PI onto the free lock",
       futex(&condition_word, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void*)1, &pi_lock_word, 0));
  pthread_join(first.thread, NULL);
  show_requeue_waiter(&first);
  show_hex("  the lock word after its unlock", pi_lock_word);

  // A held lock: the waiter is moved onto it and gets it at the unlock.
  futex(&pi_lock_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  struct requeue_waiter second = {0};
  pthread_create(&second.thread, NULL, wait_requeue_pi, &second);
  wait_until_queued();
  SHOW("FUTEX_CMP_REQUEUE_PI onto the caller's lock, moving 0 more",
       futex(&condition_word, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void*)0, &pi_lock_word, 0));
  show_flags("  the lock word's flags", pi_lock_word);
  SHOW("FUTEX_WAKE of the condition word now",
       futex(&condition_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_UNLOCK_PI, handing the lock over",
       futex(&pi_lock_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  pthread_join(second.thread, NULL);
  show_requeue_waiter(&second);
  show_hex("  the lock word after its unlock", pi_lock_word);
}

enum { kThreads = 4, kRounds = 5000 };

static pthread_mutex_t pi_mutex;
static long counter;

static void* increment(void* unused) {
  (void)unused;
  for (int i = 0; i < kRounds; i++) {
    pthread_mutex_lock(&pi_mutex);
    long seen = counter;
    if (i % 64 == 0) {
      sched_yield();  // hold the lock across a switch now and then
    }
    counter = seen + 1;
    pthread_mutex_unlock(&pi_mutex);
  }
  return NULL;
}

static void check_pthread_pi_mutex(void) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  show_error_number("pthread_mutexattr_setprotocol PTHREAD_PRIO_INHERIT",
                    pthread_mutexattr_setprotocol(&attributes, PTHREAD_PRIO_INHERIT));
  pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&pi_mutex, &attributes);

  show_error_number("pthread_mutex_lock", pthread_mutex_lock(&pi_mutex));
  show_error_number("pthread_mutex_lock again (errorcheck)", pthread_mutex_lock(&pi_mutex));
  show_error_number("pthread_mutex_unlock", pthread_mutex_unlock(&pi_mutex));
  show_error_number("pthread_mutex_unlock again", pthread_mutex_unlock(&pi_mutex));

  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; i++) {
    pthread_create(&threads[i], NULL, increment, NULL);
  }
  for (int i = 0; i < kThreads; i++) {
    pthread_join(threads[i], NULL);
  }
  show_value("the counter after the PI mutex contention", counter);
  show_error_number("pthread_mutex_trylock", pthread_mutex_trylock(&pi_mutex));
  show_error_number("pthread_mutex_unlock", pthread_mutex_unlock(&pi_mutex));
  show_error_number("pthread_mutex_destroy", pthread_mutex_destroy(&pi_mutex));
}

int main(void) {
  check_free_and_own_word();
  check_dead_owner();
  check_held_by_another_thread();
  check_requeue_pi();
  check_pthread_pi_mutex();
  return finish_checks();
}
