// POSIX message queues: priority order, attributes and O_NONBLOCK, full and
// empty queues, timeouts, blocking calls woken by another process, signals
// during a wait, poll and epoll readiness, the descriptor's status line,
// fstat, dup, fork, and mq_unlink with descriptors still open.
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "mqueue_util.h"

// Linux's MQUEUE_MAGIC.
#define MQUEUE_FS_MAGIC 0x19800202

static mqd_t open_queue(const char* name, int flags, long max_messages, long message_bytes) {
  struct mq_attr attr = {.mq_maxmsg = max_messages, .mq_msgsize = message_bytes};
  return mq_open(name, flags | O_CREAT | O_EXCL, 0600, &attr);
}

// An absolute CLOCK_REALTIME time `milliseconds` from now.
static struct timespec realtime_after(long milliseconds) {
  struct timespec when;
  clock_gettime(CLOCK_REALTIME, &when);
  when.tv_sec += milliseconds / 1000;
  when.tv_nsec += (milliseconds % 1000) * 1000000L;
  if (when.tv_nsec >= 1000000000L) {
    when.tv_sec++;
    when.tv_nsec -= 1000000000L;
  }
  return when;
}

static long elapsed_ms(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static void sleep_ms(long milliseconds) {
  struct timespec pause = {.tv_sec = 0, .tv_nsec = milliseconds * 1000000L};
  nanosleep(&pause, NULL);
}

static void show_receive(const char* label, mqd_t queue) {
  char buffer[128] = {0};
  unsigned priority = 0;
  long result = SHOW(label, mq_receive(queue, buffer, sizeof(buffer), &priority));
  if (result >= 0) {
    printf("  message \"%.*s\" priority %u\n", (int)result, buffer, priority);
  }
}

static void show_attributes(const char* label, mqd_t queue) {
  struct mq_attr attr;
  if (mq_getattr(queue, &attr) != 0) {
    printf("%s: mq_getattr failed: %s\n", label, errno_name(errno));
    return;
  }
  printf("%s: flags %#lx maxmsg %ld msgsize %ld curmsgs %ld\n", label, (unsigned long)attr.mq_flags,
         attr.mq_maxmsg, attr.mq_msgsize, attr.mq_curmsgs);
}

static void show_readiness(const char* label, mqd_t queue) {
  struct pollfd entry = {.fd = queue, .events = POLLIN | POLLOUT | POLLPRI, .revents = 0};
  poll(&entry, 1, 0);
  printf("%s: revents %#x\n", label, entry.revents);
}

static void check_priorities(void) {
  printf("-- priorities\n");
  mqd_t queue = (mqd_t)SHOW_OK("mq_open", open_queue(mqueue_name("order"), O_RDWR, 10, 64));
  SHOW("send a prio 1", mq_send(queue, "a", 1, 1));
  SHOW("send b prio 5", mq_send(queue, "b", 1, 5));
  SHOW("send c prio 1", mq_send(queue, "c", 1, 1));
  SHOW("send d prio 5", mq_send(queue, "d", 1, 5));
  SHOW("send e prio 0", mq_send(queue, "e", 1, 0));
  SHOW("send f prio 32767", mq_send(queue, "f", 1, 32767));
  SHOW("send empty prio 2", mq_send(queue, "", 0, 2));
  show_attributes("after sends", queue);
  for (int i = 0; i < 7; i++) {
    show_receive(label_of("receive %d", i), queue);
  }
  show_attributes("after receives", queue);
  mq_close(queue);
}

static void check_attributes(void) {
  printf("-- attributes\n");
  const char* name = mqueue_name("attr");
  mqd_t queue = (mqd_t)SHOW_OK("mq_open with NULL attr", mq_open(name, O_RDWR | O_CREAT, 0600, NULL));
  show_attributes("defaults", queue);
  show_hex("F_GETFL", (unsigned long)fcntl(queue, F_GETFL));
  SHOW("FD_CLOEXEC", fcntl(queue, F_GETFD) & FD_CLOEXEC);

  struct mq_attr attr = {.mq_flags = O_NONBLOCK, .mq_maxmsg = 99, .mq_msgsize = 99, .mq_curmsgs = 99};
  struct mq_attr old;
  SHOW("mq_setattr O_NONBLOCK", mq_setattr(queue, &attr, &old));
  printf("  old: flags %#lx maxmsg %ld msgsize %ld curmsgs %ld\n", (unsigned long)old.mq_flags,
         old.mq_maxmsg, old.mq_msgsize, old.mq_curmsgs);
  show_attributes("after mq_setattr", queue);
  show_hex("F_GETFL", (unsigned long)fcntl(queue, F_GETFL));
  char buffer[8192];
  SHOW("receive from the empty queue", mq_receive(queue, buffer, sizeof(buffer), NULL));

  attr.mq_flags = 0;
  SHOW("mq_setattr 0", mq_setattr(queue, &attr, NULL));
  show_attributes("after clearing", queue);
  SHOW("fcntl F_SETFL O_NONBLOCK", fcntl(queue, F_SETFL, O_NONBLOCK));
  show_attributes("after fcntl", queue);

  // A second open of the same queue has its own O_NONBLOCK.
  mqd_t second = (mqd_t)SHOW_OK("mq_open again", mq_open(name, O_RDONLY));
  show_attributes("second descriptor", second);
  SHOW("send", mq_send(queue, "x", 1, 0));
  show_attributes("second after send", second);
  mq_close(second);
  mq_close(queue);
}

static void check_full_and_empty(void) {
  printf("-- full and empty queues\n");
  mqd_t queue = (mqd_t)SHOW_OK("mq_open", open_queue(mqueue_name("full"), O_RDWR | O_NONBLOCK, 2, 16));
  SHOW("send 1", mq_send(queue, "1", 1, 0));
  SHOW("send 2", mq_send(queue, "2", 1, 0));
  SHOW("send 3 to the full queue", mq_send(queue, "3", 1, 0));
  show_readiness("full", queue);

  struct mq_attr blocking = {.mq_flags = 0};
  mq_setattr(queue, &blocking, NULL);
  struct timespec past = {.tv_sec = 0, .tv_nsec = 0};
  SHOW("timedsend with a past timeout", mq_timedsend(queue, "3", 1, 0, &past));
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  struct timespec soon = realtime_after(50);
  SHOW("timedsend with a 50 ms timeout", mq_timedsend(queue, "3", 1, 0, &soon));
  EXPECT("  waited at least 40 ms", elapsed_ms(&start) >= 40);

  char buffer[16];
  SHOW("receive 1", mq_receive(queue, buffer, sizeof(buffer), NULL));
  SHOW("receive 2", mq_receive(queue, buffer, sizeof(buffer), NULL));
  show_readiness("empty", queue);
  SHOW("timedreceive with a past timeout", mq_timedreceive(queue, buffer, sizeof(buffer), NULL, &past));
  clock_gettime(CLOCK_MONOTONIC, &start);
  soon = realtime_after(50);
  SHOW("timedreceive with a 50 ms timeout", mq_timedreceive(queue, buffer, sizeof(buffer), NULL, &soon));
  EXPECT("  waited at least 40 ms", elapsed_ms(&start) >= 40);
  mq_close(queue);
}

static void check_blocking_across_processes(void) {
  printf("-- blocking calls woken by a child\n");
  mqd_t queue = (mqd_t)SHOW_OK("mq_open", open_queue(mqueue_name("wake"), O_RDWR, 1, 32));

  pid_t child = fork();
  if (child == 0) {
    sleep_ms(50);
    _exit(mq_send(queue, "from child", 10, 7) == 0 ? 0 : 1);
  }
  show_receive("blocking receive", queue);
  int status = 0;
  waitpid(child, &status, 0);
  SHOW("child status", status);

  SHOW("fill the queue", mq_send(queue, "first", 5, 1));
  child = fork();
  if (child == 0) {
    sleep_ms(50);
    char buffer[32];
    unsigned priority = 0;
    long length = mq_receive(queue, buffer, sizeof(buffer), &priority);
    _exit(length == 5 && priority == 1 ? 0 : 1);
  }
  SHOW("blocking send", mq_send(queue, "second", 6, 2));
  waitpid(child, &status, 0);
  SHOW("child status", status);
  show_receive("receive", queue);
  mq_close(queue);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int signal) {
  (void)signal;
  alarms++;
}

static void arm_timer_ms(long milliseconds) {
  struct itimerval timer = {.it_value = {.tv_sec = 0, .tv_usec = milliseconds * 1000}};
  setitimer(ITIMER_REAL, &timer, NULL);
}

static void check_signals(void) {
  printf("-- signals during a wait\n");
  mqd_t queue = (mqd_t)SHOW_OK("mq_open", open_queue(mqueue_name("signal"), O_RDWR, 1, 16));
  char buffer[16];

  struct sigaction action = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &action, NULL);
  arm_timer_ms(30);
  SHOW("receive interrupted", mq_receive(queue, buffer, sizeof(buffer), NULL));
  SHOW("alarms", alarms);

  action.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &action, NULL);
  arm_timer_ms(30);
  struct timespec deadline = realtime_after(120);
  SHOW("timedreceive with SA_RESTART", mq_timedreceive(queue, buffer, sizeof(buffer), NULL, &deadline));
  SHOW("alarms", alarms);

  action.sa_flags = 0;
  sigaction(SIGALRM, &action, NULL);
  mq_send(queue, "x", 1, 0);
  arm_timer_ms(30);
  SHOW("send to the full queue interrupted", mq_send(queue, "y", 1, 0));
  SHOW("alarms", alarms);
  signal(SIGALRM, SIG_DFL);
  mq_close(queue);
}

