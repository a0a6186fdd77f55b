// SIGPIPE from a write to a pipe with no reader: delivered to a handler,
// and left pending while blocked.
#include <signal.h>
#include <unistd.h>

#include "check.h"

static volatile int sigpipe_count;

static void count_sigpipe(int signal_number) {
  (void)signal_number;
  sigpipe_count++;
}

int main(void) {
  int fds[2];
  pipe(fds);
  close(fds[0]);
  signal(SIGPIPE, count_sigpipe);
  SHOW("write with no reader, SIGPIPE handled", write(fds[1], "x", 1));
  show_value("  SIGPIPE count", sigpipe_count);

  // A blocked SIGPIPE stays pending.
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  sigprocmask(SIG_BLOCK, &block, NULL);
  SHOW("write with no reader, SIGPIPE blocked", write(fds[1], "x", 1));
  sigset_t pending;
  sigpending(&pending);
  show_bool("  SIGPIPE is pending", sigismember(&pending, SIGPIPE));
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  show_value("  SIGPIPE count after unblocking", sigpipe_count);
  close(fds[1]);
  return finish_checks();
}
