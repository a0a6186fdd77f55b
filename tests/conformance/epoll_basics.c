// epoll_create, epoll_create1, epoll_ctl and epoll_wait on pipes. Checks
// every bad input with its errno, level and edge triggering, EPOLLONESHOT
// and its re-arming with EPOLL_CTL_MOD, and a registration outliving its fd
// while a dup remains. Also nested instances, the nesting limits, and
// poll(2) on an epoll fd.
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

// Waits up to `timeout_ms` for at most 8 events, prints how many came and
// each one's events and data.
static int show_wait(const char* label, int epfd, int timeout_ms) {
  struct epoll_event events[8];
  memset(events, 0, sizeof(events));
  int count = (int)SHOW(label, epoll_wait(epfd, events, 8, timeout_ms));
  for (int i = 0; i < count; i++) {
    printf("  event %d: events %#x data %#llx\n", i, events[i].events,
           (unsigned long long)events[i].data.u64);
  }
  return count;
}

static int add(int epfd, int fd, uint32_t events, uint64_t data) {
  struct epoll_event event = {.events = events, .data.u64 = data};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

static int modify(int epfd, int fd, uint32_t events, uint64_t data) {
  struct epoll_event event = {.events = events, .data.u64 = data};
  return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event);
}

static void check_create(void) {
  SHOW("epoll_create(0)", syscall(SYS_epoll_create, 0));
  SHOW("epoll_create(-1)", syscall(SYS_epoll_create, -1));
  int epfd = (int)SHOW_OK("epoll_create(1)", syscall(SYS_epoll_create, 1));
  SHOW("  FD_CLOEXEC", fcntl(epfd, F_GETFD) & FD_CLOEXEC);
  SHOW("  access mode is O_RDWR", (fcntl(epfd, F_GETFL) & O_ACCMODE) == O_RDWR);
  close(epfd);

  SHOW("epoll_create1(O_NONBLOCK)", epoll_create1(O_NONBLOCK));
  SHOW("epoll_create1(1)", epoll_create1(1));
  epfd = (int)SHOW_OK("epoll_create1(EPOLL_CLOEXEC)", epoll_create1(EPOLL_CLOEXEC));
  SHOW("  FD_CLOEXEC", fcntl(epfd, F_GETFD) & FD_CLOEXEC);
  char buffer[8];
  SHOW("  read", read(epfd, buffer, sizeof(buffer)));
  SHOW("  write", write(epfd, buffer, sizeof(buffer)));
  SHOW("  pread", pread(epfd, buffer, sizeof(buffer), 0));
  char link[64] = {0};
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", epfd);
  readlink(path, link, sizeof(link) - 1);
  show_string("  /proc/self/fd link", link);
  close(epfd);
}

