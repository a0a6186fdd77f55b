// CPU time accounting: getrusage for the process, its children and the
// thread, and times. Times are printed only as relations.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  // Burn a little CPU, so that getrusage moves.
  volatile unsigned long sum = 0;
  for (unsigned long i = 0; i < 20000000UL; i++) {
    sum += i;
  }
  struct rusage usage = {0};
  SHOW("getrusage RUSAGE_SELF", getrusage(RUSAGE_SELF, &usage));
  EXPECT("ru_utime plus ru_stime is positive", usage.ru_utime.tv_sec + usage.ru_utime.tv_usec +
                                                       usage.ru_stime.tv_sec +
                                                       usage.ru_stime.tv_usec >
                                                   0);
  EXPECT("ru_maxrss is positive", usage.ru_maxrss > 0);
  SHOW("getrusage RUSAGE_CHILDREN", getrusage(RUSAGE_CHILDREN, &usage));
  show_value("ru_utime of children, seconds", usage.ru_utime.tv_sec);
  SHOW("getrusage RUSAGE_THREAD", getrusage(RUSAGE_THREAD, &usage));
  SHOW("getrusage who 12345", getrusage(12345, &usage));
  SHOW("getrusage into a bad pointer", syscall(SYS_getrusage, RUSAGE_SELF, (void*)1));
  struct tms times_result;
  EXPECT("times does not fail", times(&times_result) != (clock_t)-1);
  return finish_checks();
}
