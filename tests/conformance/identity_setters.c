// The set*id family: setting the user and group ids a process already has,
// which Linux allows for every process.
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  // Setting the ids a process already has is allowed for everyone.
  SHOW("setuid to the current uid", setuid(getuid()));
  SHOW("setgid to the current gid", setgid(getgid()));
  SHOW("setresuid -1 -1 -1", setresuid(-1, -1, -1));
  SHOW("setfsuid returns the previous fsuid", syscall(SYS_setfsuid, -1));
  return finish_checks();
}
