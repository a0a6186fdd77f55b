// A signal that interrupts a blocked call: with SA_RESTART the call starts
// over once the handler returns, without it the call fails with EINTR.
// Shown on a pipe read and on wait4, with the signal sent by a thread
// while the main thread blocks. A signal whose disposition ignores it
// interrupts nothing, and sigsuspend and pause fail with EINTR whatever
// SA_RESTART says.
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

// Time the sender waits before each step. The main thread is blocked by
// then in every run that is not starved of CPU for this long.
#define STEP_MS 150

static volatile sig_atomic_t handler_runs;
static pthread_t main_thread;
static int pipe_fds[2];

static void sleep_ms(long milliseconds) {
  struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  nanosleep(&delay, NULL);
}

static void count_signal(int signal_number) {
  (void)signal_number;
  handler_runs++;
}

static void install(int signal_number, void (*handler)(int), int flags) {
  struct sigaction action = {0};
  action.sa_handler = handler;
  action.sa_flags = flags;
  sigaction(signal_number, &action, NULL);
}

struct sender_plan {
  int signal_number;
  bool write_after;  // whether to write one byte into the pipe afterwards
};

// Signals the main thread once it is blocked, then unblocks its read.
static void* send_signal_then_write(void* argument) {
  const struct sender_plan* plan = argument;
  sleep_ms(STEP_MS);
  pthread_kill(main_thread, plan->signal_number);
  if (plan->write_after) {
    sleep_ms(STEP_MS);
    write(pipe_fds[1], "x", 1);
  }
  return NULL;
}

// Blocks in a read of the empty pipe while the sender signals the main
// thread, then prints what the read returned.
static void read_while_signalled(const char* label, int signal_number) {
  handler_runs = 0;
  struct sender_plan plan = {.signal_number = signal_number, .write_after = true};
  pthread_t sender;
  pthread_create(&sender, NULL, send_signal_then_write, &plan);
  char byte = 0;
  long result = SHOW(label_of("%s: read", label), read(pipe_fds[0], &byte, 1));
  if (result == -1) {
    // The byte still comes; read it so the pipe is empty again.
    SHOW(label_of("%s: read again", label), read(pipe_fds[0], &byte, 1));
  }
  printf("%s: byte read: %c\n", label, byte);
  pthread_join(sender, NULL);
  show_value(label_of("%s: handler runs", label), handler_runs);
}

static void check_pipe_read(void) {
  pipe(pipe_fds);
  install(SIGUSR1, count_signal, SA_RESTART);
  read_while_signalled("SA_RESTART", SIGUSR1);
  install(SIGUSR1, count_signal, 0);
  read_while_signalled("no SA_RESTART", SIGUSR1);
  // SIGWINCH's default action ignores it, so it interrupts nothing.
  install(SIGWINCH, SIG_DFL, 0);
  read_while_signalled("SIGWINCH by default", SIGWINCH);
  install(SIGUSR1, SIG_IGN, 0);
  read_while_signalled("SIGUSR1 ignored", SIGUSR1);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

static void* send_signal(void* argument) {
  sleep_ms(STEP_MS);
  pthread_kill(main_thread, (int)(intptr_t)argument);
  return NULL;
}

// Blocks in wait4 for a child that exits after the signal came.
static void wait_while_signalled(const char* label) {
  handler_runs = 0;
  pid_t child = fork();
  if (child == 0) {
    sleep_ms(3 * STEP_MS);
    _exit(4);
  }
  pthread_t sender;
  pthread_create(&sender, NULL, send_signal, (void*)(intptr_t)SIGUSR1);
  int status = 0;
  pid_t result = wait4(child, &status, 0, NULL);
  if (result == -1) {
    printf("%s: wait4 = -1 %s\n", label, errno_name(errno));
    result = wait4(child, &status, 0, NULL);
  }
  printf("%s: wait4 returned the child: %s\n", label, result == child ? "yes" : "no");
  show_value(label_of("%s: exit code", label), WEXITSTATUS(status));
  pthread_join(sender, NULL);
  show_value(label_of("%s: handler runs", label), handler_runs);
}

static void check_wait4(void) {
  install(SIGUSR1, count_signal, SA_RESTART);
  wait_while_signalled("wait4 with SA_RESTART");
  install(SIGUSR1, count_signal, 0);
  wait_while_signalled("wait4 without SA_RESTART");
}

static void check_sigsuspend_and_pause(void) {
  install(SIGUSR1, count_signal, SA_RESTART);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigset_t old_mask;
  sigprocmask(SIG_BLOCK, &usr1, &old_mask);

  handler_runs = 0;
  pthread_t sender;
  pthread_create(&sender, NULL, send_signal, (void*)(intptr_t)SIGUSR1);
  sigset_t during;
  sigemptyset(&during);
  SHOW("sigsuspend with SA_RESTART", sigsuspend(&during));
  pthread_join(sender, NULL);
  show_value("sigsuspend: handler runs", handler_runs);
  sigset_t after;
  sigprocmask(SIG_BLOCK, NULL, &after);
  show_bool("sigsuspend: SIGUSR1 blocked again afterwards", sigismember(&after, SIGUSR1));
  sigprocmask(SIG_SETMASK, &old_mask, NULL);

  handler_runs = 0;
  pthread_create(&sender, NULL, send_signal, (void*)(intptr_t)SIGUSR1);
  SHOW("pause with SA_RESTART", pause());
  pthread_join(sender, NULL);
  show_value("pause: handler runs", handler_runs);
}

int main(void) {
  main_thread = pthread_self();
  check_pipe_read();
  check_wait4();
  check_sigsuspend_and_pause();
  return finish_checks();
}
