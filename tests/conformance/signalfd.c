// signalfd and signalfd4: bad sizes, flags and fds with their errnos, and
// the signalfd_siginfo fields of kill, sigqueue, tgkill and SIGCHLD. Also
// several records per read, thread before process order, mask updates,
// blocking and interrupted reads, readiness in poll and epoll, and a
// signalfd inherited across fork.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void sleep_ms(long ms) {
  struct timespec request = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&request, &request) == -1 && errno == EINTR) {
  }
}

static sigset_t set_of(int first, int second) {
  sigset_t set;
  sigemptyset(&set);
  if (first != 0) {
    sigaddset(&set, first);
  }
  if (second != 0) {
    sigaddset(&set, second);
  }
  return set;
}

static void show_readiness(const char* label, int fd) {
  struct pollfd entry = {.fd = fd, .events = POLLIN | POLLOUT | POLLPRI | POLLRDNORM};
  poll(&entry, 1, 0);
  printf("%s: revents %#x\n", label, entry.revents);
}

// Reads up to `capacity` records and prints the fields that do not vary
// between runs. Pids are only compared with `expected_pid`.
static long show_records(const char* label, int fd, size_t capacity, pid_t expected_pid) {
  struct signalfd_siginfo records[8];
  memset(records, 0xff, sizeof(records));
  long result = SHOW(label, read(fd, records, capacity * sizeof(records[0])));
  for (long i = 0; result > 0 && i < result / (long)sizeof(records[0]); i++) {
    const struct signalfd_siginfo* record = &records[i];
    printf("  signo %u errno %d code %d pid is expected: %s uid %u int %d\n", record->ssi_signo,
           record->ssi_errno, record->ssi_code,
           record->ssi_pid == (uint32_t)expected_pid ? "yes" : "no", record->ssi_uid,
           record->ssi_int);
    printf("  tid %u fd %d band %u overrun %u trapno %u status %d ptr %#llx addr %#llx\n",
           record->ssi_tid, record->ssi_fd, record->ssi_band, record->ssi_overrun,
           record->ssi_trapno, record->ssi_status, (unsigned long long)record->ssi_ptr,
           (unsigned long long)record->ssi_addr);
  }
  return result;
}

