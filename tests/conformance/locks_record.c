// fcntl record locks between processes, on the two ends of a pipe. The
// program shows what F_GETLK reports from another process, splitting and
// merging ranges, upgrade and downgrade, and deadlock detection (EDEADLK).
// It interrupts F_SETLKW by a signal with and without SA_RESTART. It shows
// release on closing any fd of the inode and at exit, no inheritance by
// fork, OFD locks against POSIX locks, /proc/locks and the argument errors.
#include <signal.h>
#include <sys/time.h>

#include "locks_util.h"

static int read_end;
static int write_end;
static pid_t parent_pid;

// Reports the first lock that blocks a write lock (or a read lock) on the
// whole file, from a child process.
static void child_tests_whole_file(void) {
  show_lock_test("  child F_GETLK F_WRLCK whole", write_end, F_GETLK, F_WRLCK, 0, 0, parent_pid);
  show_lock_test("  child F_GETLK F_RDLCK whole", read_end, F_GETLK, F_RDLCK, 0, 0, parent_pid);
}

static void child_tests_byte_50(void) {
  show_lock_test("  child F_GETLK F_WRLCK [50]", write_end, F_GETLK, F_WRLCK, 50, 1, parent_pid);
}

static void show_ranges(void) {
  printf("ranges\n");
  SHOW("F_SETLK F_WRLCK [10, 20)", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 10, 10));
  in_child(child_tests_whole_file);
  SHOW("F_SETLK F_UNLCK whole", record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
  in_child(child_tests_whole_file);

  // A negative length covers the bytes before l_start.
  SHOW("F_SETLK F_WRLCK start 20 len -10",
       record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 20, -10));
  in_child(child_tests_whole_file);

  // A read lock over [0, 100) split by a write lock over [40, 60).
  SHOW("F_SETLK F_RDLCK [0, 100)", record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 100));
  SHOW("F_SETLK F_WRLCK [40, 60)", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 40, 20));
  in_child(child_tests_whole_file);
  in_child(child_tests_byte_50);

  // Unlocking the middle leaves two read locks.
  SHOW("F_SETLK F_UNLCK [40, 60)", record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 40, 20));
  in_child(child_tests_whole_file);
  in_child(child_tests_byte_50);

  // A read lock over the gap merges the three into one.
  SHOW("F_SETLK F_RDLCK [40, 60)", record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 40, 20));
  in_child(child_tests_whole_file);
  // Adjacent read locks merge as well.
  SHOW("F_SETLK F_RDLCK [100, 110)", record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 100, 10));
  in_child(child_tests_whole_file);
  // A lock to the end of the file.
  SHOW("F_SETLK F_WRLCK from 200", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 200, 0));
  in_child(child_tests_byte_50);
  show_lock_test("  own F_GETLK F_WRLCK whole", write_end, F_GETLK, F_WRLCK, 0, 0, parent_pid);
  SHOW("F_SETLK F_UNLCK whole", record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
  in_child(child_tests_whole_file);
}

