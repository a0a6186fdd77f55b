// kill permission between processes of different uids: a sender may signal
// a target when its real or effective uid is the target's real or saved
// uid, or when it has CAP_KILL; SIGCONT needs only the same session. The
// scheduling setters on another process follow their own owner rules. The
// native run must be root, which forks a target as uid 2000 and senders as
// other uids.
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static pid_t target;

static void try_signals(void) {
  SHOW("kill signal 0", kill(target, 0));
  SHOW("kill SIGCONT in the same session", kill(target, SIGCONT));
  SHOW("kill SIGUSR2", kill(target, SIGUSR2));
  SHOW("tkill signal 0", syscall(SYS_tkill, target, 0));
  SHOW("tgkill signal 0", syscall(SYS_tgkill, target, target, 0));
  siginfo_t info = {.si_code = SI_QUEUE};
  SHOW("rt_sigqueueinfo signal 0", syscall(SYS_rt_sigqueueinfo, target, 0, &info));

  // The scheduling setters need the same owner (or CAP_SYS_NICE) instead.
  SHOW("setpriority of the target", setpriority(PRIO_PROCESS, target, 5));
  cpu_set_t set;
  sched_getaffinity(0, sizeof(set), &set);
  SHOW("sched_setaffinity of the target", sched_setaffinity(target, sizeof(set), &set));
  struct sched_param param = {.sched_priority = 0};
  SHOW("sched_setscheduler of the target", sched_setscheduler(target, SCHED_OTHER, &param));
  SHOW("ioprio_set of the target", syscall(SYS_ioprio_set, 1, target, 2 << 13));
}

// Runs try_signals in a child with the given uids; with keep_kill the
// child keeps CAP_KILL through the change.
static void sender(const char* name, uid_t real, uid_t effective, uid_t saved, bool keep_kill) {
  printf("-- %s\n", name);
  pid_t child = fork();
  if (child == 0) {
    if (keep_kill) {
      prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    }
    if (setresuid(real, effective, saved) != 0) {
      printf("setresuid failed\n");
      exit(1);
    }
    if (keep_kill) {
      struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
      struct __user_cap_data_struct data[2] = {{1u << CAP_KILL, 1u << CAP_KILL, 0}, {0, 0, 0}};
      SHOW("capset CAP_KILL", syscall(SYS_capset, &header, data));
    }
    try_signals();
    exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT("the sender exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void) {
  if (getuid() != 0) {
    printf("this test needs root\n");
    return 1;
  }
  // The target ignores SIGUSR2, sets its uids, reports that over a pipe,
  // and waits until the parent closes the other pipe.
  int ready[2];
  int release[2];
  if (pipe(ready) != 0 || pipe(release) != 0) {
    return 1;
  }
  target = fork();
  if (target == 0) {
    signal(SIGUSR2, SIG_IGN);
    close(ready[0]);
    close(release[1]);
    if (setresuid(2000, 2000, 2500) != 0) {
      exit(1);
    }
    (void)!write(ready[1], "x", 1);
    char byte;
    (void)!read(release[0], &byte, 1);
    exit(0);
  }
  close(ready[1]);
  close(release[0]);
  char byte;
  if (read(ready[0], &byte, 1) != 1) {
    return 1;
  }

  sender("root", 0, 0, 0, false);
  sender("same real uid", 2000, 3000, 3000, false);
  sender("effective uid is the target's real uid", 3000, 2000, 3000, false);
  sender("effective uid is the target's saved uid", 3000, 2500, 3000, false);
  sender("real uid is the target's saved uid", 2500, 3000, 3000, false);
  sender("only the saved uid matches", 3000, 3000, 2000, false);
  sender("unrelated uid", 3000, 3000, 3000, false);
  sender("unrelated uid with CAP_KILL", 3000, 3000, 3000, true);

  close(release[1]);
  int status = 0;
  waitpid(target, &status, 0);
  EXPECT("the target exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return finish_checks();
}