static void check_ctl_errors(void) {
  int epfd = epoll_create1(0);
  int fds[2];
  pipe(fds);
  struct epoll_event event = {.events = EPOLLIN, .data.u64 = 1};

  SHOW("ADD with a bad event pointer", epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], (void*)8));
  SHOW("DEL with a bad event pointer", epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], (void*)8));
  SHOW("bad op with a bad event pointer", epoll_ctl(epfd, 99, fds[0], (void*)8));
  SHOW("ADD to a closed epfd", epoll_ctl(1000, EPOLL_CTL_ADD, fds[0], &event));
  SHOW("ADD of a closed fd", epoll_ctl(epfd, EPOLL_CTL_ADD, 1000, &event));
  SHOW("ADD to a pipe as epfd", epoll_ctl(fds[1], EPOLL_CTL_ADD, fds[0], &event));
  SHOW("ADD of the epfd to itself", epoll_ctl(epfd, EPOLL_CTL_ADD, epfd, &event));

  int regular = open("/proc/self/exe", O_RDONLY);
  SHOW("ADD of a regular file", epoll_ctl(epfd, EPOLL_CTL_ADD, regular, &event));
  SHOW("ADD of a regular file to a pipe", epoll_ctl(fds[1], EPOLL_CTL_ADD, regular, &event));
  close(regular);
  int directory = open("/", O_RDONLY | O_DIRECTORY);
  SHOW("ADD of a directory", epoll_ctl(epfd, EPOLL_CTL_ADD, directory, &event));
  close(directory);
  int null = open("/dev/null", O_RDWR);
  SHOW("ADD of /dev/null", epoll_ctl(epfd, EPOLL_CTL_ADD, null, &event));
  close(null);
  int path_only = open("/", O_PATH);
  SHOW("ADD of an O_PATH fd", epoll_ctl(epfd, EPOLL_CTL_ADD, path_only, &event));
  close(path_only);

  SHOW("MOD of an fd not added", epoll_ctl(epfd, EPOLL_CTL_MOD, fds[0], &event));
  SHOW("DEL of an fd not added", epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], NULL));
  SHOW("ADD", epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], &event));
  SHOW("ADD again", epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], &event));
  SHOW("unknown op", epoll_ctl(epfd, 99, fds[0], &event));
  SHOW("MOD", epoll_ctl(epfd, EPOLL_CTL_MOD, fds[0], &event));
  SHOW("DEL with a null event", epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], NULL));
  SHOW("DEL again", epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], NULL));

  SHOW("ADD EPOLLEXCLUSIVE", add(epfd, fds[0], EPOLLIN | EPOLLEXCLUSIVE, 2));
  SHOW("MOD of an exclusive item", modify(epfd, fds[0], EPOLLIN, 2));
  SHOW("MOD with EPOLLEXCLUSIVE", modify(epfd, fds[0], EPOLLIN | EPOLLEXCLUSIVE, 2));
  SHOW("DEL of an exclusive item", epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], NULL));
  SHOW("ADD EPOLLEXCLUSIVE with EPOLLPRI", add(epfd, fds[0], EPOLLIN | EPOLLPRI | EPOLLEXCLUSIVE, 2));
  SHOW("ADD EPOLLEXCLUSIVE with EPOLLONESHOT",
       add(epfd, fds[0], EPOLLIN | EPOLLONESHOT | EPOLLEXCLUSIVE, 2));
  SHOW("ADD EPOLLEXCLUSIVE with EPOLLET", add(epfd, fds[0], EPOLLIN | EPOLLET | EPOLLEXCLUSIVE, 2));
  SHOW("DEL", epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], NULL));
  int inner = epoll_create1(0);
  SHOW("ADD of an epoll fd with EPOLLEXCLUSIVE", add(epfd, inner, EPOLLIN | EPOLLEXCLUSIVE, 3));
  SHOW("MOD with EPOLLEXCLUSIVE of an fd not added",
       modify(epfd, inner, EPOLLIN | EPOLLEXCLUSIVE, 3));
  close(inner);

  close(fds[0]);
  close(fds[1]);
  close(epfd);
}

static void check_wait_errors(void) {
  int epfd = epoll_create1(0);
  int fds[2];
  pipe(fds);
  struct epoll_event events[2];

  SHOW("epoll_wait maxevents 0", epoll_wait(epfd, events, 0, 0));
  SHOW("epoll_wait maxevents -1", syscall(SYS_epoll_wait, epfd, events, -1, 0));
  SHOW("epoll_wait maxevents too large", syscall(SYS_epoll_wait, epfd, events, INT_MAX / 12 + 1, 0));
  SHOW("epoll_wait with a kernel address", epoll_wait(epfd, (void*)0xffff800000000000ULL, 1, 0));
  SHOW("epoll_wait on a closed fd", epoll_wait(1000, events, 2, 0));
  SHOW("epoll_wait on a pipe", epoll_wait(fds[0], events, 2, 0));
  SHOW("epoll_wait with null events and nothing ready", epoll_wait(epfd, NULL, 1, 0));

  add(epfd, fds[1], EPOLLOUT, 5);
  SHOW("epoll_wait with null events and a ready fd", epoll_wait(epfd, NULL, 1, 0));
  void* read_only = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  SHOW("epoll_wait into read-only memory", epoll_wait(epfd, read_only, 1, 0));
  SHOW("  the event is still ready", epoll_wait(epfd, events, 2, 0));
  munmap(read_only, 4096);

  sigset_t mask;
  sigemptyset(&mask);
  SHOW("epoll_pwait with a bad sigsetsize",
       syscall(SYS_epoll_pwait, epfd, events, 2, 0, &mask, 4));
  SHOW("epoll_pwait with a bad sigmask pointer",
       syscall(SYS_epoll_pwait, epfd, events, 2, 0, (void*)8, 8));
  SHOW("epoll_pwait with a bad sigsetsize and maxevents 0",
       syscall(SYS_epoll_pwait, epfd, events, 0, 0, &mask, 4));
  SHOW("epoll_pwait with a null sigmask and any size",
       syscall(SYS_epoll_pwait, epfd, events, 2, 0, NULL, 4));

  struct timespec timeout = {.tv_sec = 0, .tv_nsec = 0};
  SHOW("epoll_pwait2 with a zero timeout",
       syscall(SYS_epoll_pwait2, epfd, events, 2, &timeout, NULL, 8));
  timeout.tv_nsec = 1000000000;
  SHOW("epoll_pwait2 with tv_nsec 1e9",
       syscall(SYS_epoll_pwait2, epfd, events, 2, &timeout, NULL, 8));
  timeout.tv_sec = -1;
  timeout.tv_nsec = 0;
  SHOW("epoll_pwait2 with tv_sec -1", syscall(SYS_epoll_pwait2, epfd, events, 2, &timeout, NULL, 8));
  SHOW("epoll_pwait2 with a bad timeout pointer",
       syscall(SYS_epoll_pwait2, epfd, events, 2, (void*)8, NULL, 8));
  SHOW("epoll_pwait2 with a bad timeout and maxevents 0",
       syscall(SYS_epoll_pwait2, epfd, events, 0, (void*)8, NULL, 8));
  SHOW("epoll_pwait2 with a bad timeout and a bad sigsetsize",
       syscall(SYS_epoll_pwait2, epfd, events, 2, &timeout, &mask, 4));

  close(fds[0]);
  close(fds[1]);
  close(epfd);
}