static volatile sig_atomic_t notify_count;
static volatile siginfo_t notify_info;

static void on_notify(int signal, siginfo_t* info, void* context) {
  (void)signal;
  (void)context;
  notify_count++;
  notify_info.si_code = info->si_code;
  notify_info.si_pid = info->si_pid;
  notify_info.si_uid = info->si_uid;
  notify_info.si_value.sival_int = info->si_value.sival_int;
}

// Prints the status line with NOTIFY_PID replaced by whether it is `pid`.
static void show_status_line(const char* label, mqd_t queue, pid_t pid) {
  char line[128] = {0};
  long length = pread(queue, line, sizeof(line) - 1, 0);
  if (length < 0) {
    printf("%s: read failed: %s\n", label, errno_name(errno));
    return;
  }
  char* owner = strstr(line, "NOTIFY_PID:");
  if (owner == NULL) {
    printf("%s: no NOTIFY_PID in \"%s\"\n", label, line);
    return;
  }
  long owner_pid = strtol(owner + strlen("NOTIFY_PID:"), NULL, 10);
  const char* owner_kind = "other";
  if (owner_pid == 0) {
    owner_kind = "none";
  } else if (owner_pid == pid) {
    owner_kind = "expected";
  }
  printf("%s: \"%.*s\" length %ld, owner %s\n", label, (int)(owner - line), line, length,
         owner_kind);
}

