// fcntl on a read-only file for the owner and signal of I/O notifications
// (F_GETOWN, F_GETSIG), leases (F_GETLEASE) and seals (F_GET_SEALS,
// F_ADD_SEALS).
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  int fd = open("/etc/passwd", O_RDONLY);
  SHOW("F_GETOWN", fcntl(fd, F_GETOWN));
  SHOW("F_GETSIG", fcntl(fd, F_GETSIG));
  SHOW("F_GETLEASE", fcntl(fd, F_GETLEASE));
  SHOW("F_GET_SEALS on a regular file", fcntl(fd, F_GET_SEALS));
  SHOW("F_ADD_SEALS on a regular file", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  close(fd);
  return finish_checks();
}
