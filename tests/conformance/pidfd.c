// pidfds: pidfd_open, pidfd_send_signal, pidfd_getfd, waitid(P_PIDFD) and
// clone3's CLONE_PIDFD, from a live child through its zombie to after it
// is reaped, with each error.
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static long pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }

static long pidfd_send_signal(int pidfd, int signal, siginfo_t* info, unsigned flags) {
  return syscall(SYS_pidfd_send_signal, pidfd, signal, info, flags);
}

static long pidfd_getfd(int pidfd, int fd, unsigned flags) {
  return syscall(SYS_pidfd_getfd, pidfd, fd, flags);
}

// Starts a child that writes one byte to `pipe_fds` when it is ready, then
// waits for a signal. Its descriptor 10 is the write end of `pipe_fds`.
static pid_t start_waiting_child(int pipe_fds[2]) {
  pid_t child = fork();
  if (child == 0) {
    dup2(pipe_fds[1], 10);
    if (write(10, "r", 1) != 1) {
      _exit(99);
    }
    for (;;) {
      pause();
    }
  }
  char ready;
  if (read(pipe_fds[0], &ready, 1) != 1) {
    printf("child did not start\n");
  }
  return child;
}

static void show_wait(const char* label, int pidfd, int options, pid_t expected_pid) {
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  errno = 0;
  long result = waitid(P_PIDFD, pidfd, &info, options);
  show_result(label, result, errno);
  if (result == 0) {
    printf("  si_pid is the child: %s\n", info.si_pid == expected_pid ? "yes" : "no");
    printf("  si_code = %d, si_status = %d\n", info.si_code, info.si_status);
  }
}

static void show_poll(const char* label, int pidfd, short events, int timeout_ms) {
  struct pollfd entry = {.fd = pidfd, .events = events};
  errno = 0;
  long result = poll(&entry, 1, timeout_ms);
  show_result(label, result, errno);
  show_hex("  revents", (unsigned short)entry.revents);
}

static volatile sig_atomic_t queued_value = -1;

static void on_usr1(int signal, siginfo_t* info, void* context) {
  (void)signal;
  (void)context;
  queued_value = info->si_code == SI_QUEUE ? info->si_value.sival_int : -2;
}

static void* idle_thread(void* argument) {
  pid_t* tid = argument;
  *tid = gettid();
  pause();
  return NULL;
}

static void opening(void) {
  printf("pidfd_open errors:\n");
  SHOW("  unknown flag", pidfd_open(getpid(), 1));
  SHOW("  pid 0", pidfd_open(0, 0));
  SHOW("  pid -1", pidfd_open(-1, 0));
  SHOW("  pid 0 and unknown flag", pidfd_open(0, 1));

  pid_t tid = 0;
  pthread_t thread;
  pthread_create(&thread, NULL, idle_thread, &tid);
  while (__atomic_load_n(&tid, __ATOMIC_SEQ_CST) == 0) {
    sched_yield();
  }
  SHOW("  a thread that is not the leader", pidfd_open(tid, 0));
  pthread_cancel(thread);
  pthread_join(thread, NULL);

  int self = SHOW_OK("  own process", pidfd_open(getpid(), 0));
  SHOW("  F_GETFD", fcntl(self, F_GETFD));
  show_octal("  F_GETFL", fcntl(self, F_GETFL));
  char buffer[4];
  SHOW("  read", read(self, buffer, sizeof(buffer)));
  SHOW("  write", write(self, "x", 1));
  SHOW("  lseek", lseek(self, 0, SEEK_SET));

  // Queue a signal to this process with a value: allowed only to itself.
  struct sigaction action = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO};
  sigaction(SIGUSR1, &action, NULL);
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  info.si_signo = SIGUSR1;
  info.si_code = SI_QUEUE;
  info.si_value.sival_int = 42;
  SHOW("  queue SIGUSR1 to itself", pidfd_send_signal(self, SIGUSR1, &info, 0));
  show_value("  handler saw value", queued_value);
  SHOW("  si_signo not the signal", pidfd_send_signal(self, SIGUSR2, &info, 0));
  SHOW("  bad info pointer", pidfd_send_signal(self, SIGUSR1, (siginfo_t*)8, 0));
  SHOW("  signal 0", pidfd_send_signal(self, 0, NULL, 0));
  SHOW("  signal 65", pidfd_send_signal(self, 65, NULL, 0));
  SHOW("  signal -1", pidfd_send_signal(self, -1, NULL, 0));
  SHOW("  unknown flag", pidfd_send_signal(self, 0, NULL, 8));
  SHOW("  two scope flags", pidfd_send_signal(self, 0, NULL, 3));
  SHOW("  not a pidfd", pidfd_send_signal(0, 0, NULL, 0));
  SHOW("  closed descriptor", pidfd_send_signal(900, 0, NULL, 0));
  SHOW("  PIDFD_SELF_THREAD", pidfd_send_signal(-10000, 0, NULL, 0));
  SHOW("  PIDFD_SELF_THREAD_GROUP", pidfd_send_signal(-10001, 0, NULL, 0));
  SHOW("  a negative descriptor", pidfd_send_signal(-10002, 0, NULL, 0));
  SHOW("  getfd of own stdout", pidfd_getfd(self, 1, 0) >= 0);
  SHOW("  getfd unknown flag", pidfd_getfd(self, 1, 1));
  SHOW("  getfd not a pidfd", pidfd_getfd(1, 1, 0));
  SHOW("  waitid on itself", waitid(P_PIDFD, self, &info, WEXITED | WNOHANG));
  SHOW("  waitid not a pidfd", waitid(P_PIDFD, 0, &info, WEXITED));
  SHOW("  waitid negative", waitid(P_PIDFD, -1, &info, WEXITED));
  close(self);
}

