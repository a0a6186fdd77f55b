// Waiting for signals and sending them to threads: rt_sigtimedwait with a
// timeout that expires and with a signal already pending, sigwaitinfo with
// a queued value, sigsuspend's temporary mask, and the errno of every bad
// input to rt_sigtimedwait, kill, tkill and tgkill.
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

// A tid and pid that no process has: Linux's pid_max is at most 2^22.
#define MISSING_ID 0x3fffffff

static volatile sig_atomic_t handler_runs;
static volatile sig_atomic_t usr2_blocked_in_handler;

static void sleep_ms(long milliseconds) {
  struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  nanosleep(&delay, NULL);
}

static void on_usr1(int signal_number) {
  (void)signal_number;
  handler_runs++;
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  usr2_blocked_in_handler = sigismember(&mask, SIGUSR2);
}

static const char* code_name(int code) {
  switch (code) {
    case SI_USER: return "SI_USER";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TKILL: return "SI_TKILL";
    default: return "other";
  }
}

static void check_sigtimedwait(void) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);

  struct timespec timeout = {0, 50 * 1000 * 1000};
  siginfo_t info;
  struct timespec before;
  struct timespec after;
  clock_gettime(CLOCK_MONOTONIC, &before);
  SHOW("sigtimedwait with nothing pending", sigtimedwait(&usr1, &info, &timeout));
  clock_gettime(CLOCK_MONOTONIC, &after);
  long waited_ms = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
  EXPECT("it waited at least the timeout", waited_ms >= 50);

  struct timespec zero = {0, 0};
  SHOW("sigtimedwait with a zero timeout", sigtimedwait(&usr1, &info, &zero));

  kill(getpid(), SIGUSR1);
  memset(&info, 0, sizeof(info));
  SHOW("sigtimedwait with SIGUSR1 pending", sigtimedwait(&usr1, &info, &timeout));
  printf("its siginfo: signo %d code %s, si_pid is ours: %s, si_uid is ours: %s\n", info.si_signo,
         code_name(info.si_code), info.si_pid == getpid() ? "yes" : "no",
         info.si_uid == getuid() ? "yes" : "no");

  sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 1234});
  memset(&info, 0, sizeof(info));
  SHOW("sigwaitinfo with a queued SIGUSR1", sigwaitinfo(&usr1, &info));
  printf("its siginfo: code %s value %d\n", code_name(info.si_code), info.si_value.sival_int);

  // A signal sent to the thread alone, as tgkill does.
  syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
  memset(&info, 0, sizeof(info));
  SHOW("sigwaitinfo after tgkill", sigwaitinfo(&usr1, &info));
  printf("its siginfo: code %s\n", code_name(info.si_code));

  sigset_t pending;
  sigpending(&pending);
  show_bool("SIGUSR1 still pending after the waits", sigismember(&pending, SIGUSR1));

  // Bad inputs, through the raw call to reach the kernel's checks.
  struct timespec bad_nanoseconds = {0, 1000000000L};
  SHOW("rt_sigtimedwait with tv_nsec 1e9",
       syscall(SYS_rt_sigtimedwait, &usr1, NULL, &bad_nanoseconds, 8L));
  struct timespec negative = {-1, 0};
  SHOW("rt_sigtimedwait with a negative timeout",
       syscall(SYS_rt_sigtimedwait, &usr1, NULL, &negative, 8L));
  SHOW("rt_sigtimedwait with sigsetsize 16", syscall(SYS_rt_sigtimedwait, &usr1, NULL, &zero, 16L));
  SHOW("rt_sigtimedwait with a bad set pointer", syscall(SYS_rt_sigtimedwait, 1L, NULL, &zero, 8L));
  SHOW("rt_sigtimedwait with a bad timeout pointer",
       syscall(SYS_rt_sigtimedwait, &usr1, NULL, 1L, 8L));
  kill(getpid(), SIGUSR1);
  SHOW("rt_sigtimedwait with a bad siginfo pointer",
       syscall(SYS_rt_sigtimedwait, &usr1, 1L, &zero, 8L));
  // The signal was taken before the siginfo could not be written: it is
  // lost.
  sigpending(&pending);
  show_bool("SIGUSR1 pending after the bad siginfo pointer", sigismember(&pending, SIGUSR1));
  sigprocmask(SIG_UNBLOCK, &usr1, NULL);
}

static void* send_usr1_later(void* argument) {
  pid_t pid = (pid_t)(intptr_t)argument;
  sleep_ms(100);
  kill(pid, SIGUSR1);
  return NULL;
}

