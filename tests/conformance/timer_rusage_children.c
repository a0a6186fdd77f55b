// getrusage after a busy child. RUSAGE_CHILDREN and the children fields
// of times count a child only once it has been waited for, and wait4
// reports the child's own usage. A child reaped because SIGCHLD is ignored
// never counts. Times are printed only as relations.
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long microseconds(struct timeval value) { return value.tv_sec * 1000000L + value.tv_usec; }

// Burns `amount_ms` of the caller's CPU time, then exits.
static void burn_and_exit(long amount_ms) {
  volatile unsigned long sum = 0;
  struct timespec now = {0};
  do {
    for (int i = 0; i < 100000; i++) {
      sum += (unsigned long)i;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  } while (now.tv_sec * 1000L + now.tv_nsec / 1000000L < amount_ms);
  _exit(0);
}

int main(void) {
  struct rusage children = {0};
  SHOW("getrusage RUSAGE_CHILDREN before any child", getrusage(RUSAGE_CHILDREN, &children));
  EXPECT("  no CPU time yet", microseconds(children.ru_utime) + microseconds(children.ru_stime) == 0);

  pid_t child = fork();
  if (child == 0) {
    burn_and_exit(200);
  }
  // Until it is waited for, the exited child does not count.
  siginfo_t info = {0};
  SHOW("waitid WEXITED|WNOWAIT", waitid(P_PID, child, &info, WEXITED | WNOWAIT));
  SHOW("getrusage RUSAGE_CHILDREN before wait", getrusage(RUSAGE_CHILDREN, &children));
  EXPECT("  still no CPU time", microseconds(children.ru_utime) + microseconds(children.ru_stime) == 0);

  struct rusage own = {0};
  int status = 0;
  EXPECT("wait4 returns the child", wait4(child, &status, 0, &own) == child);
  long child_us = microseconds(own.ru_utime) + microseconds(own.ru_stime);
  EXPECT("wait4's rusage holds about 200 ms of CPU", child_us >= 190000 && child_us < 1000000);
  EXPECT("wait4's ru_maxrss is positive", own.ru_maxrss > 0);
  EXPECT("wait4's ru_minflt is positive", own.ru_minflt > 0);

  SHOW("getrusage RUSAGE_CHILDREN after wait", getrusage(RUSAGE_CHILDREN, &children));
  long children_us = microseconds(children.ru_utime) + microseconds(children.ru_stime);
  EXPECT("  equals what wait4 reported", children_us == child_us);
  EXPECT("  ru_maxrss is the child's", children.ru_maxrss == own.ru_maxrss);
  struct tms times_now = {0};
  times(&times_now);
  EXPECT("times' tms_cutime plus tms_cstime is at least 19 ticks",
         times_now.tms_cutime + times_now.tms_cstime >= 19);

  struct rusage self = {0};
  getrusage(RUSAGE_SELF, &self);
  EXPECT("the child's CPU time is not the parent's",
         microseconds(self.ru_utime) + microseconds(self.ru_stime) < child_us);

  // A child reaped because SIGCHLD is ignored is never waited for.
  signal(SIGCHLD, SIG_IGN);
  child = fork();
  if (child == 0) {
    burn_and_exit(50);
  }
  SHOW("wait with SIGCHLD ignored", wait(NULL));
  SHOW("getrusage RUSAGE_CHILDREN", getrusage(RUSAGE_CHILDREN, &children));
  EXPECT("  unchanged", microseconds(children.ru_utime) + microseconds(children.ru_stime) == children_us);
  return finish_checks();
}
