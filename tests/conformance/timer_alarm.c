// alarm and setitimer. SIGALRM comes from ITIMER_REAL, one-shot and
// periodic, and SIGPROF and SIGVTALRM from the CPU-time timers. The checks
// cover what getitimer and alarm report and the fork and execve rules: a
// child inherits no timer, and execve keeps the interval timers but
// deletes the POSIX timers. Times are printed only as relations.
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t alarms;
static volatile sig_atomic_t profs;
static volatile sig_atomic_t vtalrms;

static void on_alarm(int signal) {
  (void)signal;
  alarms++;
}

static void on_prof(int signal) {
  (void)signal;
  profs++;
}

static void on_vtalrm(int signal) {
  (void)signal;
  vtalrms++;
}

static long microseconds(struct timeval value) { return value.tv_sec * 1000000L + value.tv_usec; }

static void check_alarm(void) {
  SHOW("alarm 5 with none pending", alarm(5));
  long left = alarm(0);
  EXPECT("alarm 0 returns the 5 seconds left", left == 5);
  SHOW("alarm 0 with none pending", alarm(0));

  alarms = 0;
  SHOW("alarm 1", alarm(1));
  while (alarms == 0) {
    pause();
  }
  show_value("SIGALRMs after alarm 1", alarms);
  SHOW("alarm 0 after it fired", alarm(0));
}

static void check_setitimer_real(void) {
  struct itimerval value = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
  struct itimerval old = {0};
  alarms = 0;
  SHOW("setitimer ITIMER_REAL 20 ms periodic", setitimer(ITIMER_REAL, &value, &old));
  EXPECT("old value was disarmed", microseconds(old.it_value) == 0 && microseconds(old.it_interval) == 0);
  while (alarms < 3) {
    pause();
  }
  EXPECT("three SIGALRMs came", alarms >= 3);

  struct itimerval current = {0};
  SHOW("getitimer ITIMER_REAL", getitimer(ITIMER_REAL, &current));
  EXPECT("interval is 20 ms", microseconds(current.it_interval) == 20000);
  EXPECT("value is in (0, 20 ms]",
         microseconds(current.it_value) > 0 && microseconds(current.it_value) <= 20000);

  struct itimerval zero = {0};
  SHOW("setitimer ITIMER_REAL disarm", setitimer(ITIMER_REAL, &zero, &old));
  EXPECT("old interval is 20 ms", microseconds(old.it_interval) == 20000);
  SHOW("getitimer ITIMER_REAL after disarm", getitimer(ITIMER_REAL, &current));
  EXPECT("disarmed", microseconds(current.it_value) == 0 && microseconds(current.it_interval) == 0);

  // With SIGALRM ignored, the first expiry's signal is discarded, so a
  // periodic timer, which re-arms only when its signal is dequeued, stops.
  struct sigaction ignore = {.sa_handler = SIG_IGN};
  struct sigaction handle = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &ignore, NULL);
  SHOW("setitimer ITIMER_REAL 20 ms periodic, SIGALRM ignored", setitimer(ITIMER_REAL, &value, NULL));
  struct timespec pause_time = {0, 50000000};
  nanosleep(&pause_time, NULL);
  sigaction(SIGALRM, &handle, NULL);
  alarms = 0;
  nanosleep(&pause_time, NULL);
  show_value("SIGALRMs once no longer ignored", alarms);
  SHOW("setitimer ITIMER_REAL disarm", setitimer(ITIMER_REAL, &zero, NULL));

  // An interval alone, without a value, arms nothing.
  struct itimerval interval_only = {.it_interval = {1, 0}, .it_value = {0, 0}};
  SHOW("setitimer ITIMER_REAL interval only", setitimer(ITIMER_REAL, &interval_only, NULL));
  SHOW("getitimer ITIMER_REAL", getitimer(ITIMER_REAL, &current));
  show_value("  it_value, us", microseconds(current.it_value));
  show_value("  it_interval, us", microseconds(current.it_interval));
}

static void burn_cpu_until(volatile sig_atomic_t* counter, int count) {
  volatile unsigned long sum = 0;
  while (*counter < count) {
    for (int i = 0; i < 100000; i++) {
      sum += (unsigned long)i;
    }
  }
}