static void check_arguments(void) {
  sigset_t mask = set_of(SIGUSR1, 0);
  SHOW("signalfd with size 4", syscall(SYS_signalfd, -1, &mask, 4));
  SHOW("signalfd with size 16", syscall(SYS_signalfd, -1, &mask, 16));
  SHOW("signalfd4 with size 0 and a NULL mask", syscall(SYS_signalfd4, -1, NULL, 0, 0));
  SHOW("signalfd4 with a NULL mask", syscall(SYS_signalfd4, -1, NULL, 8, 0));
  SHOW("signalfd4 with a NULL mask and a bad flag", syscall(SYS_signalfd4, -1, NULL, 8, 1));
  SHOW("signalfd4 with a bad flag", syscall(SYS_signalfd4, -1, &mask, 8, 1));
  SHOW("signalfd4 with O_RDWR", syscall(SYS_signalfd4, -1, &mask, 8, O_RDWR));
  SHOW("signalfd4 with a bad flag and a closed fd", syscall(SYS_signalfd4, 999, &mask, 8, 1));
  SHOW("signalfd on a closed fd", syscall(SYS_signalfd, 999, &mask, 8));
  SHOW("signalfd on fd -2", syscall(SYS_signalfd, -2, &mask, 8));
  int pipe_fds[2];
  pipe(pipe_fds);
  SHOW("signalfd on a pipe", syscall(SYS_signalfd, pipe_fds[0], &mask, 8));
  close(pipe_fds[0]);
  close(pipe_fds[1]);

  int fd = (int)SHOW_OK("signalfd", syscall(SYS_signalfd, -1, &mask, 8));
  SHOW("  FD_CLOEXEC", fcntl(fd, F_GETFD) & FD_CLOEXEC);
  show_hex("  F_GETFL", (unsigned long)fcntl(fd, F_GETFL));
  char link[64] = {0};
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  readlink(path, link, sizeof(link) - 1);
  show_string("  /proc/self/fd link", link);
  SHOW("  update its mask", syscall(SYS_signalfd, fd, &mask, 8) == fd);
  uint64_t value = 1;
  SHOW("  write", write(fd, &value, sizeof(value)));
  close(fd);

  fd = (int)SHOW_OK("signalfd4 SFD_CLOEXEC | SFD_NONBLOCK",
                    signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  SHOW("  FD_CLOEXEC", fcntl(fd, F_GETFD) & FD_CLOEXEC);
  show_hex("  F_GETFL", (unsigned long)fcntl(fd, F_GETFL));
  close(fd);

  sigset_t unblockable = set_of(SIGKILL, SIGSTOP);
  fd = (int)SHOW_OK("signalfd of SIGKILL and SIGSTOP", signalfd(-1, &unblockable, SFD_NONBLOCK));
  show_readiness("  readiness", fd);
  close(fd);
}

static void check_kill(void) {
  int fd = signalfd(-1, &(sigset_t){0}, SFD_NONBLOCK);
  sigset_t mask = set_of(SIGUSR1, SIGUSR2);
  signalfd(fd, &mask, 0);
  show_readiness("nothing pending", fd);
  show_records("read with nothing pending", fd, 1, 0);

  kill(getpid(), SIGUSR1);
  show_readiness("SIGUSR1 pending", fd);
  char small[127];
  SHOW("read into 127 bytes", read(fd, small, sizeof(small)));
  show_records("read", fd, 1, getpid());
  show_readiness("after the read", fd);

  // Several records per read, lowest signal first, and every real-time
  // instance queued.
  union sigval value = {.sival_int = 42};
  sigqueue(getpid(), SIGRTMIN, value);
  value.sival_int = 43;
  sigqueue(getpid(), SIGRTMIN, value);
  kill(getpid(), SIGUSR2);
  mask = set_of(SIGUSR2, SIGRTMIN);
  signalfd(fd, &mask, 0);
  show_records("read of 3 records into room for 8", fd, 8, getpid());

  // A thread's own signal comes before its process's.
  kill(getpid(), SIGUSR1);
  syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
  mask = set_of(SIGUSR1, SIGUSR2);
  signalfd(fd, &mask, 0);
  show_records("read of a thread signal and a process signal, one at a time", fd, 1, getpid());
  show_records("read of the second", fd, 1, getpid());

  // A mask update leaves out a pending signal it no longer has.
  kill(getpid(), SIGUSR1);
  mask = set_of(SIGUSR2, 0);
  signalfd(fd, &mask, 0);
  show_records("read after SIGUSR1 left the mask", fd, 1, 0);
  sigset_t pending;
  sigpending(&pending);
  SHOW("  SIGUSR1 still pending", sigismember(&pending, SIGUSR1));
  mask = set_of(SIGUSR1, 0);
  signalfd(fd, &mask, 0);
  show_records("read after SIGUSR1 came back", fd, 1, getpid());
  close(fd);
}

static volatile sig_atomic_t handled;

static void count_handled(int signal) {
  (void)signal;
  handled++;
}

static void check_not_delivered(void) {
  struct sigaction action = {.sa_handler = count_handled};
  sigaction(SIGUSR1, &action, NULL);
  sigaction(SIGALRM, &action, NULL);
  sigset_t mask = set_of(SIGUSR1, 0);
  int fd = signalfd(-1, &mask, SFD_NONBLOCK);
  kill(getpid(), SIGUSR1);
  show_records("read of a signal with a handler", fd, 1, getpid());
  sigprocmask(SIG_UNBLOCK, &mask, NULL);
  SHOW("  handler runs after unblocking", handled);
  sigprocmask(SIG_BLOCK, &mask, NULL);

  // A blocking read ends with EINTR for a handled signal outside the mask.
  fcntl(fd, F_SETFL, 0);
  struct itimerval alarm_in = {.it_value = {.tv_usec = 20000}};
  setitimer(ITIMER_REAL, &alarm_in, NULL);
  show_records("blocking read interrupted by SIGALRM", fd, 1, 0);
  SHOW("  handler runs", handled);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGALRM, SIG_DFL);
  close(fd);
}

