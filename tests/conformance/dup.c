// dup, dup2 and dup3: the fd numbers chosen, the errors, and what a
// duplicate shares with the original (the offset and status flags of the
// open file description) and what it does not (FD_CLOEXEC).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  int file = SHOW("open /etc/passwd", open("/etc/passwd", O_RDONLY));
  SHOW("dup of stdin takes the lowest free fd", dup(0));
  SHOW("dup again", dup(file));
  close(4);
  SHOW("dup reuses the closed fd", dup(file));
  SHOW("dup -1", dup(-1));
  SHOW("dup 999", dup(999));

  SHOW("dup2 to fd 10", dup2(file, 10));
  SHOW("dup2 onto itself", dup2(10, 10));
  SHOW("dup2 a closed fd onto itself", dup2(11, 11));
  SHOW("dup2 from a closed fd", dup2(999, 12));
  SHOW("dup2 to -1", dup2(file, -1));
  SHOW("dup2 to 1 << 20", dup2(file, 1 << 20));
  SHOW("dup2 to INT_MAX", dup2(file, 0x7fffffff));
  SHOW("F_GETFD of fd 12 after the failed dup2", fcntl(12, F_GETFD));

  // dup2 onto an open fd closes it silently first.
  int pipe_fds[2];
  pipe(pipe_fds);
  SHOW("dup2 onto the pipe's write end", dup2(file, pipe_fds[1]));
  char byte;
  SHOW("  the old write end now reads the file", read(pipe_fds[1], &byte, 1));
  SHOW("  the pipe now has no writer, so read sees EOF", read(pipe_fds[0], &byte, 1));
  close(pipe_fds[0]);
  close(pipe_fds[1]);

  SHOW("dup3 onto itself", dup3(10, 10, 0));
  SHOW("dup3 to fd 11 O_CLOEXEC", dup3(file, 11, O_CLOEXEC));
  SHOW("  F_GETFD of fd 11", fcntl(11, F_GETFD));
  SHOW("dup3 to fd 13 without flags", dup3(file, 13, 0));
  SHOW("  F_GETFD of fd 13", fcntl(13, F_GETFD));
  SHOW("dup3 with O_NONBLOCK", dup3(file, 14, O_NONBLOCK));
  SHOW("dup3 with flag 0x1", dup3(file, 14, 1));
  SHOW("dup3 from a closed fd", dup3(999, 14, 0));
  SHOW("dup3 to -1", dup3(file, -1, 0));
  SHOW("raw dup2 onto itself with a closed fd", syscall(SYS_dup2, 999, 999));

  // A duplicate shares the file offset and the status flags.
  SHOW("lseek the original to 7", lseek(file, 7, SEEK_SET));
  SHOW("  offset seen through fd 10", lseek(10, 0, SEEK_CUR));
  SHOW("read 3 through fd 10", read(10, (char[3]){0}, 3));
  SHOW("  offset seen through the original", lseek(file, 0, SEEK_CUR));
  SHOW("F_SETFL O_NONBLOCK on fd 10", fcntl(10, F_SETFL, O_NONBLOCK));
  show_bool("  the original sees O_NONBLOCK", fcntl(file, F_GETFL) & O_NONBLOCK);
  // FD_CLOEXEC belongs to the fd, not the description.
  SHOW("F_SETFD FD_CLOEXEC on fd 10", fcntl(10, F_SETFD, FD_CLOEXEC));
  SHOW("  F_GETFD of the original", fcntl(file, F_GETFD));

  // Closing a duplicate leaves the original usable.
  SHOW("close fd 10", close(10));
  SHOW("close fd 10 again", close(10));
  SHOW("read through the original", read(file, &byte, 1));

  // A separate open has its own offset.
  int second = SHOW("open /etc/passwd again", open("/etc/passwd", O_RDONLY));
  SHOW("  offset of the new open", lseek(second, 0, SEEK_CUR));
  close(second);

  // The lowest free fd is taken even below others in use.
  close(0);
  SHOW("dup after closing stdin", dup(file));
  SHOW("fcntl F_DUPFD 0 after that", fcntl(file, F_DUPFD, 0));
  return finish_checks();
}
