// seccomp filters a process installs on itself: no_new_privs, the
// SECCOMP_RET_ERRNO, TRACE, USER_NOTIF and LOG actions, filters on
// arguments, stacking and precedence, prctl's PR_SET_SECCOMP and
// PR_GET_SECCOMP, and the query operations. Filters only add up, so each
// check targets its own syscall.
#include <sys/prctl.h>
#include <sys/stat.h>

#include "check.h"
#include "seccomp_filters.h"

static void check_no_new_privs(void) {
  SHOW("PR_GET_NO_NEW_PRIVS before", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS 2", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS 0", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS with arg3", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS with arg5", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 1));
  SHOW("PR_GET_NO_NEW_PRIVS with arg2", prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS 1", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS again", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  SHOW("PR_GET_NO_NEW_PRIVS after", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

static void check_errno_action(void) {
  SHOW("PR_GET_SECCOMP before", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  SHOW("filter getppid ERRNO(EPERM)",
       install_syscall_filter(0, SYS_getppid, SECCOMP_RET_ERRNO | EPERM));
  SHOW("getppid", syscall(SYS_getppid));
  SHOW("PR_GET_SECCOMP after", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));

  // RET_DATA above MAX_ERRNO (4095) is cut down to it.
  SHOW("filter getpgrp ERRNO(5000)", install_syscall_filter(0, SYS_getpgrp, SECCOMP_RET_ERRNO | 5000));
  SHOW("getpgrp", syscall(SYS_getpgrp));

  // ERRNO with data 0 skips the call and returns 0.
  EXPECT("getpgid before is positive", syscall(SYS_getpgid, 0) > 0);
  SHOW("filter getpgid ERRNO(0)", install_syscall_filter(0, SYS_getpgid, SECCOMP_RET_ERRNO | 0));
  SHOW("getpgid", syscall(SYS_getpgid, 0));

  // The filter runs before the kernel looks the number up.
  SHOW("syscall 1000 unfiltered", syscall(1000));
  SHOW("filter syscall 1000 ERRNO(EPERM)", install_syscall_filter(0, 1000, SECCOMP_RET_ERRNO | EPERM));
  SHOW("syscall 1000", syscall(1000));
  SHOW("syscall 1001", syscall(1001));
}

static void check_other_actions(void) {
  // No tracer and no listener: both fail with ENOSYS.
  SHOW("filter getsid TRACE", install_syscall_filter(0, SYS_getsid, SECCOMP_RET_TRACE | 7));
  SHOW("getsid", syscall(SYS_getsid, 0));
  SHOW("filter sched_yield USER_NOTIF",
       install_syscall_filter(0, SYS_sched_yield, SECCOMP_RET_USER_NOTIF));
  SHOW("sched_yield", syscall(SYS_sched_yield));

  // LOG and ALLOW run the call.
  SHOW("filter getegid LOG", install_syscall_filter(0, SYS_getegid, SECCOMP_RET_LOG));
  EXPECT("getegid runs under LOG", syscall(SYS_getegid) == (long)getegid());
  SHOW("filter geteuid ALLOW", install_syscall_filter(0, SYS_geteuid, SECCOMP_RET_ALLOW | 5));
  EXPECT("geteuid runs under ALLOW", syscall(SYS_geteuid) == (long)geteuid());
}

static void check_arguments(void) {
  SHOW("filter close(999) ERRNO(EACCES)",
       install_argument_filter(SYS_close, 0, 999, SECCOMP_RET_ERRNO | EACCES));
  SHOW("close(999)", close(999));
  SHOW("close(998)", close(998));
  // The filter compares only the low word.
  SHOW("close((1 << 32) | 999)", syscall(SYS_close, (1UL << 32) | 999));
}

static void check_precedence(void) {
  // Equal actions: the newest filter's data wins.
  SHOW("filter gettid ERRNO(EPERM)", install_syscall_filter(0, SYS_gettid, SECCOMP_RET_ERRNO | EPERM));
  SHOW("filter gettid ERRNO(EACCES)",
       install_syscall_filter(0, SYS_gettid, SECCOMP_RET_ERRNO | EACCES));
  SHOW("gettid after two ERRNO filters", syscall(SYS_gettid));
  // ERRNO ranks above TRACE, LOG and ALLOW, whichever is newer.
  SHOW("filter gettid TRACE", install_syscall_filter(0, SYS_gettid, SECCOMP_RET_TRACE));
  SHOW("filter gettid LOG", install_syscall_filter(0, SYS_gettid, SECCOMP_RET_LOG));
  SHOW("gettid after TRACE and LOG", syscall(SYS_gettid));
  // An older TRACE and a newer LOG do not hide ERRNO either.
  SHOW("filter umask TRACE", install_syscall_filter(0, SYS_umask, SECCOMP_RET_TRACE));
  SHOW("filter umask ERRNO(EROFS)", install_syscall_filter(0, SYS_umask, SECCOMP_RET_ERRNO | EROFS));
  SHOW("filter umask LOG", install_syscall_filter(0, SYS_umask, SECCOMP_RET_LOG));
  SHOW("umask", syscall(SYS_umask, 022));
}

static void check_prctl_interface(void) {
  struct sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_NR_OFFSET),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setpgid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EXDEV),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog fprog = {.len = 4, .filter = program};
  SHOW("PR_SET_SECCOMP FILTER", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0));
  SHOW("setpgid", setpgid(0, 0));
  SHOW("PR_SET_SECCOMP bad mode", prctl(PR_SET_SECCOMP, 3, &fprog, 0, 0));
  SHOW("PR_SET_SECCOMP FILTER NULL", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0));
  // The mode never changes once set.
  SHOW("PR_SET_SECCOMP STRICT in filter mode", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0));
  SHOW("SET_MODE_STRICT in filter mode", seccomp_call(SECCOMP_SET_MODE_STRICT, 0, NULL));

  // A filter on prctl decides what PR_GET_SECCOMP returns.
  SHOW("filter prctl(PR_GET_SECCOMP) ERRNO(ESRCH)",
       install_argument_filter(SYS_prctl, 0, PR_GET_SECCOMP, SECCOMP_RET_ERRNO | ESRCH));
  SHOW("PR_GET_SECCOMP under the filter", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  SHOW("PR_GET_NO_NEW_PRIVS under the filter", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

static void check_queries(void) {
  const unsigned int actions[] = {SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP,
                                  SECCOMP_RET_ERRNO,        SECCOMP_RET_TRACE,       SECCOMP_RET_LOG,
                                  SECCOMP_RET_ALLOW};
  for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
    unsigned int action = actions[i];
    SHOW(label_of("GET_ACTION_AVAIL %#x", action),
         seccomp_call(SECCOMP_GET_ACTION_AVAIL, 0, &action));
  }
  unsigned int unknown = 0x00010000;
  SHOW("GET_ACTION_AVAIL 0x10000", seccomp_call(SECCOMP_GET_ACTION_AVAIL, 0, &unknown));
  unsigned int with_data = SECCOMP_RET_ERRNO | 1;
  SHOW("GET_ACTION_AVAIL ERRNO|1", seccomp_call(SECCOMP_GET_ACTION_AVAIL, 0, &with_data));
  SHOW("GET_ACTION_AVAIL flags 1", seccomp_call(SECCOMP_GET_ACTION_AVAIL, 1, &unknown));
  SHOW("GET_ACTION_AVAIL NULL", seccomp_call(SECCOMP_GET_ACTION_AVAIL, 0, NULL));

  struct seccomp_notif_sizes sizes = {0};
  SHOW("GET_NOTIF_SIZES", seccomp_call(SECCOMP_GET_NOTIF_SIZES, 0, &sizes));
  show_value("seccomp_notif", sizes.seccomp_notif);
  show_value("seccomp_notif_resp", sizes.seccomp_notif_resp);
  show_value("seccomp_data", sizes.seccomp_data);
  SHOW("GET_NOTIF_SIZES flags 1", seccomp_call(SECCOMP_GET_NOTIF_SIZES, 1, &sizes));
  SHOW("GET_NOTIF_SIZES NULL", seccomp_call(SECCOMP_GET_NOTIF_SIZES, 0, NULL));
  SHOW("operation 4", seccomp_call(4, 0, NULL));
  SHOW("operation 0x100000001", syscall(SYS_seccomp, 0x100000001UL, 0, NULL));
}

int main(void) {
  check_no_new_privs();
  check_errno_action();
  check_other_actions();
  check_arguments();
  check_precedence();
  check_prctl_interface();
  check_queries();
  return finish_checks();
}
