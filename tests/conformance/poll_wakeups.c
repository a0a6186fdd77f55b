// poll, ppoll, select and pselect6 that block until another process or
// thread makes a pipe ready by writing data, closing the last writer or
// reader, or making room. Also a wait on several pipes that one of them
// wakes, and a wait whose fd another thread closes.
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "poll_events.h"

// Forks a child that sleeps `delay_ms`, then writes one byte to `write_fd`
// unless it is -1, and exits, closing its copy of every fd.
static pid_t write_later(int write_fd, int delay_ms) {
  pid_t child = fork();
  if (child == 0) {
    usleep((useconds_t)delay_ms * 1000);
    if (write_fd >= 0) {
      write(write_fd, "x", 1);
    }
    _exit(0);
  }
  return child;
}

static void check_data_from_child(void) {
  int fds[2];
  pipe(fds);
  pid_t child = write_later(fds[1], 100);
  show_poll_one("poll without timeout until a child writes", fds[0], POLLIN, -1);
  reap_child("  child exited", child);

  char byte;
  read(fds[0], &byte, 1);
  child = write_later(fds[1], 100);
  struct timespec timeout = {.tv_sec = 10, .tv_nsec = 0};
  struct pollfd entry = {.fd = fds[0], .events = POLLIN, .revents = 0};
  SHOW("ppoll with a 10 s timeout until a child writes",
       syscall(SYS_ppoll, &entry, 1, &timeout, NULL, 8));
  show_events("  revents", entry.revents);
  EXPECT("  the time left is written back", timeout.tv_sec < 10 && timeout.tv_sec >= 5);
  reap_child("  child exited", child);
  read(fds[0], &byte, 1);

  child = write_later(fds[1], 100);
  fd_set read_set;
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  SHOW("select without timeout until a child writes",
       syscall(SYS_select, fds[0] + 1, &read_set, NULL, NULL, NULL));
  EXPECT("  the read end is set", FD_ISSET(fds[0], &read_set));
  reap_child("  child exited", child);
  read(fds[0], &byte, 1);

  child = write_later(fds[1], 100);
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  SHOW("pselect6 without timeout until a child writes",
       syscall(SYS_pselect6, fds[0] + 1, &read_set, NULL, NULL, NULL, NULL));
  EXPECT("  the read end is set", FD_ISSET(fds[0], &read_set));
  reap_child("  child exited", child);
  close(fds[0]);
  close(fds[1]);
}

static void check_hangup_from_child(void) {
  // The child has the only write end, so its exit hangs the pipe up.
  int fds[2];
  pipe(fds);
  pid_t child = write_later(-1, 100);
  close(fds[1]);
  show_poll_one("poll until the last writer (a child) exits", fds[0], POLLIN, 5000);
  reap_child("  child exited", child);
  close(fds[0]);

  // The child has the only read end.
  pipe(fds);
  child = write_later(-1, 100);
  close(fds[0]);
  // Fill the pipe, so that only the reader's exit can wake the poll.
  fcntl(fds[1], F_SETFL, O_NONBLOCK);
  char block[4096] = {0};
  while (write(fds[1], block, sizeof(block)) > 0) {
  }
  show_poll_one("poll a full pipe until the last reader (a child) exits", fds[1], POLLOUT, 5000);
  reap_child("  child exited", child);
  close(fds[1]);
}

static void check_room_from_child(void) {
  int fds[2];
  pipe2(fds, O_NONBLOCK);
  char block[4096] = {0};
  while (write(fds[1], block, sizeof(block)) > 0) {
  }
  show_poll_one("poll a full pipe", fds[1], POLLOUT, 0);
  pid_t child = fork();
  if (child == 0) {
    usleep(100 * 1000);
    char drain[65536];
    read(fds[0], drain, sizeof(drain));
    _exit(0);
  }
  show_poll_one("poll a full pipe until a child reads", fds[1], POLLOUT, 5000);
  reap_child("  child exited", child);
  close(fds[0]);
  close(fds[1]);
}