static void check_blocking_wakeup(void) {
  sigset_t mask = set_of(SIGUSR1, 0);
  int fd = signalfd(-1, &mask, 0);
  pid_t parent = getpid();
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    sleep_ms(30);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  struct signalfd_siginfo record;
  SHOW("blocking read woken by another process", read(fd, &record, sizeof(record)));
  printf("  signo %u code %d pid is the child: %s\n", record.ssi_signo, record.ssi_code,
         record.ssi_pid == (uint32_t)child ? "yes" : "no");
  waitpid(child, NULL, 0);

  // poll waits for the signal too.
  child = fork();
  if (child == 0) {
    sleep_ms(30);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  struct pollfd entry = {.fd = fd, .events = POLLIN};
  SHOW("poll woken by another process", poll(&entry, 1, 5000));
  printf("  revents %#x\n", entry.revents);
  show_records("read", fd, 1, child);
  waitpid(child, NULL, 0);
  close(fd);
}

static void check_child_exit(void) {
  sigset_t mask = set_of(SIGCHLD, 0);
  int fd = signalfd(-1, &mask, SFD_NONBLOCK);
  // The children of the earlier checks left a SIGCHLD pending.
  struct signalfd_siginfo record;
  while (read(fd, &record, sizeof(record)) > 0) {
  }
  fcntl(fd, F_SETFL, 0);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    _exit(7);
  }
  SHOW("read of SIGCHLD", read(fd, &record, sizeof(record)));
  printf("  signo %u code %d status %d pid is the child: %s\n", record.ssi_signo, record.ssi_code,
         record.ssi_status, record.ssi_pid == (uint32_t)child ? "yes" : "no");
  int status = 0;
  SHOW("  waitpid", waitpid(child, &status, 0) == child);
  SHOW("  exit status", WEXITSTATUS(status));

  child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  kill(child, SIGTERM);
  SHOW("read of SIGCHLD for a killed child", read(fd, &record, sizeof(record)));
  printf("  signo %u code %d status %d\n", record.ssi_signo, record.ssi_code, record.ssi_status);
  waitpid(child, NULL, 0);
  close(fd);
}

static void check_epoll(void) {
  sigset_t mask = set_of(SIGUSR2, 0);
  int fd = signalfd(-1, &mask, SFD_NONBLOCK);
  int epoll_fd = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN, .data.u64 = 9};
  SHOW("epoll_ctl ADD", epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event));
  struct epoll_event ready[2];
  SHOW("epoll_wait with nothing pending", epoll_wait(epoll_fd, ready, 2, 0));
  kill(getpid(), SIGUSR2);
  long count = SHOW("epoll_wait with SIGUSR2 pending", epoll_wait(epoll_fd, ready, 2, 5000));
  if (count == 1) {
    printf("  events %#x data %llu\n", ready[0].events, (unsigned long long)ready[0].data.u64);
  }
  show_records("read", fd, 1, getpid());
  SHOW("epoll_wait after the read", epoll_wait(epoll_fd, ready, 2, 0));

  // A signal sent while epoll_wait sleeps wakes it.
  pid_t parent = getpid();
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    sleep_ms(30);
    kill(parent, SIGUSR2);
    _exit(0);
  }
  count = SHOW("epoll_wait woken by another process", epoll_wait(epoll_fd, ready, 2, 5000));
  show_records("read", fd, 1, child);
  waitpid(child, NULL, 0);
  close(epoll_fd);
  close(fd);
}

static void check_fork(void) {
  sigset_t mask = set_of(SIGUSR1, 0);
  int fd = signalfd(-1, &mask, SFD_NONBLOCK);
  kill(getpid(), SIGUSR1);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    show_readiness("child: readiness with the parent's signal pending", fd);
    show_records("child: read", fd, 1, 0);
    kill(getpid(), SIGUSR1);
    show_records("child: read of its own signal", fd, 1, getpid());
    fflush(stdout);
    _exit(0);
  }
  waitpid(child, NULL, 0);
  show_records("parent: read", fd, 1, getpid());
  close(fd);
}

int main(void) {
  sigset_t blocked = set_of(SIGUSR1, SIGUSR2);
  sigaddset(&blocked, SIGRTMIN);
  sigaddset(&blocked, SIGCHLD);
  sigprocmask(SIG_BLOCK, &blocked, NULL);

  check_arguments();
  check_kill();
  check_not_delivered();
  check_blocking_wakeup();
  check_child_exit();
  check_epoll();
  check_fork();
  return finish_checks();
}