static void check_triggering(void) {
  int epfd = epoll_create1(0);
  int level[2];
  int edge[2];
  pipe(level);
  pipe(edge);
  add(epfd, level[0], EPOLLIN, 0x1111222233334444ULL);
  add(epfd, edge[0], EPOLLIN | EPOLLET, 0xfedcba9876543210ULL);
  char buffer[16];

  show_wait("nothing written", epfd, 0);
  write(level[1], "ab", 2);
  write(edge[1], "ab", 2);
  show_wait("both written", epfd, 0);
  show_wait("again: only the level-triggered one", epfd, 0);
  read(level[0], buffer, 1);
  read(edge[0], buffer, 1);
  show_wait("after reading one byte of each", epfd, 0);
  write(edge[1], "c", 1);
  show_wait("after another write to the edge-triggered pipe", epfd, 0);
  show_wait("again", epfd, 0);
  read(level[0], buffer, sizeof(buffer));
  read(edge[0], buffer, sizeof(buffer));
  show_wait("after draining both", epfd, 0);

  // Closing the write end reports EPOLLHUP, which was never asked for.
  close(level[1]);
  show_wait("after closing the level-triggered write end", epfd, 0);
  close(edge[1]);
  show_wait("after closing the edge-triggered write end", epfd, 0);
  show_wait("again", epfd, 0);

  // The write end of a pipe whose read end is closed reports EPOLLERR.
  int broken[2];
  pipe(broken);
  add(epfd, broken[1], EPOLLIN, 7);
  show_wait("a write end asking only for EPOLLIN", epfd, 0);
  close(broken[0]);
  show_wait("after closing its read end", epfd, 0);
  close(broken[1]);

  close(level[0]);
  close(edge[0]);
  close(epfd);
}

// maxevents smaller than the ready items: the rest come next time, and
// level-triggered items rotate so that each gets reported.
static void check_max_events(void) {
  int epfd = epoll_create1(0);
  int pipes[3][2];
  for (int i = 0; i < 3; i++) {
    pipe(pipes[i]);
    add(epfd, pipes[i][0], EPOLLIN, (uint64_t)i);
    write(pipes[i][1], "x", 1);
  }
  struct epoll_event event;
  for (int round = 0; round < 4; round++) {
    memset(&event, 0, sizeof(event));
    SHOW(label_of("epoll_wait maxevents 1, round %d", round), epoll_wait(epfd, &event, 1, 0));
    printf("  data %llu\n", (unsigned long long)event.data.u64);
  }
  for (int i = 0; i < 3; i++) {
    close(pipes[i][0]);
    close(pipes[i][1]);
  }
  close(epfd);
}

static void check_oneshot(void) {
  int epfd = epoll_create1(0);
  int fds[2];
  pipe(fds);
  add(epfd, fds[0], EPOLLIN | EPOLLONESHOT, 9);
  write(fds[1], "a", 1);
  show_wait("one-shot item ready", epfd, 0);
  show_wait("again: disabled", epfd, 0);
  write(fds[1], "b", 1);
  show_wait("after another write: still disabled", epfd, 0);
  close(fds[1]);
  show_wait("after a hang-up: still disabled", epfd, 0);
  SHOW("ADD again while disabled", add(epfd, fds[0], EPOLLIN, 9));
  SHOW("MOD re-arms it", modify(epfd, fds[0], EPOLLIN | EPOLLONESHOT, 10));
  show_wait("after MOD", epfd, 0);
  show_wait("again: disabled", epfd, 0);
  SHOW("MOD to level-triggered", modify(epfd, fds[0], EPOLLIN, 11));
  show_wait("after MOD", epfd, 0);
  show_wait("again", epfd, 0);
  close(fds[0]);
  close(epfd);
}

