// System V message queues. The checks cover selection by type (any,
// equal, lowest up to a bound, MSG_EXCEPT), MSG_NOERROR, E2BIG and
// IPC_NOWAIT. They also cover a receive woken by a child's send, a send
// that waits for room under msg_qbytes, EIDRM to a waiter, MSG_COPY,
// IPC_STAT, IPC_SET and the errno of each bad input. Queues are IPC_PRIVATE or keyed by ftok on a temporary file, and
// every queue made is removed at exit.
#include <signal.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

struct message {
  long type;
  char text[64];
};

static int made[16];
static int made_count;
static char key_dir[] = "/tmp/sysv_msg_XXXXXX";
static char key_file[64];

static void remove_all(void);

// A run killed by its time limit or by SIGALRM still removes its objects.
static void remove_and_exit(int signal) {
  remove_all();
  _exit(128 + signal);
}

static void remove_all(void) {
  for (int i = 0; i < made_count; ++i) {
    msgctl(made[i], IPC_RMID, NULL);
  }
  if (key_file[0] != '\0') {
    unlink(key_file);
    rmdir(key_dir);
  }
}

static int make_queue(key_t key, int flags) {
  int id = msgget(key, flags);
  if (id >= 0 && made_count < 16) {
    made[made_count++] = id;
  }
  return id;
}

static void sleep_ms(long ms) {
  struct timespec delay = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&delay, NULL);
}

// A child about to block writes a byte to `ready`; the parent reads it and
// gives the child time to reach its wait. Queues have no waiter count to
// poll, as semaphores have.
static int ready[2];

static void announce_wait(void) { write(ready[1], "x", 1); }

static void await_waiter(void) {
  char byte;
  read(ready[0], &byte, 1);
  sleep_ms(300);
}

static int send_text(int id, long type, const char* text, int flags) {
  struct message message = {.type = type};
  strncpy(message.text, text, sizeof(message.text) - 1);
  return msgsnd(id, &message, strlen(text) + 1, flags);
}

// Receives with the given type and flags and prints the type and text.
static void show_receive(const char* label, int id, long type, int flags) {
  struct message message = {0};
  errno = 0;
  ssize_t got = msgrcv(id, &message, sizeof(message.text), type, flags);
  if (got < 0) {
    printf("%s = -1 %s\n", label, errno_name(errno));
  } else {
    printf("%s = %zd, type %ld \"%s\"\n", label, got, message.type, message.text);
  }
}

static void show_counts(const char* label, int id) {
  struct msqid_ds status;
  if (msgctl(id, IPC_STAT, &status) != 0) {
    printf("%s: -1 %s\n", label, errno_name(errno));
    return;
  }
  printf("%s: qnum %lu cbytes %lu qbytes %lu\n", label, (unsigned long)status.msg_qnum,
         (unsigned long)status.__msg_cbytes, (unsigned long)status.msg_qbytes);
}

static void check_types(void) {
  printf("-- types\n");
  int id = make_queue(IPC_PRIVATE, 0600);
  EXPECT("msgget", id >= 0);
  SHOW("send type 3", send_text(id, 3, "three", 0));
  SHOW("send type 1", send_text(id, 1, "one", 0));
  SHOW("send type 2", send_text(id, 2, "two", 0));
  SHOW("send type 1 again", send_text(id, 1, "one again", 0));
  SHOW("send type 5", send_text(id, 5, "five", 0));
  show_counts("queued", id);

  show_receive("msgtyp 0", id, 0, 0);
  show_receive("msgtyp 1", id, 1, 0);
  show_receive("msgtyp -2", id, -2, 0);
  show_receive("msgtyp 2 with MSG_EXCEPT", id, 2, MSG_EXCEPT);
  show_receive("msgtyp 4 with IPC_NOWAIT", id, 4, IPC_NOWAIT);
  show_receive("msgtyp -4 with IPC_NOWAIT", id, -4, IPC_NOWAIT);
  show_receive("empty queue with IPC_NOWAIT", id, 0, IPC_NOWAIT);
  show_counts("empty", id);

  // A message larger than the buffer: E2BIG, or cut with MSG_NOERROR.
  send_text(id, 9, "a long message", 0);
  struct message small = {0};
  SHOW("msgrcv into 4 bytes", msgrcv(id, &small, 4, 0, 0));
  SHOW("msgrcv into 4 bytes with MSG_NOERROR", msgrcv(id, &small, 4, 0, MSG_NOERROR));
  printf("cut text \"%.4s\"\n", small.text);
  show_counts("after the cut", id);

  // MSG_COPY copies the message at an index without removing it.
  send_text(id, 1, "first", 0);
  send_text(id, 2, "second", 0);
  show_receive("MSG_COPY index 1", id, 1, MSG_COPY | IPC_NOWAIT);
  show_receive("MSG_COPY index 2", id, 2, MSG_COPY | IPC_NOWAIT);
  show_receive("MSG_COPY without IPC_NOWAIT", id, 0, MSG_COPY);
  show_receive("MSG_COPY with MSG_EXCEPT", id, 0, MSG_COPY | IPC_NOWAIT | MSG_EXCEPT);
  show_counts("after MSG_COPY", id);

  // A zero-length message.
  struct message empty = {.type = 4};
  SHOW("send 0 bytes", msgsnd(id, &empty, 0, 0));
  SHOW("receive 0 bytes", msgrcv(id, &empty, sizeof(empty.text), 4, 0));
}

