// futex(2) bad inputs and the counting commands: each bad argument's
// errno, FUTEX_CLOCK_REALTIME on commands that refuse it, FUTEX_WAKE_OP's
// operations and comparisons, FUTEX_REQUEUE's counts with real waiters,
// and the robust list calls.
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long futex(void* word, int operation, unsigned int value, const void* timeout,
                  void* other, unsigned int value3) {
  return syscall(SYS_futex, word, operation, value, timeout, other, value3);
}

// Counts the tasks waiting on `word` without waking them: a requeue of up
// to `max_count` waiters onto the word itself. No other thread changes the
// word meanwhile.
static long count_waiters(int* word, int max_count) {
  return futex(word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void*)(long)max_count, word,
               (unsigned)*word);
}

// Waits until `count` tasks wait on `word`; about 5 s at most.
static void wait_for_waiters(int* word, long count) {
  for (int attempt = 0; attempt < 5000 && count_waiters(word, 64) < count; attempt++) {
    usleep(1000);
  }
}

struct waiter {
  pthread_t thread;
  int* word;
  int expected;
  long result;
};

static void* wait_on_word(void* argument) {
  struct waiter* waiter = argument;
  struct timespec timeout = {10, 0};
  waiter->result = futex(waiter->word, FUTEX_WAIT_PRIVATE, (unsigned)waiter->expected, &timeout,
                         NULL, 0);
  return NULL;
}

static void start_waiter(struct waiter* waiter, int* word) {
  waiter->word = word;
  waiter->expected = *word;
  pthread_create(&waiter->thread, NULL, wait_on_word, waiter);
}

static void check_bad_inputs(void) {
  static int word;
  static char bytes[8] __attribute__((aligned(4)));
  void* misaligned = bytes + 1;
  void* unmapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(unmapped, 4096);
  struct timespec short_time = {0, 1000000};
  struct timespec bad_nsec = {0, 1000000000};
  struct timespec negative = {-1, 0};
  struct timespec epoch = {0, 0};

  SHOW("FUTEX_WAIT on a misaligned word", futex(misaligned, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT with another value", futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAIT on NULL", futex(NULL, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT on an unmapped word", futex(unmapped, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT shared on an unmapped word", futex(unmapped, FUTEX_WAIT, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT with tv_nsec 1e9", futex(&word, FUTEX_WAIT_PRIVATE, 0, &bad_nsec, NULL, 0));
  SHOW("FUTEX_WAIT with a negative time", futex(&word, FUTEX_WAIT_PRIVATE, 0, &negative, NULL, 0));
  SHOW("FUTEX_WAIT with a bad timeout pointer",
       futex(&word, FUTEX_WAIT_PRIVATE, 0, (void*)1, NULL, 0));
  SHOW("FUTEX_WAIT for 1 ms", futex(&word, FUTEX_WAIT_PRIVATE, 0, &short_time, NULL, 0));
  SHOW("FUTEX_WAIT_BITSET with bitset 0",
       futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT_BITSET until monotonic 0",
       futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &epoch, NULL, FUTEX_BITSET_MATCH_ANY));
  SHOW("FUTEX_WAIT_BITSET until realtime 0",
       futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &epoch, NULL,
             FUTEX_BITSET_MATCH_ANY));

  SHOW("FUTEX_WAIT with FUTEX_CLOCK_REALTIME",
       futex(&word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &short_time, NULL, 0));
  SHOW("FUTEX_WAKE with FUTEX_CLOCK_REALTIME",
       futex(&word, FUTEX_WAKE_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));
  SHOW("FUTEX_LOCK_PI with FUTEX_CLOCK_REALTIME",
       futex(&word, FUTEX_LOCK_PI_PRIVATE | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0));
  SHOW("FUTEX_CMP_REQUEUE with FUTEX_CLOCK_REALTIME",
       futex(&word, FUTEX_CMP_REQUEUE_PRIVATE | FUTEX_CLOCK_REALTIME, 1, (void*)1, &word, 0));
  SHOW("FUTEX_WAIT with a bad timeout and FUTEX_CLOCK_REALTIME",
       futex(&word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &bad_nsec, NULL, 0));

  SHOW("FUTEX_WAKE on a misaligned word", futex(misaligned, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE on an unmapped word", futex(unmapped, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE shared on an unmapped word", futex(unmapped, FUTEX_WAKE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE_BITSET with bitset 0",
       futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0));
  SHOW("command 2 (FUTEX_FD, removed)", futex(&word, 2, 0, NULL, NULL, 0));
  SHOW("command 14", futex(&word, 14 | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0));
  SHOW("command 15", futex(&word, 15, 0, NULL, NULL, 0));

  SHOW("FUTEX_REQUEUE with no waiters", futex(&word, FUTEX_REQUEUE_PRIVATE, 1, (void*)1, &word, 0));
  SHOW("FUTEX_CMP_REQUEUE with a negative requeue count",
       futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)-1L, &word, 0));
  SHOW("FUTEX_CMP_REQUEUE with a negative wake count",
       futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, (unsigned)-1, (void*)1, &word, 0));
  SHOW("FUTEX_CMP_REQUEUE onto a misaligned word",
       futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)1, misaligned, 0));
  SHOW("FUTEX_CMP_REQUEUE from an unmapped word",
       futex(unmapped, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)1, &word, 0));

  SHOW("FUTEX_WAKE_OP on an unmapped second word",
       futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1, unmapped,
             FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0)));
  SHOW("FUTEX_WAKE_OP on a misaligned second word",
       futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1, misaligned,
             FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0)));
  int target = 5;
  SHOW("FUTEX_WAKE_OP with op 5", futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1, &target,
                                        FUTEX_OP(5, 1, FUTEX_OP_CMP_EQ, 0)));
  show_value("  the second word", target);
  SHOW("FUTEX_WAKE_OP with comparison 6", futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1,
                                                &target, FUTEX_OP(FUTEX_OP_SET, 9, 6, 0)));
  show_value("  the second word", target);

  SHOW("FUTEX_LOCK_PI on a misaligned word",
       futex(misaligned, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_LOCK_PI on NULL", futex(NULL, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_TRYLOCK_PI on NULL", futex(NULL, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_UNLOCK_PI of a free word", futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_UNLOCK_PI on NULL", futex(NULL, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT_REQUEUE_PI onto the same word",
       futex(&word, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, NULL, &word, 0));
  int pi_word = 0;
  SHOW("FUTEX_WAIT_REQUEUE_PI with another value",
       futex(&word, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 1, NULL, &pi_word, 0));
  SHOW("FUTEX_CMP_REQUEUE_PI waking 2",
       futex(&word, FUTEX_CMP_REQUEUE_PI_PRIVATE, 2, (void*)1, &pi_word, 0));
  SHOW("FUTEX_CMP_REQUEUE_PI onto the same word",
       futex(&word, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void*)1, &word, 0));
  SHOW("FUTEX_CMP_REQUEUE_PI with another value",
       futex(&word, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void*)1, &pi_word, 3));
  SHOW("FUTEX_CMP_REQUEUE_PI with no waiters",
       futex(&word, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, (void*)1, &pi_word, 0));
}

