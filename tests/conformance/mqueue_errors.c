// POSIX message queues: every bad input with the errno Linux gives, in
// Linux's order of checks. Names go through the raw syscalls where glibc
// would check them first (glibc strips the leading slash).
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "mqueue_util.h"

// Linux's NOTIFY_COOKIE_LEN.
#define NOTIFY_COOKIE_BYTES 32

static long raw_open(const char* name, int flags, mode_t mode, const struct mq_attr* attr) {
  return syscall(SYS_mq_open, name, flags, mode, attr);
}

static mqd_t open_queue(const char* name, int flags, long max_messages, long message_bytes) {
  struct mq_attr attr = {.mq_maxmsg = max_messages, .mq_msgsize = message_bytes};
  return mq_open(name, flags | O_CREAT | O_EXCL, 0600, &attr);
}

static void check_names(void) {
  printf("-- names\n");
  SHOW("mq_open without a leading slash", mq_open("no-slash", O_RDWR | O_CREAT, 0600, NULL));
  SHOW("mq_open \"/\"", mq_open("/", O_RDWR | O_CREAT, 0600, NULL));
  SHOW("mq_unlink without a leading slash", mq_unlink("no-slash"));
  SHOW("raw mq_open \"\"", raw_open("", O_RDWR | O_CREAT, 0600, NULL));
  SHOW("raw mq_open with a slash inside", raw_open("a/b", O_RDWR | O_CREAT, 0600, NULL));
  SHOW("raw mq_open with a leading slash", raw_open("/a", O_RDWR | O_CREAT, 0600, NULL));
  SHOW("raw mq_open \".\"", raw_open(".", O_RDWR | O_CREAT, 0600, NULL));
  SHOW("raw mq_open \"..\"", raw_open("..", O_RDWR | O_CREAT, 0600, NULL));
  SHOW("raw mq_open with a bad name pointer", raw_open((const char*)1, O_RDWR | O_CREAT, 0600, NULL));
  SHOW("raw mq_unlink \"\"", syscall(SYS_mq_unlink, ""));
  SHOW("raw mq_unlink with a slash inside", syscall(SYS_mq_unlink, "a/b"));
  SHOW("raw mq_unlink with a bad name pointer", syscall(SYS_mq_unlink, (const char*)1));

  // NAME_MAX bytes after the slash is the longest name.
  char longest[NAME_MAX + 3];
  const char* base = mqueue_name("long");
  size_t base_length = strlen(base);
  memcpy(longest, base, base_length);
  memset(longest + base_length, 'x', NAME_MAX + 1 - base_length);
  longest[NAME_MAX + 1] = '\0';
  mqd_t queue = (mqd_t)SHOW_OK("mq_open with NAME_MAX bytes", mq_open(longest, O_RDWR | O_CREAT, 0600, NULL));
  mq_close(queue);
  SHOW("mq_unlink with NAME_MAX bytes", mq_unlink(longest));
  longest[NAME_MAX + 1] = 'x';
  longest[NAME_MAX + 2] = '\0';
  SHOW("mq_open with NAME_MAX + 1 bytes", mq_open(longest, O_RDWR | O_CREAT, 0600, NULL));
  SHOW("mq_unlink with NAME_MAX + 1 bytes", mq_unlink(longest));
  char slashed[NAME_MAX + 8];
  memset(slashed, 'x', sizeof(slashed));
  slashed[0] = '/';
  slashed[NAME_MAX + 3] = '/';
  slashed[NAME_MAX + 7] = '\0';
  SHOW("mq_open too long with a slash inside", mq_open(slashed, O_RDWR | O_CREAT, 0600, NULL));
}