static void check_waits(void) {
  printf("-- waits\n");
  int id = make_queue(IPC_PRIVATE, 0600);

  // A receiver blocked on type 7 ignores type 6 and wakes for type 7.
  pid_t child = fork();
  if (child == 0) {
    sleep_ms(100);
    send_text(id, 6, "not this", 0);
    send_text(id, 7, "from the child", 0);
    _exit(0);
  }
  show_receive("blocking msgrcv of type 7", id, 7, 0);
  int status;
  waitpid(child, &status, 0);
  show_receive("type 6 left", id, 6, IPC_NOWAIT);

  // msg_qbytes limits the bytes queued: a sender waits for room.
  struct msqid_ds queue_status;
  msgctl(id, IPC_STAT, &queue_status);
  queue_status.msg_qbytes = 16;
  SHOW("IPC_SET msg_qbytes 16", msgctl(id, IPC_SET, &queue_status));
  SHOW("send 10 bytes", send_text(id, 1, "123456789", 0));
  SHOW("send 10 more with IPC_NOWAIT", send_text(id, 1, "abcdefghi", IPC_NOWAIT));
  child = fork();
  if (child == 0) {
    announce_wait();
    int result = send_text(id, 2, "abcdefghi", 0);
    printf("child's blocked send = %d\n", result);
    fflush(stdout);
    _exit(0);
  }
  await_waiter();
  show_counts("while the child waits", id);
  // The child prints once woken, so the parent waits for it first.
  struct message received = {0};
  ssize_t got = msgrcv(id, &received, sizeof(received.text), 1, 0);
  waitpid(child, &status, 0);
  printf("receive to make room = %zd, type %ld \"%s\"\n", got, received.type, received.text);
  show_receive("the child's message", id, 2, IPC_NOWAIT);

  // IPC_RMID ends a wait with EIDRM.
  child = fork();
  if (child == 0) {
    announce_wait();
    show_receive("waiter after IPC_RMID", id, 0, 0);
    fflush(stdout);
    _exit(0);
  }
  await_waiter();
  long removed = msgctl(id, IPC_RMID, NULL);
  int remove_error = errno;
  waitpid(child, &status, 0);
  show_result("IPC_RMID with a waiter", removed, remove_error);
  SHOW("msgsnd to the removed queue", send_text(id, 1, "x", 0));
}

static void on_signal(int signal) { (void)signal; }

// A signal with a handler ends a wait with EINTR; without SA_RESTART.
static void check_signal(void) {
  printf("-- signal\n");
  int id = make_queue(IPC_PRIVATE, 0600);
  struct sigaction action = {.sa_handler = on_signal};
  sigaction(SIGUSR1, &action, NULL);
  pid_t child = fork();
  if (child == 0) {
    announce_wait();
    show_receive("msgrcv after a signal", id, 0, 0);
    fflush(stdout);
    _exit(0);
  }
  await_waiter();
  kill(child, SIGUSR1);
  int status;
  waitpid(child, &status, 0);
}

static void check_stat(void) {
  printf("-- msgctl\n");
  int id = make_queue(IPC_PRIVATE, 0640);
  struct msqid_ds status;
  SHOW("IPC_STAT", msgctl(id, IPC_STAT, &status));
  printf("mode %o qnum %lu qbytes %lu\n", status.msg_perm.mode, (unsigned long)status.msg_qnum,
         (unsigned long)status.msg_qbytes);
  EXPECT("cuid is the uid", status.msg_perm.cuid == getuid());
  EXPECT("stime is 0 before msgsnd", status.msg_stime == 0);
  send_text(id, 1, "x", 0);
  msgctl(id, IPC_STAT, &status);
  EXPECT("lspid is the caller", status.msg_lspid == getpid());
  EXPECT("stime is set", status.msg_stime != 0);

  status.msg_perm.mode = 0604;
  SHOW("IPC_SET", msgctl(id, IPC_SET, &status));
  msgctl(id, IPC_STAT, &status);
  printf("mode after IPC_SET %o\n", status.msg_perm.mode);
  if (geteuid() == 0) {
    status.msg_qbytes = 20000;
    SHOW("IPC_SET msg_qbytes past MSGMNB as root", msgctl(id, IPC_SET, &status));
  }

  // Linux keeps only the low 32 bits of msg_qbytes.
  status.msg_qbytes = (1UL << 40) + 100;
  SHOW("IPC_SET msg_qbytes 2^40 + 100", msgctl(id, IPC_SET, &status));
  msgctl(id, IPC_STAT, &status);
  printf("msg_qbytes after 2^40 + 100: %lu\n", (unsigned long)status.msg_qbytes);

  struct msginfo info;
  long max_index = msgctl(id, IPC_INFO, (struct msqid_ds*)&info);
  EXPECT("IPC_INFO returns an index", max_index >= 0);
  printf("msgssz %d msgseg %d\n", info.msgssz, info.msgseg);
  EXPECT("MSG_INFO returns an index", msgctl(id, MSG_INFO, (struct msqid_ds*)&info) >= 0);
  EXPECT("MSG_INFO counts this queue", info.msgpool >= 1);
  long found = -1;
  for (long index = 0; index <= max_index; ++index) {
    if (msgctl((int)index, MSG_STAT, &status) == id) {
      found = index;
    }
  }
  EXPECT("MSG_STAT finds the queue", found >= 0);
  EXPECT("MSG_STAT_ANY finds the queue", msgctl((int)found, MSG_STAT_ANY, &status) == id);
}

