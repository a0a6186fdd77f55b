// Sessions and process groups: getpgid, getpgrp, getsid, setsid and
// setpgid. Raw pids differ under ward, whose first process is pid 1, so
// only relations between them are printed.
#include <unistd.h>

#include "check.h"

int main(void) {
  pid_t pid = getpid();
  EXPECT("getpgid(0) equals getpgrp", getpgid(0) == getpgrp());
  EXPECT("getpgid(pid) equals getpgrp", getpgid(pid) == getpgrp());
  EXPECT("getsid(0) equals getsid(pid)", getsid(0) == getsid(pid));
  // The runner starts both runs in a new session. ward's first process
  // should lead its session, as a container's first process does.
  show_bool("the process leads its session", getsid(0) == pid);
  show_bool("the process leads its process group", getpgrp() == pid);
  SHOW("getpgid of a missing process", getpgid(0x3fffffff));
  SHOW("getsid of a missing process", getsid(0x3fffffff));
  SHOW("getpgid -1", getpgid(-1));
  SHOW("setsid while leading a session", setsid());
  SHOW("setpgid to itself", setpgid(0, 0));
  return finish_checks();
}