static void check_cpu_timers(void) {
  struct sigaction action = {.sa_handler = on_prof};
  sigaction(SIGPROF, &action, NULL);
  struct itimerval value = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
  SHOW("setitimer ITIMER_PROF 10 ms periodic", setitimer(ITIMER_PROF, &value, NULL));
  burn_cpu_until(&profs, 3);
  EXPECT("three SIGPROFs came while the CPU was busy", profs >= 3);
  struct itimerval current = {0};
  SHOW("getitimer ITIMER_PROF", getitimer(ITIMER_PROF, &current));
  EXPECT("interval is 10 ms", microseconds(current.it_interval) == 10000);
  struct itimerval zero = {0};
  SHOW("setitimer ITIMER_PROF disarm", setitimer(ITIMER_PROF, &zero, NULL));

  action.sa_handler = on_vtalrm;
  sigaction(SIGVTALRM, &action, NULL);
  struct itimerval virtual_periodic = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
  SHOW("setitimer ITIMER_VIRTUAL 10 ms periodic", setitimer(ITIMER_VIRTUAL, &virtual_periodic, NULL));
  burn_cpu_until(&vtalrms, 2);
  EXPECT("two SIGVTALRMs came while the CPU was busy", vtalrms >= 2);

  struct itimerval virtual_value = {.it_interval = {0, 0}, .it_value = {100, 0}};
  SHOW("setitimer ITIMER_VIRTUAL 100 s", setitimer(ITIMER_VIRTUAL, &virtual_value, NULL));
  SHOW("getitimer ITIMER_VIRTUAL", getitimer(ITIMER_VIRTUAL, &current));
  // Linux adds one tick to a new CPU timer's value.
  EXPECT("value is in (99 s, 100.1 s]",
         microseconds(current.it_value) > 99000000L && microseconds(current.it_value) <= 100100000L);
  SHOW("setitimer ITIMER_VIRTUAL disarm", setitimer(ITIMER_VIRTUAL, &zero, NULL));
}

static void check_fork(void) {
  struct itimerval value = {.it_interval = {0, 0}, .it_value = {100, 0}};
  setitimer(ITIMER_REAL, &value, NULL);
  pid_t child = fork();
  if (child == 0) {
    struct itimerval current = {0};
    getitimer(ITIMER_REAL, &current);
    printf("child: ITIMER_REAL inherited: %s\n", microseconds(current.it_value) != 0 ? "yes" : "no");
    printf("child: alarm 0 = %u\n", alarm(0));
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  struct itimerval current = {0};
  getitimer(ITIMER_REAL, &current);
  EXPECT("the parent's timer still runs", microseconds(current.it_value) > 0);
}

// The second half of the execve check, in the new image: the interval
// timer set before execve still runs, the POSIX timer is gone.
static int after_exec(const char* timer_id_text, const char* failures_text) {
  check_failures = atoi(failures_text);
  struct itimerval current = {0};
  SHOW("after execve: getitimer ITIMER_REAL", getitimer(ITIMER_REAL, &current));
  EXPECT("after execve: ITIMER_REAL still runs", microseconds(current.it_value) > 0);
  EXPECT("after execve: its interval stays", microseconds(current.it_interval) == 50000000L);
  struct itimerspec setting = {0};
  int timer_id = atoi(timer_id_text);
  SHOW("after execve: timer_gettime of the old timer", syscall(SYS_timer_gettime, timer_id, &setting));
  return finish_checks();
}

static void check_exec(const char* self) {
  struct itimerval value = {.it_interval = {50, 0}, .it_value = {100, 0}};
  SHOW("setitimer ITIMER_REAL 100 s before execve", setitimer(ITIMER_REAL, &value, NULL));
  struct sigevent event = {.sigev_notify = SIGEV_NONE};
  int timer_id = -1;
  SHOW("timer_create before execve", syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &timer_id));
  char id_text[16];
  snprintf(id_text, sizeof(id_text), "%d", timer_id);
  char failures_text[16];
  snprintf(failures_text, sizeof(failures_text), "%d", check_failures);
  fflush(stdout);
  execl(self, self, "after_exec", id_text, failures_text, (char*)NULL);
  printf("execl failed\n");
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "after_exec") == 0) {
    return after_exec(argv[2], argv[3]);
  }
  struct sigaction action = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &action, NULL);

  check_alarm();
  check_setitimer_real();
  check_cpu_timers();
  check_fork();
  check_exec(argv[0]);
  return 1;
}
