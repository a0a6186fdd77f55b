// Bad inputs to the timer, clock and usage calls, each with the errno
// Linux gives: bad clocks, bad sigevents, bad timer ids, bad pointers,
// bad `which` and `who` values and bad times. Raw syscalls, so that glibc
// checks nothing first.
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

// The kernel's encoding of a CPU clock id (include/linux/posix-timers.h).
#define MAKE_PROCESS_CPUCLOCK(pid, type) ((int)(~(unsigned)(pid) << 3) | (type))
#define MAKE_THREAD_CPUCLOCK(tid, type) (MAKE_PROCESS_CPUCLOCK(tid, type) | 4)
#define CPUCLOCK_SCHED 2
#define CLOCKFD 3
#define CLOCK_FD_ID(fd) ((int)(~(unsigned)(fd) << 3) | CLOCKFD)

// A pid no process of this test has: the largest pid_max allows.
#define NO_SUCH_PID 4194303

// A child that waits to be killed: a process other than the caller.
static pid_t other_process;

static void check_timer_create(void) {
  int id = -1;
  struct sigevent event = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
  SHOW("timer_create clock 99", syscall(SYS_timer_create, 99, &event, &id));
  SHOW("timer_create clock 12", syscall(SYS_timer_create, 12, &event, &id));
  SHOW("timer_create CLOCK_MONOTONIC_RAW", syscall(SYS_timer_create, CLOCK_MONOTONIC_RAW, &event, &id));
  SHOW("timer_create CLOCK_REALTIME_COARSE", syscall(SYS_timer_create, CLOCK_REALTIME_COARSE, &event, &id));
  SHOW("timer_create a clock fd id", syscall(SYS_timer_create, CLOCK_FD_ID(3), &event, &id));
  SHOW("timer_create CPU clock of no process",
       syscall(SYS_timer_create, MAKE_PROCESS_CPUCLOCK(NO_SUCH_PID, CPUCLOCK_SCHED), &event, &id));
  SHOW("timer_create thread CPU clock of no thread",
       syscall(SYS_timer_create, MAKE_THREAD_CPUCLOCK(NO_SUCH_PID, CPUCLOCK_SCHED), &event, &id));
  SHOW("timer_create CPU clock type 3 of a pid",
       syscall(SYS_timer_create, MAKE_PROCESS_CPUCLOCK(getpid(), 3) | 4, &event, &id));

  struct sigevent bad = event;
  bad.sigev_notify = 99;
  SHOW("timer_create sigev_notify 99", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = event;
  bad.sigev_signo = 0;
  SHOW("timer_create sigev_signo 0", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad.sigev_signo = 65;
  SHOW("timer_create sigev_signo 65", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad.sigev_signo = -1;
  SHOW("timer_create sigev_signo -1", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = event;
  bad.sigev_notify = SIGEV_THREAD_ID;
  bad._sigev_un._tid = NO_SUCH_PID;
  SHOW("timer_create SIGEV_THREAD_ID of no thread", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad._sigev_un._tid = other_process;
  SHOW("timer_create SIGEV_THREAD_ID of another process",
       syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  bad.sigev_signo = 0;
  SHOW("timer_create SIGEV_THREAD_ID with signal 0", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = event;
  bad.sigev_notify = SIGEV_NONE;
  bad.sigev_signo = 0;
  SHOW_OK("timer_create SIGEV_NONE ignores the signal", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  syscall(SYS_timer_delete, id);

  SHOW("timer_create with a bad sigevent pointer", syscall(SYS_timer_create, CLOCK_MONOTONIC, (void*)1, &id));
  SHOW("timer_create with a bad id pointer", syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, (void*)1));
  SHOW("timer_create bad clock and bad sigevent pointer", syscall(SYS_timer_create, 99, (void*)1, &id));
}

static void check_timer_ids(void) {
  struct itimerspec value = {.it_value = {1, 0}};
  struct itimerspec current = {0};
  int ids[] = {12345, -1, 0x7fffffff};
  for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
    SHOW(label_of("timer_settime id %d", ids[i]), syscall(SYS_timer_settime, ids[i], 0, &value, NULL));
    SHOW(label_of("timer_gettime id %d", ids[i]), syscall(SYS_timer_gettime, ids[i], &current));
    SHOW(label_of("timer_getoverrun id %d", ids[i]), syscall(SYS_timer_getoverrun, ids[i]));
    SHOW(label_of("timer_delete id %d", ids[i]), syscall(SYS_timer_delete, ids[i]));
  }

  int id = -1;
  struct sigevent event = {.sigev_notify = SIGEV_NONE};
  SHOW("timer_create CLOCK_MONOTONIC", syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &id));
  SHOW("timer_settime NULL new value", syscall(SYS_timer_settime, id, 0, NULL, NULL));
  SHOW("timer_settime bad new value pointer", syscall(SYS_timer_settime, id, 0, (void*)1, NULL));
  struct itimerspec bad = {.it_value = {0, 1000000000L}};
  SHOW("timer_settime tv_nsec 1e9", syscall(SYS_timer_settime, id, 0, &bad, NULL));
  bad = (struct itimerspec){.it_value = {-1, 0}};
  SHOW("timer_settime negative tv_sec", syscall(SYS_timer_settime, id, 0, &bad, NULL));
  bad = (struct itimerspec){.it_interval = {0, -1}, .it_value = {1, 0}};
  SHOW("timer_settime negative interval tv_nsec", syscall(SYS_timer_settime, id, 0, &bad, NULL));
  SHOW("timer_settime bad timer and bad value", syscall(SYS_timer_settime, 12345, 0, &bad, NULL));
  SHOW("timer_settime bad old value pointer", syscall(SYS_timer_settime, id, 0, &value, (void*)1));
  SHOW("  the new value was set all the same", syscall(SYS_timer_gettime, id, &current));
  EXPECT("  it is armed", current.it_value.tv_sec != 0 || current.it_value.tv_nsec != 0);
  SHOW("timer_settime unknown flags", syscall(SYS_timer_settime, id, 0x100, &value, NULL));
  SHOW("timer_gettime bad pointer", syscall(SYS_timer_gettime, id, (void*)1));
  SHOW("timer_delete", syscall(SYS_timer_delete, id));
  SHOW("timer_delete again", syscall(SYS_timer_delete, id));
  SHOW("timer_gettime after delete", syscall(SYS_timer_gettime, id, &current));
}

static void check_itimers(void) {
  struct itimerval value = {0};
  SHOW("getitimer which 3", syscall(SYS_getitimer, 3, &value));
  SHOW("getitimer which -1", syscall(SYS_getitimer, -1, &value));
  SHOW("getitimer bad pointer", syscall(SYS_getitimer, ITIMER_REAL, (void*)1));
  SHOW("getitimer bad which and bad pointer", syscall(SYS_getitimer, 3, (void*)1));
  SHOW("setitimer which 3", syscall(SYS_setitimer, 3, &value, NULL));
  SHOW("setitimer which 3 with NULL", syscall(SYS_setitimer, 3, NULL, NULL));
  SHOW("setitimer bad new pointer", syscall(SYS_setitimer, ITIMER_REAL, (void*)1, NULL));
  SHOW("setitimer which 3 and bad new pointer", syscall(SYS_setitimer, 3, (void*)1, NULL));
  struct itimerval bad = {.it_value = {0, 1000000}};
  SHOW("setitimer tv_usec 1e6", syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL));
  bad = (struct itimerval){.it_interval = {-1, 0}, .it_value = {1, 0}};
  SHOW("setitimer negative interval", syscall(SYS_setitimer, ITIMER_VIRTUAL, &bad, NULL));
  SHOW("setitimer which 3 and bad value", syscall(SYS_setitimer, 3, &bad, NULL));
  SHOW("setitimer NULL new value disarms", syscall(SYS_setitimer, ITIMER_PROF, NULL, NULL));
  struct itimerval ten = {.it_value = {10, 0}};
  SHOW("setitimer bad old pointer", syscall(SYS_setitimer, ITIMER_REAL, &ten, (void*)1));
  SHOW("  getitimer", syscall(SYS_getitimer, ITIMER_REAL, &value));
  show_bool("  the new value was set all the same", value.it_value.tv_sec != 0);
  SHOW("alarm 0", alarm(0));
}

static void check_clocks(void) {
  struct timespec value = {0};
  SHOW("clock_gettime clock 12", syscall(SYS_clock_gettime, 12, &value));
  SHOW("clock_gettime a clock fd id", syscall(SYS_clock_gettime, CLOCK_FD_ID(3), &value));
  SHOW("clock_gettime CPU clock of no process",
       syscall(SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(NO_SUCH_PID, CPUCLOCK_SCHED), &value));
  SHOW("clock_gettime thread CPU clock of another process",
       syscall(SYS_clock_gettime, MAKE_THREAD_CPUCLOCK(other_process, CPUCLOCK_SCHED), &value));
  SHOW_OK("clock_gettime process CPU clock of another process",
          syscall(SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(other_process, CPUCLOCK_SCHED), &value));
  SHOW("timer_create thread CPU clock of another process",
       syscall(SYS_timer_create, MAKE_THREAD_CPUCLOCK(other_process, CPUCLOCK_SCHED), NULL, &(int){0}));
  SHOW("clock_gettime CPU clock type 3", syscall(SYS_clock_gettime, MAKE_THREAD_CPUCLOCK(0, 3), &value));
  SHOW("clock_gettime CPU clock bad pointer", syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, (void*)1));
  SHOW("clock_getres CPU clock of no process",
       syscall(SYS_clock_getres, MAKE_PROCESS_CPUCLOCK(NO_SUCH_PID, CPUCLOCK_SCHED), &value));
  SHOW("clock_getres CPU clock bad pointer", syscall(SYS_clock_getres, CLOCK_THREAD_CPUTIME_ID, (void*)1));

  SHOW("clock_settime CLOCK_PROCESS_CPUTIME_ID", syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &value));
  SHOW("clock_settime MAKE_PROCESS_CPUCLOCK(0, SCHED)",
       syscall(SYS_clock_settime, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), &value));
  SHOW("clock_settime CPU clock of no process",
       syscall(SYS_clock_settime, MAKE_PROCESS_CPUCLOCK(NO_SUCH_PID, CPUCLOCK_SCHED), &value));
  SHOW("clock_settime CLOCK_MONOTONIC bad pointer", syscall(SYS_clock_settime, CLOCK_MONOTONIC, (void*)1));
  SHOW("clock_settime CLOCK_REALTIME bad pointer", syscall(SYS_clock_settime, CLOCK_REALTIME, (void*)1));

  struct timespec request = {0, 1000};
  SHOW("clock_nanosleep CLOCK_THREAD_CPUTIME_ID",
       syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &request, NULL));
  SHOW("clock_nanosleep own thread CPU clock by tid",
       syscall(SYS_clock_nanosleep, MAKE_THREAD_CPUCLOCK(syscall(SYS_gettid), CPUCLOCK_SCHED), 0, &request,
               NULL));
  SHOW("clock_nanosleep MAKE_THREAD_CPUCLOCK(0, SCHED)",
       syscall(SYS_clock_nanosleep, MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED), 0, &request, NULL));
  SHOW("clock_nanosleep CPU clock of no process",
       syscall(SYS_clock_nanosleep, MAKE_PROCESS_CPUCLOCK(NO_SUCH_PID, CPUCLOCK_SCHED), 0, &request, NULL));
  SHOW("clock_nanosleep CLOCK_MONOTONIC_RAW", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &request, NULL));
  SHOW("clock_nanosleep a clock fd id", syscall(SYS_clock_nanosleep, CLOCK_FD_ID(3), 0, &request, NULL));
  SHOW("clock_nanosleep clock 12", syscall(SYS_clock_nanosleep, 12, 0, &request, NULL));
  // EOPNOTSUPP on a host without a wake-capable RTC; else 0 as root.
  SHOW("clock_nanosleep CLOCK_BOOTTIME_ALARM", syscall(SYS_clock_nanosleep, CLOCK_BOOTTIME_ALARM, 0, &request, NULL));
  int id = -1;
  SHOW_OK("timer_create CLOCK_REALTIME_ALARM", syscall(SYS_timer_create, CLOCK_REALTIME_ALARM, NULL, &id));
  SHOW("clock_nanosleep CLOCK_PROCESS_CPUTIME_ID bad pointer",
       syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, (void*)1, NULL));
  struct timespec bad = {0, 1000000000L};
  SHOW("clock_nanosleep CLOCK_PROCESS_CPUTIME_ID tv_nsec 1e9",
       syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &bad, NULL));
  struct timespec zero = {0};
  SHOW("clock_nanosleep CLOCK_PROCESS_CPUTIME_ID zero",
       syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &zero, NULL));
}

static void check_usage(void) {
  struct rusage usage;
  SHOW("getrusage who 2", syscall(SYS_getrusage, 2, &usage));
  SHOW("getrusage who -2", syscall(SYS_getrusage, -2, &usage));
  SHOW("getrusage RUSAGE_CHILDREN bad pointer", syscall(SYS_getrusage, RUSAGE_CHILDREN, (void*)1));
  SHOW("getrusage RUSAGE_THREAD bad pointer", syscall(SYS_getrusage, RUSAGE_THREAD, (void*)1));
  SHOW("getrusage bad who and bad pointer", syscall(SYS_getrusage, 2, (void*)1));
  SHOW("times bad pointer", syscall(SYS_times, (void*)1));
  SHOW_OK("times NULL", syscall(SYS_times, NULL));
}

int main(void) {
  other_process = fork();
  if (other_process == 0) {
    pause();
    _exit(0);
  }
  check_timer_create();
  check_timer_ids();
  check_itimers();
  check_clocks();
  check_usage();
  kill(other_process, SIGKILL);
  waitpid(other_process, NULL, 0);
  return finish_checks();
}