// A registration belongs to the open file description: closing the fd
// removes it only when no other fd refers to the description.
static void check_closed_fds(void) {
  int epfd = epoll_create1(0);
  int fds[2];
  pipe(fds);
  add(epfd, fds[0], EPOLLIN, 21);
  write(fds[1], "a", 1);
  close(fds[0]);
  show_wait("ready fd closed without a dup", epfd, 0);
  int reopened[2];
  pipe(reopened);
  SHOW("  ADD of a new file at the same fd", add(epfd, reopened[0], EPOLLIN, 22));
  close(reopened[0]);
  close(reopened[1]);
  close(fds[1]);

  pipe(fds);
  add(epfd, fds[0], EPOLLIN, 23);
  int duplicate = dup(fds[0]);
  close(fds[0]);
  write(fds[1], "a", 1);
  show_wait("fd closed while a dup remains", epfd, 0);
  SHOW("  DEL of the closed fd", epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], NULL));
  SHOW("  DEL of the dup", epoll_ctl(epfd, EPOLL_CTL_DEL, duplicate, NULL));
  SHOW("  ADD of the dup", add(epfd, duplicate, EPOLLIN, 24));
  show_wait("  both items report the file", epfd, 0);
  int again = dup2(duplicate, fds[0]);
  SHOW("  DEL of the old fd number once it is a dup again",
       epoll_ctl(epfd, EPOLL_CTL_DEL, again, NULL));
  show_wait("  only the dup's item is left", epfd, 0);
  close(again);
  close(duplicate);
  show_wait("every fd closed", epfd, 0);
  close(fds[1]);
  close(epfd);
}

static void check_nested(void) {
  int outer = epoll_create1(0);
  int inner = epoll_create1(0);
  int fds[2];
  pipe(fds);
  add(inner, fds[0], EPOLLIN, 31);
  SHOW("ADD of the inner instance", add(outer, inner, EPOLLIN, 32));
  show_wait("outer, nothing written", outer, 0);
  write(fds[1], "a", 1);
  show_wait("outer after a write", outer, 0);
  show_wait("inner", inner, 0);
  struct pollfd entry = {.fd = inner, .events = POLLIN | POLLOUT, .revents = 0};
  SHOW("poll on the inner epoll fd", poll(&entry, 1, 0));
  printf("  revents %#x\n", entry.revents);
  char byte;
  read(fds[0], &byte, 1);
  SHOW("poll after draining", poll(&entry, 1, 0));
  show_wait("outer after draining", outer, 0);

  SHOW("ADD of the outer to the inner: a cycle", add(inner, outer, EPOLLIN, 33));

  // A chain of five instances is the deepest Linux allows.
  int chain[7];
  for (int i = 0; i < 7; i++) {
    chain[i] = epoll_create1(0);
  }
  for (int i = 1; i < 7; i++) {
    SHOW(label_of("ADD of chain[%d] to chain[%d]", i, i - 1), add(chain[i - 1], chain[i], EPOLLIN, 0));
  }
  SHOW("ADD of chain[6] on top of chain[0]", add(chain[6], chain[0], EPOLLIN, 0));
  int top = epoll_create1(0);
  SHOW("ADD of chain[0] to a new top", add(top, chain[0], EPOLLIN, 0));
  SHOW("ADD of the pipe to the deepest link", add(chain[4], fds[0], EPOLLIN, 0));
  for (int i = 0; i < 7; i++) {
    close(chain[i]);
  }
  close(top);

  close(fds[0]);
  close(fds[1]);
  close(inner);
  close(outer);
}

// Files with a poll method of their own can be added, others fail with
// EPERM. A sysfs attribute not read yet reports EPOLLPRI and EPOLLERR.
static void check_pollable_files(void) {
  const char* paths[] = {"/sys/devices/system/cpu/online", "/proc/self/mounts", "/dev/random",
                         "/dev/urandom", "/dev/zero", "/proc/self/status"};
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
    int fd = open(paths[i], O_RDONLY);
    int epfd = epoll_create1(0);
    if (SHOW(label_of("ADD of %s", paths[i]), add(epfd, fd, EPOLLIN | EPOLLPRI | EPOLLOUT, i)) ==
        0) {
      show_wait("  ready events", epfd, 0);
    }
    close(epfd);
    close(fd);
  }
}

int main(void) {
  check_create();
  check_ctl_errors();
  check_wait_errors();
  check_triggering();
  check_max_events();
  check_oneshot();
  check_closed_fds();
  check_nested();
  check_pollable_files();
  return finish_checks();
}