static void check_several_pipes(void) {
  int first[2];
  int second[2];
  int third[2];
  pipe(first);
  pipe(second);
  pipe(third);
  pid_t child = write_later(second[1], 100);
  struct pollfd entries[3] = {
      {.fd = first[0], .events = POLLIN},
      {.fd = second[0], .events = POLLIN},
      {.fd = third[0], .events = POLLIN},
  };
  SHOW("poll three pipes until a child writes to the second", poll(entries, 3, 5000));
  for (int i = 0; i < 3; i++) {
    show_events(label_of("  pipe %d revents", i + 1), entries[i].revents);
  }
  reap_child("  child exited", child);

  char byte;
  read(second[0], &byte, 1);
  child = write_later(third[1], 100);
  fd_set read_set;
  FD_ZERO(&read_set);
  FD_SET(first[0], &read_set);
  FD_SET(second[0], &read_set);
  FD_SET(third[0], &read_set);
  int nfds = third[0] + 1;
  struct timeval timeout = {.tv_sec = 5, .tv_usec = 0};
  SHOW("select three pipes until a child writes to the third",
       syscall(SYS_select, nfds, &read_set, NULL, NULL, &timeout));
  show_bool("  pipe 1 set", FD_ISSET(first[0], &read_set));
  show_bool("  pipe 2 set", FD_ISSET(second[0], &read_set));
  show_bool("  pipe 3 set", FD_ISSET(third[0], &read_set));
  EXPECT("  the time left is written back", timeout.tv_sec < 5);
  reap_child("  child exited", child);
  for (int i = 0; i < 2; i++) {
    close(first[i]);
    close(second[i]);
    close(third[i]);
  }
}

static int thread_pipe[2];

static void* write_from_thread(void* argument) {
  (void)argument;
  usleep(100 * 1000);
  write(thread_pipe[1], "t", 1);
  return NULL;
}

static void* close_from_thread(void* argument) {
  (void)argument;
  usleep(100 * 1000);
  close(thread_pipe[1]);
  return NULL;
}

static void check_threads(void) {
  pipe(thread_pipe);
  pthread_t thread;
  pthread_create(&thread, NULL, write_from_thread, NULL);
  show_poll_one("poll until another thread writes", thread_pipe[0], POLLIN, 5000);
  pthread_join(thread, NULL);
  char byte;
  read(thread_pipe[0], &byte, 1);

  pthread_create(&thread, NULL, close_from_thread, NULL);
  show_poll_one("poll until another thread closes the write end", thread_pipe[0], POLLIN, 5000);
  pthread_join(thread, NULL);
  close(thread_pipe[0]);
}

static void* close_read_end_from_thread(void* argument) {
  (void)argument;
  usleep(100 * 1000);
  close(thread_pipe[0]);
  return NULL;
}

// The wait keeps a reference to the file, so a close of its fd by another
// thread neither wakes it nor hangs the pipe up. The wait runs to its
// timeout, and the last pass finds the fd closed.
static void check_closed_while_waiting(void) {
  pipe(thread_pipe);
  pthread_t thread;
  pthread_create(&thread, NULL, close_read_end_from_thread, NULL);
  long start = monotonic_ms();
  show_poll_one("poll until another thread closes the polled fd", thread_pipe[0], POLLIN, 400);
  EXPECT("  waits for the timeout", monotonic_ms() - start >= 400);
  pthread_join(thread, NULL);
  close(thread_pipe[1]);

  pipe(thread_pipe);
  int read_fd = thread_pipe[0];
  pthread_create(&thread, NULL, close_read_end_from_thread, NULL);
  fd_set read_set;
  FD_ZERO(&read_set);
  FD_SET(read_fd, &read_set);
  struct timeval timeout = {.tv_sec = 0, .tv_usec = 400 * 1000};
  start = monotonic_ms();
  SHOW("select until another thread closes the selected fd",
       syscall(SYS_select, read_fd + 1, &read_set, NULL, NULL, &timeout));
  EXPECT("  waits for the timeout", monotonic_ms() - start >= 400);
  show_bool("  the closed fd is set", FD_ISSET(read_fd, &read_set));
  pthread_join(thread, NULL);
  close(thread_pipe[1]);
}

int main(void) {
  check_data_from_child();
  check_hangup_from_child();
  check_room_from_child();
  check_several_pipes();
  check_threads();
  check_closed_while_waiting();
  return finish_checks();
}
