// Reparenting to a child subreaper (PR_SET_CHILD_SUBREAPER): when a child
// dies, its own children move to the nearest subreaper ancestor, which can
// then wait for them. The subreaper is a child of the test's first process,
// because under ward the first process is the sandbox's init, which would
// receive the orphans anyway.
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void sleep_ms(long milliseconds) {
  struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  nanosleep(&delay, NULL);
}

static void run_subreaper(void) {
  int subreaper = -1;
  SHOW("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0));
  show_value("subreaper before", subreaper);
  SHOW("PR_SET_CHILD_SUBREAPER 1", prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
  SHOW("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0));
  show_value("subreaper after", subreaper);
  SHOW("PR_GET_CHILD_SUBREAPER to a bad pointer", prctl(PR_GET_CHILD_SUBREAPER, 1, 0, 0, 0));

  pid_t self = getpid();
  int pipe_fds[2];
  pipe(pipe_fds);
  pid_t middle = fork();
  if (middle == 0) {
    pid_t grandchild = fork();
    if (grandchild == 0) {
      // Waits, bounded, until the middle process is gone and this one was
      // moved to the subreaper, and exits with whether it was.
      pid_t parent = getppid();
      for (int i = 0; i < 500 && parent != self; i++) {
        sleep_ms(10);
        parent = getppid();
      }
      _exit(parent == self ? 7 : 8);
    }
    write(pipe_fds[1], &grandchild, sizeof(grandchild));
    _exit(3);
  }
  close(pipe_fds[1]);
  pid_t grandchild = 0;
  read(pipe_fds[0], &grandchild, sizeof(grandchild));
  close(pipe_fds[0]);

  int status = 0;
  EXPECT("waitpid reaps the middle process", waitpid(middle, &status, 0) == middle);
  show_value("middle exit code", WEXITSTATUS(status));
  pid_t reaped = waitpid(-1, &status, 0);
  EXPECT("the subreaper reaps the orphaned grandchild", reaped == grandchild);
  if (reaped == grandchild) {
    show_value("grandchild exit code", WEXITSTATUS(status));
  }
  SHOW("wait with nothing left", wait(NULL));

  // A subreaper's children that die before their own children hand those
  // over too when they are killed.
  middle = fork();
  if (middle == 0) {
    pid_t child = fork();
    if (child == 0) {
      for (int i = 0; i < 500 && getppid() != self; i++) {
        sleep_ms(10);
      }
      _exit(getppid() == self ? 9 : 10);
    }
    for (;;) {
      pause();
    }
  }
  sleep_ms(50);
  kill(middle, SIGKILL);
  waitpid(middle, &status, 0);
  show_bool("middle killed by SIGKILL", WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  reaped = wait(&status);
  EXPECT("the killed process's child comes to the subreaper", reaped > 0);
  show_value("its exit code", WEXITSTATUS(status));

  SHOW("PR_SET_CHILD_SUBREAPER 0", prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0));
  SHOW("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0));
  show_value("subreaper at the end", subreaper);
}

int main(void) {
  pid_t subreaper = fork();
  if (subreaper == 0) {
    run_subreaper();
    _exit(finish_checks());
  }
  int status = 0;
  waitpid(subreaper, &status, 0);
  EXPECT("the subreaper process passed its checks", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return finish_checks();
}
