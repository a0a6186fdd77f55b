// A three-level fork tree and the statuses wait(2) reports: exit codes,
// deaths by signal with the core bit, stops and continues through waitpid
// and waitid (WNOWAIT included), and __WCLONE and __WALL for children that
// report with another signal than SIGCHLD. Pids differ under ward, so only
// relations between them are printed.
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

// Prints what a wait status means, field by field.
static void show_status(const char* label, int status) {
  if (WIFEXITED(status)) {
    printf("%s: exited with %d\n", label, WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    printf("%s: killed by signal %d, core bit %s\n", label, WTERMSIG(status),
           WCOREDUMP(status) ? "set" : "clear");
  } else if (WIFSTOPPED(status)) {
    printf("%s: stopped by signal %d\n", label, WSTOPSIG(status));
  } else if (WIFCONTINUED(status)) {
    printf("%s: continued\n", label);
  } else {
    printf("%s: unknown status %#x\n", label, status);
  }
}

// Waits for `child` and prints its status.
static void reap(const char* label, pid_t child) {
  int status = 0;
  pid_t reaped = waitpid(child, &status, 0);
  if (reaped != child) {
    printf("%s: waitpid = -1 %s\n", label, errno_name(errno));
    return;
  }
  show_status(label, status);
}

// The second level of the tree: forks two grandchildren, each exiting with
// a code made of both indices, and exits with the sum of their codes. The
// exit code of the child therefore proves that each level saw the next.
static void run_middle(int index, pid_t root) {
  if (getppid() != root) {
    _exit(100);
  }
  pid_t self = getpid();
  pid_t grandchildren[2];
  for (int i = 0; i < 2; i++) {
    grandchildren[i] = fork();
    if (grandchildren[i] == 0) {
      _exit(getppid() == self ? 10 * index + i + 1 : 99);
    }
  }
  int sum = 0;
  for (int i = 1; i >= 0; i--) {
    int status = 0;
    if (waitpid(grandchildren[i], &status, 0) != grandchildren[i] || !WIFEXITED(status)) {
      _exit(101);
    }
    sum += WEXITSTATUS(status);
  }
  // Both grandchildren are reaped, so nothing is left to wait for.
  _exit(wait(NULL) == -1 && errno == ECHILD ? sum : 102);
}

static void check_fork_tree(void) {
  pid_t root = getpid();
  pid_t children[3];
  for (int i = 0; i < 3; i++) {
    children[i] = fork();
    if (children[i] == 0) {
      run_middle(i + 1, root);
    }
  }
  EXPECT("the children have distinct pids",
         children[0] != children[1] && children[1] != children[2] && children[0] != children[2]);
  for (int i = 0; i < 3; i++) {
    reap(label_of("tree child %d", i + 1), children[i]);
  }
  SHOW("wait with no children left", wait(NULL));
}

static pid_t fork_exiting(int code) {
  pid_t child = fork();
  if (child == 0) {
    _exit(code);
  }
  return child;
}

// A child that sets its core limit and then dies of `signal` sent to itself.
// With RLIMIT_CORE 0 Linux writes no core file and leaves the core bit
// clear, whatever the signal's default action.
static pid_t fork_killed_by(int signal_number) {
  pid_t child = fork();
  if (child == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    raise(signal_number);
    _exit(50);
  }
  return child;
}

static void check_exit_codes(void) {
  reap("exit 0", fork_exiting(0));
  reap("exit 1", fork_exiting(1));
  reap("exit 255", fork_exiting(255));
  reap("exit 256", fork_exiting(256));
  reap("raise SIGTERM", fork_killed_by(SIGTERM));
  reap("raise SIGKILL", fork_killed_by(SIGKILL));
  reap("raise SIGUSR1", fork_killed_by(SIGUSR1));
  reap("raise SIGQUIT with RLIMIT_CORE 0", fork_killed_by(SIGQUIT));
  reap("raise SIGABRT with RLIMIT_CORE 0", fork_killed_by(SIGABRT));

  pid_t child = fork();
  if (child == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    volatile int* volatile null_pointer = NULL;
    *null_pointer = 1;
    _exit(50);
  }
  reap("store through NULL with RLIMIT_CORE 0", child);
}

// Parks until a signal ends or stops it. With `own_group`, the child leads
// a process group of its own, whose parent is in another group of the same session: such
// a group is not orphaned, so SIGTSTP stops it. (The runner starts the
// test as a session leader, whose own group is orphaned.)
static pid_t fork_sleeper_in_own_group(bool own_group) {
  pid_t child = fork();
  if (child == 0) {
    if (own_group) {
      setpgid(0, 0);
    }
    for (;;) {
      pause();
    }
  }
  if (own_group) {
    setpgid(child, child);
  }
  return child;
}

static pid_t fork_sleeper(void) { return fork_sleeper_in_own_group(true); }

static void check_stop_and_continue_waitpid(void) {
  pid_t child = fork_sleeper();
  int status = 0;
  SHOW("waitpid WNOHANG on a running child", waitpid(child, &status, WNOHANG));

  SHOW("kill SIGSTOP", kill(child, SIGSTOP));
  EXPECT("waitpid WUNTRACED reports the child", waitpid(child, &status, WUNTRACED) == child);
  show_status("after SIGSTOP", status);
  // The stop was reported, so it is not reported twice.
  SHOW("waitpid WUNTRACED|WNOHANG again", waitpid(child, &status, WUNTRACED | WNOHANG));

  SHOW("kill SIGCONT", kill(child, SIGCONT));
  EXPECT("waitpid WCONTINUED reports the child", waitpid(child, &status, WCONTINUED) == child);
  show_status("after SIGCONT", status);
  SHOW("waitpid WCONTINUED|WNOHANG again", waitpid(child, &status, WCONTINUED | WNOHANG));

  // SIGTSTP stops a process whose handler is the default one.
  SHOW("kill SIGTSTP", kill(child, SIGTSTP));
  EXPECT("waitpid WUNTRACED reports the SIGTSTP stop", waitpid(child, &status, WUNTRACED) == child);
  show_status("after SIGTSTP", status);

  // A stopped process dies of SIGKILL without being continued.
  SHOW("kill SIGKILL while stopped", kill(child, SIGKILL));
  reap("after SIGKILL", child);
}

// In an orphaned process group, where no member has a parent in another
// group of the same session, Linux discards the stop signals that come
// from a terminal (SIGTSTP, SIGTTIN, SIGTTOU), since no shell could
// continue the group. SIGSTOP still stops it. The group here is that of a
// new session's leader.
static void check_orphaned_group_stops(void) {
  pid_t leader = fork();
  if (leader == 0) {
    setsid();
    pid_t child = fork_sleeper_in_own_group(false);
    for (int i = 0; i < 3; i++) {
      static const int stop_signals[] = {SIGTSTP, SIGTTIN, SIGTTOU};
      kill(child, stop_signals[i]);
    }
    // The signals were discarded at delivery; give the child the time to
    // take them, then ask whether it stopped.
    struct timespec delay = {0, 100 * 1000 * 1000};
    nanosleep(&delay, NULL);
    int status = 0;
    printf("orphaned group: stopped by SIGTSTP, SIGTTIN or SIGTTOU: %s\n",
           waitpid(child, &status, WUNTRACED | WNOHANG) == child ? "yes" : "no");
    kill(child, SIGSTOP);
    printf("orphaned group: stopped by SIGSTOP: %s\n",
           waitpid(child, &status, WUNTRACED) == child && WIFSTOPPED(status) ? "yes" : "no");
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(leader, &status, 0);
}

static void show_siginfo(const char* label, const siginfo_t* info, pid_t child) {
  const char* code = "other";
  switch (info->si_code) {
    case CLD_EXITED: code = "CLD_EXITED"; break;
    case CLD_KILLED: code = "CLD_KILLED"; break;
    case CLD_DUMPED: code = "CLD_DUMPED"; break;
    case CLD_STOPPED: code = "CLD_STOPPED"; break;
    case CLD_CONTINUED: code = "CLD_CONTINUED"; break;
    case 0: code = "0"; break;
  }
  printf("%s: si_signo %d si_code %s si_status %d, si_pid is the child: %s, si_uid is ours: %s\n",
         label, info->si_signo, code, info->si_status, info->si_pid == child ? "yes" : "no",
         info->si_uid == getuid() ? "yes" : "no");
}

static void check_stop_and_continue_waitid(void) {
  pid_t child = fork_sleeper();
  siginfo_t info;

  memset(&info, 0xff, sizeof(info));
  SHOW("waitid WEXITED|WNOHANG on a running child", waitid(P_PID, child, &info, WEXITED | WNOHANG));
  show_siginfo("nothing to report", &info, child);

  kill(child, SIGSTOP);
  SHOW("waitid WSTOPPED|WNOWAIT", waitid(P_PID, child, &info, WSTOPPED | WNOWAIT));
  show_siginfo("stop, kept", &info, child);
  SHOW("waitid WSTOPPED", waitid(P_PID, child, &info, WSTOPPED));
  show_siginfo("stop, consumed", &info, child);
  memset(&info, 0xff, sizeof(info));
  SHOW("waitid WSTOPPED|WNOHANG after it was consumed",
       waitid(P_PID, child, &info, WSTOPPED | WNOHANG));
  show_siginfo("no second stop", &info, child);

  kill(child, SIGCONT);
  SHOW("waitid WCONTINUED|WNOWAIT", waitid(P_ALL, 0, &info, WCONTINUED | WNOWAIT));
  show_siginfo("continue, kept", &info, child);
  SHOW("waitid WCONTINUED", waitid(P_PID, child, &info, WCONTINUED));
  show_siginfo("continue, consumed", &info, child);

  kill(child, SIGTERM);
  SHOW("waitid WEXITED|WNOWAIT", waitid(P_PID, child, &info, WEXITED | WNOWAIT));
  show_siginfo("death, kept", &info, child);
  SHOW("waitid WEXITED|WNOWAIT again", waitid(P_PGID, child, &info, WEXITED | WNOWAIT));
  show_siginfo("death, still kept", &info, child);
  int status = 0;
  EXPECT("waitpid reaps the child waitid kept", waitpid(child, &status, 0) == child);
  show_status("reaped after WNOWAIT", status);
  SHOW("waitid once it is reaped", waitid(P_PID, child, &info, WEXITED));

  pid_t exiting = fork_exiting(7);
  SHOW("waitid WEXITED on an exiting child", waitid(P_PID, exiting, &info, WEXITED));
  show_siginfo("exit 7", &info, exiting);
}

// A child made by clone with `exit_signal` as the signal it sends its
// parent when it ends (0: none). It exits with `code`.
static pid_t clone_exiting(int exit_signal, int code) {
  long child = syscall(SYS_clone, (long)exit_signal, 0L, 0L, 0L, 0L);
  if (child == 0) {
    syscall(SYS_exit_group, code);
  }
  return (pid_t)child;
}

static void check_clone_children(void) {
  // The parent must survive SIGUSR1 from its clone child.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);

  int status = 0;
  pid_t clone_child = clone_exiting(SIGUSR1, 5);
  SHOW("waitpid without __WCLONE for a clone child", waitpid(clone_child, &status, 0));
  EXPECT("waitpid __WCLONE reaps it", waitpid(clone_child, &status, __WCLONE) == clone_child);
  show_status("clone child with SIGUSR1", status);

  sigset_t pending;
  sigpending(&pending);
  show_bool("SIGUSR1 pending from the clone child", sigismember(&pending, SIGUSR1));
  int received_signal = 0;
  sigwait(&usr1, &received_signal);

  pid_t silent_child = clone_exiting(0, 6);
  EXPECT("waitpid __WALL reaps a child with no exit signal",
         waitpid(silent_child, &status, __WALL) == silent_child);
  show_status("clone child with no exit signal", status);

  pid_t fork_child = fork_exiting(8);
  SHOW("waitpid __WCLONE for a fork child", waitpid(fork_child, &status, __WCLONE));
  EXPECT("waitpid __WALL reaps a fork child", waitpid(fork_child, &status, __WALL) == fork_child);
  show_status("fork child through __WALL", status);

  siginfo_t info;
  clone_child = clone_exiting(SIGUSR1, 9);
  SHOW("waitid without __WCLONE for a clone child", waitid(P_PID, clone_child, &info, WEXITED));
  SHOW("waitid __WCLONE", waitid(P_PID, clone_child, &info, WEXITED | __WCLONE));
  show_siginfo("clone child through waitid", &info, clone_child);
  sigwait(&usr1, &received_signal);
  sigprocmask(SIG_UNBLOCK, &usr1, NULL);
}

// vfork suspends the parent until the child exits or execs, and the child
// runs in the parent's memory meanwhile.
static void check_vfork(void) {
  static volatile int written_by_child;
  written_by_child = 0;
  pid_t child = vfork();
  if (child == 0) {
    written_by_child = 1;
    _exit(4);
  }
  show_bool("vfork: the parent sees the child's write", written_by_child == 1);
  reap("vfork child", child);

  child = vfork();
  if (child == 0) {
    char* const argv[] = {"true", NULL};
    execv("/bin/true", argv);
    _exit(127);
  }
  reap("vfork and exec of /bin/true", child);
}

static void check_bad_inputs(void) {
  int status = 0;
  siginfo_t info;
  SHOW("wait4 with no children", wait4(-1, &status, 0, NULL));
  SHOW("wait4 WNOHANG with no children", wait4(-1, &status, WNOHANG, NULL));
  SHOW("wait4 for itself", wait4(getpid(), &status, 0, NULL));
  SHOW("wait4 for a missing pid", wait4(0x3fffffff, &status, 0, NULL));
  SHOW("wait4 INT_MIN", wait4(INT_MIN, &status, 0, NULL));
  SHOW("wait4 with an unknown option", wait4(-1, &status, 0x10000000, NULL));
  SHOW("wait4 with WEXITED", wait4(-1, &status, WEXITED, NULL));
  SHOW("waitid with no event option", waitid(P_ALL, 0, &info, WNOHANG));
  SHOW("waitid with an unknown option", waitid(P_ALL, 0, &info, WEXITED | 0x10000000));
  SHOW("waitid with an unknown idtype", waitid((idtype_t)42, 0, &info, WEXITED));
  SHOW("waitid P_PID 0", waitid(P_PID, 0, &info, WEXITED));
  SHOW("waitid P_PID -1", waitid(P_PID, (id_t)-1, &info, WEXITED));
  SHOW("waitid P_PGID -1", waitid(P_PGID, (id_t)-1, &info, WEXITED));
  SHOW("waitid with no children", waitid(P_ALL, 0, &info, WEXITED));

  // A status pointer that cannot be written fails the call after the
  // child was reaped, so it is gone afterwards.
  pid_t child = fork_exiting(3);
  SHOW("wait4 with a bad status pointer", wait4(child, (int*)1, 0, NULL));
  SHOW("wait4 after the bad pointer", wait4(child, &status, WNOHANG, NULL));
  child = fork_exiting(3);
  SHOW("waitid with a bad siginfo pointer", waitid(P_PID, child, (siginfo_t*)1, WEXITED));
  SHOW("waitid after the bad pointer", waitid(P_PID, child, &info, WEXITED | WNOHANG));
}

int main(void) {
  check_fork_tree();
  check_exit_codes();
  check_stop_and_continue_waitpid();
  check_stop_and_continue_waitid();
  check_orphaned_group_stops();
  check_clone_children();
  check_vfork();
  check_bad_inputs();
  return finish_checks();
}