// Each operation's effect on the second word.
static void check_wake_op_operations(void) {
  static const struct {
    const char* name;
    int op;
    int oparg;
  } operations[] = {
      {"SET 7", FUTEX_OP_SET, 7},
      {"ADD 7", FUTEX_OP_ADD, 7},
      {"ADD -3", FUTEX_OP_ADD, -3},
      {"OR 0x30", FUTEX_OP_OR, 0x30},
      {"ANDN 0x3", FUTEX_OP_ANDN, 0x3},
      {"XOR 0xff", FUTEX_OP_XOR, 0xff},
      {"SET 1 << 4", FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4},
      {"OR 1 << 31", FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 31},
      {"SET 1 << (40 & 31)", FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 40},
  };
  for (size_t i = 0; i < sizeof(operations) / sizeof(operations[0]); i++) {
    int word = 0;
    int target = 0x15;
    long result = futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1, &target,
                        FUTEX_OP(operations[i].op, operations[i].oparg, FUTEX_OP_CMP_EQ, 0));
    printf("FUTEX_WAKE_OP %s on 0x15 = %ld, the word becomes %#x\n", operations[i].name, result,
           (unsigned)target);
  }
}

// Each comparison, with a waiter on the second word that wakes when the
// comparison of the old value holds.
static void check_wake_op_comparisons(void) {
  static const struct {
    const char* name;
    int cmp;
  } comparisons[] = {
      {"EQ", FUTEX_OP_CMP_EQ}, {"NE", FUTEX_OP_CMP_NE}, {"LT", FUTEX_OP_CMP_LT},
      {"GE", FUTEX_OP_CMP_GE}, {"LE", FUTEX_OP_CMP_LE}, {"GT", FUTEX_OP_CMP_GT},
  };
  static const int arguments[] = {4, 5, 6, -1};
  for (size_t i = 0; i < sizeof(comparisons) / sizeof(comparisons[0]); i++) {
    for (size_t j = 0; j < sizeof(arguments) / sizeof(arguments[0]); j++) {
      static int word;
      static int target;
      target = 5;
      struct waiter waiter;
      start_waiter(&waiter, &target);
      wait_for_waiters(&target, 1);
      long result = futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1, &target,
                          FUTEX_OP(FUTEX_OP_ADD, 1, comparisons[i].cmp, arguments[j]));
      printf("FUTEX_WAKE_OP with 5 %s %d woke %ld\n", comparisons[i].name, arguments[j], result);
      if (result == 0) {
        futex(&target, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
      }
      pthread_join(waiter.thread, NULL);
    }
  }
}

