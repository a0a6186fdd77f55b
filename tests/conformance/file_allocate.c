// fallocate: the generic checks (range, mode combinations, write access,
// file type), the modes every filesystem has (allocate, FALLOC_FL_KEEP_SIZE,
// punching a hole) in the working directory (the overlay root under ward)
// and in /dev/shm, tmpfs's own results there (st_blocks, EOPNOTSUPP for
// the other modes), seals, RLIMIT_FSIZE and posix_fallocate.
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define BAD_FD 999
#define PAGE 4096L

static long size_of(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (long)st.st_size : -1;
}

static long blocks_of(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (long)st.st_blocks : -1;
}

// Whether `length` bytes at `offset` read back as `expected`.
static bool reads_as(int fd, long offset, long length, char expected) {
  char buffer[PAGE];
  for (long done = 0; done < length;) {
    long chunk = length - done < PAGE ? length - done : PAGE;
    if (pread(fd, buffer, (size_t)chunk, offset + done) != chunk) {
      return false;
    }
    for (long i = 0; i < chunk; i++) {
      if (buffer[i] != expected) {
        return false;
      }
    }
    done += chunk;
  }
  return true;
}

// Writes `length` bytes of `value` from offset 0, a page at a time.
static bool fill(int fd, long length, char value) {
  char buffer[PAGE];
  memset(buffer, value, sizeof(buffer));
  for (long done = 0; done < length; done += PAGE) {
    if (pwrite(fd, buffer, PAGE, done) != PAGE) {
      return false;
    }
  }
  return true;
}

// The checks that come before the filesystem's own, and the modes every
// filesystem has.
static void check_common(const char* where, const char* path) {
  printf("-- %s\n", where);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  int read_only = open(path, O_RDONLY);
  int path_only = open(path, O_PATH);
  EXPECT("files open", fd >= 0 && read_only >= 0 && path_only >= 0);

  SHOW("zero length", fallocate(fd, 0, 0, 0));
  SHOW("negative length", fallocate(fd, 0, 0, -1));
  SHOW("negative offset", fallocate(fd, 0, -1, 1));
  SHOW("negative offset before bad mode", fallocate(fd, 0x100, -1, 1));
  SHOW("unknown mode bit", fallocate(fd, 0x100, 0, 1));
  SHOW("FALLOC_FL_NO_HIDE_STALE", fallocate(fd, FALLOC_FL_NO_HIDE_STALE, 0, 1));
  SHOW("punch hole without keep size", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 1));
  SHOW("collapse with keep size", fallocate(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, PAGE));
  SHOW("insert with keep size", fallocate(fd, FALLOC_FL_INSERT_RANGE | FALLOC_FL_KEEP_SIZE, 0, PAGE));
  SHOW("two modes", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 1));
  SHOW("bad mode before read-only", fallocate(read_only, 0x100, 0, 1));
  SHOW("read-only", fallocate(read_only, 0, 0, 1));
  SHOW("O_PATH", fallocate(path_only, 0, 0, 1));
  SHOW("offset plus length overflows", fallocate(fd, 0, 0x7fffffffffffffffL, 1));
  SHOW("length overflows", fallocate(fd, 0, 1, 0x7fffffffffffffffL));
  show_value("size after failures", size_of(fd));

  SHOW("allocate 2 pages", fallocate(fd, 0, 0, 2 * PAGE));
  show_value("size", size_of(fd));
  EXPECT("allocated range reads as zeros", reads_as(fd, 0, 2 * PAGE, 0));
  SHOW("allocate inside", fallocate(fd, 0, 100, 10));
  show_value("size after allocating inside", size_of(fd));
  SHOW("allocate unaligned end", fallocate(fd, 0, PAGE, PAGE + 123));
  show_value("size after unaligned end", size_of(fd));
  SHOW("keep size past the end", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 8 * PAGE));
  show_value("size after keep size", size_of(fd));

  EXPECT("fill 4 pages", fill(fd, 4 * PAGE, 'x'));
  SHOW("punch a hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE, PAGE));
  show_value("size after punching", size_of(fd));
  EXPECT("before the hole keeps its data", reads_as(fd, 0, PAGE, 'x'));
  EXPECT("the hole reads as zeros", reads_as(fd, PAGE, PAGE, 0));
  EXPECT("after the hole keeps its data", reads_as(fd, 2 * PAGE, 2 * PAGE, 'x'));
  SHOW("punch a partial page", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10, 20));
  EXPECT("partial punch zeroes its bytes", reads_as(fd, 10, 20, 0));
  EXPECT("partial punch keeps the rest", reads_as(fd, 0, 10, 'x') && reads_as(fd, 30, PAGE - 30, 'x'));
  SHOW("punch past the end", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 3 * PAGE, 8 * PAGE));
  show_value("size after punching past the end", size_of(fd));

  SHOW("posix_fallocate", posix_fallocate(fd, 0, 6 * PAGE));
  show_value("size after posix_fallocate", size_of(fd));

  close(fd);
  close(read_only);
  close(path_only);
  unlink(path);
}

