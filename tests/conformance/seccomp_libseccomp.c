// Filters built by libseccomp, as real programs install them: an errno
// rule, rules on arguments, the architecture check libseccomp adds, and a
// kill rule in a child. libseccomp also sets no_new_privs itself.
#include <seccomp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"

static void check_errno_rules(void) {
  scmp_filter_ctx context = seccomp_init(SCMP_ACT_ALLOW);
  EXPECT("seccomp_init", context != NULL);
  show_error_number("rule getppid EPERM",
                    -seccomp_rule_add(context, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(getppid), 0));
  show_error_number("rule close(999) EACCES",
                    -seccomp_rule_add(context, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(close), 1,
                                      SCMP_A0(SCMP_CMP_EQ, 999)));
  show_error_number("rule umask(>= 0700) EROFS",
                    -seccomp_rule_add(context, SCMP_ACT_ERRNO(EROFS), SCMP_SYS(umask), 1,
                                      SCMP_A0(SCMP_CMP_GE, 0700)));
  show_error_number("rule getpgid(masked 0xff00 == 0x100) ENOTTY",
                    -seccomp_rule_add(context, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(getpgid), 1,
                                      SCMP_A0(SCMP_CMP_MASKED_EQ, 0xff00, 0x100)));
  show_error_number("seccomp_load", -seccomp_load(context));
  seccomp_release(context);

  SHOW("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  SHOW("PR_GET_SECCOMP", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  // getppid and umask cannot fail, so glibc sets no errno for them: the
  // raw syscall shows the filter's errno.
  SHOW("getppid", syscall(SYS_getppid));
  SHOW("close(999)", close(999));
  SHOW("close(998)", close(998));
  SHOW("umask(0777)", syscall(SYS_umask, 0777));
  SHOW("umask(022)", syscall(SYS_umask, 022));
  SHOW("getpgid(0x1ff)", getpgid(0x1ff));
  SHOW("getpgid(0x2ff)", getpgid(0x2ff));
}

static void check_kill_rule(void) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    scmp_filter_ctx context = seccomp_init(SCMP_ACT_ALLOW);
    seccomp_rule_add(context, SCMP_ACT_KILL_PROCESS, SCMP_SYS(getsid), 0);
    seccomp_load(context);
    getsid(0);
    printf("child survived getsid\n");
    exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_bool("child killed", WIFSIGNALED(status));
  show_value("child signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int main(void) {
  check_kill_rule();
  check_errno_rules();
  return finish_checks();
}
