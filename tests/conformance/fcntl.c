// fcntl on read-only files and pipes: F_GETFD, F_SETFD, F_GETFL, F_SETFL,
// F_DUPFD, F_DUPFD_CLOEXEC, and bad commands. fcntl_locks.c checks record
// and OFD locks, and fcntl_owner_seals.c checks owners, signals, leases and
// seals.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static void check_fd_flags(void) {
  int fd = SHOW("open /etc/passwd", open("/etc/passwd", O_RDONLY));
  SHOW("F_GETFD", fcntl(fd, F_GETFD));
  SHOW("F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
  SHOW("F_GETFD after setting", fcntl(fd, F_GETFD));
  SHOW("F_SETFD 0", fcntl(fd, F_SETFD, 0));
  SHOW("F_GETFD after clearing", fcntl(fd, F_GETFD));
  SHOW("F_SETFD with other bits", fcntl(fd, F_SETFD, 0xfe));
  SHOW("F_GETFD keeps only FD_CLOEXEC", fcntl(fd, F_GETFD));
  int cloexec = SHOW("open O_CLOEXEC", open("/etc/passwd", O_RDONLY | O_CLOEXEC));
  SHOW("F_GETFD of the O_CLOEXEC fd", fcntl(cloexec, F_GETFD));
  close(cloexec);
  close(fd);
}

static void check_status_flags(void) {
  int fd = open("/etc/passwd", O_RDONLY);
  // On 64-bit Linux the kernel adds O_LARGEFILE to every open.
  show_hex("F_GETFL O_RDONLY", (unsigned long)fcntl(fd, F_GETFL));
  SHOW("F_SETFL O_NONBLOCK|O_APPEND", fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND));
  show_hex("F_GETFL after setting", (unsigned long)fcntl(fd, F_GETFL));
  // F_SETFL ignores the access mode and the creation flags.
  SHOW("F_SETFL O_RDWR|O_CREAT|O_TRUNC|O_EXCL",
       fcntl(fd, F_SETFL, O_RDWR | O_CREAT | O_TRUNC | O_EXCL));
  show_hex("F_GETFL after that", (unsigned long)fcntl(fd, F_GETFL));
  SHOW("F_SETFL O_NOATIME", fcntl(fd, F_SETFL, O_NOATIME));
  show_hex("F_GETFL after O_NOATIME", (unsigned long)fcntl(fd, F_GETFL));
  SHOW("F_SETFL 0", fcntl(fd, F_SETFL, 0));
  show_hex("F_GETFL after clearing", (unsigned long)fcntl(fd, F_GETFL));
  close(fd);

  int directory = open("/usr/include", O_RDONLY | O_DIRECTORY);
  show_hex("F_GETFL O_DIRECTORY", (unsigned long)fcntl(directory, F_GETFL));
  close(directory);
  int path_fd = open("/etc/passwd", O_PATH);
  show_hex("F_GETFL O_PATH", (unsigned long)fcntl(path_fd, F_GETFL));
  SHOW("F_GETFD on O_PATH", fcntl(path_fd, F_GETFD));
  SHOW("F_SETFL on O_PATH", fcntl(path_fd, F_SETFL, O_NONBLOCK));
  SHOW("F_DUPFD on O_PATH", fcntl(path_fd, F_DUPFD, 30));
  close(30);
  close(path_fd);
  int pipe_fds[2];
  pipe(pipe_fds);
  show_hex("F_GETFL pipe write end", (unsigned long)fcntl(pipe_fds[1], F_GETFL));
  SHOW("F_SETFL O_NONBLOCK on a pipe", fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK));
  char byte;
  SHOW("  read now fails instead of blocking", read(pipe_fds[0], &byte, 1));
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

static void check_duplication(void) {
  int fd = open("/etc/passwd", O_RDONLY);
  SHOW("F_DUPFD 10", fcntl(fd, F_DUPFD, 10));
  SHOW("F_DUPFD 10 again", fcntl(fd, F_DUPFD, 10));
  SHOW("  F_GETFD of F_DUPFD's fd", fcntl(11, F_GETFD));
  SHOW("F_DUPFD_CLOEXEC 20", fcntl(fd, F_DUPFD_CLOEXEC, 20));
  SHOW("  F_GETFD of F_DUPFD_CLOEXEC's fd", fcntl(20, F_GETFD));
  SHOW("F_DUPFD 0 takes the lowest", fcntl(fd, F_DUPFD, 0));
  SHOW("F_DUPFD -1", fcntl(fd, F_DUPFD, -1));
  SHOW("F_DUPFD 1 << 30", fcntl(fd, F_DUPFD, 1 << 30));
  SHOW("F_DUPFD on a closed fd", fcntl(999, F_DUPFD, 0));
  SHOW("F_DUPFD_CLOEXEC on a closed fd", fcntl(999, F_DUPFD_CLOEXEC, 0));
  close(10);
  close(11);
  close(20);
  close(fd + 1);
  close(fd);
}

static void check_bad_arguments(void) {
  int fd = open("/etc/passwd", O_RDONLY);
  SHOW("bad command 9999", fcntl(fd, 9999));
  SHOW("bad command -1", syscall(SYS_fcntl, fd, -1, 0));
  SHOW("F_GETFD on a closed fd", fcntl(999, F_GETFD));
  SHOW("F_GETFL on fd -1", fcntl(-1, F_GETFL));
  close(fd);
}

int main(void) {
  check_fd_flags();
  check_status_flags();
  check_duplication();
  check_bad_arguments();
  return finish_checks();
}
