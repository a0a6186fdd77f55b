// epoll_wait and epoll_pwait with signals, other processes and threads.
// Checks EINTR after a handler with or without SA_RESTART and after a stop
// and continue, epoll_pwait's temporary mask, and timeouts. Also wake-ups
// from another process and another thread, and EPOLLEXCLUSIVE waking one
// of two instances.
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t handler_count;

static void count_signal(int signal_number) {
  (void)signal_number;
  handler_count++;
}

static void set_handler(int flags) {
  struct sigaction action = {0};
  action.sa_handler = count_signal;
  action.sa_flags = flags;
  sigaction(SIGUSR1, &action, NULL);
}

static long monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

// Forks a child that sleeps `delay_ms`, then sends `signal_number` to this
// process (or, with `second_signal`, stops and continues it).
static pid_t signal_later(int signal_number, int second_signal, int delay_ms) {
  pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    usleep((useconds_t)delay_ms * 1000);
    kill(parent, signal_number);
    if (second_signal != 0) {
      usleep(100 * 1000);
      kill(parent, second_signal);
    }
    _exit(0);
  }
  return child;
}

static void reap(pid_t child) {
  int status = 0;
  waitpid(child, &status, 0);
}

static void check_signals(int epfd) {
  struct epoll_event event;
  for (int restart = 0; restart < 2; restart++) {
    set_handler(restart ? SA_RESTART : 0);
    handler_count = 0;
    pid_t child = signal_later(SIGUSR1, 0, 100);
    SHOW(label_of("epoll_wait interrupted by a handler%s", restart ? " with SA_RESTART" : ""),
         epoll_wait(epfd, &event, 1, -1));
    show_value("  handler runs", handler_count);
    reap(child);
  }

  pid_t child = signal_later(SIGSTOP, SIGCONT, 100);
  SHOW("epoll_wait across a stop and continue", epoll_wait(epfd, &event, 1, 2000));
  reap(child);

  // A signal whose default action is to ignore it never reaches the wait.
  signal(SIGUSR2, SIG_DFL);
  signal(SIGWINCH, SIG_DFL);
  child = signal_later(SIGWINCH, 0, 50);
  long start = monotonic_ms();
  SHOW("epoll_wait with an ignored signal sent", epoll_wait(epfd, &event, 1, 300));
  EXPECT("  the whole timeout passed", monotonic_ms() - start >= 290);
  reap(child);

  // epoll_pwait unblocks SIGUSR1 for the wait only.
  set_handler(0);
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR1);
  sigprocmask(SIG_BLOCK, &blocked, NULL);
  handler_count = 0;
  child = signal_later(SIGUSR1, 0, 100);
  sigset_t wait_mask;
  sigemptyset(&wait_mask);
  SHOW("epoll_pwait with SIGUSR1 unblocked", epoll_pwait(epfd, &event, 1, -1, &wait_mask));
  show_value("  handler runs", handler_count);
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  show_bool("  SIGUSR1 is blocked again", sigismember(&now, SIGUSR1));
  reap(child);

  // With SIGUSR1 blocked for the wait as well, it waits out its timeout.
  handler_count = 0;
  child = signal_later(SIGUSR1, 0, 50);
  SHOW("epoll_pwait with SIGUSR1 blocked", epoll_pwait(epfd, &event, 1, 300, &blocked));
  show_value("  handler runs", handler_count);
  sigpending(&now);
  show_bool("  SIGUSR1 is pending", sigismember(&now, SIGUSR1));
  reap(child);
  SHOW("epoll_pwait2 with it pending and unblocked",
       syscall(SYS_epoll_pwait2, epfd, &event, 1, NULL, &wait_mask, 8));
  show_value("  handler runs", handler_count);
  sigprocmask(SIG_UNBLOCK, &blocked, NULL);
  signal(SIGUSR1, SIG_DFL);
}