// tmpfs's own results, the same natively and under ward.
static void check_tmpfs(const char* path) {
  printf("-- tmpfs modes\n");
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  EXPECT("file open", fd >= 0);

  SHOW("allocate 2 pages", fallocate(fd, 0, 0, 2 * PAGE));
  show_value("blocks", blocks_of(fd));
  SHOW("keep size to 4 pages", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4 * PAGE));
  show_value("size", size_of(fd));
  show_value("blocks", blocks_of(fd));
  SHOW("punch a page", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE));
  show_value("blocks after punching", blocks_of(fd));
  SHOW("FALLOC_FL_ZERO_RANGE", fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, PAGE));
  SHOW("FALLOC_FL_COLLAPSE_RANGE", fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, PAGE));
  SHOW("FALLOC_FL_INSERT_RANGE", fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, PAGE));
  SHOW("FALLOC_FL_UNSHARE_RANGE", fallocate(fd, FALLOC_FL_UNSHARE_RANGE, 0, PAGE));
  SHOW("posix_fallocate", posix_fallocate(fd, 0, 5 * PAGE));
  show_value("size after posix_fallocate", size_of(fd));
  close(fd);
  unlink(path);
}

static void check_file_types(void) {
  printf("-- file types\n");
  int pipe_fds[2];
  EXPECT("pipe", pipe(pipe_fds) == 0);
  SHOW("pipe write end", fallocate(pipe_fds[1], 0, 0, 1));
  SHOW("pipe read end", fallocate(pipe_fds[0], 0, 0, 1));
  close(pipe_fds[0]);
  close(pipe_fds[1]);

  int sockets[2];
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) == 0);
  SHOW("socket", fallocate(sockets[0], 0, 0, 1));
  close(sockets[0]);
  close(sockets[1]);

  int null = open("/dev/null", O_WRONLY);
  SHOW("/dev/null", fallocate(null, 0, 0, 1));
  close(null);

  int directory = open(".", O_RDONLY | O_DIRECTORY);
  SHOW("directory", fallocate(directory, 0, 0, 1));
  close(directory);

  SHOW("bad descriptor", fallocate(BAD_FD, 0, 0, 1));
  SHOW("bad descriptor and mode", fallocate(BAD_FD, 0x100, -1, 0));
}

static void check_seals(void) {
  printf("-- seals\n");
  int fd = memfd_create("allocate", MFD_ALLOW_SEALING);
  EXPECT("memfd", fd >= 0);
  SHOW("allocate", fallocate(fd, 0, 0, PAGE));
  SHOW("seal grow", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
  SHOW("allocate inside the size", fallocate(fd, 0, 0, PAGE));
  SHOW("allocate past the size", fallocate(fd, 0, 0, 2 * PAGE));
  SHOW("keep size past the size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 2 * PAGE));
  SHOW("seal write", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  SHOW("punch with a write seal", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE));
  show_value("size", size_of(fd));
  close(fd);
}

static void check_size_limit(const char* path) {
  printf("-- RLIMIT_FSIZE\n");
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit old_limit;
  getrlimit(RLIMIT_FSIZE, &old_limit);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  EXPECT("file open", fd >= 0);
  EXPECT("fill 2 pages", fill(fd, 2 * PAGE, 'x'));

  struct rlimit limit = {.rlim_cur = 4 * PAGE, .rlim_max = old_limit.rlim_max};
  EXPECT("setrlimit", setrlimit(RLIMIT_FSIZE, &limit) == 0);
  SHOW("up to the limit", fallocate(fd, 0, 0, 4 * PAGE));
  SHOW("past the limit", fallocate(fd, 0, 0, 4 * PAGE + 1));
  SHOW("keep size past the limit", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 8 * PAGE));
  limit.rlim_cur = PAGE;
  EXPECT("lower the limit", setrlimit(RLIMIT_FSIZE, &limit) == 0);
  SHOW("inside the size with a lower limit", fallocate(fd, 0, 0, 2 * PAGE));
  SHOW("punch past the limit", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 16 * PAGE));
  show_value("size", size_of(fd));
  EXPECT("restore the limit", setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  signal(SIGXFSZ, SIG_DFL);
  close(fd);
  unlink(path);
}

int main(void) {
  char shm_path[64];
  snprintf(shm_path, sizeof(shm_path), "/dev/shm/ward-allocate-%d", getpid());

  check_common("working directory", "allocate-file");
  check_common("/dev/shm", shm_path);
  check_tmpfs(shm_path);
  check_file_types();
  check_seals();
  check_size_limit(shm_path);
  return check_failures == 0 ? 0 : 1;
}
