// System V semaphores: values and their controls, atomic operations,
// IPC_NOWAIT and timeouts (the maximum too), waits woken by another
// process, by IPC_RMID and by a signal, SEM_UNDO undone when a child
// exits, IPC_STAT, and the errno of each bad input. Sets are IPC_PRIVATE
// or keyed by ftok on a temporary file, and every set made is removed at
// exit.
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

union semun {
  int val;
  struct semid_ds* buf;
  unsigned short* array;
  struct seminfo* info;
};

static int made[16];
static int made_count;
static char key_dir[] = "/tmp/sysv_sem_XXXXXX";
static char key_file[64];

static void remove_all(void);

// A run killed by its time limit or by SIGALRM still removes its objects.
static void remove_and_exit(int signal) {
  remove_all();
  _exit(128 + signal);
}

static void remove_all(void) {
  for (int i = 0; i < made_count; ++i) {
    semctl(made[i], 0, IPC_RMID);
  }
  if (key_file[0] != '\0') {
    unlink(key_file);
    rmdir(key_dir);
  }
}

static int make_set(key_t key, int count, int flags) {
  int id = semget(key, count, flags);
  if (id >= 0 && made_count < 16) {
    made[made_count++] = id;
  }
  return id;
}

static void sleep_ms(long ms) {
  struct timespec delay = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&delay, NULL);
}

// Waits until `count` tasks wait to decrement (or, with zero, for zero)
// semaphore `num`, so that the next step runs while they are blocked.
static void wait_for_waiters(int id, int num, int command, int count) {
  for (int i = 0; i < 500 && semctl(id, num, command) != count; ++i) {
    sleep_ms(10);
  }
}

static void print_all(const char* label, int id, int count) {
  unsigned short values[8] = {0};
  union semun arg = {.array = values};
  long result = semctl(id, 0, GETALL, arg);
  printf("%s:", label);
  if (result != 0) {
    printf(" -1 %s\n", errno_name(errno));
    return;
  }
  for (int i = 0; i < count; ++i) {
    printf(" %u", values[i]);
  }
  printf("\n");
}

static void on_signal(int signal) { (void)signal; }

static void check_values(void) {
  printf("-- values\n");
  int id = make_set(IPC_PRIVATE, 3, 0600);
  EXPECT("semget", id >= 0);
  SHOW("GETVAL initial", semctl(id, 0, GETVAL));
  SHOW("SETVAL 5", semctl(id, 1, SETVAL, (union semun){.val = 5}));
  SHOW("GETVAL", semctl(id, 1, GETVAL));
  EXPECT("GETPID is the caller", semctl(id, 1, GETPID) == getpid());
  unsigned short values[3] = {1, 2, 3};
  SHOW("SETALL", semctl(id, 0, SETALL, (union semun){.array = values}));
  print_all("GETALL", id, 3);
  SHOW("GETNCNT", semctl(id, 0, GETNCNT));
  SHOW("GETZCNT", semctl(id, 0, GETZCNT));

  // All operations happen, or none does.
  struct sembuf both[2] = {{0, -1, 0}, {2, -4, IPC_NOWAIT}};
  SHOW("semop that cannot complete", semop(id, both, 2));
  print_all("values unchanged", id, 3);
  struct sembuf pair[2] = {{0, -1, 0}, {2, 2, 0}};
  SHOW("semop of two semaphores", semop(id, pair, 2));
  print_all("after", id, 3);
  struct sembuf twice[2] = {{1, -1, 0}, {1, -1, 0}};
  SHOW("semop naming one semaphore twice", semop(id, twice, 2));
  print_all("after", id, 3);

  struct sembuf zero = {0, 0, IPC_NOWAIT};
  SHOW("wait for zero on zero", semop(id, &zero, 1));
  struct sembuf take = {1, -1, IPC_NOWAIT};
  semctl(id, 1, SETVAL, (union semun){.val = 0});
  SHOW("IPC_NOWAIT below zero", semop(id, &take, 1));
  struct sembuf slow = {1, -1, 0};
  struct timespec timeout = {0, 50 * 1000 * 1000};
  SHOW("semtimedop timing out", semtimedop(id, &slow, 1, &timeout));
  struct timespec zero_time = {0, 0};
  SHOW("semtimedop with a zero timeout", semtimedop(id, &slow, 1, &zero_time));
}

