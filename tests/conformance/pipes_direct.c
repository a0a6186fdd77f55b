// pipe2 with O_DIRECT, which makes a packet-mode pipe.
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  int fds[2];
  SHOW("pipe2 O_DIRECT", pipe2(fds, O_DIRECT));
  close(fds[0]);
  close(fds[1]);
  return finish_checks();
}