static void check_timeouts(int epfd) {
  struct epoll_event event;
  long start = monotonic_ms();
  SHOW("epoll_wait with a 200 ms timeout", epoll_wait(epfd, &event, 1, 200));
  long waited = monotonic_ms() - start;
  EXPECT("  it waited at least 190 ms", waited >= 190);
  EXPECT("  and less than 2 s", waited < 2000);

  struct timespec timeout = {.tv_sec = 0, .tv_nsec = 200 * 1000 * 1000};
  start = monotonic_ms();
  SHOW("epoll_pwait2 with a 200 ms timeout",
       syscall(SYS_epoll_pwait2, epfd, &event, 1, &timeout, NULL, 8));
  waited = monotonic_ms() - start;
  EXPECT("  it waited at least 190 ms", waited >= 190);
  show_bool("  the timeout is left as it was", timeout.tv_nsec == 200 * 1000 * 1000);
}

static void* write_later(void* argument) {
  int fd = *(int*)argument;
  usleep(100 * 1000);
  uint64_t one = 1;
  write(fd, &one, sizeof(one));
  return NULL;
}

static void check_wakeups(void) {
  int epfd = epoll_create1(0);
  int fds[2];
  pipe(fds);
  struct epoll_event event = {.events = EPOLLIN, .data.u64 = 5};
  epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], &event);
  pid_t child = fork();
  if (child == 0) {
    usleep(100 * 1000);
    write(fds[1], "x", 1);
    _exit(0);
  }
  memset(&event, 0, sizeof(event));
  SHOW("epoll_wait woken by a write in another process", epoll_wait(epfd, &event, 1, 5000));
  printf("  events %#x data %llu\n", event.events, (unsigned long long)event.data.u64);
  reap(child);
  close(fds[0]);
  close(fds[1]);

  int efd = eventfd(0, EFD_NONBLOCK);
  event.events = EPOLLIN;
  event.data.u64 = 6;
  epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &event);
  pthread_t thread;
  pthread_create(&thread, NULL, write_later, &efd);
  memset(&event, 0, sizeof(event));
  SHOW("epoll_wait woken by a write in another thread", epoll_wait(epfd, &event, 1, 5000));
  printf("  events %#x data %llu\n", event.events, (unsigned long long)event.data.u64);
  pthread_join(thread, NULL);
  close(efd);
  close(epfd);
}

struct exclusive_waiter {
  int epfd;
  int result;
};

static void* wait_exclusive(void* argument) {
  struct exclusive_waiter* waiter = argument;
  struct epoll_event event;
  waiter->result = epoll_wait(waiter->epfd, &event, 1, 600);
  return NULL;
}

// Two instances watch one eventfd with EPOLLEXCLUSIVE, each with a thread
// blocked in epoll_wait: a write wakes only one of them.
static void check_exclusive(void) {
  int efd = eventfd(0, EFD_NONBLOCK);
  struct exclusive_waiter waiters[2];
  pthread_t threads[2];
  for (int i = 0; i < 2; i++) {
    waiters[i].epfd = epoll_create1(0);
    waiters[i].result = -1;
    struct epoll_event event = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = (uint64_t)i};
    epoll_ctl(waiters[i].epfd, EPOLL_CTL_ADD, efd, &event);
    pthread_create(&threads[i], NULL, wait_exclusive, &waiters[i]);
  }
  usleep(150 * 1000);
  uint64_t one = 1;
  write(efd, &one, sizeof(one));
  for (int i = 0; i < 2; i++) {
    pthread_join(threads[i], NULL);
  }
  show_value("instances woken by one write with EPOLLEXCLUSIVE",
             waiters[0].result + waiters[1].result);
  for (int i = 0; i < 2; i++) {
    close(waiters[i].epfd);
  }
  close(efd);
}

int main(void) {
  int epfd = epoll_create1(0);
  int fds[2];
  pipe(fds);
  struct epoll_event event = {.events = EPOLLIN, .data.u64 = 1};
  epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], &event);
  check_signals(epfd);
  check_timeouts(epfd);
  close(fds[0]);
  close(fds[1]);
  close(epfd);
  check_wakeups();
  check_exclusive();
  return finish_checks();
}
