// What a parent's SIGCHLD disposition does to its children's deaths:
// SIG_IGN and SA_NOCLDWAIT reap them automatically, so wait fails with
// ECHILD once they are gone, and a SIGCHLD handler without SA_RESTART
// still lets a blocked waitpid return the child.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t sigchld_count;
static volatile sig_atomic_t sigchld_code;
static volatile sig_atomic_t sigchld_status;

static void count_sigchld(int signal_number, siginfo_t* info, void* context) {
  (void)signal_number;
  (void)context;
  sigchld_count++;
  sigchld_code = info->si_code;
  sigchld_status = info->si_status;
}

static void set_sigchld(void (*handler)(int, siginfo_t*, void*), void (*plain)(int), int flags) {
  struct sigaction action = {0};
  if (handler != NULL) {
    action.sa_sigaction = handler;
    flags |= SA_SIGINFO;
  } else {
    action.sa_handler = plain;
  }
  action.sa_flags = flags;
  sigaction(SIGCHLD, &action, NULL);
}

static void sleep_ms(long milliseconds) {
  struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  nanosleep(&delay, NULL);
}

// A child that exits with `code` after `delay_ms`, so that the parent is
// already blocked in wait when it dies.
static pid_t fork_exiting_later(int code, long delay_ms) {
  pid_t child = fork();
  if (child == 0) {
    sleep_ms(delay_ms);
    _exit(code);
  }
  return child;
}

static void check_ignored_sigchld(void) {
  set_sigchld(NULL, SIG_IGN, 0);
  pid_t child = fork_exiting_later(4, 50);
  int status = 0;
  // wait blocks until the child is gone, then finds no child to report.
  SHOW("SIG_IGN: waitpid for the child", waitpid(child, &status, 0));
  SHOW("SIG_IGN: wait afterwards", wait(&status));

  // An already dead child was reaped before the wait started.
  child = fork_exiting_later(4, 0);
  sleep_ms(100);
  SHOW("SIG_IGN: waitpid WNOHANG for a dead child", waitpid(child, &status, WNOHANG));
  set_sigchld(NULL, SIG_DFL, 0);
}

static void check_nocldwait(void) {
  set_sigchld(NULL, SIG_DFL, SA_NOCLDWAIT);
  pid_t children[3];
  for (int i = 0; i < 3; i++) {
    children[i] = fork_exiting_later(i, 30 * (i + 1));
  }
  int status = 0;
  // wait blocks until every child is gone.
  SHOW("SA_NOCLDWAIT: wait", wait(&status));
  for (int i = 0; i < 3; i++) {
    SHOW(label_of("SA_NOCLDWAIT: kill signal 0 to child %d", i), kill(children[i], 0));
  }

  // With a handler, SIGCHLD is still sent, but no zombie is left.
  sigchld_count = 0;
  set_sigchld(count_sigchld, NULL, SA_NOCLDWAIT);
  pid_t child = fork_exiting_later(6, 30);
  SHOW("SA_NOCLDWAIT with a handler: waitpid", waitpid(child, &status, 0));
  show_value("SA_NOCLDWAIT with a handler: SIGCHLD count", sigchld_count);
  show_value("SA_NOCLDWAIT with a handler: si_status", sigchld_status);
  set_sigchld(NULL, SIG_DFL, 0);
}

// waitpid that starts over after EINTR: a SIGCHLD for one event of a child
// may interrupt a wait for another event of it.
static pid_t wait_retrying(pid_t child, int* status, int options) {
  pid_t result;
  do {
    result = waitpid(child, status, options);
  } while (result == -1 && errno == EINTR);
  return result;
}

static void check_handler_and_blocked_wait(void) {
  // The child's death wakes the parent with SIGCHLD pending, but wait
  // finds the zombie first, so it returns the child and not EINTR.
  sigchld_count = 0;
  set_sigchld(count_sigchld, NULL, 0);
  pid_t child = fork_exiting_later(5, 50);
  int status = 0;
  pid_t reaped = waitpid(child, &status, 0);
  EXPECT("waitpid with a SIGCHLD handler returns the child", reaped == child);
  if (reaped == -1) {
    printf("waitpid failed with %s\n", errno_name(errno));
    waitpid(child, &status, 0);
  }
  show_value("exit status", WEXITSTATUS(status));
  show_value("SIGCHLD count", sigchld_count);
  EXPECT("si_code is CLD_EXITED", sigchld_code == CLD_EXITED);

  // A child that is stopped sends SIGCHLD too, unless SA_NOCLDSTOP.
  sigchld_count = 0;
  child = fork();
  if (child == 0) {
    raise(SIGSTOP);
    _exit(0);
  }
  wait_retrying(child, &status, WUNTRACED);
  show_bool("SIGCHLD for a stop without SA_NOCLDSTOP", sigchld_count == 1);
  EXPECT("si_code is CLD_STOPPED", sigchld_code == CLD_STOPPED);
  kill(child, SIGCONT);
  wait_retrying(child, &status, 0);

  sigchld_count = 0;
  set_sigchld(count_sigchld, NULL, SA_NOCLDSTOP);
  child = fork();
  if (child == 0) {
    raise(SIGSTOP);
    _exit(0);
  }
  wait_retrying(child, &status, WUNTRACED);
  show_value("SIGCHLD count for a stop with SA_NOCLDSTOP", sigchld_count);
  kill(child, SIGCONT);
  wait_retrying(child, &status, 0);
  show_value("SIGCHLD count after the exit", sigchld_count);
  set_sigchld(NULL, SIG_DFL, 0);
}

int main(void) {
  check_ignored_sigchld();
  check_nocldwait();
  check_handler_and_blocked_wait();
  return finish_checks();
}