static void check_errors(void) {
  printf("-- errors\n");
  int id = make_queue(IPC_PRIVATE, 0600);
  struct message message = {.type = 1};
  SHOW("msgsnd type 0", msgsnd(id, &(struct message){.type = 0}, 1, 0));
  SHOW("msgsnd type -1", msgsnd(id, &(struct message){.type = -1}, 1, 0));
  static char big[8200 + sizeof(long)];
  *(long*)big = 1;
  SHOW("msgsnd 8193 bytes", msgsnd(id, big, 8193, 0));
  SHOW("msgsnd 8192 bytes", msgsnd(id, big, 8192, 0));
  SHOW("msgsnd bad pointer", msgsnd(id, (void*)1, 1, 0));
  SHOW("msgsnd msqid -1", msgsnd(-1, &message, 1, 0));
  SHOW("msgsnd unknown id", msgsnd(id + 1000 * 32768, &message, 1, 0));
  SHOW("msgrcv negative size", msgrcv(id, &message, (size_t)-1, 0, 0));
  SHOW("msgrcv bad buffer", msgrcv(id, (void*)1, 8192, 0, 0));
  show_counts("the message was taken", id);
  SHOW("msgrcv msqid -1", msgrcv(-1, &message, 8, 0, 0));
  SHOW("msgctl unknown command", msgctl(id, 99, NULL));
  SHOW("msgctl msqid -1", msgctl(-1, IPC_STAT, NULL));
  SHOW("IPC_STAT bad buffer", msgctl(id, IPC_STAT, (struct msqid_ds*)1));
  SHOW("IPC_SET bad buffer", msgctl(id, IPC_SET, (struct msqid_ds*)1));

  key_t key = ftok(key_file, 'q');
  SHOW("msgget of an absent key", msgget(key, 0600));
  int keyed = make_queue(key, IPC_CREAT | IPC_EXCL | 0600);
  EXPECT("msgget with a new key", keyed >= 0);
  SHOW("msgget it again", msgget(key, 0600) == keyed);
  SHOW("msgget IPC_CREAT|IPC_EXCL on it", msgget(key, IPC_CREAT | IPC_EXCL | 0600));
  SHOW("IPC_RMID", msgctl(keyed, IPC_RMID, NULL));
  SHOW("IPC_RMID again", msgctl(keyed, IPC_RMID, NULL));
  SHOW("msgget of the removed key", msgget(key, 0600));
}

static void check_permissions(void) {
  printf("-- permissions\n");
  if (geteuid() != 0) {
    printf("skipped: not root\n");
    return;
  }
  int private_queue = make_queue(IPC_PRIVATE, 0600);
  int writable = make_queue(IPC_PRIVATE, 0602);
  send_text(private_queue, 1, "secret", 0);
  pid_t child = fork();
  if (child == 0) {
    if (setresgid(2000, 2000, 2000) != 0 || setresuid(2000, 2000, 2000) != 0) {
      printf("setresuid failed\n");
      _exit(1);
    }
    SHOW("msgsnd to a 0600 queue", send_text(private_queue, 1, "x", 0));
    show_receive("msgrcv from a 0600 queue", private_queue, 0, IPC_NOWAIT);
    SHOW("msgsnd to a 0602 queue", send_text(writable, 1, "x", 0));
    show_receive("msgrcv from a 0602 queue", writable, 0, IPC_NOWAIT);
    struct msqid_ds status;
    SHOW("IPC_STAT of a 0602 queue", msgctl(writable, IPC_STAT, &status));
    SHOW("IPC_RMID by another uid", msgctl(writable, IPC_RMID, NULL));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  SHOW("child status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void) {
  atexit(remove_all);
  signal(SIGTERM, remove_and_exit);
  signal(SIGALRM, remove_and_exit);
  alarm(50);
  if (pipe(ready) != 0) {
    printf("pipe failed\n");
    return 1;
  }
  if (mkdtemp(key_dir) == NULL) {
    printf("mkdtemp failed\n");
    return 1;
  }
  snprintf(key_file, sizeof(key_file), "%s/key", key_dir);
  FILE* file = fopen(key_file, "w");
  if (file != NULL) {
    fclose(file);
  }

  check_types();
  check_waits();
  check_signal();
  check_stat();
  check_errors();
  check_permissions();
  return check_failures == 0 ? 0 : 1;
}
