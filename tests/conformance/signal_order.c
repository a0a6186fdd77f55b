// The order in which handlers run: SA_NODEFER lets a handler interrupt
// itself, a signal outside the handler's mask nests inside it and one in
// the mask waits for it, SA_RESETHAND restores the default after one
// delivery, and a mask lifted from several pending signals delivers the
// lowest number first, each real-time instance queued with its value and
// each standard signal coalesced into one.
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

// Handler events, recorded without stdio and printed afterwards: a signal
// number with a positive value for an entry and a negative one for a
// return, and the sigqueue value when there is one.
#define MAX_EVENTS 64

struct event {
  int signal_number;
  int value;
  bool entering;
};

static struct event events[MAX_EVENTS];
static volatile int event_count;

static void record(int signal_number, int value, bool entering) {
  if (event_count < MAX_EVENTS) {
    events[event_count] = (struct event){signal_number, value, entering};
    event_count++;
  }
}

static void show_events(const char* label) {
  printf("%s:", label);
  for (int i = 0; i < event_count; i++) {
    const struct event* seen = &events[i];
    printf(" %s%d", seen->entering ? "+" : "-", seen->signal_number);
    if (seen->value != 0) {
      printf("(%d)", seen->value);
    }
  }
  printf("\n");
  event_count = 0;
}

// A signal the SIGUSR1 handler raises on its first run, or 0.
static int raise_inside;
static volatile bool raised_inside;

static void on_signal(int signal_number, siginfo_t* info, void* context) {
  (void)context;
  int value = info->si_code == SI_QUEUE ? info->si_value.sival_int : 0;
  record(signal_number, value, true);
  if (signal_number == SIGUSR1 && raise_inside != 0 && !raised_inside) {
    raised_inside = true;
    raise(raise_inside);
  }
  record(signal_number, value, false);
}

static void install(int signal_number, int flags, const sigset_t* mask) {
  struct sigaction action = {0};
  action.sa_sigaction = on_signal;
  action.sa_flags = SA_SIGINFO | flags;
  if (mask != NULL) {
    action.sa_mask = *mask;
  } else {
    sigemptyset(&action.sa_mask);
  }
  sigaction(signal_number, &action, NULL);
}

static void check_nesting(void) {
  install(SIGUSR1, 0, NULL);
  install(SIGUSR2, 0, NULL);

  raise_inside = SIGUSR1;
  raised_inside = false;
  raise(SIGUSR1);
  show_events("SIGUSR1 raising itself");

  install(SIGUSR1, SA_NODEFER, NULL);
  raised_inside = false;
  raise(SIGUSR1);
  show_events("SIGUSR1 raising itself with SA_NODEFER");

  install(SIGUSR1, 0, NULL);
  raise_inside = SIGUSR2;
  raised_inside = false;
  raise(SIGUSR1);
  show_events("SIGUSR1 raising SIGUSR2");

  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  install(SIGUSR1, 0, &usr2);
  raised_inside = false;
  raise(SIGUSR1);
  show_events("SIGUSR1 raising SIGUSR2 in its sa_mask");
  raise_inside = 0;
}

static volatile sig_atomic_t blocked_in_handler;

static void on_reset_signal(int signal_number) {
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  blocked_in_handler = sigismember(&mask, signal_number);
}

static void check_resethand(void) {
  pid_t child = fork();
  if (child == 0) {
    struct sigaction action = {0};
    action.sa_handler = on_reset_signal;
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &action, NULL);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("SA_RESETHAND: handler ran once, SIGUSR1 blocked inside: %s\n",
           blocked_in_handler ? "yes" : "no");
    printf("SA_RESETHAND: disposition afterwards is SIG_DFL: %s\n",
           now.sa_handler == SIG_DFL ? "yes" : "no");
    printf("SA_RESETHAND: flags afterwards have SA_RESETHAND: %s\n",
           (now.sa_flags & SA_RESETHAND) != 0 ? "yes" : "no");
    fflush(stdout);
    raise(SIGUSR1);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_bool("SA_RESETHAND: the second SIGUSR1 killed the child",
            WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1);
}

