// Helpers shared by the poll and select conformance programs: naming poll
// event bits, measuring waits and making signals arrive during a wait.
#pragma once

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

// Prints "label: NAME NAME..." for the bits of a poll event mask, or
// "label: none".
static inline void show_events(const char* label, int events) {
  static const struct {
    int bit;
    const char* name;
  } names[] = {
      {POLLIN, "POLLIN"},         {POLLPRI, "POLLPRI"},       {POLLOUT, "POLLOUT"},
      {POLLERR, "POLLERR"},       {POLLHUP, "POLLHUP"},       {POLLNVAL, "POLLNVAL"},
      {POLLRDNORM, "POLLRDNORM"}, {POLLRDBAND, "POLLRDBAND"}, {POLLWRNORM, "POLLWRNORM"},
      {POLLWRBAND, "POLLWRBAND"}, {POLLRDHUP, "POLLRDHUP"},
  };
  printf("%s:", label);
  int known = 0;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (events & names[i].bit) {
      printf(" %s", names[i].name);
      known |= names[i].bit;
    }
  }
  if (events & ~known) {
    printf(" %#x", events & ~known);
  }
  printf("%s\n", events == 0 ? " none" : "");
}

// Polls one fd and prints the result and, when it succeeded, revents.
static inline long show_poll_one(const char* label, int fd, short events, int timeout_ms) {
  struct pollfd entry = {.fd = fd, .events = events, .revents = 0};
  long ready = SHOW(label, poll(&entry, 1, timeout_ms));
  if (ready >= 0) {
    show_events("  revents", entry.revents);
  }
  return ready;
}

static inline long monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

// Forks a child that sleeps `delay_ms`, sends `signal_number` to this
// process and exits. Returns the child's pid for reap_child.
static inline pid_t signal_later(int signal_number, int delay_ms) {
  pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    usleep((useconds_t)delay_ms * 1000);
    kill(parent, signal_number);
    _exit(0);
  }
  return child;
}

// Waits for a child and prints whether it exited with status 0.
static inline void reap_child(const char* label, pid_t child) {
  int status = 0;
  pid_t reaped;
  do {
    reaped = waitpid(child, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  EXPECT(label, reaped == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
