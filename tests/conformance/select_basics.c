// select and pselect6 in one process: each of the three sets on pipes,
// fds in several sets, the bound on nfds, timeouts, and every errno they
// return. Raw syscalls, so that the C library picks neither call.
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "poll_events.h"

// The sixth argument of pselect6.
struct mask_argument {
  const sigset_t* mask;
  size_t size_bytes;
};

static long raw_select(int nfds, fd_set* read_set, fd_set* write_set, fd_set* except_set,
                       struct timeval* timeout) {
  return syscall(SYS_select, nfds, read_set, write_set, except_set, timeout);
}

// Selects `fd` in the sets named by `sets` ("rwe") with a zero timeout and
// prints the result and which sets came back with the fd.
static void show_select_one(const char* label, int fd, const char* sets) {
  fd_set read_set;
  fd_set write_set;
  fd_set except_set;
  FD_ZERO(&read_set);
  FD_ZERO(&write_set);
  FD_ZERO(&except_set);
  if (strchr(sets, 'r')) {
    FD_SET(fd, &read_set);
  }
  if (strchr(sets, 'w')) {
    FD_SET(fd, &write_set);
  }
  if (strchr(sets, 'e')) {
    FD_SET(fd, &except_set);
  }
  struct timeval zero = {0, 0};
  long ready = SHOW(label, raw_select(fd + 1, &read_set, &write_set, &except_set, &zero));
  if (ready >= 0) {
    printf("  sets:%s%s%s\n", FD_ISSET(fd, &read_set) ? " read" : "",
           FD_ISSET(fd, &write_set) ? " write" : "", FD_ISSET(fd, &except_set) ? " except" : "");
  }
}

static void check_sets(void) {
  int fds[2];
  pipe(fds);
  show_select_one("select empty read end in every set", fds[0], "rwe");
  show_select_one("select write end in every set", fds[1], "rwe");
  write(fds[1], "x", 1);
  show_select_one("select read end with data in every set", fds[0], "rwe");
  show_select_one("select read end with data in the read set", fds[0], "r");
  show_select_one("select read end with data in the except set", fds[0], "e");
  close(fds[1]);
  show_select_one("select read end after the writer closed, read and write sets", fds[0], "rw");
  close(fds[0]);

  // POLLERR of a pipe without reader belongs to the read and write sets.
  pipe(fds);
  close(fds[0]);
  show_select_one("select write end without a reader in every set", fds[1], "rwe");
  close(fds[1]);

  int path_only = open("/", O_PATH);
  show_select_one("select an O_PATH fd in every set", path_only, "rwe");
  close(path_only);

  int regular = open("/proc/self/exe", O_RDONLY);
  show_select_one("select a regular file in every set", regular, "rwe");
  close(regular);
  show_select_one("select stdin (/dev/null) in the read set", 0, "r");
  show_select_one("select stdout (a pipe) in the write set", 1, "w");

  // Two pipes, several fds ready in several sets: the count is of bits.
  int first[2];
  int second[2];
  pipe(first);
  pipe(second);
  write(second[1], "y", 1);
  fd_set read_set;
  fd_set write_set;
  FD_ZERO(&read_set);
  FD_ZERO(&write_set);
  FD_SET(first[0], &read_set);
  FD_SET(second[0], &read_set);
  FD_SET(first[1], &write_set);
  FD_SET(second[1], &write_set);
  FD_SET(second[0], &write_set);
  int nfds = 1 + (second[1] > first[1] ? second[1] : first[1]);
  struct timeval zero = {0, 0};
  SHOW("select two pipes", raw_select(nfds, &read_set, &write_set, NULL, &zero));
  show_bool("  first read end readable", FD_ISSET(first[0], &read_set));
  show_bool("  second read end readable", FD_ISSET(second[0], &read_set));
  show_bool("  first write end writable", FD_ISSET(first[1], &write_set));
  show_bool("  second write end writable", FD_ISSET(second[1], &write_set));
  show_bool("  second read end writable", FD_ISSET(second[0], &write_set));

  // An fd at or past nfds is not looked at, even when closed.
  FD_ZERO(&read_set);
  FD_SET(second[0], &read_set);
  FD_SET(nfds + 5, &read_set);
  SHOW("select with a closed fd past nfds", raw_select(nfds, &read_set, NULL, NULL, &zero));
  show_bool("  the closed fd's bit is kept", FD_ISSET(nfds + 5, &read_set));
  for (int i = 0; i < 2; i++) {
    close(first[i]);
    close(second[i]);
  }
}