// Queues standard and real-time signals while they are blocked, shows
// what sigpending reports, and unblocks them all at once.
static void queue_blocked_signals(const sigset_t* handler_mask, const char* label) {
  int realtime = SIGRTMIN;
  install(SIGUSR1, 0, handler_mask);
  install(SIGUSR2, 0, handler_mask);
  install(SIGHUP, 0, handler_mask);
  install(realtime, 0, handler_mask);
  install(realtime + 1, 0, handler_mask);

  sigset_t block;
  sigfillset(&block);
  sigset_t old_mask;
  sigprocmask(SIG_BLOCK, &block, &old_mask);

  raise(SIGUSR2);
  raise(SIGUSR1);
  raise(SIGUSR1);  // coalesces with the first
  raise(SIGHUP);
  sigqueue(getpid(), realtime + 1, (union sigval){.sival_int = 10});
  sigqueue(getpid(), realtime, (union sigval){.sival_int = 20});
  sigqueue(getpid(), realtime + 1, (union sigval){.sival_int = 30});
  sigqueue(getpid(), realtime, (union sigval){.sival_int = 40});
  sigqueue(getpid(), realtime, (union sigval){.sival_int = 50});

  sigset_t pending;
  sigpending(&pending);
  printf("%s: pending:", label);
  for (int signal_number = 1; signal_number < NSIG; signal_number++) {
    if (sigismember(&pending, signal_number)) {
      if (signal_number >= realtime) {
        printf(" SIGRTMIN+%d", signal_number - realtime);
      } else {
        printf(" %d", signal_number);
      }
    }
  }
  printf("\n");
  show_events(label_of("%s: handlers before unblocking", label));

  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  show_events(label_of("%s: order, with SIGRTMIN as %d", label, realtime));
}

static void check_pending_order(void) {
  // Handlers that block everything run one at a time, in the order the
  // kernel picks the signals.
  sigset_t all;
  sigfillset(&all);
  queue_blocked_signals(&all, "full sa_mask");
  // Handlers that block nothing else nest: each new frame goes on top of
  // the previous one, so the last signal picked runs first.
  queue_blocked_signals(NULL, "empty sa_mask");
}

static void check_bad_inputs(void) {
  SHOW("sigqueue to a missing process", sigqueue(0x3fffffff, SIGUSR1, (union sigval){0}));
  SHOW("sigqueue with signal 65", sigqueue(getpid(), 65, (union sigval){0}));
  SHOW("sigqueue with signal 0", sigqueue(getpid(), 0, (union sigval){0}));
  struct sigaction action = {0};
  SHOW("sigaction SIGKILL", sigaction(SIGKILL, &action, NULL));
  SHOW("sigaction SIGSTOP", sigaction(SIGSTOP, &action, NULL));
  SHOW("sigaction query SIGKILL", sigaction(SIGKILL, NULL, &action));
  SHOW("sigaction signal 0", sigaction(0, &action, NULL));
  SHOW("sigaction signal 65", sigaction(65, NULL, &action));
  SHOW("sigprocmask with a bad how", sigprocmask(42, &action.sa_mask, NULL));
  SHOW("sigprocmask with a bad how and no set", sigprocmask(42, NULL, &action.sa_mask));
  // glibc reads and writes the sets itself, so the bad pointers go to the
  // raw calls, with the kernel's 8-byte sigset size.
  SHOW("rt_sigprocmask with a bad set pointer", syscall(SYS_rt_sigprocmask, SIG_BLOCK, 1L, 0L, 8L));
  SHOW("rt_sigprocmask with a bad old-set pointer",
       syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0L, 1L, 8L));
  SHOW("rt_sigprocmask with sigsetsize 16", syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0L, 0L, 16L));
  SHOW("rt_sigpending with a bad pointer", syscall(SYS_rt_sigpending, 1L, 8L));
  SHOW("rt_sigpending with sigsetsize 16", syscall(SYS_rt_sigpending, &action.sa_mask, 16L));
  SHOW("rt_sigpending with sigsetsize 4", syscall(SYS_rt_sigpending, &action.sa_mask, 4L));
  SHOW("rt_sigaction with sigsetsize 4", syscall(SYS_rt_sigaction, SIGUSR1, 0L, 0L, 4L));
  SHOW("rt_sigaction with a bad new pointer", syscall(SYS_rt_sigaction, SIGUSR1, 1L, 0L, 8L));
  SHOW("rt_sigaction of signal 65 with a bad pointer", syscall(SYS_rt_sigaction, 65, 1L, 0L, 8L));

  // SIGKILL and SIGSTOP cannot be blocked: the mask silently drops them.
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGKILL);
  sigaddset(&block, SIGSTOP);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, NULL);
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  show_bool("SIGKILL in the mask", sigismember(&now, SIGKILL));
  show_bool("SIGSTOP in the mask", sigismember(&now, SIGSTOP));
  show_bool("SIGUSR1 in the mask", sigismember(&now, SIGUSR1));
  sigprocmask(SIG_UNBLOCK, &block, NULL);
}

int main(void) {
  check_nesting();
  check_resethand();
  check_pending_order();
  check_bad_inputs();
  return finish_checks();
}
