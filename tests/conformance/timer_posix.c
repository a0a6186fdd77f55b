// POSIX timers through the raw syscalls, with SIGEV_SIGNAL,
// SIGEV_THREAD_ID and SIGEV_NONE. The checks cover the siginfo of a
// timer's signal (si_code SI_TIMER, si_timerid, si_value, si_overrun),
// overruns while the signal is blocked, TIMER_ABSTIME and a timer on the
// process's CPU clock. clock_nanosleep and clock_gettime run on CPU
// clocks, including ones built from a pid or tid. Times are printed only
// as relations.
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

// The kernel's encoding of a CPU clock id (include/linux/posix-timers.h).
#define MAKE_PROCESS_CPUCLOCK(pid, type) ((int)(~(unsigned)(pid) << 3) | (type))
#define MAKE_THREAD_CPUCLOCK(tid, type) (MAKE_PROCESS_CPUCLOCK(tid, type) | 4)
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2

static long timer_create_raw(clockid_t clock, struct sigevent* event, int* id) {
  return syscall(SYS_timer_create, clock, event, id);
}

static long timer_settime_raw(int id, int flags, const struct itimerspec* value,
                              struct itimerspec* old) {
  return syscall(SYS_timer_settime, id, flags, value, old);
}

static long long nanoseconds(struct timespec value) {
  return (long long)value.tv_sec * 1000000000LL + value.tv_nsec;
}

static sigset_t signal_set(int signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signal);
  return set;
}

// A periodic 1 ms timer whose SIGRTMIN stays blocked for 30 ms: one
// signal is queued, the rest count as overruns.
static void check_signal_and_overrun(void) {
  sigset_t set = signal_set(SIGRTMIN);
  sigprocmask(SIG_BLOCK, &set, NULL);

  struct sigevent event = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN};
  event.sigev_value.sival_int = 4242;
  int id = -1;
  SHOW("timer_create CLOCK_MONOTONIC SIGEV_SIGNAL", timer_create_raw(CLOCK_MONOTONIC, &event, &id));
  struct itimerspec value = {.it_interval = {0, 1000000}, .it_value = {0, 1000000}};
  SHOW("timer_settime 1 ms periodic", timer_settime_raw(id, 0, &value, NULL));
  struct timespec pause_time = {0, 30000000};
  nanosleep(&pause_time, NULL);

  siginfo_t info = {0};
  int signal = sigwaitinfo(&set, &info);
  EXPECT("sigwaitinfo returns SIGRTMIN", signal == SIGRTMIN);
  EXPECT("si_code is SI_TIMER", info.si_code == SI_TIMER);
  EXPECT("si_timerid is the timer's id", info.si_timerid == id);
  EXPECT("si_value is sigev_value", info.si_value.sival_int == 4242);
  EXPECT("si_overrun counts the missed expiries", info.si_overrun >= 5);
  long overrun = syscall(SYS_timer_getoverrun, id);
  EXPECT("timer_getoverrun equals si_overrun", overrun == info.si_overrun);

  struct itimerspec current = {0};
  SHOW("timer_gettime", syscall(SYS_timer_gettime, id, &current));
  EXPECT("interval is 1 ms", nanoseconds(current.it_interval) == 1000000);
  EXPECT("value is in (0, 1 ms]", nanoseconds(current.it_value) > 0 && nanoseconds(current.it_value) <= 1000000);

  struct itimerspec zero = {0};
  struct itimerspec old = {0};
  SHOW("timer_settime disarm", timer_settime_raw(id, 0, &zero, &old));
  EXPECT("old interval is 1 ms", nanoseconds(old.it_interval) == 1000000);
  SHOW("timer_delete", syscall(SYS_timer_delete, id));
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

