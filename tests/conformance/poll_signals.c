// Signals during poll, ppoll, select and pselect6. Each fails with EINTR
// after a handler, with or without SA_RESTART, and restarts with the same
// deadline after a stop and continue. ppoll and pselect6 install their
// temporary signal masks, and the time left is written back.
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "poll_events.h"

static volatile sig_atomic_t handler_count;
static volatile sig_atomic_t usr1_blocked_in_handler;

static void count_signal(int signal_number) {
  (void)signal_number;
  handler_count++;
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  usr1_blocked_in_handler = sigismember(&mask, SIGUSR1);
}

static void set_handler(int flags) {
  struct sigaction action = {0};
  action.sa_handler = count_signal;
  action.sa_flags = flags;
  sigaction(SIGUSR1, &action, NULL);
}

static void block_usr1(int how) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(how, &set, NULL);
}

static bool usr1_blocked(void) {
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  return sigismember(&mask, SIGUSR1);
}

static bool usr1_pending(void) {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGUSR1);
}

// Forks a child that stops this process after 200 ms and continues it
// 100 ms later: a signal without a handler, after which the interrupted
// call restarts.
static pid_t stop_and_continue_later(void) {
  pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    usleep(200 * 1000);
    kill(parent, SIGSTOP);
    usleep(100 * 1000);
    kill(parent, SIGCONT);
    _exit(0);
  }
  return child;
}

static void check_eintr(const char* restart_name, int flags) {
  set_handler(flags);
  int fds[2];
  pipe(fds);

  handler_count = 0;
  pid_t child = signal_later(SIGUSR1, 100);
  struct pollfd entry = {.fd = fds[0], .events = POLLIN, .revents = 0x7777};
  SHOW(label_of("poll interrupted by a handler %s", restart_name),
       syscall(SYS_poll, &entry, 1, -1));
  show_value("  handler runs", handler_count);
  show_events("  revents", entry.revents);
  reap_child("  child exited", child);

  handler_count = 0;
  child = signal_later(SIGUSR1, 100);
  struct timespec timeout = {.tv_sec = 10, .tv_nsec = 0};
  SHOW(label_of("ppoll interrupted by a handler %s", restart_name),
       syscall(SYS_ppoll, &entry, 1, &timeout, NULL, 8));
  show_value("  handler runs", handler_count);
  EXPECT("  the time left is written back", timeout.tv_sec < 10 && timeout.tv_sec >= 5);
  reap_child("  child exited", child);

  handler_count = 0;
  child = signal_later(SIGUSR1, 100);
  fd_set read_set;
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  struct timeval select_timeout = {.tv_sec = 10, .tv_usec = 0};
  SHOW(label_of("select interrupted by a handler %s", restart_name),
       syscall(SYS_select, fds[0] + 1, &read_set, NULL, NULL, &select_timeout));
  show_value("  handler runs", handler_count);
  show_bool("  the read set is left as it was", FD_ISSET(fds[0], &read_set));
  EXPECT("  the time left is written back",
         select_timeout.tv_sec < 10 && select_timeout.tv_sec >= 5);
  reap_child("  child exited", child);

  handler_count = 0;
  child = signal_later(SIGUSR1, 100);
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  SHOW(label_of("pselect6 interrupted by a handler %s", restart_name),
       syscall(SYS_pselect6, fds[0] + 1, &read_set, NULL, NULL, NULL, NULL));
  show_value("  handler runs", handler_count);
  reap_child("  child exited", child);

  close(fds[0]);
  close(fds[1]);
  signal(SIGUSR1, SIG_DFL);
}

