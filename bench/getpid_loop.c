// Calls getpid through the raw syscall interface in a loop and prints the
// mean cost of one call in nanoseconds. The iteration count is argv[1].
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

int main(int argc, char** argv) {
  long iterations = argc > 1 ? atol(argv[1]) : 100000;
  if (iterations <= 0) {
    fprintf(stderr, "usage: %s ITERATIONS\n", argv[0]);
    return 2;
  }
  long long start = now_ns();
  for (long i = 0; i < iterations; ++i) {
    syscall(SYS_getpid);
  }
  long long elapsed = now_ns() - start;
  printf("%.1f\n", (double)elapsed / (double)iterations);
  return 0;
}