static void check_sigsuspend(void) {
  struct sigaction action = {0};
  action.sa_handler = on_usr1;
  sigaction(SIGUSR1, &action, NULL);

  // SIGUSR1 is blocked outside sigsuspend, and SIGUSR2 only inside it.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigset_t old_mask;
  sigprocmask(SIG_BLOCK, &usr1, &old_mask);
  sigset_t during;
  sigemptyset(&during);
  sigaddset(&during, SIGUSR2);

  handler_runs = 0;
  pthread_t sender;
  pthread_create(&sender, NULL, send_usr1_later, (void*)(intptr_t)getpid());
  SHOW("sigsuspend", sigsuspend(&during));
  pthread_join(sender, NULL);
  show_value("handler runs", handler_runs);
  show_bool("SIGUSR2 blocked inside the handler", usr2_blocked_in_handler);
  sigset_t after;
  sigprocmask(SIG_BLOCK, NULL, &after);
  show_bool("SIGUSR1 blocked after sigsuspend", sigismember(&after, SIGUSR1));
  show_bool("SIGUSR2 blocked after sigsuspend", sigismember(&after, SIGUSR2));

  // A signal already pending ends sigsuspend at once.
  handler_runs = 0;
  raise(SIGUSR1);
  SHOW("sigsuspend with SIGUSR1 pending", sigsuspend(&during));
  show_value("handler runs", handler_runs);
  sigprocmask(SIG_SETMASK, &old_mask, NULL);

  SHOW("rt_sigsuspend with sigsetsize 16", syscall(SYS_rt_sigsuspend, &during, 16L));
  SHOW("rt_sigsuspend with a bad mask pointer", syscall(SYS_rt_sigsuspend, 1L, 8L));
  signal(SIGUSR1, SIG_DFL);
}

static void* park_briefly(void* argument) {
  (void)argument;
  sleep_ms(100);
  return NULL;
}

static void check_kill_errors(void) {
  pid_t pid = getpid();
  pid_t tid = gettid();
  SHOW("kill with signal 65", kill(pid, 65));
  SHOW("kill with signal -1", kill(pid, -1));
  SHOW("kill a missing process", kill(MISSING_ID, SIGUSR1));
  SHOW("kill a missing process group", kill(-MISSING_ID, SIGUSR1));
  SHOW("kill with signal 0 to its own group", kill(0, 0));

  SHOW("tkill with tid 0", syscall(SYS_tkill, 0, 0));
  SHOW("tkill with tid -1", syscall(SYS_tkill, -1, 0));
  SHOW("tkill a missing thread", syscall(SYS_tkill, MISSING_ID, 0));
  SHOW("tkill with signal 65", syscall(SYS_tkill, tid, 65));
  SHOW("tkill with signal 0 to itself", syscall(SYS_tkill, tid, 0));

  SHOW("tgkill with tgid 0", syscall(SYS_tgkill, 0, tid, 0));
  SHOW("tgkill with tid 0", syscall(SYS_tgkill, pid, 0, 0));
  SHOW("tgkill with tgid -1", syscall(SYS_tgkill, -1, tid, 0));
  SHOW("tgkill with signal 65", syscall(SYS_tgkill, pid, tid, 65));
  SHOW("tgkill with signal -1", syscall(SYS_tgkill, pid, tid, -1));
  SHOW("tgkill a missing thread", syscall(SYS_tgkill, pid, MISSING_ID, 0));
  SHOW("tgkill with a missing tgid", syscall(SYS_tgkill, MISSING_ID, tid, 0));
  SHOW("tgkill with signal 0 to itself", syscall(SYS_tgkill, pid, tid, 0));

  // A thread of this process, named with the wrong thread group.
  pthread_t thread;
  pthread_create(&thread, NULL, park_briefly, NULL);
  pid_t child = fork();
  if (child == 0) {
    for (;;) {
      pause();
    }
  }
  SHOW("tgkill with its own tid under the child's tgid", syscall(SYS_tgkill, child, tid, 0));
  SHOW("tgkill the child's main thread", syscall(SYS_tgkill, child, child, 0));
  SHOW("tkill the child's main thread", syscall(SYS_tkill, child, 0));
  // Only the process itself may send a siginfo with a positive si_code.
  siginfo_t info = {0};
  info.si_code = SI_USER;
  SHOW("rt_sigqueueinfo SI_USER to the child",
       syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &info));
  info.si_code = SI_TKILL;
  SHOW("rt_sigqueueinfo SI_TKILL to the child",
       syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &info));
  SHOW("rt_sigqueueinfo with a bad siginfo pointer",
       syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, 1L));
  SHOW("rt_tgsigqueueinfo with tid 0",
       syscall(SYS_rt_tgsigqueueinfo, child, 0, SIGUSR1, &info));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  SHOW("kill signal 0 to the reaped child", kill(child, 0));
  pthread_join(thread, NULL);
}

int main(void) {
  check_sigtimedwait();
  check_sigsuspend();
  check_kill_errors();
  return finish_checks();
}