static void check_restart_after_stop(void) {
  int fds[2];
  pipe(fds);
  struct pollfd entry = {.fd = fds[0], .events = POLLIN, .revents = 0};

  pid_t child = stop_and_continue_later();
  long start = monotonic_ms();
  SHOW("poll with 1000 ms timeout, stopped and continued", syscall(SYS_poll, &entry, 1, 1000));
  long waited = monotonic_ms() - start;
  EXPECT("  waits at least the timeout", waited >= 1000);
  EXPECT("  keeps the first deadline", waited < 1250);
  reap_child("  child exited", child);

  child = stop_and_continue_later();
  struct timespec timeout = {.tv_sec = 1, .tv_nsec = 0};
  start = monotonic_ms();
  SHOW("ppoll with 1 s timeout, stopped and continued",
       syscall(SYS_ppoll, &entry, 1, &timeout, NULL, 8));
  waited = monotonic_ms() - start;
  EXPECT("  waits at least the timeout", waited >= 1000);
  EXPECT("  keeps the first deadline", waited < 1250);
  EXPECT("  the time left is zero", timeout.tv_sec == 0 && timeout.tv_nsec == 0);
  reap_child("  child exited", child);

  child = stop_and_continue_later();
  fd_set read_set;
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  struct timeval select_timeout = {.tv_sec = 1, .tv_usec = 0};
  start = monotonic_ms();
  SHOW("select with 1 s timeout, stopped and continued",
       syscall(SYS_select, fds[0] + 1, &read_set, NULL, NULL, &select_timeout));
  waited = monotonic_ms() - start;
  EXPECT("  waits at least the timeout", waited >= 1000);
  EXPECT("  keeps the first deadline", waited < 1250);
  EXPECT("  the time left is zero", select_timeout.tv_sec == 0 && select_timeout.tv_usec == 0);
  show_bool("  the read set is cleared", FD_ISSET(fds[0], &read_set));
  reap_child("  child exited", child);

  // Without a writable timeout, ppoll cannot record the time left for a
  // restart, so it fails with EINTR.
  struct timespec* read_only =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *read_only = (struct timespec){.tv_sec = 5, .tv_nsec = 0};
  mprotect(read_only, 4096, PROT_READ);
  child = stop_and_continue_later();
  SHOW("ppoll with a read-only timeout, stopped and continued",
       syscall(SYS_ppoll, &entry, 1, read_only, NULL, 8));
  reap_child("  child exited", child);

  // A read-only timeout is no error when nothing interrupts.
  write(fds[1], "x", 1);
  SHOW("ppoll with a read-only timeout and a ready pipe",
       syscall(SYS_ppoll, &entry, 1, read_only, NULL, 8));
  munmap(read_only, 4096);
  close(fds[0]);
  close(fds[1]);
}

static void check_temporary_masks(void) {
  set_handler(SA_RESTART);
  int fds[2];
  pipe(fds);
  sigset_t empty;
  sigemptyset(&empty);
  struct pollfd entry = {.fd = fds[0], .events = POLLIN, .revents = 0};

  // A pending blocked signal that the temporary mask unblocks interrupts
  // the wait. Its handler runs with the call's mask, and the old mask
  // comes back after it.
  block_usr1(SIG_BLOCK);
  handler_count = 0;
  raise(SIGUSR1);
  SHOW("ppoll unblocking a pending signal", syscall(SYS_ppoll, &entry, 1, NULL, &empty, 8));
  show_value("  handler runs", handler_count);
  show_bool("  SIGUSR1 blocked in the handler", usr1_blocked_in_handler);
  show_bool("  SIGUSR1 blocked after the call", usr1_blocked());

  handler_count = 0;
  raise(SIGUSR1);
  struct timespec zero = {0, 0};
  SHOW("ppoll with a zero timeout unblocking a pending signal",
       syscall(SYS_ppoll, &entry, 1, &zero, &empty, 8));
  show_value("  handler runs", handler_count);
  show_bool("  SIGUSR1 blocked after the call", usr1_blocked());

  handler_count = 0;
  raise(SIGUSR1);
  fd_set read_set;
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  struct {
    const sigset_t* mask;
    size_t size_bytes;
  } mask_argument = {&empty, 8};
  SHOW("pselect6 unblocking a pending signal",
       syscall(SYS_pselect6, fds[0] + 1, &read_set, NULL, NULL, NULL, &mask_argument));
  show_value("  handler runs", handler_count);
  show_bool("  SIGUSR1 blocked after the call", usr1_blocked());

  // With a ready file the call succeeds, the old mask comes back at once
  // and the signal stays pending.
  write(fds[1], "x", 1);
  handler_count = 0;
  raise(SIGUSR1);
  SHOW("ppoll with a ready pipe, unblocking a pending signal",
       syscall(SYS_ppoll, &entry, 1, NULL, &empty, 8));
  show_value("  handler runs", handler_count);
  show_bool("  SIGUSR1 still pending", usr1_pending());
  show_bool("  SIGUSR1 blocked after the call", usr1_blocked());
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  SHOW("pselect6 with a ready pipe, unblocking a pending signal",
       syscall(SYS_pselect6, fds[0] + 1, &read_set, NULL, NULL, NULL, &mask_argument));
  show_value("  handler runs", handler_count);
  show_bool("  SIGUSR1 still pending", usr1_pending());
  block_usr1(SIG_UNBLOCK);
  show_value("  handler runs after unblocking", handler_count);
  char byte;
  read(fds[0], &byte, 1);

  // A temporary mask that blocks the signal keeps the wait going, and the
  // handler runs once the call restores the mask.
  sigset_t usr1_only;
  sigemptyset(&usr1_only);
  sigaddset(&usr1_only, SIGUSR1);
  handler_count = 0;
  pid_t child = signal_later(SIGUSR1, 100);
  struct timespec timeout = {.tv_sec = 0, .tv_nsec = 400 * 1000 * 1000};
  SHOW("ppoll blocking the signal that arrives",
       syscall(SYS_ppoll, &entry, 1, &timeout, &usr1_only, 8));
  show_value("  handler runs", handler_count);
  show_bool("  SIGUSR1 blocked after the call", usr1_blocked());
  reap_child("  child exited", child);

  handler_count = 0;
  child = signal_later(SIGUSR1, 100);
  mask_argument.mask = &usr1_only;
  timeout = (struct timespec){.tv_sec = 0, .tv_nsec = 400 * 1000 * 1000};
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  SHOW("pselect6 blocking the signal that arrives",
       syscall(SYS_pselect6, fds[0] + 1, &read_set, NULL, NULL, &timeout, &mask_argument));
  show_value("  handler runs", handler_count);
  reap_child("  child exited", child);

  close(fds[0]);
  close(fds[1]);
  signal(SIGUSR1, SIG_DFL);
}

