// flock(2) between open file descriptions and processes, on the two ends of
// a pipe, which are two descriptions of one inode. The program shows a lock
// shared through fork, conflicts between separate descriptions, non-atomic
// conversion, and a wait ended by the holder or by a signal. It shows the
// release when the description goes, independence from record locks, and
// the argument errors.
#include <signal.h>
#include <sys/file.h>
#include <sys/time.h>

#include "locks_util.h"

static int read_end;
static int write_end;

// A child shares the parent's descriptions, so it shares their locks.
static void child_meets_exclusive_lock(void) {
  SHOW("  child LOCK_EX|LOCK_NB on the write end (same description)",
       flock(write_end, LOCK_EX | LOCK_NB));
  SHOW("  child LOCK_SH|LOCK_NB on the read end", flock(read_end, LOCK_SH | LOCK_NB));
  SHOW("  child LOCK_UN on the read end without a lock", flock(read_end, LOCK_UN));
}

static void show_sharing(void) {
  printf("sharing\n");
  SHOW("LOCK_EX on the write end", flock(write_end, LOCK_EX));
  SHOW("  LOCK_EX again", flock(write_end, LOCK_EX));
  in_child(child_meets_exclusive_lock);
  SHOW("  LOCK_SH|LOCK_NB on the read end", flock(read_end, LOCK_SH | LOCK_NB));
  int copy = dup(write_end);
  SHOW("  LOCK_SH|LOCK_NB on a dup of the write end", flock(copy, LOCK_SH | LOCK_NB));
  SHOW("  LOCK_EX|LOCK_NB on the read end after the downgrade", flock(read_end, LOCK_EX | LOCK_NB));
  SHOW("  LOCK_SH|LOCK_NB on the read end after the downgrade", flock(read_end, LOCK_SH | LOCK_NB));
  SHOW("  close of the dup", close(copy));
  SHOW("  LOCK_EX|LOCK_NB on the read end while the write end shares",
       flock(read_end, LOCK_EX | LOCK_NB));
  SHOW("LOCK_UN on the write end", flock(write_end, LOCK_UN));
  SHOW("LOCK_UN on the read end", flock(read_end, LOCK_UN));
}

// A failed conversion has already dropped the old lock, as Linux does.
static void show_conversion(void) {
  printf("conversion\n");
  SHOW("LOCK_SH on the read end", flock(read_end, LOCK_SH));
  SHOW("LOCK_SH on the write end", flock(write_end, LOCK_SH));
  SHOW("  LOCK_EX|LOCK_NB on the read end", flock(read_end, LOCK_EX | LOCK_NB));
  SHOW("  LOCK_EX|LOCK_NB on the write end, the read end's lock gone",
       flock(write_end, LOCK_EX | LOCK_NB));
  SHOW("LOCK_UN on the write end", flock(write_end, LOCK_UN));
}

