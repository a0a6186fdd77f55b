// Resource limits: getrlimit, prlimit64 and setrlimit, and the limits that
// Linux enforces in other calls (RLIMIT_NOFILE in dup2 and fcntl,
// RLIMIT_AS in mmap). Both runs inherit the runner's limits.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static const char* const kResourceNames[RLIM_NLIMITS] = {
    "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
    "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

static void print_limit_value(rlim_t value) {
  if (value == RLIM_INFINITY) {
    printf("unlimited");
  } else {
    printf("%llu", (unsigned long long)value);
  }
}

static void show_limit(const char* label, const struct rlimit* limit) {
  printf("%s: soft ", label);
  print_limit_value(limit->rlim_cur);
  printf(" hard ");
  print_limit_value(limit->rlim_max);
  printf("\n");
}

static long raw_prlimit(pid_t pid, int resource, const struct rlimit* new_limit,
                        struct rlimit* old_limit) {
  return syscall(SYS_prlimit64, pid, resource, new_limit, old_limit);
}

static void check_reading(void) {
  for (int resource = 0; resource < RLIM_NLIMITS; resource++) {
    struct rlimit limit = {0};
    SHOW(label_of("getrlimit %s", kResourceNames[resource]), getrlimit(resource, &limit));
    show_limit("  value", &limit);
    struct rlimit through_prlimit = {0};
    raw_prlimit(0, resource, NULL, &through_prlimit);
    EXPECT("  prlimit64 reads the same", through_prlimit.rlim_cur == limit.rlim_cur &&
                                             through_prlimit.rlim_max == limit.rlim_max);
  }
  struct rlimit limit = {0};
  SHOW("getrlimit resource 16", syscall(SYS_getrlimit, 16, &limit));
  SHOW("getrlimit resource 99", syscall(SYS_getrlimit, 99, &limit));
  SHOW("getrlimit into a bad pointer", syscall(SYS_getrlimit, RLIMIT_NOFILE, (void*)1));
  SHOW("prlimit64 resource 99", raw_prlimit(0, 99, NULL, &limit));
  SHOW("prlimit64 of a missing process", raw_prlimit(0x3fffffff, RLIMIT_NOFILE, NULL, &limit));
  SHOW("prlimit64 of itself by pid", raw_prlimit(getpid(), RLIMIT_NOFILE, NULL, &limit));
  SHOW("prlimit64 with neither new nor old", raw_prlimit(0, RLIMIT_NOFILE, NULL, NULL));
  SHOW("prlimit64 into a bad pointer", raw_prlimit(0, RLIMIT_NOFILE, NULL, (void*)1));
  SHOW("prlimit64 from a bad pointer", raw_prlimit(0, RLIMIT_NOFILE, (void*)1, NULL));
}

static void check_nofile(void) {
  struct rlimit original = {0};
  getrlimit(RLIMIT_NOFILE, &original);

  struct rlimit lowered = {64, original.rlim_max};
  SHOW("setrlimit RLIMIT_NOFILE soft 64", setrlimit(RLIMIT_NOFILE, &lowered));
  struct rlimit read_back = {0};
  getrlimit(RLIMIT_NOFILE, &read_back);
  EXPECT("the soft limit reads back as 64", read_back.rlim_cur == 64);
  EXPECT("the hard limit is unchanged", read_back.rlim_max == original.rlim_max);

  SHOW("dup2 to fd 63", dup2(0, 63));
  SHOW("dup2 to fd 64", dup2(0, 64));
  SHOW("fcntl F_DUPFD from 64", fcntl(0, F_DUPFD, 64));
  SHOW("fcntl F_DUPFD from 63 when 63 is taken", fcntl(0, F_DUPFD, 63));
  SHOW("dup3 to fd 100", dup3(0, 100, 0));
  close(63);

  // Fill the table up to the limit, then the next open fails with EMFILE.
  int opened = 0;
  int last = -1;
  for (int i = 0; i < 100; i++) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) {
      show_result("open past RLIMIT_NOFILE", -1, errno);
      break;
    }
    opened++;
    last = fd;
  }
  show_value("fds opened before EMFILE", opened);
  show_value("highest fd opened", last);
  int pipe_fds[2];
  SHOW("pipe with a full table", pipe(pipe_fds));
  SHOW("dup with a full table", dup(0));
  for (int fd = 3; fd <= last; fd++) {
    close(fd);
  }

  struct rlimit inverted = {original.rlim_max == RLIM_INFINITY ? 100 : original.rlim_max,
                            original.rlim_max == RLIM_INFINITY ? 50 : original.rlim_max - 1};
  SHOW("setrlimit soft above hard", setrlimit(RLIMIT_NOFILE, &inverted));
  // RLIMIT_NOFILE may never exceed fs.nr_open, even for root.
  struct rlimit beyond_nr_open = {64, 0x7fffffff};
  SHOW("setrlimit RLIMIT_NOFILE hard above nr_open", setrlimit(RLIMIT_NOFILE, &beyond_nr_open));
  SHOW("setrlimit resource 99", syscall(SYS_setrlimit, 99, &lowered));
  SHOW("setrlimit from a bad pointer", syscall(SYS_setrlimit, RLIMIT_NOFILE, (void*)1));

  struct rlimit old_limit = {0};
  SHOW("prlimit64 set and get", raw_prlimit(0, RLIMIT_NOFILE, &original, &old_limit));
  EXPECT("prlimit64 returns the previous limit", old_limit.rlim_cur == 64);
  getrlimit(RLIMIT_NOFILE, &read_back);
  EXPECT("prlimit64 restored the original soft limit", read_back.rlim_cur == original.rlim_cur);
}

static void check_address_space(void) {
  struct rlimit original = {0};
  getrlimit(RLIMIT_AS, &original);
  struct rlimit lowered = {1UL << 30, original.rlim_max};
  SHOW("setrlimit RLIMIT_AS 1 GiB", setrlimit(RLIMIT_AS, &lowered));
  SHOW_PTR("mmap 2 GiB under a 1 GiB RLIMIT_AS",
           mmap(NULL, 2UL << 30, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
  void* small =
      SHOW_PTR("mmap 1 MiB under a 1 GiB RLIMIT_AS",
               mmap(NULL, 1UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  munmap(small, 1UL << 20);
  SHOW("restore RLIMIT_AS", setrlimit(RLIMIT_AS, &original));
  void* large = SHOW_PTR(
      "mmap 2 GiB after restoring",
      mmap(NULL, 2UL << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
  munmap(large, 2UL << 30);

  // Lowering RLIMIT_CPU to an hour changes the value read back and nothing
  // else this program can observe.
  struct rlimit cpu = {3600, RLIM_INFINITY};
  struct rlimit current = {0};
  getrlimit(RLIMIT_CPU, &current);
  cpu.rlim_max = current.rlim_max;
  SHOW("setrlimit RLIMIT_CPU 3600 s", setrlimit(RLIMIT_CPU, &cpu));
  getrlimit(RLIMIT_CPU, &current);
  show_limit("RLIMIT_CPU after setting", &current);
}

int main(void) {
  check_reading();
  check_nofile();
  check_address_space();
  return finish_checks();
}