static void child_lifetime(void) {
  printf("a child's lifetime:\n");
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    return;
  }
  pid_t child = start_waiting_child(pipe_fds);
  int pidfd = SHOW_OK("  pidfd_open", pidfd_open(child, 0));
  int nonblocking = SHOW_OK("  pidfd_open nonblocking", pidfd_open(child, PIDFD_NONBLOCK));
  show_octal("  nonblocking F_GETFL", fcntl(nonblocking, F_GETFL));

  show_poll("  poll while it runs", pidfd, POLLIN | POLLOUT | POLLPRI, 0);
  show_wait("  waitid on a running child, nonblocking pidfd", nonblocking, WEXITED, child);
  show_wait("  the same with WNOHANG", nonblocking, WEXITED | WNOHANG, child);

  // Take the child's descriptor 10, the pipe's write end, and write to it.
  int copied_fd = SHOW_OK("  pidfd_getfd", pidfd_getfd(pidfd, 10, 0));
  SHOW("  its F_GETFD", fcntl(copied_fd, F_GETFD));
  SHOW("  write through it", write(copied_fd, "x", 1));
  char byte = 0;
  SHOW("  read from the pipe", read(pipe_fds[0], &byte, 1));
  EXPECT("  the byte arrived", byte == 'x');
  SHOW("  getfd of a closed descriptor", pidfd_getfd(pidfd, 55, 0));
  SHOW("  getfd of a negative descriptor", pidfd_getfd(pidfd, -1, 0));
  close(copied_fd);

  // Another process may not forge the kernel's or kill's si_code.
  siginfo_t forged;
  memset(&forged, 0, sizeof(forged));
  forged.si_signo = SIGTERM;
  forged.si_code = SI_USER;
  SHOW("  forged SI_USER to the child", pidfd_send_signal(pidfd, SIGTERM, &forged, 0));
  SHOW("  signal 0 to the child", pidfd_send_signal(pidfd, 0, NULL, 0));
  SHOW("  SIGTERM to the child", pidfd_send_signal(pidfd, SIGTERM, NULL, 0));

  // Block in poll until it has exited, then wait without reaping it.
  show_poll("  poll until it exits", pidfd, POLLIN, -1);
  show_poll("  poll the zombie for nothing", pidfd, 0, 0);
  show_wait("  waitid WNOWAIT", pidfd, WEXITED | WNOWAIT, child);
  SHOW("  signal 0 to the zombie", pidfd_send_signal(pidfd, 0, NULL, 0));
  SHOW("  getfd from the zombie", pidfd_getfd(pidfd, 10, 0));
  int zombie_fd = SHOW_OK("  pidfd_open of the zombie", pidfd_open(child, 0));
  close(zombie_fd);

  show_wait("  waitid reaps it", pidfd, WEXITED, child);
  show_poll("  poll after reaping", pidfd, POLLIN | POLLRDNORM, 0);
  show_poll("  poll after reaping for nothing", pidfd, 0, 0);
  SHOW("  signal 0 after reaping", pidfd_send_signal(pidfd, 0, NULL, 0));
  SHOW("  bad signal after reaping", pidfd_send_signal(pidfd, 99, NULL, 0));
  SHOW("  getfd after reaping", pidfd_getfd(pidfd, 10, 0));
  SHOW("  pidfd_open after reaping", pidfd_open(child, 0));
  show_wait("  waitid after reaping", pidfd, WEXITED | WNOHANG, child);
  close(nonblocking);
  close(pidfd);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

static long clone3_call(struct clone_args* args) {
  return syscall(SYS_clone3, args, sizeof(*args));
}

static void clone_pidfd(void) {
  printf("CLONE_PIDFD:\n");
  int pidfd = -1;
  struct clone_args args = {
      .flags = CLONE_PIDFD, .pidfd = (uintptr_t)&pidfd, .exit_signal = SIGCHLD};
  long child = clone3_call(&args);
  if (child == 0) {
    _exit(7);
  }
  show_bool("  clone3 made a child", child > 0);
  show_bool("  pidfd given", pidfd >= 0);
  SHOW("  its F_GETFD", fcntl(pidfd, F_GETFD));
  show_wait("  waitid", pidfd, WEXITED, (pid_t)child);
  close(pidfd);

  struct clone_args bad_address = {
      .flags = CLONE_PIDFD, .pidfd = 8, .exit_signal = SIGCHLD};
  long result = clone3_call(&bad_address);
  if (result == 0) {
    _exit(0);
  }
  show_result("  bad pidfd address", result, errno);
  SHOW("  no child was made", waitpid(-1, NULL, WNOHANG));

  struct clone_args same_address = {
      .flags = CLONE_PIDFD | CLONE_PARENT_SETTID,
      .pidfd = (uintptr_t)&pidfd,
      .parent_tid = (uintptr_t)&pidfd,
      .exit_signal = SIGCHLD};
  SHOW("  pidfd and parent_tid at one address", clone3_call(&same_address));
  struct clone_args detached = {
      .flags = CLONE_PIDFD | CLONE_DETACHED, .pidfd = (uintptr_t)&pidfd, .exit_signal = SIGCHLD};
  SHOW("  with CLONE_DETACHED", clone3_call(&detached));

  // clone(2) has one argument for both pidfd and parent_tid.
  SHOW("  clone with CLONE_PIDFD | CLONE_PARENT_SETTID",
       syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, 0, 0));
}

int main(void) {
  opening();
  child_lifetime();
  clone_pidfd();
  return finish_checks();
}