static void check_open(void) {
  printf("-- mq_open\n");
  const char* name = mqueue_name("open");
  SHOW("mq_open a missing queue", mq_open(name, O_RDWR));
  SHOW("mq_unlink a missing queue", mq_unlink(name));
  mqd_t queue = (mqd_t)SHOW_OK("mq_open O_CREAT | O_EXCL", mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, NULL));
  SHOW("again with O_EXCL", mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, NULL));
  mqd_t again = (mqd_t)SHOW_OK("again without O_EXCL", mq_open(name, O_RDWR | O_CREAT, 0600, NULL));
  mq_close(again);
  SHOW("access mode 3", mq_open(name, O_ACCMODE));
  SHOW("raw with a bad attr pointer and no O_CREAT", raw_open(name + 1, O_RDWR, 0, (const struct mq_attr*)1));
  SHOW("raw with a bad attr pointer", raw_open(name + 1, O_RDWR | O_CREAT, 0600, (const struct mq_attr*)1));
  struct mq_attr bad = {.mq_maxmsg = 0, .mq_msgsize = 16};
  again = (mqd_t)SHOW_OK("existing queue with a bad attr", mq_open(name, O_RDWR | O_CREAT, 0600, &bad));
  mq_close(again);
  mq_close(queue);

  static const struct {
    const char* label;
    long max_messages;
    long message_bytes;
  } attributes[] = {
      {"mq_maxmsg 0", 0, 16},
      {"mq_maxmsg -1", -1, 16},
      {"mq_msgsize 0", 4, 0},
      {"mq_msgsize -1", 4, -1},
      {"mq_maxmsg msg_max", 10, 16},
      {"mq_maxmsg msg_max + 1", 11, 16},
      {"mq_maxmsg past HARD_MSGMAX", 65537, 16},
      {"mq_msgsize msgsize_max", 4, 8192},
      {"mq_msgsize msgsize_max + 1", 4, 8193},
      {"mq_msgsize past HARD_MSGSIZEMAX", 4, 16 * 1024 * 1024 + 1},
  };
  for (size_t i = 0; i < sizeof(attributes) / sizeof(attributes[0]); i++) {
    const char* attr_name = mqueue_name(label_of("attr%zu", i));
    queue = (mqd_t)SHOW_OK(attributes[i].label, open_queue(attr_name, O_RDWR, attributes[i].max_messages,
                                                          attributes[i].message_bytes));
    if (queue != (mqd_t)-1) {
      mq_close(queue);
      mq_unlink(attr_name);
    }
  }
}

static void check_permissions(void) {
  printf("-- permissions\n");
  if (geteuid() != 0) {
    printf("not root: skipped\n");
    return;
  }
  const char* private_name = mqueue_name("private");
  const char* readable_name = mqueue_name("readable");
  mqd_t private_queue = mq_open(private_name, O_RDWR | O_CREAT, 0600, NULL);
  mqd_t readable_queue = mq_open(readable_name, O_RDWR | O_CREAT, 0644, NULL);
  pid_t child = fork();
  if (child == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
      _exit(2);
    }
    SHOW("other user opens 0600 O_RDONLY", mq_open(private_name, O_RDONLY));
    mqd_t queue = (mqd_t)SHOW_OK("other user opens 0644 O_RDONLY", mq_open(readable_name, O_RDONLY));
    mq_close(queue);
    SHOW("other user opens 0644 O_WRONLY", mq_open(readable_name, O_WRONLY));
    SHOW("other user opens 0644 O_RDWR", mq_open(readable_name, O_RDWR));
    SHOW("other user mq_unlink", mq_unlink(readable_name));
    SHOW("raw mq_unlink by another user", syscall(SYS_mq_unlink, readable_name + 1));
    const char* own_name = mqueue_name("own");
    queue = (mqd_t)SHOW_OK("other user creates a queue", mq_open(own_name, O_RDWR | O_CREAT, 0600, NULL));
    mq_close(queue);
    SHOW("other user removes its own queue", mq_unlink(own_name));
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  SHOW("child status", status);
  mq_close(private_queue);
  mq_close(readable_queue);
}

// Sets RLIMIT_MSGQUEUE's soft limit, keeping the hard one.
static void set_queue_bytes_limit(rlim_t limit_bytes) {
  struct rlimit limit;
  getrlimit(RLIMIT_MSGQUEUE, &limit);
  limit.rlim_cur = limit_bytes;
  setrlimit(RLIMIT_MSGQUEUE, &limit);
}

