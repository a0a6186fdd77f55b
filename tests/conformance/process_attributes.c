// Process attributes beyond the name: the prctl getters for the dumpable
// flag, no_new_privs and the parent-death signal, getpriority, and the
// personality query.
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "check.h"

int main(void) {
  SHOW("prctl PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
  SHOW("prctl PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  SHOW("prctl PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &(int){0}));

  SHOW("getpriority of itself", getpriority(PRIO_PROCESS, 0));
  SHOW("getpriority with a bad which", getpriority(12345, 0));
  SHOW("personality query", personality(0xffffffff));
  return finish_checks();
}