// Upgrade and downgrade while another process holds a read lock.
static void show_upgrade(void) {
  printf("upgrade and downgrade\n");
  int ready[2];
  int release[2];
  pipe(ready);
  pipe(release);
  SHOW("F_SETLK F_RDLCK whole", record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    int result = record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 0);
    write(ready[1], &result, sizeof(result));
    char byte;
    read(release[0], &byte, 1);
    _exit(0);
  }
  int child_result = -2;
  read(ready[0], &child_result, sizeof(child_result));
  show_value("  child F_SETLK F_RDLCK whole", child_result);
  SHOW("  F_SETLK F_WRLCK while the child reads",
       record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
  show_lock_test("  F_GETLK F_WRLCK", write_end, F_GETLK, F_WRLCK, 0, 0, child);
  write(release[1], "x", 1);
  waitpid(child, NULL, 0);
  SHOW("  F_SETLK F_WRLCK after the child exited",
       record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
  in_child(child_tests_whole_file);
  SHOW("  F_SETLK F_RDLCK (downgrade)", record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
  in_child(child_tests_whole_file);
  SHOW("F_SETLK F_UNLCK whole", record_lock(read_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
  close(ready[0]);
  close(ready[1]);
  close(release[0]);
  close(release[1]);
}

// Two processes each hold a byte the other one waits for.
static void show_deadlock(void) {
  printf("deadlock\n");
  int ready[2];
  pipe(ready);
  SHOW("F_SETLK F_RDLCK [0]", record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 1, 1);
    write(ready[1], "x", 1);
    // Waits for the parent's byte 0.
    int result = record_lock(write_end, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
    _exit(result == 0 ? 0 : 1);
  }
  char byte;
  read(ready[0], &byte, 1);
  EXPECT("  the child waits", wait_for_blocked_requests(read_end, 1));
  SHOW("  F_SETLKW F_WRLCK [1]", record_lock(write_end, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1));
  SHOW("  F_SETLK F_WRLCK [1]", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 1, 1));
  // Releasing byte 0 lets the child take it and exit.
  SHOW("  F_SETLK F_UNLCK [0]", record_lock(read_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 1));
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT("  the child got byte 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  SHOW("  F_SETLKW F_WRLCK [1] after the child exited",
       record_lock(write_end, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1));
  SHOW("F_SETLK F_UNLCK whole", record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
  close(ready[0]);
  close(ready[1]);
}

static int signal_pipe[2];
static volatile sig_atomic_t alarms;

static void note_alarm(int signal_number) {
  (void)signal_number;
  alarms++;
  write(signal_pipe[1], "x", 1);
}

static void arm_alarm_ms(long milliseconds) {
  struct itimerval timer = {.it_value = {0, milliseconds * 1000}};
  setitimer(ITIMER_REAL, &timer, NULL);
}

static void install_alarm(int flags) {
  struct sigaction action = {0};
  action.sa_handler = note_alarm;
  action.sa_flags = flags;
  sigaction(SIGALRM, &action, NULL);
}

// F_SETLKW waits for the parent's write lock while SIGALRM arrives.
static void show_interrupted_wait(void) {
  printf("interrupted wait\n");
  pipe(signal_pipe);
  SHOW("F_SETLK F_WRLCK whole", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    install_alarm(0);
    arm_alarm_ms(100);
    int result = record_lock(read_end, F_SETLKW, F_RDLCK, SEEK_SET, 0, 0);
    show_result("  child F_SETLKW without SA_RESTART", result, errno);
    show_value("  child alarms", alarms);

    // With SA_RESTART the wait goes on after the handler, until the parent
    // reads the handler's byte and unlocks.
    install_alarm(SA_RESTART);
    arm_alarm_ms(100);
    result = record_lock(read_end, F_SETLKW, F_RDLCK, SEEK_SET, 0, 0);
    show_result("  child F_SETLKW with SA_RESTART", result, errno);
    show_value("  child alarms", alarms);
    fflush(stdout);
    _exit(0);
  }
  char byte;
  read(signal_pipe[0], &byte, 1);
  read(signal_pipe[0], &byte, 1);
  int unlocked = record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
  waitpid(child, NULL, 0);
  show_value("F_SETLK F_UNLCK after the second alarm", unlocked);
  close(signal_pipe[0]);
  close(signal_pipe[1]);
}

static void child_sets_then_exits(void) {
  SHOW("  child F_SETLK F_WRLCK [0, 10)",
       record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
  show_lock_test("  child F_GETLK F_WRLCK whole", write_end, F_GETLK, F_WRLCK, 0, 0, parent_pid);
  SHOW("  child F_SETLK F_UNLCK whole (not its lock)",
       record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
}

// Closing any descriptor of the inode releases the process's POSIX locks.
// A child neither inherits them nor can release them, and its exit releases
// its own.
static void show_release(void) {
  printf("release\n");
  SHOW("F_SETLK F_RDLCK [0, 10) on the read end",
       record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
  SHOW("F_SETLK F_WRLCK [20, 30) on the write end",
       record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 20, 10));
  int other = dup(write_end);
  SHOW("close of a dup of the write end", close(other));
  in_child(child_tests_whole_file);

  SHOW("F_SETLK F_WRLCK [20, 30)", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 20, 10));
  in_child(child_sets_then_exits);
  in_child(child_tests_whole_file);
  SHOW("F_SETLK F_UNLCK whole", record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
}

static void child_meets_ofd_lock(void) {
  show_lock_test("  child F_GETLK F_WRLCK", write_end, F_GETLK, F_WRLCK, 0, 0, parent_pid);
  show_lock_test("  child F_OFD_GETLK F_WRLCK on the shared write end", write_end, F_OFD_GETLK,
                 F_WRLCK, 0, 0, parent_pid);
  SHOW("  child F_SETLK F_RDLCK [0, 10)", record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
}

// OFD locks belong to the description: dup and fork share them, they
// conflict with POSIX locks, even the same process's, and go with the
// description's last descriptor.
static void show_ofd(void) {
  printf("ofd\n");
  SHOW("F_OFD_SETLK F_WRLCK [0, 10) on the write end",
       record_lock(write_end, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10));
  show_lock_test("  F_OFD_GETLK F_UNLCK finds the own lock", write_end, F_OFD_GETLK, F_UNLCK, 0, 0,
                 parent_pid);
  show_lock_test("  F_OFD_GETLK F_RDLCK on the read end", read_end, F_OFD_GETLK, F_RDLCK, 5, 1,
                 parent_pid);
  SHOW("  F_SETLK F_RDLCK [0, 10) of the same process",
       record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
  in_child(child_meets_ofd_lock);
  SHOW("F_OFD_SETLK F_UNLCK whole", record_lock(write_end, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));

  // A POSIX lock blocks an OFD lock too.
  SHOW("F_SETLK F_RDLCK [0, 10)", record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
  SHOW("  F_OFD_SETLK F_WRLCK [5, 6)",
       record_lock(write_end, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1));
  show_lock_test("  F_OFD_GETLK F_WRLCK", write_end, F_OFD_GETLK, F_WRLCK, 0, 0, parent_pid);
  SHOW("F_SETLK F_UNLCK whole", record_lock(read_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

  // Closing a descriptor keeps an OFD lock while another one refers to
  // the description.
  int copy = dup(read_end);
  SHOW("F_OFD_SETLK F_RDLCK whole on a dup of the read end",
       record_lock(copy, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 0));
  close(copy);
  show_lock_test("  F_GETLK F_WRLCK after closing the dup", write_end, F_GETLK, F_WRLCK, 0, 0,
                 parent_pid);
  SHOW("  F_OFD_SETLK F_RDLCK whole on the read end (same lock)",
       record_lock(read_end, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 0));
  SHOW("F_OFD_SETLK F_UNLCK whole", record_lock(read_end, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));
}

// An OFD lock lives while any process has a descriptor of its description:
// here the read end, closed by the parent while a child keeps it.
static void show_ofd_lifetime(void) {
  printf("ofd lifetime\n");
  SHOW("F_OFD_SETLK F_RDLCK whole on the read end",
       record_lock(read_end, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 0));
  int ready[2];
  int release[2];
  pipe(ready);
  pipe(release);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    write(ready[1], "x", 1);
    char byte;
    read(release[0], &byte, 1);
    _exit(0);
  }
  char byte;
  read(ready[0], &byte, 1);
  close(read_end);
  show_lock_test("  F_GETLK F_WRLCK while the child keeps the read end", write_end, F_GETLK,
                 F_WRLCK, 0, 0, parent_pid);
  write(release[1], "x", 1);
  waitpid(child, NULL, 0);
  show_lock_test("  F_GETLK F_WRLCK after the child exited", write_end, F_GETLK, F_WRLCK, 0, 0,
                 parent_pid);
  close(ready[0]);
  close(ready[1]);
  close(release[0]);
  close(release[1]);
}

// Prints the /proc/locks lines of the pipe, without their position and
// with the pid as a relation, sorted, since Linux lists each CPU's locks
// apart.
static void show_proc_locks(void) {
  printf("/proc/locks\n");
  record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 10, 10);
  record_lock(read_end, F_OFD_SETLK, F_RDLCK, SEEK_SET, 100, 0);
  char key[64];
  inode_key(read_end, key, sizeof(key));
  FILE* file = fopen("/proc/locks", "r");
  if (file == NULL) {
    printf("  fopen = -1 %s\n", errno_name(errno));
    return;
  }
  char lines[8][160];
  int count = 0;
  char line[256];
  while (fgets(line, sizeof(line), file) != NULL && count < 8) {
    char kind[16], mode[16], type[16], inode[64], start[32], end[32];
    int pid = 0;
    const char* fields = strchr(line, ':');
    if (fields == NULL ||
        sscanf(fields + 1, "%15s %15s %15s %d %63s %31s %31s", kind, mode, type, &pid, inode, start,
               end) != 7 ||
        strcmp(inode, key) != 0) {
      continue;
    }
    snprintf(lines[count++], sizeof(lines[0]), "%s %s %s %s %s %s", kind, mode, type,
             pid_relation(pid, parent_pid), start, end);
  }
  fclose(file);
  qsort(lines, count, sizeof(lines[0]), (int (*)(const void*, const void*))strcmp);
  for (int i = 0; i < count; i++) {
    printf("  %s\n", lines[i]);
  }
  record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
  record_lock(read_end, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0);
}

static void show_errors(void) {
  printf("errors\n");
  SHOW("F_SETLK F_WRLCK on the read end", record_lock(read_end, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
  SHOW("F_SETLK F_RDLCK on the write end",
       record_lock(write_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
  SHOW("F_SETLK F_UNLCK on the write end",
       record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
  SHOW("F_SETLK bad type", record_lock(write_end, F_SETLK, 7, SEEK_SET, 0, 0));
  SHOW("F_SETLK whence SEEK_DATA", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_DATA, 0, 0));
  SHOW("F_SETLK start -1", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, -1, 0));
  SHOW("F_SETLK start 5 len -6", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 5, -6));
  SHOW("F_SETLK start 5 len -5", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, 5, -5));
  SHOW("F_SETLK F_UNLCK start 5 len -5", record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 5, -5));
  SHOW("F_SETLK start INT64_MAX len 2",
       record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, INT64_MAX, 2));
  SHOW("F_SETLK start INT64_MAX len 1",
       record_lock(write_end, F_SETLK, F_WRLCK, SEEK_SET, INT64_MAX, 1));
  SHOW("F_SETLK SEEK_CUR start 1", record_lock(write_end, F_SETLK, F_WRLCK, SEEK_CUR, 1, 1));
  SHOW("F_SETLK SEEK_END start INT64_MAX",
       record_lock(write_end, F_SETLK, F_WRLCK, SEEK_END, INT64_MAX, 0));
  SHOW("F_SETLK F_UNLCK whole", record_lock(write_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
  SHOW("F_SETLK bad type and bad whence", record_lock(write_end, F_SETLK, 7, 9, 0, 0));
  SHOW("F_SETLK bad type and overflow", record_lock(write_end, F_SETLK, 7, SEEK_SET, INT64_MAX, 2));
  SHOW("F_SETLK into a bad pointer", fcntl(write_end, F_SETLK, (void*)1));
  SHOW("F_SETLKW into a bad pointer", fcntl(write_end, F_SETLKW, (void*)1));
  SHOW("F_OFD_SETLK into a bad pointer", fcntl(write_end, F_OFD_SETLK, (void*)1));
  SHOW("F_OFD_GETLK into a bad pointer", fcntl(write_end, F_OFD_GETLK, (void*)1));
  SHOW("F_SETLK on a closed fd", record_lock(99, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));

  struct flock lock = {.l_type = F_UNLCK, .l_whence = SEEK_SET};
  SHOW("F_GETLK F_UNLCK", fcntl(write_end, F_GETLK, &lock));
  lock.l_type = 7;
  SHOW("F_OFD_GETLK bad type", fcntl(write_end, F_OFD_GETLK, &lock));
  lock = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = 5};
  SHOW("F_OFD_GETLK l_pid 5", fcntl(write_end, F_OFD_GETLK, &lock));
  SHOW("F_OFD_SETLK l_pid 5", fcntl(write_end, F_OFD_SETLK, &lock));
  SHOW("F_OFD_SETLKW l_pid 5", fcntl(write_end, F_OFD_SETLKW, &lock));
  lock.l_type = F_RDLCK;
  SHOW("F_OFD_SETLK F_RDLCK on the write end with l_pid 5", fcntl(write_end, F_OFD_SETLK, &lock));
  SHOW("F_SETLK l_pid 5 is ignored", fcntl(read_end, F_SETLK, &lock));
  lock.l_type = F_UNLCK;
  SHOW("F_SETLK F_UNLCK", fcntl(read_end, F_SETLK, &lock));

  int path_fd = open("/", O_PATH);
  SHOW("F_GETLK on an O_PATH fd", record_lock(path_fd, F_GETLK, F_RDLCK, SEEK_SET, 0, 0));
  SHOW("F_SETLK on an O_PATH fd", record_lock(path_fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
  close(path_fd);
}

int main(void) {
  int ends[2];
  if (pipe(ends) != 0) {
    return 2;
  }
  read_end = ends[0];
  write_end = ends[1];
  parent_pid = getpid();

  show_ranges();
  show_upgrade();
  show_deadlock();
  show_interrupted_wait();
  show_release();
  show_ofd();
  show_proc_locks();
  show_errors();
  show_ofd_lifetime();
  return finish_checks();
}