static void check_timeout_write_back(void) {
  int fds[2];
  pipe(fds);
  write(fds[1], "x", 1);
  struct pollfd entry = {.fd = fds[0], .events = POLLIN, .revents = 0};

  struct timespec timeout = {.tv_sec = 5, .tv_nsec = 0};
  SHOW("ppoll a ready pipe with a 5 s timeout", syscall(SYS_ppoll, &entry, 1, &timeout, NULL, 8));
  EXPECT("  the time left is below 5 s", timeout.tv_sec == 4 && timeout.tv_nsec > 0);

  timeout = (struct timespec){.tv_sec = INT64_MAX, .tv_nsec = 999999999};
  SHOW("ppoll a ready pipe with the largest timeout",
       syscall(SYS_ppoll, &entry, 1, &timeout, NULL, 8));
  EXPECT("  the time left is huge", timeout.tv_sec > (INT64_C(1) << 62));

  struct timeval select_timeout = {.tv_sec = 0, .tv_usec = 2500000};
  fd_set read_set;
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  SHOW("select a ready pipe with a timeout of 2500000 us",
       syscall(SYS_select, fds[0] + 1, &read_set, NULL, NULL, &select_timeout));
  EXPECT("  the time left is normalised",
         select_timeout.tv_sec == 2 && select_timeout.tv_usec < 1000000);

  struct timespec pselect_timeout = {.tv_sec = 3, .tv_nsec = 0};
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  SHOW("pselect6 a ready pipe with a 3 s timeout",
       syscall(SYS_pselect6, fds[0] + 1, &read_set, NULL, NULL, &pselect_timeout, NULL));
  EXPECT("  the time left is below 3 s", pselect_timeout.tv_sec == 2);

  // A zero timeout is never written: a read-only one does not fault.
  static const struct timespec read_only_zero = {0, 0};
  SHOW("ppoll with a read-only zero timeout",
       syscall(SYS_ppoll, &entry, 1, &read_only_zero, NULL, 8));
  close(fds[0]);
  close(fds[1]);
}

int main(void) {
  check_eintr("with SA_RESTART", SA_RESTART);
  check_eintr("without SA_RESTART", 0);
  check_restart_after_stop();
  check_temporary_masks();
  check_timeout_write_back();
  return finish_checks();
}