// A NULL sigevent means SIGEV_SIGNAL with SIGALRM and the timer id as
// si_value.
static void check_default_event(void) {
  sigset_t set = signal_set(SIGALRM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int id = -1;
  SHOW("timer_create with a NULL sigevent", timer_create_raw(CLOCK_REALTIME, NULL, &id));
  struct itimerspec value = {.it_value = {0, 2000000}};
  SHOW("timer_settime 2 ms one-shot", timer_settime_raw(id, 0, &value, NULL));
  siginfo_t info = {0};
  EXPECT("sigwaitinfo returns SIGALRM", sigwaitinfo(&set, &info) == SIGALRM);
  EXPECT("si_code is SI_TIMER", info.si_code == SI_TIMER);
  EXPECT("si_value is the timer id", info.si_value.sival_int == id);
  show_value("si_overrun", info.si_overrun);
  struct itimerspec current = {0};
  SHOW("timer_gettime after a one-shot fired", syscall(SYS_timer_gettime, id, &current));
  show_value("  value, ns", nanoseconds(current.it_value));
  SHOW("timer_delete", syscall(SYS_timer_delete, id));
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

// TIMER_ABSTIME on CLOCK_MONOTONIC, and an absolute time already past,
// which fires at once.
static void check_absolute(void) {
  sigset_t set = signal_set(SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  struct sigevent event = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
  int id = -1;
  SHOW("timer_create CLOCK_MONOTONIC SIGUSR1", timer_create_raw(CLOCK_MONOTONIC, &event, &id));
  struct timespec now = {0};
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct itimerspec value = {.it_value = now};
  value.it_value.tv_nsec += 5000000;
  if (value.it_value.tv_nsec >= 1000000000L) {
    value.it_value.tv_sec++;
    value.it_value.tv_nsec -= 1000000000L;
  }
  SHOW("timer_settime TIMER_ABSTIME now + 5 ms", timer_settime_raw(id, TIMER_ABSTIME, &value, NULL));
  siginfo_t info = {0};
  EXPECT("sigwaitinfo returns SIGUSR1", sigwaitinfo(&set, &info) == SIGUSR1);
  struct timespec after = {0};
  clock_gettime(CLOCK_MONOTONIC, &after);
  EXPECT("it came at or after the absolute time", nanoseconds(after) >= nanoseconds(value.it_value));

  struct itimerspec past = {.it_value = {1, 0}};
  SHOW("timer_settime TIMER_ABSTIME in the past", timer_settime_raw(id, TIMER_ABSTIME, &past, NULL));
  EXPECT("sigwaitinfo returns SIGUSR1", sigwaitinfo(&set, &info) == SIGUSR1);
  SHOW("timer_delete", syscall(SYS_timer_delete, id));
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

// SIGEV_NONE: the timer runs, its value can be read, no signal comes.
static void check_sigev_none(void) {
  struct sigevent event = {.sigev_notify = SIGEV_NONE};
  int id = -1;
  SHOW("timer_create SIGEV_NONE", timer_create_raw(CLOCK_MONOTONIC, &event, &id));
  struct itimerspec value = {.it_value = {100, 0}};
  SHOW("timer_settime 100 s", timer_settime_raw(id, 0, &value, NULL));
  struct itimerspec current = {0};
  SHOW("timer_gettime", syscall(SYS_timer_gettime, id, &current));
  EXPECT("value is in (99 s, 100 s]",
         nanoseconds(current.it_value) > 99000000000LL && nanoseconds(current.it_value) <= 100000000000LL);
  struct itimerspec short_value = {.it_value = {0, 1000000}};
  SHOW("timer_settime 1 ms", timer_settime_raw(id, 0, &short_value, NULL));
  struct timespec pause_time = {0, 5000000};
  nanosleep(&pause_time, NULL);
  SHOW("timer_gettime after it expired", syscall(SYS_timer_gettime, id, &current));
  show_value("  value, ns", nanoseconds(current.it_value));
  SHOW("timer_getoverrun", syscall(SYS_timer_getoverrun, id));
  SHOW("timer_delete", syscall(SYS_timer_delete, id));
}

struct thread_target {
  pid_t tid;
  int id;
  int signal;
  int timer_id;
  int si_code;
  sigset_t set;
  volatile int ready;
};

static void* wait_for_timer(void* argument) {
  struct thread_target* target = argument;
  target->tid = (pid_t)syscall(SYS_gettid);
  __atomic_store_n(&target->ready, 1, __ATOMIC_SEQ_CST);
  siginfo_t info = {0};
  target->signal = sigwaitinfo(&target->set, &info);
  target->timer_id = info.si_timerid;
  target->si_code = info.si_code;
  return NULL;
}

// SIGEV_THREAD_ID (what glibc's SIGEV_THREAD becomes) sends the signal to
// one thread, which takes it with sigwaitinfo.
static void check_thread_id(void) {
  struct thread_target target = {.set = signal_set(SIGUSR2)};
  sigprocmask(SIG_BLOCK, &target.set, NULL);
  pthread_t thread;
  pthread_create(&thread, NULL, wait_for_timer, &target);
  while (!__atomic_load_n(&target.ready, __ATOMIC_SEQ_CST)) {
    sched_yield();
  }

  struct sigevent event = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR2};
  event._sigev_un._tid = target.tid;
  int id = -1;
  SHOW("timer_create SIGEV_THREAD_ID", timer_create_raw(CLOCK_MONOTONIC, &event, &id));
  struct itimerspec value = {.it_value = {0, 2000000}};
  SHOW("timer_settime 2 ms", timer_settime_raw(id, 0, &value, NULL));
  pthread_join(thread, NULL);
  EXPECT("the thread took SIGUSR2", target.signal == SIGUSR2);
  EXPECT("with si_code SI_TIMER", target.si_code == SI_TIMER);
  EXPECT("and the timer's id", target.timer_id == id);
  SHOW("timer_delete", syscall(SYS_timer_delete, id));

  // The thread has exited: its tid names no thread of the process now.
  SHOW("timer_create SIGEV_THREAD_ID for an exited thread", timer_create_raw(CLOCK_MONOTONIC, &event, &id));
  sigprocmask(SIG_UNBLOCK, &target.set, NULL);
}

static void burn_cpu_ns(long long amount_ns) {
  struct timespec start = {0};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
  volatile unsigned long sum = 0;
  struct timespec now = start;
  while (nanoseconds(now) - nanoseconds(start) < amount_ns) {
    for (int i = 0; i < 10000; i++) {
      sum += (unsigned long)i;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  }
}

// A timer on the process's CPU clock fires only once that much CPU time
// has been used.
static void check_cpu_timer(void) {
  sigset_t set = signal_set(SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  struct sigevent event = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 1};
  int id = -1;
  SHOW("timer_create CLOCK_PROCESS_CPUTIME_ID", timer_create_raw(CLOCK_PROCESS_CPUTIME_ID, &event, &id));
  struct itimerspec value = {.it_value = {0, 20000000}};
  SHOW("timer_settime 20 ms of CPU", timer_settime_raw(id, 0, &value, NULL));
  struct itimerspec current = {0};
  SHOW("timer_gettime", syscall(SYS_timer_gettime, id, &current));
  EXPECT("value is in (0, 20 ms]", nanoseconds(current.it_value) > 0 && nanoseconds(current.it_value) <= 20000000);

  struct timespec nothing = {0};
  sigset_t pending;
  struct timespec sleep_time = {0, 30000000};
  nanosleep(&sleep_time, NULL);
  sigpending(&pending);
  EXPECT("no signal after 30 ms asleep", !sigismember(&pending, SIGRTMIN + 1));
  burn_cpu_ns(40000000);
  siginfo_t info = {0};
  EXPECT("the signal came after 40 ms of CPU", sigtimedwait(&set, &info, &nothing) == SIGRTMIN + 1);
  EXPECT("si_timerid is the timer's id", info.si_timerid == id);
  SHOW("timer_delete", syscall(SYS_timer_delete, id));

  // A thread CPU clock of the caller's own thread, built from its tid.
  pid_t tid = (pid_t)syscall(SYS_gettid);
  SHOW("timer_create on MAKE_THREAD_CPUCLOCK(tid, SCHED)",
       timer_create_raw(MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED), &event, &id));
  SHOW("timer_delete", syscall(SYS_timer_delete, id));
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void* burn_in_thread(void* argument) {
  (void)argument;
  burn_cpu_ns(30000000);
  return NULL;
}

// clock_gettime on CPU clocks built from a pid or tid, and clock_nanosleep
// on the process clock while another thread burns CPU.
static void check_cpu_clocks(void) {
  pid_t pid = getpid();
  pid_t tid = (pid_t)syscall(SYS_gettid);
  struct timespec value = {0};
  clockid_t clock = 0;
  SHOW("clock_getcpuclockid of self", clock_getcpuclockid(0, &clock));
  SHOW("clock_gettime on it", clock_gettime(clock, &value));
  SHOW("clock_gettime MAKE_PROCESS_CPUCLOCK(pid, PROF)",
       syscall(SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_PROF), &value));
  SHOW("clock_gettime MAKE_PROCESS_CPUCLOCK(pid, VIRT)",
       syscall(SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_VIRT), &value));
  SHOW("clock_gettime MAKE_THREAD_CPUCLOCK(tid, SCHED)",
       syscall(SYS_clock_gettime, MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED), &value));
  SHOW("clock_gettime MAKE_THREAD_CPUCLOCK(0, SCHED)",
       syscall(SYS_clock_gettime, MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED), &value));
  struct timespec resolution = {0};
  SHOW("clock_getres MAKE_PROCESS_CPUCLOCK(0, SCHED)",
       syscall(SYS_clock_getres, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), &resolution));
  show_value("  resolution, ns", nanoseconds(resolution));
  SHOW("clock_getres MAKE_PROCESS_CPUCLOCK(0, PROF)",
       syscall(SYS_clock_getres, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_PROF), &resolution));
  EXPECT("  resolution is one tick, 1 to 10 ms",
         nanoseconds(resolution) >= 1000000 && nanoseconds(resolution) <= 10000000);

  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  SHOW("clock_getcpuclockid of a child", clock_getcpuclockid(child, &clock));
  SHOW("clock_gettime on it", clock_gettime(clock, &value));
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  SHOW("clock_gettime on it once reaped", clock_gettime(clock, &value));

  // The sleeping thread's own process clock moves while the other thread
  // burns CPU.
  struct timespec before = {0};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before);
  pthread_t thread;
  pthread_create(&thread, NULL, burn_in_thread, NULL);
  struct timespec request = {0, 10000000};
  show_error_number("clock_nanosleep CLOCK_PROCESS_CPUTIME_ID 10 ms",
                    clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &request, NULL));
  struct timespec after = {0};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after);
  EXPECT("the process clock moved at least 10 ms", nanoseconds(after) - nanoseconds(before) >= 10000000);
  pthread_join(thread, NULL);
  struct timespec past = {0, 1};
  show_error_number("clock_nanosleep CLOCK_PROCESS_CPUTIME_ID TIMER_ABSTIME in the past",
                    clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &past, NULL));
}

int main(void) {
  check_signal_and_overrun();
  check_default_event();
  check_absolute();
  check_sigev_none();
  check_thread_id();
  check_cpu_timer();
  check_cpu_clocks();
  return finish_checks();
}
