// kill with signal 0, which only checks that the target exists, and with
// an invalid signal number.
#include <signal.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  pid_t pid = getpid();
  SHOW("kill signal 0 to itself", kill(pid, 0));
  SHOW("kill signal 0 to a missing process", kill(0x3fffffff, 0));
  SHOW("kill with a bad signal", kill(pid, 1000));
  return finish_checks();
}