// flock and record locks never conflict.
static void show_independence(void) {
  printf("independence\n");
  SHOW("LOCK_EX on the write end", flock(write_end, LOCK_EX));
  SHOW("  F_SETLK F_RDLCK whole on the read end",
       record_lock(read_end, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
  SHOW("  F_OFD_SETLK F_RDLCK whole on the read end",
       record_lock(read_end, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 0));
  record_lock(read_end, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
  record_lock(read_end, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0);
  SHOW("LOCK_UN on the write end", flock(write_end, LOCK_UN));
}

static int signal_pipe[2];
static volatile sig_atomic_t alarms;

static void note_alarm(int signal_number) {
  (void)signal_number;
  alarms++;
  write(signal_pipe[1], "x", 1);
}

// A child that opened its own description waits for the parent's lock:
// the parent's unlock ends one wait, SIGALRM without SA_RESTART the other.
static void show_waiting(void) {
  printf("waiting\n");
  pipe(signal_pipe);
  SHOW("LOCK_EX on the write end", flock(write_end, LOCK_EX));
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    struct sigaction action = {0};
    action.sa_handler = note_alarm;
    sigaction(SIGALRM, &action, NULL);
    struct itimerval timer = {.it_value = {0, 100 * 1000}};
    setitimer(ITIMER_REAL, &timer, NULL);
    int result = flock(read_end, LOCK_SH);
    show_result("  child LOCK_SH interrupted", result, errno);
    show_value("  child alarms", alarms);

    // The parent unlocks once this request waits.
    result = flock(read_end, LOCK_SH);
    show_result("  child LOCK_SH after the parent's unlock", result, errno);
    fflush(stdout);
    _exit(0);
  }
  char byte;
  read(signal_pipe[0], &byte, 1);
  bool waited = wait_for_blocked_requests(read_end, 1);
  int unlocked = flock(write_end, LOCK_UN);
  waitpid(child, NULL, 0);
  EXPECT("the child waited again", waited);
  show_value("LOCK_UN on the write end", unlocked);
  close(signal_pipe[0]);
  close(signal_pipe[1]);
}

// The lock of a description goes with its last descriptor, in whichever
// process that is.
static void show_release(void) {
  printf("release\n");
  int copy = dup(read_end);
  SHOW("LOCK_EX on a dup of the read end", flock(copy, LOCK_EX));
  SHOW("  close of the dup", close(copy));
  SHOW("  LOCK_SH|LOCK_NB on the write end", flock(write_end, LOCK_SH | LOCK_NB));
  SHOW("  LOCK_UN on the read end, the same description", flock(read_end, LOCK_UN));
  SHOW("  LOCK_SH|LOCK_NB on the write end after LOCK_UN", flock(write_end, LOCK_SH | LOCK_NB));
  SHOW("LOCK_UN on the write end", flock(write_end, LOCK_UN));

  int other[2];
  pipe(other);
  SHOW("LOCK_EX on the read end of a second pipe", flock(other[0], LOCK_EX));
  SHOW("  LOCK_SH|LOCK_NB on its write end", flock(other[1], LOCK_SH | LOCK_NB));
  SHOW("  close of its read end, the description's last fd", close(other[0]));
  SHOW("  LOCK_SH|LOCK_NB on its write end after the close", flock(other[1], LOCK_SH | LOCK_NB));
  close(other[1]);
}

// Prints the pipe's flock lines of /proc/locks, without position and pid.
static void show_proc_locks(void) {
  printf("/proc/locks\n");
  flock(write_end, LOCK_SH);
  flock(read_end, LOCK_SH);
  char key[64];
  inode_key(read_end, key, sizeof(key));
  FILE* file = fopen("/proc/locks", "r");
  if (file == NULL) {
    printf("  fopen = -1 %s\n", errno_name(errno));
    return;
  }
  char line[256];
  while (fgets(line, sizeof(line), file) != NULL) {
    char kind[16], mode[16], type[16], inode[64], start[32], end[32];
    int pid = 0;
    const char* fields = strchr(line, ':');
    if (fields == NULL ||
        sscanf(fields + 1, "%15s %15s %15s %d %63s %31s %31s", kind, mode, type, &pid, inode, start,
               end) != 7 ||
        strcmp(inode, key) != 0) {
      continue;
    }
    printf("  %s %s %s %s %s %s\n", kind, mode, type, pid == getpid() ? "self" : "another", start,
           end);
  }
  fclose(file);
  flock(write_end, LOCK_UN);
  flock(read_end, LOCK_UN);
}

static void show_errors(void) {
  printf("errors\n");
  SHOW("flock 0", flock(read_end, 0));
  SHOW("flock LOCK_SH|LOCK_EX", flock(read_end, LOCK_SH | LOCK_EX));
  SHOW("flock LOCK_NB alone", flock(read_end, LOCK_NB));
  SHOW("flock 64", flock(read_end, 64));
  SHOW("flock LOCK_SH on a closed fd", flock(99, LOCK_SH));
  SHOW("flock -1 LOCK_SH", flock(-1, LOCK_SH));
  SHOW("flock operation 8 on a closed fd", flock(99, 8));
  SHOW("flock LOCK_UN on a closed fd", flock(99, LOCK_UN));
  int path_fd = open("/", O_PATH);
  SHOW("flock LOCK_SH on an O_PATH fd", flock(path_fd, LOCK_SH));
  SHOW("flock LOCK_UN on an O_PATH fd", flock(path_fd, LOCK_UN));
  close(path_fd);
}

int main(void) {
  int ends[2];
  if (pipe(ends) != 0) {
    return 2;
  }
  read_end = ends[0];
  write_end = ends[1];

  show_sharing();
  show_conversion();
  show_independence();
  show_waiting();
  show_release();
  show_proc_locks();
  show_errors();
  return finish_checks();
}
