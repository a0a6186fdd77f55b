// F_SETPIPE_SZ: shrinking a pipe and then writing more than the new
// capacity, a size below the data held, and rounding up to a power-of-two
// number of pages.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  int fds[2];
  pipe2(fds, O_NONBLOCK);
  char* block = calloc(1, 8192);
  SHOW("F_SETPIPE_SZ 4096", fcntl(fds[1], F_SETPIPE_SZ, 4096));
  SHOW("F_GETPIPE_SZ after setting", fcntl(fds[0], F_GETPIPE_SZ));
  SHOW("write 8192 bytes into a 4096-byte pipe", write(fds[1], block, 8192));
  SHOW("F_SETPIPE_SZ below the data held", fcntl(fds[1], F_SETPIPE_SZ, 0));
  read(fds[0], block, 8192);
  SHOW("F_SETPIPE_SZ 0", fcntl(fds[1], F_SETPIPE_SZ, 0));
  SHOW("F_SETPIPE_SZ 5000 rounds up", fcntl(fds[1], F_SETPIPE_SZ, 5000));
  free(block);
  close(fds[0]);
  close(fds[1]);
  return finish_checks();
}
