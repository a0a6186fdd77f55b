// fcntl record locks (F_GETLK, F_SETLK) and open file description locks
// (F_OFD_SETLK) on a read-only file, with their argument errors.
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  int fd = open("/etc/passwd", O_RDONLY);
  struct flock lock = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  SHOW("F_GETLK F_RDLCK", fcntl(fd, F_GETLK, &lock));
  EXPECT("  no conflicting lock", lock.l_type == F_UNLCK);
  lock.l_type = F_RDLCK;
  SHOW("F_SETLK F_RDLCK", fcntl(fd, F_SETLK, &lock));
  lock.l_type = F_WRLCK;
  SHOW("F_SETLK F_WRLCK on a read-only fd", fcntl(fd, F_SETLK, &lock));
  lock.l_type = F_UNLCK;
  SHOW("F_SETLK F_UNLCK", fcntl(fd, F_SETLK, &lock));
  lock.l_type = 99;
  SHOW("F_SETLK bad type", fcntl(fd, F_SETLK, &lock));
  lock.l_type = F_RDLCK;
  lock.l_whence = 7;
  SHOW("F_SETLK bad whence", fcntl(fd, F_SETLK, &lock));
  SHOW("F_GETLK into a bad pointer", fcntl(fd, F_GETLK, (void*)1));
  struct flock ofd_lock = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  SHOW("F_OFD_SETLK F_RDLCK", fcntl(fd, F_OFD_SETLK, &ofd_lock));
  ofd_lock.l_pid = 1;
  SHOW("F_OFD_SETLK with l_pid set", fcntl(fd, F_OFD_SETLK, &ofd_lock));
  close(fd);
  return finish_checks();
}