static void check_stat(void) {
  printf("-- IPC_STAT and IPC_SET\n");
  int id = make_set(IPC_PRIVATE, 4, 0640);
  struct semid_ds status;
  SHOW("IPC_STAT", semctl(id, 0, IPC_STAT, (union semun){.buf = &status}));
  printf("mode %o nsems %lu\n", status.sem_perm.mode & 0777, (unsigned long)status.sem_nsems);
  EXPECT("cuid is the uid", status.sem_perm.cuid == getuid());
  EXPECT("uid is the euid", status.sem_perm.uid == geteuid());
  EXPECT("otime is 0 before a semop", status.sem_otime == 0);
  EXPECT("ctime is set", status.sem_ctime != 0);
  struct sembuf add = {0, 1, 0};
  semop(id, &add, 1);
  semctl(id, 0, IPC_STAT, (union semun){.buf = &status});
  EXPECT("otime is set by a semop", status.sem_otime != 0);

  status.sem_perm.mode = 0604;
  SHOW("IPC_SET", semctl(id, 0, IPC_SET, (union semun){.buf = &status}));
  semctl(id, 0, IPC_STAT, (union semun){.buf = &status});
  printf("mode after IPC_SET %o\n", status.sem_perm.mode & 0777);

  struct seminfo info;
  long max_index = semctl(id, 0, IPC_INFO, (union semun){.info = &info});
  EXPECT("IPC_INFO returns an index", max_index >= 0);
  printf("semvmx %d semopm %d semmsl %d\n", info.semvmx, info.semopm, info.semmsl);
  EXPECT("SEM_INFO returns an index", semctl(id, 0, SEM_INFO, (union semun){.info = &info}) >= 0);
  EXPECT("SEM_INFO counts this set", info.semusz >= 1);

  // SEM_STAT takes an index and returns the id.
  long found = -1;
  for (long index = 0; index <= max_index; ++index) {
    if (semctl((int)index, 0, SEM_STAT, (union semun){.buf = &status}) == id) {
      found = index;
    }
  }
  EXPECT("SEM_STAT finds the set", found >= 0);
  EXPECT("SEM_STAT_ANY finds the set",
         semctl((int)found, 0, SEM_STAT_ANY, (union semun){.buf = &status}) == id);
}

static void check_errors(void) {
  printf("-- errors\n");
  int id = make_set(IPC_PRIVATE, 2, 0600);
  struct sembuf op = {0, 1, 0};
  SHOW("semget nsems -1", semget(IPC_PRIVATE, -1, 0600));
  SHOW("semget nsems 0", semget(IPC_PRIVATE, 0, 0600));
  SHOW("semget nsems 32001", semget(IPC_PRIVATE, 32001, 0600));
  SHOW("semop nsops 0", semop(id, &op, 0));
  SHOW("semop semid -1", semop(-1, &op, 1));
  static struct sembuf many[501];
  SHOW("semop nsops 501", semop(id, many, 501));
  SHOW("semop bad sops", semop(id, (struct sembuf*)1, 1));
  struct sembuf past = {2, 1, 0};
  SHOW("semop sem_num past the set", semop(id, &past, 1));
  SHOW("semop unknown id", semop(id + 1000 * 32768, &op, 1));
  SHOW("semtimedop bad timeout", semtimedop(id, &op, 1, (struct timespec*)1));
  struct timespec bad = {0, 1000000000};
  struct sembuf wait_op = {0, -1, 0};
  SHOW("semtimedop tv_nsec 1e9", semtimedop(id, &wait_op, 1, &bad));
  SHOW("SETVAL 32768", semctl(id, 0, SETVAL, (union semun){.val = 32768}));
  SHOW("SETVAL -1", semctl(id, 0, SETVAL, (union semun){.val = -1}));
  SHOW("SETVAL semnum 2", semctl(id, 2, SETVAL, (union semun){.val = 1}));
  SHOW("GETVAL semnum -1", semctl(id, -1, GETVAL));
  unsigned short big[2] = {1, 40000};
  SHOW("SETALL above SEMVMX", semctl(id, 0, SETALL, (union semun){.array = big}));
  SHOW("SETALL bad array", semctl(id, 0, SETALL, (union semun){.array = (unsigned short*)1}));
  SHOW("GETALL bad array", semctl(id, 0, GETALL, (union semun){.array = (unsigned short*)1}));
  semctl(id, 0, SETVAL, (union semun){.val = 32767});
  SHOW("semop past SEMVMX", semop(id, &op, 1));
  semctl(id, 0, SETVAL, (union semun){.val = 0});
  struct sembuf undo_op = {0, 32767, SEM_UNDO};
  SHOW("SEM_UNDO of 32767", semop(id, &undo_op, 1));
  semctl(id, 0, SETVAL, (union semun){.val = 0});
  SHOW("IPC_STAT bad buffer", semctl(id, 0, IPC_STAT, (union semun){.buf = (void*)1}));
  SHOW("semctl unknown command", semctl(id, 0, 99));
  SHOW("semctl semid -1", semctl(-1, 0, GETVAL));
  SHOW("semctl unknown id", semctl(id + 1000 * 32768, 0, GETVAL));

  // Keys.
  key_t key = ftok(key_file, 's');
  int keyed = make_set(key, 2, IPC_CREAT | IPC_EXCL | 0600);
  EXPECT("semget with a new key", keyed >= 0);
  SHOW("semget the same key again", semget(key, 2, 0600) == keyed);
  SHOW("semget IPC_CREAT|IPC_EXCL on it", semget(key, 2, IPC_CREAT | IPC_EXCL | 0600));
  SHOW("semget more semaphores than it has", semget(key, 3, 0600));
  SHOW("semget 0 semaphores", semget(key, 0, 0600) == keyed);
  SHOW("semctl IPC_RMID", semctl(keyed, 0, IPC_RMID));
  SHOW("semget the removed key", semget(key, 2, 0600));
  SHOW("semctl on the removed id", semctl(keyed, 0, GETVAL));
}

