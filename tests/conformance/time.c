// Clocks and sleeps: clock_gettime, clock_getres, nanosleep, clock_nanosleep,
// gettimeofday, time. Times are printed only as relations. time_usage.c
// checks getrusage and times.
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long long nanoseconds(struct timespec value) {
  return (long long)value.tv_sec * 1000000000LL + value.tv_nsec;
}

static long long now_ns(clockid_t clock) {
  struct timespec value = {0};
  clock_gettime(clock, &value);
  return nanoseconds(value);
}

static const struct {
  clockid_t id;
  const char* name;
} kClocks[] = {
    {CLOCK_REALTIME, "CLOCK_REALTIME"},
    {CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
    {CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"},
    {CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"},
    {CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"},
    {CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"},
    {CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"},
    {CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
};

static void check_clocks(void) {
  for (size_t i = 0; i < sizeof(kClocks) / sizeof(kClocks[0]); i++) {
    struct timespec value = {0};
    SHOW(label_of("clock_gettime %s", kClocks[i].name), clock_gettime(kClocks[i].id, &value));
    EXPECT(label_of("  tv_nsec is in [0, 1e9)"), value.tv_nsec >= 0 && value.tv_nsec < 1000000000L);
    // The raw syscall, bypassing the vDSO that glibc uses.
    SHOW(label_of("raw clock_gettime %s", kClocks[i].name),
         syscall(SYS_clock_gettime, kClocks[i].id, &value));
    struct timespec resolution = {0};
    SHOW(label_of("clock_getres %s", kClocks[i].name), clock_getres(kClocks[i].id, &resolution));
    printf("  resolution %ld s %ld ns\n", (long)resolution.tv_sec, resolution.tv_nsec);
  }
  struct timespec value = {0};
  SHOW("clock_gettime clock 1000", syscall(SYS_clock_gettime, 1000, &value));
  SHOW("clock_gettime clock -1", syscall(SYS_clock_gettime, -1, &value));
  SHOW("clock_gettime into a bad pointer", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void*)1));
  SHOW("clock_getres clock 1000", syscall(SYS_clock_getres, 1000, &value));
  SHOW("clock_getres with NULL", syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
  SHOW("clock_settime CLOCK_MONOTONIC", clock_settime(CLOCK_MONOTONIC, &value));

  bool monotonic = true;
  long long previous = now_ns(CLOCK_MONOTONIC);
  for (int i = 0; i < 10000; i++) {
    long long current = now_ns(CLOCK_MONOTONIC);
    monotonic = monotonic && current >= previous;
    previous = current;
  }
  EXPECT("CLOCK_MONOTONIC never goes back in 10000 reads", monotonic);
  previous = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &value) == 0 ? nanoseconds(value) : 0;
  long long vdso = now_ns(CLOCK_MONOTONIC);
  EXPECT("vDSO CLOCK_MONOTONIC is not behind the syscall's", vdso >= previous);
  long long monotonic_first = now_ns(CLOCK_MONOTONIC);
  long long boottime_second = now_ns(CLOCK_BOOTTIME);
  EXPECT("CLOCK_BOOTTIME read later is not behind CLOCK_MONOTONIC",
         boottime_second >= monotonic_first);
}

static void check_wall_clocks(void) {
  struct timeval day = {0};
  SHOW("gettimeofday", gettimeofday(&day, NULL));
  time_t seconds = time(NULL);
  EXPECT("gettimeofday and time agree within a second", labs((long)(seconds - day.tv_sec)) <= 1);
  EXPECT("tv_usec is in [0, 1e6)", day.tv_usec >= 0 && day.tv_usec < 1000000);
  time_t raw_seconds = syscall(SYS_time, NULL);
  EXPECT("raw time agrees within a second", labs((long)(raw_seconds - seconds)) <= 1);
  EXPECT("CLOCK_REALTIME agrees within a second",
         labs((long)(now_ns(CLOCK_REALTIME) / 1000000000LL - seconds)) <= 1);
  EXPECT("the wall clock is after 2020", seconds > 1577836800);
  SHOW("gettimeofday into a bad pointer", syscall(SYS_gettimeofday, (void*)1, NULL));
  SHOW("time into a bad pointer", syscall(SYS_time, (void*)1));
  struct timezone zone;
  SHOW("gettimeofday with a timezone", gettimeofday(&day, (void*)&zone));
}

static void check_sleeps(void) {
  struct timespec request = {0, 50 * 1000000L};
  long long start = now_ns(CLOCK_MONOTONIC);
  SHOW("nanosleep 50 ms", nanosleep(&request, NULL));
  long long elapsed = now_ns(CLOCK_MONOTONIC) - start;
  EXPECT("nanosleep 50 ms took at least 50 ms", elapsed >= 50 * 1000000LL);

  struct timespec bad = {0, 1000000000L};
  SHOW("nanosleep tv_nsec 1e9", nanosleep(&bad, NULL));
  bad.tv_nsec = -1;
  SHOW("nanosleep tv_nsec -1", nanosleep(&bad, NULL));
  bad.tv_sec = -1;
  bad.tv_nsec = 0;
  SHOW("nanosleep tv_sec -1", nanosleep(&bad, NULL));
  SHOW("nanosleep with a bad pointer", syscall(SYS_nanosleep, (void*)1, NULL));
  struct timespec zero = {0, 0};
  SHOW("nanosleep 0", nanosleep(&zero, NULL));

  // clock_nanosleep returns the error number instead of setting errno.
  struct timespec deadline = {0};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_nsec += 20 * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  show_error_number("clock_nanosleep TIMER_ABSTIME 20 ms ahead",
                    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL));
  EXPECT("the absolute deadline has passed", now_ns(CLOCK_MONOTONIC) >= nanoseconds(deadline));
  struct timespec past = {1, 0};
  show_error_number("clock_nanosleep TIMER_ABSTIME in the past",
                    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));
  request.tv_nsec = 10 * 1000000L;
  start = now_ns(CLOCK_MONOTONIC);
  show_error_number("clock_nanosleep CLOCK_REALTIME 10 ms",
                    clock_nanosleep(CLOCK_REALTIME, 0, &request, NULL));
  EXPECT("clock_nanosleep 10 ms took at least 10 ms",
         now_ns(CLOCK_MONOTONIC) - start >= 10 * 1000000LL);
  show_error_number("clock_nanosleep CLOCK_THREAD_CPUTIME_ID",
                    clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &request, NULL));
  show_error_number("clock_nanosleep clock 1000", clock_nanosleep(1000, 0, &request, NULL));
  bad.tv_sec = 0;
  bad.tv_nsec = 1000000000L;
  show_error_number("clock_nanosleep tv_nsec 1e9", clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL));
  show_error_number("clock_nanosleep bad flags",
                    clock_nanosleep(CLOCK_MONOTONIC, 0x10, &zero, NULL));
}

static void check_cpu_time(void) {
  // Burn a little CPU, so that the CPU clocks move.
  volatile unsigned long sum = 0;
  for (unsigned long i = 0; i < 20000000UL; i++) {
    sum += i;
  }
  EXPECT("CLOCK_PROCESS_CPUTIME_ID advanced", now_ns(CLOCK_PROCESS_CPUTIME_ID) > 0);
  EXPECT("CLOCK_THREAD_CPUTIME_ID advanced", now_ns(CLOCK_THREAD_CPUTIME_ID) > 0);
  SHOW("sysconf _SC_CLK_TCK", sysconf(_SC_CLK_TCK));
}

int main(void) {
  check_clocks();
  check_wall_clocks();
  check_sleeps();
  check_cpu_time();
  return finish_checks();
}
