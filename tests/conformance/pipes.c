// Pipes within one process: pipe2 flags, reads and writes, FIONREAD,
// O_NONBLOCK and EAGAIN, capacity, EOF, EPIPE, fstat. pipes_poll.c,
// pipes_direct.c, pipes_resize.c and pipes_sigpipe.c check poll, packet
// mode, F_SETPIPE_SZ and SIGPIPE.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static int readable_bytes(int fd) {
  int count = -1;
  if (ioctl(fd, FIONREAD, &count) < 0) {
    return -1;
  }
  return count;
}

static void check_flags(void) {
  int fds[2];
  SHOW("pipe2 flags 0", pipe2(fds, 0));
  printf("  fds %d %d\n", fds[0], fds[1]);
  SHOW("  F_GETFD read end", fcntl(fds[0], F_GETFD));
  show_hex("  F_GETFL read end", (unsigned long)fcntl(fds[0], F_GETFL));
  show_hex("  F_GETFL write end", (unsigned long)fcntl(fds[1], F_GETFL));
  close(fds[0]);
  close(fds[1]);

  SHOW("pipe2 O_CLOEXEC", pipe2(fds, O_CLOEXEC));
  SHOW("  F_GETFD read end", fcntl(fds[0], F_GETFD));
  SHOW("  F_GETFD write end", fcntl(fds[1], F_GETFD));
  close(fds[0]);
  close(fds[1]);

  SHOW("pipe2 O_NONBLOCK", pipe2(fds, O_NONBLOCK));
  show_hex("  F_GETFL read end", (unsigned long)fcntl(fds[0], F_GETFL));
  close(fds[0]);
  close(fds[1]);

  SHOW("pipe2 flag O_RDWR", pipe2(fds, O_RDWR));
  SHOW("pipe2 flag O_APPEND", pipe2(fds, O_APPEND));
  SHOW("pipe2 into a bad pointer", syscall(SYS_pipe2, (int*)1, 0));
  SHOW("pipe into a bad pointer", syscall(SYS_pipe, (int*)1));
}

static void check_data_flow(void) {
  int fds[2];
  pipe2(fds, O_NONBLOCK);
  char buffer[128] = {0};
  SHOW("read from an empty pipe", read(fds[0], buffer, sizeof(buffer)));
  SHOW("FIONREAD when empty", readable_bytes(fds[0]));

  SHOW("write hello", write(fds[1], "hello", 5));
  SHOW("FIONREAD after write", readable_bytes(fds[0]));
  SHOW("read 3", read(fds[0], buffer, 3));
  show_string("  data", buffer);
  SHOW("FIONREAD after read", readable_bytes(fds[0]));
  memset(buffer, 0, sizeof(buffer));
  SHOW("read the rest", read(fds[0], buffer, sizeof(buffer)));
  show_string("  data", buffer);
  SHOW("write 0 bytes", write(fds[1], buffer, 0));
  SHOW("read from the write end", read(fds[1], buffer, 1));
  SHOW("write to the read end", write(fds[0], "x", 1));
  SHOW("lseek on a pipe", lseek(fds[0], 0, SEEK_SET));
  SHOW("pread64 on a pipe", pread(fds[0], buffer, 1, 0));
  SHOW("write from a bad pointer", write(fds[1], (void*)1, 10));

  struct stat result = {0};
  SHOW("fstat read end", fstat(fds[0], &result));
  EXPECT("S_ISFIFO", S_ISFIFO(result.st_mode));
  show_octal("  permission bits", result.st_mode & 07777);
  show_value("  st_size", result.st_size);
  show_value("  st_blksize", result.st_blksize);
  show_value("  st_nlink", (long)result.st_nlink);
  struct stat other_end = {0};
  fstat(fds[1], &other_end);
  EXPECT("both ends are one inode",
         result.st_ino == other_end.st_ino && result.st_dev == other_end.st_dev);

  // Capacity: a nonblocking writer fills the pipe and then gets EAGAIN.
  SHOW("F_GETPIPE_SZ", fcntl(fds[1], F_GETPIPE_SZ));
  char* block = calloc(1, 70000);
  SHOW("write 70000 bytes into an empty pipe", write(fds[1], block, 70000));
  SHOW("write into a full pipe", write(fds[1], block, 1));
  SHOW("FIONREAD when full", readable_bytes(fds[0]));
  long drained = 0;
  for (int i = 0; i < 100; i++) {
    long got = read(fds[0], block, 70000);
    if (got <= 0) {
      break;
    }
    drained += got;
  }
  show_value("bytes drained", drained);
  int file = open("/etc/passwd", O_RDONLY);
  SHOW("F_GETPIPE_SZ on a regular file", fcntl(file, F_GETPIPE_SZ));
  close(file);
  free(block);

  // EOF once the write end is closed.
  write(fds[1], "z", 1);
  close(fds[1]);
  SHOW("read the last byte", read(fds[0], buffer, sizeof(buffer)));
  SHOW("read at EOF", read(fds[0], buffer, sizeof(buffer)));
  close(fds[0]);
}

static void check_broken_pipe(void) {
  int fds[2];
  pipe(fds);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  SHOW("write with no reader, SIGPIPE ignored", write(fds[1], "x", 1));
  close(fds[1]);
}

int main(void) {
  check_flags();
  check_data_flow();
  check_broken_pipe();
  return finish_checks();
}
