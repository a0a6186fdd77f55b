// The signal state execve keeps and the state it resets: caught signals
// return to SIG_DFL, ignored ones stay ignored, and the mask and the
// pending signals survive. The program sets the state, execs itself with
// the argument "after", and the new image prints what it finds.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void on_signal(int signal_number) { (void)signal_number; }

static const char* disposition(int signal_number) {
  struct sigaction action;
  sigaction(signal_number, NULL, &action);
  if (action.sa_handler == SIG_DFL) {
    return "SIG_DFL";
  }
  if (action.sa_handler == SIG_IGN) {
    return "SIG_IGN";
  }
  return "a handler";
}

static int run_after_exec(void) {
  printf("after: SIGUSR1 (was ignored) is %s\n", disposition(SIGUSR1));
  printf("after: SIGUSR2 (was caught) is %s\n", disposition(SIGUSR2));
  printf("after: SIGCHLD (was ignored) is %s\n", disposition(SIGCHLD));
  printf("after: SIGHUP (was caught with SA_RESTART) is %s\n", disposition(SIGHUP));

  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  show_bool("after: SIGTERM still blocked", sigismember(&mask, SIGTERM));
  show_bool("after: SIGINT still unblocked", !sigismember(&mask, SIGINT));
  sigset_t pending;
  sigpending(&pending);
  show_bool("after: SIGTERM still pending", sigismember(&pending, SIGTERM));

  stack_t stack;
  sigaltstack(NULL, &stack);
  show_hex("after: sigaltstack ss_flags", (unsigned)stack.ss_flags);
  show_value("after: sigaltstack ss_size", (long)stack.ss_size);

  // The pending SIGTERM takes its default action once unblocked.
  fflush(stdout);
  sigprocmask(SIG_UNBLOCK, &mask, NULL);
  printf("after: still alive after unblocking SIGTERM\n");
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "after") == 0) {
    return run_after_exec();
  }

  pid_t child = fork();
  if (child == 0) {
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, on_signal);
    signal(SIGCHLD, SIG_IGN);
    struct sigaction restart = {0};
    restart.sa_handler = on_signal;
    restart.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &restart, NULL);

    static char altstack[64 * 1024];
    stack_t stack = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
    sigaltstack(&stack, NULL);

    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    raise(SIGTERM);

    char* const new_argv[] = {argv[0], "after", NULL};
    execv(argv[0], new_argv);
    printf("execv failed: %s\n", errno_name(errno));
    _exit(1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_bool("the new image was killed by the pending SIGTERM",
            WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  return finish_checks();
}
