// fsync, fdatasync, syncfs, sync, sync_file_range, readahead and fadvise64:
// their errnos on pipes, sockets, devices, procfs, directories, O_PATH and
// bad descriptors, and success on files in the working directory (the
// overlay root under ward) and in /dev/shm (tmpfs).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define BAD_FD 999

// fadvise64 itself: glibc's posix_fadvise returns the errno instead.
static long fadvise(int fd, long offset, long length, int advice) {
  return syscall(SYS_fadvise64, fd, offset, length, advice);
}

static void check_regular_file(const char* where, const char* path) {
  printf("-- %s\n", where);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  int read_only = open(path, O_RDONLY);
  int write_only = open(path, O_WRONLY);
  int path_only = open(path, O_PATH);
  EXPECT("files open", fd >= 0 && read_only >= 0 && write_only >= 0 && path_only >= 0);
  EXPECT("write", write(fd, "data", 4) == 4);

  SHOW("fsync", fsync(fd));
  SHOW("fsync read-only", fsync(read_only));
  SHOW("fsync O_PATH", fsync(path_only));
  SHOW("fdatasync", fdatasync(fd));
  SHOW("fdatasync read-only", fdatasync(read_only));
  SHOW("syncfs", syncfs(fd));
  SHOW("syncfs O_PATH", syncfs(path_only));

  SHOW("sync_file_range no flags", sync_file_range(fd, 0, 0, 0));
  SHOW("sync_file_range all flags",
       sync_file_range(fd, 0, 4096,
                       SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
  SHOW("sync_file_range read-only", sync_file_range(read_only, 0, 0, SYNC_FILE_RANGE_WRITE));
  SHOW("sync_file_range unknown flag", sync_file_range(fd, 0, 0, 8));
  SHOW("sync_file_range negative offset", sync_file_range(fd, -1, 0, 0));
  SHOW("sync_file_range end before start", sync_file_range(fd, 5, -3, 0));
  SHOW("sync_file_range end past INT64_MAX", sync_file_range(fd, 0x7fffffffffffffffL, 1, 0));
  SHOW("sync_file_range negative end", sync_file_range(fd, 0, -1, 0));
  SHOW("sync_file_range O_PATH", sync_file_range(path_only, 0, 0, 0));

  SHOW("readahead", readahead(fd, 0, 100));
  SHOW("readahead negative offset", readahead(fd, -1, 1));
  SHOW("readahead count past INT64_MAX", readahead(fd, 0, (size_t)-1));
  SHOW("readahead write-only", readahead(write_only, 0, 1));
  SHOW("readahead O_PATH", readahead(path_only, 0, 1));

  for (int advice = 0; advice <= 6; advice++) {
    SHOW(label_of("fadvise64 advice %d", advice), fadvise(fd, 0, 0, advice));
  }
  SHOW("fadvise64 negative length", fadvise(fd, 0, -1L, POSIX_FADV_NORMAL));
  SHOW("fadvise64 negative offset", fadvise(fd, -5, 10, POSIX_FADV_WILLNEED));
  SHOW("fadvise64 write-only", fadvise(write_only, 0, 0, POSIX_FADV_DONTNEED));
  SHOW("fadvise64 O_PATH", fadvise(path_only, 0, 0, POSIX_FADV_NORMAL));
  SHOW("posix_fadvise", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));

  close(fd);
  close(read_only);
  close(write_only);
  close(path_only);
  unlink(path);
}

static void check_directory(const char* where, const char* path) {
  printf("-- directory %s\n", where);
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  EXPECT("directory open", fd >= 0);
  SHOW("fsync", fsync(fd));
  SHOW("fdatasync", fdatasync(fd));
  SHOW("syncfs", syncfs(fd));
  SHOW("sync_file_range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
  SHOW("readahead", readahead(fd, 0, 1));
  SHOW("fadvise64", fadvise(fd, 0, 0, POSIX_FADV_NORMAL));
  SHOW("fadvise64 bad advice", fadvise(fd, 0, 0, 9));
  close(fd);
}

static void check_special_files(void) {
  printf("-- pipe\n");
  int pipe_fds[2];
  EXPECT("pipe", pipe(pipe_fds) == 0);
  SHOW("fsync read end", fsync(pipe_fds[0]));
  SHOW("fsync write end", fsync(pipe_fds[1]));
  SHOW("fdatasync", fdatasync(pipe_fds[0]));
  SHOW("syncfs", syncfs(pipe_fds[0]));
  SHOW("sync_file_range", sync_file_range(pipe_fds[0], 0, 0, 0));
  SHOW("sync_file_range unknown flag", sync_file_range(pipe_fds[0], 0, 0, 8));
  SHOW("readahead", readahead(pipe_fds[0], 0, 1));
  SHOW("fadvise64", fadvise(pipe_fds[0], 0, 0, POSIX_FADV_NORMAL));
  SHOW("fadvise64 bad advice", fadvise(pipe_fds[0], 0, 0, 99));
  SHOW("fadvise64 negative length", fadvise(pipe_fds[1], 0, -1L, 0));
  close(pipe_fds[0]);
  close(pipe_fds[1]);

  printf("-- socket\n");
  int sockets[2];
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) == 0);
  SHOW("fsync", fsync(sockets[0]));
  SHOW("syncfs", syncfs(sockets[0]));
  SHOW("sync_file_range", sync_file_range(sockets[0], 0, 0, 0));
  SHOW("readahead", readahead(sockets[0], 0, 1));
  SHOW("fadvise64", fadvise(sockets[0], 0, 0, POSIX_FADV_NORMAL));
  SHOW("fadvise64 bad advice", fadvise(sockets[0], 0, 0, 9));
  close(sockets[0]);
  close(sockets[1]);

  printf("-- /dev/null\n");
  int null = open("/dev/null", O_RDWR);
  SHOW("fsync", fsync(null));
  SHOW("sync_file_range", sync_file_range(null, 0, 0, 0));
  SHOW("readahead", readahead(null, 0, 1));
  SHOW("fadvise64 bad advice", fadvise(null, 0, 0, 9));
  close(null);

  printf("-- procfs\n");
  int status = open("/proc/self/status", O_RDONLY);
  int proc_directory = open("/proc/self", O_RDONLY | O_DIRECTORY);
  SHOW("fsync file", fsync(status));
  SHOW("fsync directory", fsync(proc_directory));
  SHOW("readahead file", readahead(status, 0, 1));
  SHOW("fadvise64 bad advice", fadvise(status, 0, 0, 9));
  close(status);
  close(proc_directory);

  printf("-- bad descriptor\n");
  SHOW("fsync", fsync(BAD_FD));
  SHOW("fdatasync", fdatasync(BAD_FD));
  SHOW("syncfs", syncfs(BAD_FD));
  SHOW("sync_file_range unknown flag", sync_file_range(BAD_FD, 0, 0, 8));
  SHOW("readahead", readahead(BAD_FD, 0, 1));
  SHOW("fadvise64 bad advice", fadvise(BAD_FD, 0, 0, 99));
  SHOW("fsync -1", fsync(-1));
}

int main(void) {
  sync();
  printf("sync returned\n");

  check_regular_file("working directory", "sync-file");
  char shm_path[64];
  snprintf(shm_path, sizeof(shm_path), "/dev/shm/ward-sync-%d", getpid());
  check_regular_file("/dev/shm", shm_path);

  check_directory("working directory", ".");
  check_directory("/dev/shm", "/dev/shm");
  check_special_files();
  return check_failures == 0 ? 0 : 1;
}
