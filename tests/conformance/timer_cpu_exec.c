// CPU time across execve: a thread's clock, the process's clock and
// getrusage keep counting what the process used before, also when a
// thread other than the leader runs execve and takes the leader's tid.
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define BURN_NS 100000000LL

static char* self;

static long long nanoseconds(struct timespec value) {
  return (long long)value.tv_sec * 1000000000LL + value.tv_nsec;
}

static void* burn_then_exec(void* argument) {
  (void)argument;
  struct timespec now = {0};
  volatile unsigned long sum = 0;
  do {
    for (int i = 0; i < 100000; i++) {
      sum += (unsigned long)i;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  } while (nanoseconds(now) < BURN_NS);
  fflush(stdout);
  execl(self, self, "after_exec", (char*)NULL);
  printf("execl failed\n");
  return NULL;
}

static int after_exec(void) {
  struct timespec value = {0};
  SHOW("after execve: clock_gettime CLOCK_THREAD_CPUTIME_ID", clock_gettime(CLOCK_THREAD_CPUTIME_ID, &value));
  EXPECT("  the thread's clock kept its 100 ms", nanoseconds(value) >= BURN_NS);
  SHOW("after execve: clock_gettime CLOCK_PROCESS_CPUTIME_ID", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &value));
  EXPECT("  the process's clock kept its 100 ms", nanoseconds(value) >= BURN_NS);
  struct rusage usage = {0};
  SHOW("after execve: getrusage RUSAGE_SELF", getrusage(RUSAGE_SELF, &usage));
  long long used_ns = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL +
                      (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
  EXPECT("  ru_utime plus ru_stime kept the 100 ms", used_ns >= BURN_NS - 10000000LL);
  return finish_checks();
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "after_exec") == 0) {
    return after_exec();
  }
  self = argv[0];
  pthread_t thread;
  pthread_create(&thread, NULL, burn_then_exec, NULL);
  for (;;) {
    pause();
  }
}
