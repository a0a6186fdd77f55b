// RLIMIT_CPU: SIGXCPU when the process's CPU time reaches the soft limit,
// with the soft limit moved one second on each time, and SIGKILL at the
// hard limit. The busy child runs with a soft limit of 1 s and a hard
// limit of 2 s.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t xcpu_signals;

static void on_xcpu(int signal) {
  (void)signal;
  xcpu_signals++;
}

static void busy_child(void) {
  struct sigaction action = {.sa_handler = on_xcpu};
  sigaction(SIGXCPU, &action, NULL);
  struct rlimit limit = {.rlim_cur = 1, .rlim_max = 2};
  printf("child: setrlimit RLIMIT_CPU 1 2 = %d\n", setrlimit(RLIMIT_CPU, &limit));
  volatile unsigned long sum = 0;
  while (xcpu_signals == 0) {
    sum++;
  }
  getrlimit(RLIMIT_CPU, &limit);
  printf("child: SIGXCPU came; soft limit now %ld, hard %ld\n", (long)limit.rlim_cur, (long)limit.rlim_max);
  fflush(stdout);
  for (;;) {
    sum++;
  }
}

int main(void) {
  pid_t child = fork();
  if (child == 0) {
    busy_child();
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT("the child was killed", WIFSIGNALED(status));
  show_value("by signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return finish_checks();
}
