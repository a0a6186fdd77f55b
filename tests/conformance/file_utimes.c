// utime, utimes and futimesat: times set and read back with stat, NULL
// times meaning now, EINVAL for a tv_usec outside 0..999999 (UTIME_NOW and
// UTIME_OMIT included), futimesat on a descriptor with a NULL path, and
// the path errors. Files are in the working directory (the overlay root
// under ward) and in /dev/shm.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "check.h"

#define BAD_FD 999

// The raw calls: glibc implements utime and utimes with utimensat.
static long raw_utime(const char* path, const struct utimbuf* times) {
  return syscall(SYS_utime, path, times);
}

static long raw_utimes(const char* path, const struct timeval times[2]) {
  return syscall(SYS_utimes, path, times);
}

static long raw_futimesat(int dirfd, const char* path, const struct timeval times[2]) {
  return syscall(SYS_futimesat, dirfd, path, times);
}

static void show_times(const char* label, const char* path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    printf("%s: stat failed: %s\n", label, errno_name(errno));
    return;
  }
  printf("%s: atime %ld.%09ld mtime %ld.%09ld\n", label, (long)st.st_atim.tv_sec,
         st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

// Whether both times of `path` are at or after `start` and no later than now.
// time() reads the coarse clock, which may lag a file time taken from the
// fine one by a tick, so "now" has a second of slack.
static bool times_are_now(const char* path, time_t start) {
  struct stat st;
  if (stat(path, &st) != 0) {
    return false;
  }
  time_t now = time(NULL) + 1;
  return st.st_atim.tv_sec >= start && st.st_atim.tv_sec <= now && st.st_mtim.tv_sec >= start &&
         st.st_mtim.tv_sec <= now;
}

static void check_in(const char* where, const char* directory) {
  printf("-- %s\n", where);
  char path[128];
  char link_path[128];
  snprintf(path, sizeof(path), "%s/utimes-file", directory);
  snprintf(link_path, sizeof(link_path), "%s/utimes-link", directory);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  EXPECT("file open", fd >= 0);
  unlink(link_path);
  EXPECT("symlink", symlink("utimes-file", link_path) == 0);

  struct utimbuf whole_seconds = {.actime = 1000000000, .modtime = 1200000000};
  SHOW("utime", raw_utime(path, &whole_seconds));
  show_times("after utime", path);

  struct timeval micro[2] = {{.tv_sec = 1300000000, .tv_usec = 123456},
                             {.tv_sec = 1400000000, .tv_usec = 999999}};
  SHOW("utimes", raw_utimes(path, micro));
  show_times("after utimes", path);

  struct timeval through_link[2] = {{.tv_sec = 1500000000, .tv_usec = 1},
                                    {.tv_sec = 1600000000, .tv_usec = 0}};
  SHOW("utimes through a symlink", raw_utimes(link_path, through_link));
  show_times("target after utimes through a symlink", path);

  int dirfd = open(directory, O_RDONLY | O_DIRECTORY);
  struct timeval relative[2] = {{.tv_sec = 1700000000, .tv_usec = 500000},
                                {.tv_sec = 1100000000, .tv_usec = 250000}};
  SHOW("futimesat relative", raw_futimesat(dirfd, "utimes-file", relative));
  show_times("after futimesat relative", path);

  struct timeval on_fd[2] = {{.tv_sec = 1234567890, .tv_usec = 42},
                             {.tv_sec = 1234567891, .tv_usec = 43}};
  SHOW("futimesat NULL path on a descriptor", raw_futimesat(fd, NULL, on_fd));
  show_times("after futimesat on a descriptor", path);

  struct timeval negative_seconds[2] = {{.tv_sec = -1, .tv_usec = 0}, {.tv_sec = 0, .tv_usec = 0}};
  SHOW("utimes before the epoch", raw_utimes(path, negative_seconds));
  show_times("after utimes before the epoch", path);

  time_t start = time(NULL);
  SHOW("utime NULL", raw_utime(path, NULL));
  EXPECT("utime NULL sets now", times_are_now(path, start));
  SHOW("utimes to a fixed time", raw_utimes(path, micro));
  SHOW("utimes NULL", raw_utimes(path, NULL));
  EXPECT("utimes NULL sets now", times_are_now(path, start));
  SHOW("futimesat to a fixed time", raw_futimesat(dirfd, "utimes-file", micro));
  SHOW("futimesat NULL times", raw_futimesat(dirfd, "utimes-file", NULL));
  EXPECT("futimesat NULL sets now", times_are_now(path, start));

  SHOW("utimes before the rejected calls", raw_utimes(path, micro));
  struct timeval bad[2] = {{.tv_sec = 1, .tv_usec = 0}, {.tv_sec = 1, .tv_usec = 0}};
  bad[0].tv_usec = 1000000;
  SHOW("utimes tv_usec 1000000", raw_utimes(path, bad));
  bad[0].tv_usec = -1;
  SHOW("utimes tv_usec -1", raw_utimes(path, bad));
  bad[0].tv_usec = 0;
  bad[1].tv_usec = UTIME_NOW;
  SHOW("utimes tv_usec UTIME_NOW", raw_utimes(path, bad));
  bad[1].tv_usec = UTIME_OMIT;
  SHOW("futimesat tv_usec UTIME_OMIT", raw_futimesat(dirfd, "utimes-file", bad));
  SHOW("utimes bad times before a missing path", raw_utimes("no-such-file", bad));
  show_times("after the rejected calls", path);

  SHOW("utime missing file", raw_utime("no-such-directory/file", &whole_seconds));
  SHOW("utimes missing file", raw_utimes("no-such-file", micro));
  SHOW("utimes empty path", raw_utimes("", micro));
  SHOW("utimes NULL path", raw_utimes(NULL, micro));
  SHOW("utime NULL path", raw_utime(NULL, &whole_seconds));
  SHOW("utime bad times pointer", raw_utime(path, (const struct utimbuf*)1));
  SHOW("utimes bad times pointer", raw_utimes(path, (const struct timeval*)1));
  SHOW("futimesat bad dirfd", raw_futimesat(BAD_FD, "utimes-file", micro));
  SHOW("futimesat NULL path on a bad descriptor", raw_futimesat(BAD_FD, NULL, micro));
  SHOW("futimesat file as dirfd", raw_futimesat(fd, "x", micro));
  SHOW("futimesat AT_FDCWD NULL path", raw_futimesat(AT_FDCWD, NULL, micro));

  close(dirfd);
  close(fd);
  unlink(link_path);
  unlink(path);
}

int main(void) {
  check_in("working directory", ".");
  char shm_directory[64];
  snprintf(shm_directory, sizeof(shm_directory), "/dev/shm/ward-utimes-%d", getpid());
  EXPECT("mkdir in /dev/shm", mkdir(shm_directory, 0755) == 0);
  check_in("/dev/shm", shm_directory);
  rmdir(shm_directory);
  return check_failures == 0 ? 0 : 1;
}