static void check_notify(void) {
  printf("-- mq_notify\n");
  mqd_t queue = (mqd_t)SHOW_OK("mq_open", open_queue(mqueue_name("notify"), O_RDWR | O_NONBLOCK, 4, 16));
  struct sigaction action = {.sa_sigaction = on_notify, .sa_flags = SA_SIGINFO};
  sigaction(SIGUSR1, &action, NULL);

  struct sigevent event = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
  event.sigev_value.sival_int = 4242;
  SHOW("register SIGEV_SIGNAL", mq_notify(queue, &event));
  show_status_line("registered", queue, getpid());
  SHOW("register again", mq_notify(queue, &event));
  SHOW("send to the empty queue", mq_send(queue, "a", 1, 0));
  SHOW("signals", notify_count);
  EXPECT("  si_code is SI_MESGQ", notify_info.si_code == SI_MESGQ);
  EXPECT("  si_pid is the sender", notify_info.si_pid == getpid());
  EXPECT("  si_uid is the sender's", notify_info.si_uid == getuid());
  SHOW("  si_value", notify_info.si_value.sival_int);
  show_status_line("after the signal", queue, getpid());
  SHOW("send again", mq_send(queue, "b", 1, 0));
  SHOW("signals", notify_count);

  // A registration made on a queue with messages waits until it is empty.
  SHOW("register with messages queued", mq_notify(queue, &event));
  SHOW("send a third", mq_send(queue, "c", 1, 0));
  SHOW("signals", notify_count);
  char buffer[16];
  while (mq_receive(queue, buffer, sizeof(buffer), NULL) >= 0) {
  }
  SHOW("send to the emptied queue", mq_send(queue, "d", 1, 0));
  SHOW("signals", notify_count);
  mq_receive(queue, buffer, sizeof(buffer), NULL);

  // Another process cannot take or remove the registration.
  SHOW("register again", mq_notify(queue, &event));
  pid_t child = fork();
  if (child == 0) {
    int taken = mq_notify(queue, &event) == -1 && errno == EBUSY;
    int removed = mq_notify(queue, NULL) == 0;
    _exit(taken && removed ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  SHOW("child got EBUSY and removed nothing", status);
  show_status_line("still registered", queue, getpid());
  SHOW("remove", mq_notify(queue, NULL));
  show_status_line("removed", queue, getpid());
  SHOW("remove when none", mq_notify(queue, NULL));

  // Any close by the owner process drops its registration, a dup's too.
  SHOW("register for the close", mq_notify(queue, &event));
  int copy = dup(queue);
  SHOW("close a copy of the descriptor", close(copy));
  show_status_line("after the owner closed a copy", queue, getpid());

  struct sigevent none = {.sigev_notify = SIGEV_NONE};
  SHOW("register SIGEV_NONE", mq_notify(queue, &none));
  show_status_line("SIGEV_NONE", queue, getpid());
  SHOW("send", mq_send(queue, "e", 1, 0));
  show_status_line("after the send", queue, getpid());
  mq_receive(queue, buffer, sizeof(buffer), NULL);

  struct sigevent no_signal = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 0};
  SHOW("register signal 0", mq_notify(queue, &no_signal));
  show_status_line("signal 0", queue, getpid());
  SHOW("send", mq_send(queue, "f", 1, 0));
  show_status_line("after the send", queue, getpid());
  mq_receive(queue, buffer, sizeof(buffer), NULL);
  mq_close(queue);
}

static void check_notify_with_blocked_receiver(void) {
  printf("-- mq_notify with a blocked receiver\n");
  const char* name = mqueue_name("notify-blocked");
  mqd_t queue = (mqd_t)SHOW_OK("mq_open", open_queue(name, O_RDWR, 4, 16));
  notify_count = 0;
  struct sigevent event = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
  SHOW("register", mq_notify(queue, &event));

  pid_t child = fork();
  if (child == 0) {
    char buffer[16];
    long length = mq_receive(queue, buffer, sizeof(buffer), NULL);
    _exit(length == 1 ? 0 : 1);
  }
  sleep_ms(100);
  SHOW("send while the child waits", mq_send(queue, "a", 1, 0));
  int status = 0;
  waitpid(child, &status, 0);
  SHOW("child status", status);
  SHOW("signals", notify_count);
  show_status_line("still registered", queue, getpid());
  SHOW("send", mq_send(queue, "b", 1, 0));
  SHOW("signals", notify_count);
  mq_close(queue);
  signal(SIGUSR1, SIG_DFL);
}

static void check_readiness(void) {
  printf("-- poll and epoll\n");
  mqd_t queue = (mqd_t)SHOW_OK("mq_open", open_queue(mqueue_name("poll"), O_RDWR | O_NONBLOCK, 2, 16));
  show_readiness("empty", queue);
  mq_send(queue, "a", 1, 0);
  show_readiness("one message", queue);
  mq_send(queue, "b", 1, 0);
  show_readiness("full", queue);
  char buffer[16];
  mq_receive(queue, buffer, sizeof(buffer), NULL);
  mq_receive(queue, buffer, sizeof(buffer), NULL);

  int epoll = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event watch = {.events = EPOLLIN, .data.u32 = 7};
  SHOW("epoll_ctl ADD", epoll_ctl(epoll, EPOLL_CTL_ADD, queue, &watch));
  struct epoll_event ready[2];
  SHOW("epoll_wait on the empty queue", epoll_wait(epoll, ready, 2, 0));
  pid_t child = fork();
  if (child == 0) {
    sleep_ms(50);
    _exit(mq_send(queue, "c", 1, 0) == 0 ? 0 : 1);
  }
  long count = SHOW("epoll_wait for a child's send", epoll_wait(epoll, ready, 2, 5000));
  if (count == 1) {
    printf("  events %#x data %u\n", ready[0].events, ready[0].data.u32);
  }
  int status = 0;
  waitpid(child, &status, 0);

  struct pollfd entry = {.fd = queue, .events = POLLOUT, .revents = 0};
  mq_send(queue, "d", 1, 0);
  SHOW("poll POLLOUT on the full queue", poll(&entry, 1, 0));
  child = fork();
  if (child == 0) {
    sleep_ms(50);
    _exit(mq_receive(queue, buffer, sizeof(buffer), NULL) == 1 ? 0 : 1);
  }
  SHOW("poll POLLOUT until a child receives", poll(&entry, 1, 5000));
  printf("  revents %#x\n", entry.revents);
  waitpid(child, &status, 0);
  close(epoll);
  mq_close(queue);
}

static void check_descriptor(void) {
  printf("-- the descriptor\n");
  const char* name = mqueue_name("fd");
  mqd_t queue = (mqd_t)SHOW_OK("mq_open", open_queue(name, O_RDWR | O_NONBLOCK, 3, 32));
  mq_send(queue, "hello", 5, 1);
  mq_send(queue, "abc", 3, 2);

  char line[128] = {0};
  SHOW("read", read(queue, line, sizeof(line) - 1));
  show_string("  line", line);
  SHOW("read at the end", read(queue, line, sizeof(line)));
  SHOW("lseek 6", lseek(queue, 6, SEEK_SET));
  memset(line, 0, sizeof(line));
  SHOW("read 5 bytes", read(queue, line, 5));
  show_string("  bytes", line);
  SHOW("lseek SEEK_END", lseek(queue, 0, SEEK_END));
  SHOW("write", write(queue, "x", 1));

  struct stat st;
  SHOW("fstat", fstat(queue, &st));
  show_octal("  st_mode", st.st_mode);
  SHOW("  st_size", st.st_size);
  SHOW("  st_nlink", st.st_nlink);
  SHOW("  st_blksize", st.st_blksize);
  SHOW("  st_blocks", st.st_blocks);
  EXPECT("  st_uid is the fsuid", st.st_uid == geteuid());
  // A queue is a regular file to ftruncate, which changes only st_size.
  SHOW("ftruncate 0", ftruncate(queue, 0));
  fstat(queue, &st);
  SHOW("  st_size", st.st_size);
  SHOW("ftruncate 100", ftruncate(queue, 100));
  fstat(queue, &st);
  SHOW("  st_size", st.st_size);
  SHOW("lseek 0", lseek(queue, 0, SEEK_SET));
  SHOW("read the line after ftruncate", read(queue, line, sizeof(line) - 1));
  SHOW("ftruncate -1", ftruncate(queue, -1));
  struct statfs fs;
  SHOW("fstatfs", fstatfs(queue, &fs));
  EXPECT("  f_type is MQUEUE_MAGIC", fs.f_type == MQUEUE_FS_MAGIC);

  char path[64];
  char link[128] = {0};
  snprintf(path, sizeof(path), "/proc/self/fd/%d", queue);
  readlink(path, link, sizeof(link) - 1);
  EXPECT("  /proc/self/fd link is the name", strcmp(link, name) == 0);

  int copy = (int)SHOW_OK("dup", dup(queue));
  SHOW("dup FD_CLOEXEC", fcntl(copy, F_GETFD) & FD_CLOEXEC);
  show_receive("receive through the copy", copy);
  close(copy);

  pid_t child = fork();
  if (child == 0) {
    char buffer[32];
    _exit(mq_receive(queue, buffer, sizeof(buffer), NULL) == 5 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  SHOW("child received through the inherited descriptor", status);

  SHOW("mq_unlink", mq_unlink(name));
  SHOW("send after mq_unlink", mq_send(queue, "still", 5, 0));
  show_receive("receive after mq_unlink", queue);
  SHOW("fstat", fstat(queue, &st));
  SHOW("  st_nlink", st.st_nlink);
  memset(link, 0, sizeof(link));
  readlink(path, link, sizeof(link) - 1);
  char deleted[128];
  snprintf(deleted, sizeof(deleted), "%s (deleted)", name);
  EXPECT("  /proc/self/fd link says deleted", strcmp(link, deleted) == 0);
  SHOW("mq_open the removed name", mq_open(name, O_RDWR));
  mqd_t fresh = (mqd_t)SHOW_OK("mq_open O_CREAT makes a new queue", open_queue(name, O_RDWR, 3, 32));
  show_attributes("new queue", fresh);
  mq_close(fresh);

  SHOW("mq_close", mq_close(queue));
  SHOW("mq_send after mq_close", mq_send(queue, "x", 1, 0));
}

static void check_umask_and_mode(void) {
  printf("-- mode\n");
  mode_t old_mask = umask(027);
  mqd_t queue = (mqd_t)SHOW_OK("mq_open 0777 under umask 027",
                               mq_open(mqueue_name("mode"), O_RDWR | O_CREAT, 0777, NULL));
  struct stat st;
  fstat(queue, &st);
  show_octal("  st_mode", st.st_mode);
  SHOW("fchmod 0640", fchmod(queue, 0640));
  fstat(queue, &st);
  show_octal("  st_mode", st.st_mode);
  umask(old_mask);
  mq_close(queue);
}

static void check_proc_limits(void) {
  printf("-- /proc/sys/fs/mqueue\n");
  static const char* const files[] = {"msg_default", "msg_max", "msgsize_default", "msgsize_max",
                                      "queues_max"};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/sys/fs/mqueue/%s", files[i]);
    FILE* file = fopen(path, "r");
    long value = -1;
    if (file != NULL) {
      if (fscanf(file, "%ld", &value) != 1) {
        value = -1;
      }
      fclose(file);
    }
    printf("%s = %ld\n", files[i], value);
  }
}

int main(void) {
  check_proc_limits();
  check_priorities();
  check_attributes();
  check_full_and_empty();
  check_blocking_across_processes();
  check_signals();
  check_notify();
  check_notify_with_blocked_receiver();
  check_readiness();
  check_descriptor();
  check_umask_and_mode();
  return finish_checks();
}