// Linux charges each queue to its creator's real uid: the message bytes
// plus 48 bytes per message and 48 per priority it could hold, so a queue
// of one 1-byte message costs 97 bytes. The child takes a uid of its own,
// because the charges are per user across the whole host.
static void check_queue_bytes_limit(void) {
  printf("-- RLIMIT_MSGQUEUE\n");
  if (geteuid() != 0) {
    printf("not root: skipped\n");
    return;
  }
  const char* first_name = mqueue_name("rlimit1");
  const char* second_name = mqueue_name("rlimit2");
  pid_t child = fork();
  if (child == 0) {
    uid_t uid = 40000 + (uid_t)(getpid() % 20000);
    if (setresuid(uid, uid, uid) != 0) {
      _exit(2);
    }
    set_queue_bytes_limit(96);
    SHOW("one 1-byte message under a 96-byte limit", open_queue(first_name, O_RDWR, 1, 1));
    set_queue_bytes_limit(97);
    mqd_t first = (mqd_t)SHOW_OK("under a 97-byte limit", open_queue(first_name, O_RDWR, 1, 1));
    mq_unlink(first_name);
    set_queue_bytes_limit(193);
    SHOW("a second queue under a 193-byte limit", open_queue(second_name, O_RDWR, 1, 1));
    mq_close(first);
    mqd_t second = (mqd_t)SHOW_OK("after the first queue is gone", open_queue(second_name, O_RDWR, 1, 1));
    mq_unlink(second_name);
    mq_close(second);
    set_queue_bytes_limit(82879);
    SHOW("default attributes under 82879 bytes", mq_open(first_name, O_RDWR | O_CREAT, 0600, NULL));
    set_queue_bytes_limit(82880);
    mqd_t defaults = (mqd_t)SHOW_OK("default attributes under 82880 bytes", mq_open(first_name, O_RDWR | O_CREAT, 0600, NULL));
    mq_unlink(first_name);
    mq_close(defaults);
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  SHOW("child status", status);
}

static void check_send_and_receive(void) {
  printf("-- mq_timedsend and mq_timedreceive\n");
  const char* name = mqueue_name("io");
  mqd_t queue = open_queue(name, O_RDWR | O_NONBLOCK, 2, 16);
  mqd_t reader = mq_open(name, O_RDONLY | O_NONBLOCK);
  mqd_t writer = mq_open(name, O_WRONLY | O_NONBLOCK);
  int pipe_fds[2];
  pipe(pipe_fds);
  char buffer[64] = {0};
  struct timespec bad_nanoseconds = {.tv_sec = 0, .tv_nsec = 1000000000L};
  struct timespec negative_nanoseconds = {.tv_sec = 0, .tv_nsec = -1};
  struct timespec negative_seconds = {.tv_sec = -1, .tv_nsec = 0};

  SHOW("send 17 bytes to a 16-byte queue", mq_send(queue, buffer, 17, 0));
  SHOW("send 16 bytes", mq_send(queue, buffer, 16, 0));
  SHOW("send priority MQ_PRIO_MAX", mq_send(queue, buffer, 1, 32768));
  SHOW("send priority MQ_PRIO_MAX - 1", mq_send(queue, buffer, 1, 32767));
  SHOW("send to -1", mq_send(-1, buffer, 1, 0));
  SHOW("send to a pipe", mq_send(pipe_fds[1], buffer, 1, 0));
  SHOW("send through O_RDONLY", mq_send(reader, buffer, 1, 0));
  SHOW("send with tv_nsec 1e9 on a queue with room", mq_timedsend(writer, buffer, 1, 0, &bad_nanoseconds));
  SHOW("send with tv_nsec -1", mq_timedsend(writer, buffer, 1, 0, &negative_nanoseconds));
  SHOW("send with tv_sec -1", mq_timedsend(writer, buffer, 1, 0, &negative_seconds));
  SHOW("send with a bad timeout pointer", mq_timedsend(writer, buffer, 1, 0, (struct timespec*)1));
  SHOW("send bad timeout and bad priority", mq_timedsend(-1, buffer, 1, 32768, &bad_nanoseconds));
  SHOW("send bad priority to -1", mq_send(-1, buffer, 1, 32768));
  SHOW("send too long through O_RDONLY", mq_send(reader, buffer, 17, 0));
  SHOW("send from a bad buffer", mq_send(writer, (const char*)1, 4, 0));
  SHOW("send to the full queue", mq_send(writer, buffer, 1, 0));
  SHOW("send too long to the full queue", mq_send(writer, buffer, 17, 0));

  SHOW("receive into 15 bytes", mq_receive(queue, buffer, 15, NULL));
  SHOW("receive from -1", mq_receive(-1, buffer, sizeof(buffer), NULL));
  SHOW("receive from a pipe", mq_receive(pipe_fds[0], buffer, sizeof(buffer), NULL));
  SHOW("receive through O_WRONLY", mq_receive(writer, buffer, sizeof(buffer), NULL));
  SHOW("receive with tv_nsec 1e9", mq_timedreceive(reader, buffer, sizeof(buffer), NULL, &bad_nanoseconds));
  SHOW("receive with a bad timeout pointer", mq_timedreceive(reader, buffer, sizeof(buffer), NULL, (struct timespec*)1));
  struct mq_attr attr;
  mq_getattr(queue, &attr);
  SHOW("curmsgs", attr.mq_curmsgs);
  SHOW("receive into a bad priority pointer", mq_receive(reader, buffer, sizeof(buffer), (unsigned*)1));
  SHOW("receive into a bad buffer", mq_receive(reader, (char*)1, sizeof(buffer), NULL));
  mq_getattr(queue, &attr);
  SHOW("curmsgs after the faults lost both messages", attr.mq_curmsgs);
  SHOW("receive from the empty queue", mq_receive(reader, buffer, sizeof(buffer), NULL));

  SHOW("read through O_WRONLY", read(writer, buffer, sizeof(buffer)));
  SHOW("write through O_RDONLY", write(reader, buffer, 1));
  SHOW("write through O_RDWR", write(queue, buffer, 1));
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  mq_close(reader);
  mq_close(writer);
  mq_close(queue);
}

static void check_notify(void) {
  printf("-- mq_notify\n");
  mqd_t queue = open_queue(mqueue_name("notify"), O_RDWR | O_NONBLOCK, 2, 16);
  int pipe_fds[2];
  pipe(pipe_fds);
  int sockets[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sockets);
  char cookie[NOTIFY_COOKIE_BYTES] = {0};

  struct sigevent event = {.sigev_notify = 99};
  SHOW("unknown sigev_notify", mq_notify(queue, &event));
  SHOW("unknown sigev_notify on -1", mq_notify(-1, &event));
  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = 65;
  SHOW("signal 65", mq_notify(queue, &event));
  event.sigev_signo = -1;
  SHOW("signal -1", mq_notify(queue, &event));
  event.sigev_notify = SIGEV_THREAD_ID;
  event.sigev_signo = SIGUSR1;
  SHOW("SIGEV_THREAD_ID", mq_notify(queue, &event));
  SHOW("bad sigevent pointer", syscall(SYS_mq_notify, queue, (struct sigevent*)1));

  struct sigevent thread = {.sigev_notify = SIGEV_THREAD};
  thread.sigev_value.sival_ptr = cookie;
  thread.sigev_signo = pipe_fds[0];
  SHOW("raw SIGEV_THREAD with a pipe", syscall(SYS_mq_notify, queue, &thread));
  thread.sigev_signo = sockets[0];
  SHOW("raw SIGEV_THREAD with a unix socket", syscall(SYS_mq_notify, queue, &thread));
  thread.sigev_signo = -1;
  SHOW("raw SIGEV_THREAD with fd -1", syscall(SYS_mq_notify, queue, &thread));
  thread.sigev_value.sival_ptr = (void*)1;
  SHOW("raw SIGEV_THREAD with a bad cookie", syscall(SYS_mq_notify, queue, &thread));

  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = SIGUSR1;
  SHOW("register on -1", mq_notify(-1, &event));
  SHOW("register on a pipe", mq_notify(pipe_fds[0], &event));
  SHOW("remove on a pipe", mq_notify(pipe_fds[0], NULL));
  SHOW("register", mq_notify(queue, &event));
  SHOW("register again", mq_notify(queue, &event));
  struct sigevent none = {.sigev_notify = SIGEV_NONE};
  SHOW("register SIGEV_NONE while taken", mq_notify(queue, &none));
  SHOW("remove", mq_notify(queue, NULL));
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  close(sockets[0]);
  close(sockets[1]);
  mq_close(queue);
}

static void check_getsetattr(void) {
  printf("-- mq_getsetattr\n");
  mqd_t queue = open_queue(mqueue_name("attr"), O_RDWR, 2, 16);
  int pipe_fds[2];
  pipe(pipe_fds);
  struct mq_attr attr = {.mq_flags = O_NONBLOCK | O_APPEND};
  struct mq_attr old;
  SHOW("mq_flags with O_APPEND", mq_setattr(queue, &attr, &old));
  SHOW("mq_flags with O_APPEND on -1", mq_setattr(-1, &attr, &old));
  attr.mq_flags = O_NONBLOCK;
  SHOW("mq_setattr on -1", mq_setattr(-1, &attr, &old));
  SHOW("mq_getattr on a pipe", mq_getattr(pipe_fds[0], &old));
  SHOW("bad new attr pointer", syscall(SYS_mq_getsetattr, queue, (struct mq_attr*)1, NULL));
  SHOW("bad old attr pointer", syscall(SYS_mq_getsetattr, queue, &attr, (struct mq_attr*)1));
  // The new flags are set before the old attributes fail to copy out.
  SHOW("F_GETFL has O_NONBLOCK", (fcntl(queue, F_GETFL) & O_NONBLOCK) != 0);
  SHOW("both pointers NULL", syscall(SYS_mq_getsetattr, queue, NULL, NULL));
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  mq_close(queue);
}

int main(void) {
  check_names();
  check_open();
  check_permissions();
  check_queue_bytes_limit();
  check_send_and_receive();
  check_notify();
  check_getsetattr();
  return finish_checks();
}
