// 64 threads in 32 pairs pass a token back and forth through futex words,
// 100,000 FUTEX_WAKE calls in all, and print totals that do not depend on
// timing. An alarm ends a run that takes too long.
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
  kPairs = 32,
  kWakesPerThread = 100000 / (2 * kPairs) + 1,  // 1563; 64 threads make 100,032
  kTimeLimitSeconds = 18,
};

struct pair {
  _Atomic unsigned int turn;  // which side of the pair may pass the token next
  long passes[2];
  long wakes[2];
};

static struct pair pairs[kPairs];

struct side {
  struct pair* pair;
  unsigned int me;
};

static long futex(_Atomic unsigned int* word, int operation, unsigned int value) {
  return syscall(SYS_futex, word, operation, value, NULL, NULL, 0);
}

static void* play(void* argument) {
  struct side* side = argument;
  struct pair* pair = side->pair;
  for (int i = 0; i < kWakesPerThread; i++) {
    unsigned int turn;
    while ((turn = atomic_load(&pair->turn)) != side->me) {
      futex(&pair->turn, FUTEX_WAIT_PRIVATE, turn);
    }
    pair->passes[side->me]++;
    atomic_store(&pair->turn, 1 - side->me);
    futex(&pair->turn, FUTEX_WAKE_PRIVATE, 1);
    pair->wakes[side->me]++;
  }
  return NULL;
}

static void on_alarm(int signal) {
  (void)signal;
  static const char message[] = "futex_storm: out of time\n";
  write(2, message, sizeof(message) - 1);
  _exit(3);
}

int main(void) {
  signal(SIGALRM, on_alarm);
  alarm(kTimeLimitSeconds);

  static pthread_t threads[2 * kPairs];
  static struct side sides[2 * kPairs];
  for (int i = 0; i < 2 * kPairs; i++) {
    sides[i] = (struct side){.pair = &pairs[i / 2], .me = (unsigned)(i % 2)};
    if (pthread_create(&threads[i], NULL, play, &sides[i]) != 0) {
      printf("pthread_create failed\n");
      return 1;
    }
  }
  for (int i = 0; i < 2 * kPairs; i++) {
    pthread_join(threads[i], NULL);
  }

  long passes = 0;
  long wakes = 0;
  int balanced = 0;
  for (int i = 0; i < kPairs; i++) {
    passes += pairs[i].passes[0] + pairs[i].passes[1];
    wakes += pairs[i].wakes[0] + pairs[i].wakes[1];
    balanced += pairs[i].passes[0] == pairs[i].passes[1];
  }
  printf("threads: %d\n", 2 * kPairs);
  printf("token passes: %ld\n", passes);
  printf("FUTEX_WAKE calls: %ld\n", wakes);
  printf("pairs with equal turns: %d\n", balanced);
  return 0;
}
