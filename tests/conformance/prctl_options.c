// prctl: each option's bad arguments with their exact errno, unknown
// options, the values the setters store, and the parent-death signal sent
// when a parent process or the parent thread exits.
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define BAD_POINTER ((void*)16)

static pid_t main_pid;

// Forks a child that requests SIGUSR2 as its parent-death signal, and
// returns once the child has done so. The child waits for the signal,
// which Linux sends when this thread exits although the process lives on.
static void* fork_from_thread(void* unused) {
  (void)unused;
  int ready[2];
  if (pipe(ready) != 0) {
    return NULL;
  }
  pid_t child = fork();
  if (child == 0) {
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    prctl(PR_SET_PDEATHSIG, SIGUSR2);
    (void)!write(ready[1], "x", 1);
    struct timespec timeout = {.tv_sec = 10};
    siginfo_t info;
    SHOW("child of a thread waits for the parent-death signal", sigtimedwait(&usr2, &info, &timeout));
    EXPECT("its parent is still the same process", getppid() == main_pid);
    _exit(finish_checks());
  }
  char byte;
  (void)!read(ready[0], &byte, 1);
  close(ready[0]);
  close(ready[1]);
  return (void*)(intptr_t)child;
}

int main(void) {
  SHOW("unknown option 9999", prctl(9999, 0, 0, 0, 0));
  SHOW("unknown option -1", prctl(-1, 0, 0, 0, 0));

  SHOW("PR_SET_PDEATHSIG 65", prctl(PR_SET_PDEATHSIG, 65));
  SHOW("PR_SET_PDEATHSIG SIGUSR1", prctl(PR_SET_PDEATHSIG, SIGUSR1));
  int signal = 0;
  SHOW("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &signal));
  show_value("  signal", signal);
  SHOW("PR_GET_PDEATHSIG to a bad pointer", prctl(PR_GET_PDEATHSIG, BAD_POINTER));
  prctl(PR_SET_PDEATHSIG, 0);

  SHOW("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2));
  SHOW("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0));
  SHOW("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
  SHOW("PR_SET_DUMPABLE 1", prctl(PR_SET_DUMPABLE, 1));
  SHOW("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));

  SHOW("PR_SET_KEEPCAPS 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
  SHOW("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  SHOW("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
  SHOW("PR_GET_SECUREBITS", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
  SHOW("PR_SET_KEEPCAPS 0", prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0));
  SHOW("PR_SET_SECUREBITS with an unknown bit", prctl(PR_SET_SECUREBITS, 1 << 12, 0, 0, 0));

  SHOW("PR_CAPBSET_READ CAP_KILL", prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0));
  SHOW("PR_CAPBSET_READ 41", prctl(PR_CAPBSET_READ, 41, 0, 0, 0));
  SHOW("PR_CAPBSET_READ -1", prctl(PR_CAPBSET_READ, -1L, 0, 0, 0));
  SHOW("PR_CAPBSET_DROP 64", prctl(PR_CAPBSET_DROP, 64, 0, 0, 0));

  SHOW("PR_CAP_AMBIENT 99", prctl(PR_CAP_AMBIENT, 99, CAP_KILL, 0, 0));
  SHOW("PR_CAP_AMBIENT_IS_SET 41", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 41, 0, 0));
  SHOW("PR_CAP_AMBIENT_IS_SET with arg4", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 1, 1, 0));
  SHOW("PR_CAP_AMBIENT_CLEAR_ALL with arg3", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
  SHOW("PR_CAP_AMBIENT_CLEAR_ALL", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
  SHOW("PR_CAP_AMBIENT_IS_SET CAP_KILL", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));

  long default_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  SHOW("PR_SET_TIMERSLACK 1000", prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0));
  SHOW("PR_GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
  SHOW("PR_SET_TIMERSLACK 0", prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0));
  EXPECT("PR_SET_TIMERSLACK 0 restores the default",
         prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == default_slack);

  SHOW("PR_GET_THP_DISABLE with arg2", prctl(PR_GET_THP_DISABLE, 1, 0, 0, 0));
  SHOW("PR_SET_THP_DISABLE 0 with a flag", prctl(PR_SET_THP_DISABLE, 0, 2, 0, 0));
  SHOW("PR_SET_THP_DISABLE 1 with an unknown flag", prctl(PR_SET_THP_DISABLE, 1, 4, 0, 0));
  SHOW("PR_SET_THP_DISABLE 1 with arg4", prctl(PR_SET_THP_DISABLE, 1, 0, 1, 0));
  SHOW("PR_SET_THP_DISABLE 1", prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0));
  SHOW("PR_GET_THP_DISABLE", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
  SHOW("PR_SET_THP_DISABLE 0", prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0));
  SHOW("PR_GET_THP_DISABLE", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));

  SHOW("PR_SET_CHILD_SUBREAPER 1", prctl(PR_SET_CHILD_SUBREAPER, 1));
  int subreaper = 0;
  SHOW("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &subreaper));
  show_value("  subreaper", subreaper);
  SHOW("PR_GET_CHILD_SUBREAPER to a bad pointer", prctl(PR_GET_CHILD_SUBREAPER, BAD_POINTER));

  SHOW("PR_GET_TID_ADDRESS to a bad pointer", prctl(PR_GET_TID_ADDRESS, BAD_POINTER));

  SHOW("PR_SET_NAME from a bad pointer", prctl(PR_SET_NAME, BAD_POINTER));
  SHOW("PR_SET_NAME", prctl(PR_SET_NAME, "renamed-process-long"));
  char name[16] = {0};
  SHOW("PR_GET_NAME", prctl(PR_GET_NAME, name));
  show_string("  name", name);

  SHOW("PR_SET_NO_NEW_PRIVS 0", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS 1 with arg3", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));
  SHOW("PR_GET_NO_NEW_PRIVS with arg2", prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS 1", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  SHOW("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));

  // A forked child starts without a parent-death signal but keeps
  // no_new_privs and the timer slack.
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  prctl(PR_SET_TIMERSLACK, 2000, 0, 0, 0);
  pid_t child = fork();
  if (child == 0) {
    int child_signal = -1;
    prctl(PR_GET_PDEATHSIG, &child_signal);
    show_value("child's parent-death signal", child_signal);
    show_value("child's no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    show_value("child's timer slack", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    _exit(0);
  }
  waitpid(child, NULL, 0);
  prctl(PR_SET_PDEATHSIG, 0);

  // The parent-death signal arrives when the parent exits; the orphan
  // then belongs to this process, a child subreaper.
  pid_t subreaper_pid = getpid();
  int ready[2];
  if (pipe(ready) != 0) {
    return 1;
  }
  pid_t middle = fork();
  if (middle == 0) {
    pid_t orphan = fork();
    if (orphan == 0) {
      sigset_t usr1;
      sigemptyset(&usr1);
      sigaddset(&usr1, SIGUSR1);
      sigprocmask(SIG_BLOCK, &usr1, NULL);
      prctl(PR_SET_PDEATHSIG, SIGUSR1);
      (void)!write(ready[1], "x", 1);
      struct timespec timeout = {.tv_sec = 10};
      siginfo_t info;
      SHOW("orphan waits for the parent-death signal", sigtimedwait(&usr1, &info, &timeout));
      show_value("  si_code", info.si_code);
      EXPECT("orphan reparented to the subreaper", getppid() == subreaper_pid);
      _exit(finish_checks());
    }
    char byte;
    (void)!read(ready[0], &byte, 1);
    _exit(0);
  }
  waitpid(middle, NULL, 0);
  int status = 0;
  EXPECT("the orphan is reaped by the subreaper", wait(&status) > 0);
  EXPECT("the orphan exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);

  main_pid = getpid();
  pthread_t thread;
  void* forked = NULL;
  if (pthread_create(&thread, NULL, fork_from_thread, NULL) != 0 ||
      pthread_join(thread, &forked) != 0) {
    return 1;
  }
  status = 0;
  EXPECT("the child of the thread is reaped", waitpid((pid_t)(intptr_t)forked, &status, 0) > 0);
  EXPECT("the child of the thread exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return finish_checks();
}