static void check_nfds_bound(void) {
  // nfds is cut to the size of the fd table, so bits past it are neither
  // checked nor written. A fresh process's table has 64 slots.
  enum { kBits = 65536 };
  uint64_t* big_set = calloc(kBits / 64, sizeof(uint64_t));
  big_set[0] = 1;  // stdin, /dev/null, is readable
  big_set[60000 / 64] = UINT64_C(1) << (60000 % 64);
  struct timeval zero = {0, 0};
  SHOW("select nfds 65536 with closed fd 60000",
       raw_select(kBits, (fd_set*)big_set, NULL, NULL, &zero));
  show_bool("  stdin's bit is set", big_set[0] & 1);
  show_bool("  fd 60000's bit is kept", (big_set[60000 / 64] >> (60000 % 64)) & 1);

  // An fd at 1000 grows the table to 1024 slots. This assumes that the
  // program starts with a table of at most 1024 slots, as it does when the
  // process that forked it had no fd past 1023.
  int pipe_fds[2];
  pipe(pipe_fds);
  SHOW("dup2 a pipe to fd 1000", dup2(pipe_fds[1], 1000));
  memset(big_set, 0, kBits / 8);
  big_set[1000 / 64] = UINT64_C(1) << (1000 % 64) | UINT64_C(1) << (1020 % 64);
  SHOW("select fd 1000 and closed fd 1020", raw_select(kBits, NULL, (fd_set*)big_set, NULL, &zero));
  memset(big_set, 0, kBits / 8);
  big_set[1000 / 64] = UINT64_C(1) << (1000 % 64);
  big_set[1500 / 64] = UINT64_C(1) << (1500 % 64);
  SHOW("select fd 1000 and closed fd 1500", raw_select(kBits, NULL, (fd_set*)big_set, NULL, &zero));
  show_bool("  fd 1000's bit is set", (big_set[1000 / 64] >> (1000 % 64)) & 1);
  show_bool("  fd 1500's bit is kept", (big_set[1500 / 64] >> (1500 % 64)) & 1);
  close(1000);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  free(big_set);
}

static void check_timeouts(void) {
  int fds[2];
  pipe(fds);
  fd_set read_set;
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  struct timeval timeout = {.tv_sec = 0, .tv_usec = 150000};
  long start = monotonic_ms();
  SHOW("select empty pipe with a 150 ms timeout",
       raw_select(fds[0] + 1, &read_set, NULL, NULL, &timeout));
  long waited = monotonic_ms() - start;
  EXPECT("  waits at least 150 ms", waited >= 150);
  EXPECT("  waits less than 5 s", waited < 5000);
  EXPECT("  the time left is zero", timeout.tv_sec == 0 && timeout.tv_usec == 0);
  show_bool("  the read set is cleared", FD_ISSET(fds[0], &read_set));

  timeout = (struct timeval){.tv_sec = 0, .tv_usec = 100000};
  start = monotonic_ms();
  SHOW("select no fds with a 100 ms timeout", raw_select(0, NULL, NULL, NULL, &timeout));
  EXPECT("  waits at least 100 ms", monotonic_ms() - start >= 100);

  struct timespec pselect_timeout = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  start = monotonic_ms();
  SHOW("pselect6 empty pipe with a 100 ms timeout",
       syscall(SYS_pselect6, fds[0] + 1, &read_set, NULL, NULL, &pselect_timeout, NULL));
  EXPECT("  waits at least 100 ms", monotonic_ms() - start >= 100);
  EXPECT("  the time left is zero", pselect_timeout.tv_sec == 0 && pselect_timeout.tv_nsec == 0);

  timeout = (struct timeval){.tv_sec = 0, .tv_usec = 1000000};
  write(fds[1], "x", 1);
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  SHOW("select ready pipe with tv_usec 1000000",
       raw_select(fds[0] + 1, &read_set, NULL, NULL, &timeout));
  EXPECT("  the time left is below 1 s", timeout.tv_sec == 0 && timeout.tv_usec > 0);
  close(fds[0]);
  close(fds[1]);
}