// A child decrements with SEM_UNDO and exits, and the parent finds the value
// restored. Without SEM_UNDO the change stays.
static void check_undo(void) {
  printf("-- SEM_UNDO\n");
  int id = make_set(IPC_PRIVATE, 2, 0600);
  unsigned short values[2] = {3, 3};
  semctl(id, 0, SETALL, (union semun){.array = values});
  pid_t child = fork();
  if (child == 0) {
    struct sembuf ops[2] = {{0, -2, SEM_UNDO}, {1, -1, 0}};
    int result = semop(id, ops, 2);
    printf("child semop = %d, values %d %d\n", result, semctl(id, 0, GETVAL),
           semctl(id, 1, GETVAL));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  print_all("after the child exited", id, 2);
  EXPECT("GETPID after the undo is the child", semctl(id, 0, GETPID) == child);

  // SETVAL clears the adjustment: the child's exit leaves the new value.
  child = fork();
  if (child == 0) {
    struct sembuf op = {0, -1, SEM_UNDO};
    semop(id, &op, 1);
    semctl(id, 0, SETVAL, (union semun){.val = 1});
    _exit(0);
  }
  waitpid(child, &status, 0);
  print_all("after SETVAL cleared the adjustment", id, 2);

  // An adjustment is clamped at 0 when the value went lower since.
  child = fork();
  if (child == 0) {
    struct sembuf op = {0, 1, SEM_UNDO};
    semop(id, &op, 1);
    struct sembuf drain = {0, -2, 0};
    semop(id, &drain, 1);
    _exit(0);
  }
  waitpid(child, &status, 0);
  print_all("after a clamped undo", id, 2);
}

static void* take_with_undo(void* argument) {
  struct sembuf op = {0, -1, SEM_UNDO};
  long result = semop(*(int*)argument, &op, 1);
  return (void*)result;
}

// Threads share their process's adjustments (glibc's pthread_create
// passes CLONE_SYSVSEM): a thread's exit undoes nothing, the process's
// exit undoes what all its threads did.
static void check_thread_undo(void) {
  printf("-- SEM_UNDO in threads\n");
  int id = make_set(IPC_PRIVATE, 1, 0600);
  semctl(id, 0, SETVAL, (union semun){.val = 3});
  pid_t child = fork();
  if (child == 0) {
    pthread_t thread;
    void* result = NULL;
    pthread_create(&thread, NULL, take_with_undo, &id);
    pthread_join(thread, &result);
    printf("thread semop = %ld, value after the thread exited %d\n", (long)result,
           semctl(id, 0, GETVAL));
    take_with_undo(&id);
    printf("value before the process exits %d\n", semctl(id, 0, GETVAL));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  SHOW("value after the process exited", semctl(id, 0, GETVAL));
}

// A parent blocks until a child makes its operation possible.
static void check_wakeups(void) {
  printf("-- waits\n");
  int id = make_set(IPC_PRIVATE, 2, 0600);
  pid_t child = fork();
  if (child == 0) {
    wait_for_waiters(id, 0, GETNCNT, 1);
    printf("child sees GETNCNT %d\n", semctl(id, 0, GETNCNT));
    fflush(stdout);
    struct sembuf op = {0, 2, 0};
    semop(id, &op, 1);
    _exit(0);
  }
  struct sembuf take = {0, -2, 0};
  SHOW("blocking semop", semop(id, &take, 1));
  int status;
  waitpid(child, &status, 0);
  SHOW("value after the wake", semctl(id, 0, GETVAL));

  // A wait for zero ends when the value reaches zero.
  semctl(id, 1, SETVAL, (union semun){.val = 1});
  child = fork();
  if (child == 0) {
    wait_for_waiters(id, 1, GETZCNT, 1);
    printf("child sees GETZCNT %d\n", semctl(id, 1, GETZCNT));
    fflush(stdout);
    struct sembuf op = {1, -1, 0};
    semop(id, &op, 1);
    _exit(0);
  }
  struct sembuf zero = {1, 0, 0};
  SHOW("wait for zero", semop(id, &zero, 1));
  waitpid(child, &status, 0);

  // IPC_RMID ends a wait with EIDRM.
  child = fork();
  if (child == 0) {
    struct sembuf op = {0, -1, 0};
    int result = semop(id, &op, 1);
    printf("waiter after IPC_RMID = %d %s\n", result, result == 0 ? "" : errno_name(errno));
    fflush(stdout);
    _exit(0);
  }
  wait_for_waiters(id, 0, GETNCNT, 1);
  // The result prints after the child's line, which the removal lets run.
  long removed = semctl(id, 0, IPC_RMID);
  int remove_error = errno;
  waitpid(child, &status, 0);
  show_result("IPC_RMID with a waiter", removed, remove_error);

  // A signal ends a wait with EINTR, even with SA_RESTART.
  id = make_set(IPC_PRIVATE, 1, 0600);
  struct sigaction action = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
  sigaction(SIGUSR1, &action, NULL);
  child = fork();
  if (child == 0) {
    struct sembuf op = {0, -1, 0};
    int result = semop(id, &op, 1);
    printf("waiter after a signal = %d %s\n", result, result == 0 ? "" : errno_name(errno));
    fflush(stdout);
    _exit(0);
  }
  wait_for_waiters(id, 0, GETNCNT, 1);
  kill(child, SIGUSR1);
  waitpid(child, &status, 0);
  SHOW("GETNCNT after the interrupted wait", semctl(id, 0, GETNCNT));

  // A wait with the maximum timespec blocks until the signal ends it.
  child = fork();
  if (child == 0) {
    struct sembuf op = {0, -1, 0};
    struct timespec maximum = {LONG_MAX, 999999999};
    int result = semtimedop(id, &op, 1, &maximum);
    printf("waiter with the maximum timeout = %d %s\n", result,
           result == 0 ? "" : errno_name(errno));
    fflush(stdout);
    _exit(0);
  }
  wait_for_waiters(id, 0, GETNCNT, 1);
  kill(child, SIGUSR1);
  waitpid(child, &status, 0);
}

// A process of another uid gets EACCES from a set it may not use.
static void check_permissions(void) {
  printf("-- permissions\n");
  if (geteuid() != 0) {
    printf("skipped: not root\n");
    return;
  }
  int private_set = make_set(IPC_PRIVATE, 1, 0600);
  int readable = make_set(IPC_PRIVATE, 1, 0604);
  pid_t child = fork();
  if (child == 0) {
    if (setresgid(2000, 2000, 2000) != 0 || setresuid(2000, 2000, 2000) != 0) {
      printf("setresuid failed\n");
      _exit(1);
    }
    struct sembuf op = {0, 1, 0};
    SHOW("semop on a 0600 set", semop(private_set, &op, 1));
    SHOW("GETVAL on a 0600 set", semctl(private_set, 0, GETVAL));
    struct semid_ds status;
    SHOW("IPC_STAT on a 0600 set", semctl(private_set, 0, IPC_STAT, (union semun){.buf = &status}));
    SHOW("GETVAL on a 0604 set", semctl(readable, 0, GETVAL));
    SHOW("semop on a 0604 set", semop(readable, &op, 1));
    struct sembuf zero = {0, 0, IPC_NOWAIT};
    SHOW("wait for zero on a 0604 set", semop(readable, &zero, 1));
    SHOW("IPC_RMID by another uid", semctl(readable, 0, IPC_RMID));
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
  if (mkdtemp(key_dir) == NULL) {
    printf("mkdtemp failed\n");
    return 1;
  }
  snprintf(key_file, sizeof(key_file), "%s/key", key_dir);
  FILE* file = fopen(key_file, "w");
  if (file != NULL) {
    fclose(file);
  }

  check_values();
  check_stat();
  check_errors();
  check_undo();
  check_thread_undo();
  check_wakeups();
  check_permissions();
  return check_failures == 0 ? 0 : 1;
}