static void check_requeue_with_waiters(void) {
  static int first;
  static int second;
  struct waiter waiters[4];
  for (int i = 0; i < 4; i++) {
    start_waiter(&waiters[i], &first);
  }
  wait_for_waiters(&first, 4);
  SHOW("FUTEX_CMP_REQUEUE of 4 waiters, waking 1 and moving 2",
       futex(&first, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)2, &second, 0));
  show_value("  waiters left on the first word", count_waiters(&first, 64));
  show_value("  waiters on the second word", count_waiters(&second, 64));
  SHOW("FUTEX_WAKE of 0 on the second word", futex(&second, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_REQUEUE of the rest, waking none",
       futex(&first, FUTEX_REQUEUE_PRIVATE, 0, (void*)INT_MAX, &second, 0));
  SHOW("FUTEX_WAKE of all on the second word",
       futex(&second, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  int succeeded = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(waiters[i].thread, NULL);
    succeeded += waiters[i].result == 0;
  }
  show_value("waiters whose FUTEX_WAIT returned 0", succeeded);
}

static void on_signal(int signal) { (void)signal; }

struct timed_waiter {
  pthread_t thread;
  int* word;
  const struct timespec* timeout;
  long result;
  int error;
};

static void* wait_with_timeout(void* argument) {
  struct timed_waiter* waiter = argument;
  waiter->result = futex(waiter->word, FUTEX_WAIT_PRIVATE, 0, waiter->timeout, NULL, 0);
  waiter->error = errno;
  return NULL;
}

// A signal handler with SA_RESTART restarts a FUTEX_WAIT without a timeout
// but ends one with a timeout with EINTR.
static void check_signal_restart(void) {
  struct sigaction action = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
  sigaction(SIGUSR1, &action, NULL);
  static int word;
  struct timespec timeout = {5, 0};

  struct timed_waiter timed = {.word = &word, .timeout = &timeout};
  pthread_create(&timed.thread, NULL, wait_with_timeout, &timed);
  wait_for_waiters(&word, 1);
  pthread_kill(timed.thread, SIGUSR1);
  pthread_join(timed.thread, NULL);
  show_result("FUTEX_WAIT with a timeout, after a SA_RESTART handler", timed.result, timed.error);

  struct timed_waiter untimed = {.word = &word, .timeout = NULL};
  pthread_create(&untimed.thread, NULL, wait_with_timeout, &untimed);
  wait_for_waiters(&word, 1);
  pthread_kill(untimed.thread, SIGUSR1);
  usleep(20000);
  wait_for_waiters(&word, 1);
  futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  pthread_join(untimed.thread, NULL);
  show_result("FUTEX_WAIT without a timeout, after a SA_RESTART handler, then woken",
              untimed.result, untimed.error);
}

static void check_robust_list_calls(void) {
  struct robust_list_head* head = NULL;
  size_t length = 0;
  SHOW("set_robust_list with a bad length", syscall(SYS_set_robust_list, &head, 8));
  SHOW("get_robust_list of the caller", syscall(SYS_get_robust_list, 0, &head, &length));
  show_value("  its length", (long)length);
  EXPECT("  glibc registered a list", head != NULL);
  SHOW("get_robust_list of the caller by tid",
       syscall(SYS_get_robust_list, (int)syscall(SYS_gettid), &head, &length));
  SHOW("get_robust_list of no such task", syscall(SYS_get_robust_list, INT_MAX, &head, &length));
  SHOW("get_robust_list into a bad pointer", syscall(SYS_get_robust_list, 0, (void*)1, &length));
  SHOW("get_robust_list with a bad length pointer",
       syscall(SYS_get_robust_list, 0, &head, (void*)1));
}

int main(void) {
  check_bad_inputs();
  check_wake_op_operations();
  check_wake_op_comparisons();
  check_requeue_with_waiters();
  check_signal_restart();
  check_robust_list_calls();
  return finish_checks();
}