static void check_select_errors(void) {
  int fds[2];
  pipe(fds);
  int closed_fd = dup(fds[0]);
  close(closed_fd);
  fd_set read_set;
  fd_set write_set;
  struct timeval zero = {0, 0};

  SHOW("select nfds -1", raw_select(-1, NULL, NULL, NULL, &zero));
  SHOW("select nfds INT_MIN", raw_select(INT_MIN, NULL, NULL, NULL, &zero));
  SHOW("select nfds -1 with a bad read set", raw_select(-1, (fd_set*)8, NULL, NULL, &zero));
  SHOW("select nfds -1 with a bad timeout", raw_select(-1, NULL, NULL, NULL, (struct timeval*)8));

  const char* set_names[3] = {"read", "write", "except"};
  for (int set = 0; set < 3; set++) {
    fd_set sets[3];
    for (int i = 0; i < 3; i++) {
      FD_ZERO(&sets[i]);
    }
    FD_SET(closed_fd, &sets[set]);
    SHOW(label_of("select a closed fd in the %s set", set_names[set]),
         raw_select(closed_fd + 1, &sets[0], &sets[1], &sets[2], &zero));
    EXPECT("  the set is left as it was", FD_ISSET(closed_fd, &sets[set]));
  }

  FD_ZERO(&read_set);
  FD_SET(closed_fd, &read_set);
  SHOW("select a closed fd with a bad write set",
       raw_select(closed_fd + 1, &read_set, (fd_set*)8, NULL, &zero));

  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  SHOW("select with a bad read set", raw_select(fds[0] + 1, (fd_set*)8, NULL, NULL, &zero));
  SHOW("select with a bad timeout",
       raw_select(fds[0] + 1, &read_set, NULL, NULL, (struct timeval*)8));

  struct timeval bad_times[] = {
      {.tv_sec = -1, .tv_usec = 0},
      {.tv_sec = 0, .tv_usec = -1},
      {.tv_sec = LONG_MAX, .tv_usec = 1000000},
  };
  for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
    FD_ZERO(&read_set);
    FD_SET(fds[0], &read_set);
    SHOW(label_of("select with timeout {%ld, %ld}", (long)bad_times[i].tv_sec,
                  (long)bad_times[i].tv_usec),
         raw_select(fds[0] + 1, &read_set, NULL, NULL, &bad_times[i]));
  }

  // The sets are written back even when nothing is ready.
  fd_set* read_only = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  FD_SET(fds[1], read_only);
  mprotect(read_only, 4096, PROT_READ);
  SHOW("select with a read-only write set", raw_select(fds[1] + 1, NULL, read_only, NULL, &zero));
  FD_ZERO(&write_set);
  SHOW("select nothing with a read-only read set",
       raw_select(fds[1] + 1, read_only, &write_set, NULL, &zero));
  munmap(read_only, 4096);
  close(fds[0]);
  close(fds[1]);
}

static void check_pselect6_errors(void) {
  int fds[2];
  pipe(fds);
  write(fds[1], "x", 1);
  fd_set read_set;
  FD_ZERO(&read_set);
  FD_SET(fds[0], &read_set);
  int nfds = fds[0] + 1;
  sigset_t empty;
  sigemptyset(&empty);
  struct timespec zero = {0, 0};

  struct mask_argument good = {&empty, 8};
  struct mask_argument short_size = {&empty, 7};
  struct mask_argument long_size = {&empty, 16};
  struct mask_argument no_mask_short_size = {NULL, 7};
  struct mask_argument bad_mask = {(const sigset_t*)8, 8};
  SHOW("pselect6 with a mask", syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, &zero, &good));
  SHOW("pselect6 with sigsetsize 7",
       syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, &zero, &short_size));
  SHOW("pselect6 with sigsetsize 16",
       syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, &zero, &long_size));
  FD_SET(fds[0], &read_set);
  SHOW("pselect6 without a mask, sigsetsize 7",
       syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, &zero, &no_mask_short_size));
  SHOW("pselect6 with a bad mask address",
       syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, &zero, &bad_mask));
  SHOW("pselect6 with a bad mask argument",
       syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, &zero, (void*)8));

  struct timespec bad_times[] = {
      {.tv_sec = -1, .tv_nsec = 0},
      {.tv_sec = 0, .tv_nsec = -1},
      {.tv_sec = 0, .tv_nsec = 1000000000},
  };
  for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
    SHOW(label_of("pselect6 with timeout {%ld, %ld}", (long)bad_times[i].tv_sec,
                  (long)bad_times[i].tv_nsec),
         syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, &bad_times[i], NULL));
  }
  SHOW("pselect6 with a bad timeout and a bad mask argument",
       syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, &bad_times[0], (void*)8));
  SHOW("pselect6 with a bad timeout and sigsetsize 7",
       syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, &bad_times[0], &short_size));
  SHOW("pselect6 with a bad timeout address",
       syscall(SYS_pselect6, nfds, &read_set, NULL, NULL, (void*)8, NULL));
  SHOW("pselect6 nfds -1", syscall(SYS_pselect6, -1, NULL, NULL, NULL, &zero, NULL));
  close(fds[0]);
  close(fds[1]);
}

int main(void) {
  check_sets();
  check_nfds_bound();
  check_timeouts();
  check_select_errors();
  check_pselect6_errors();
  return finish_checks();
}
