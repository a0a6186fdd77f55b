// Two threads pass a token back and forth through one futex word and the
// program prints the mean time of one round trip (two FUTEX_WAKE calls
// and the waits they end) in nanoseconds. The round trip count is argv[1].
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static _Atomic unsigned int turn;
static long round_trips;

static long long now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

// Waits for its turn, hands the token to the other side and wakes it.
static void play(unsigned int me) {
  for (long i = 0; i < round_trips; ++i) {
    unsigned int current;
    while ((current = atomic_load(&turn)) != me) {
      syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, current, NULL, NULL, 0);
    }
    atomic_store(&turn, 1 - me);
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  }
}

static void* play_second(void* unused) {
  (void)unused;
  play(1);
  return NULL;
}

int main(int argc, char** argv) {
  round_trips = argc > 1 ? atol(argv[1]) : 20000;
  if (round_trips <= 0) {
    fprintf(stderr, "usage: %s ROUND_TRIPS\n", argv[0]);
    return 2;
  }
  pthread_t second;
  long long start = now_ns();
  pthread_create(&second, NULL, play_second, NULL);
  play(0);
  pthread_join(second, NULL);
  long long elapsed = now_ns() - start;
  printf("%.1f\n", (double)elapsed / (double)round_trips);
  return 0;
}
