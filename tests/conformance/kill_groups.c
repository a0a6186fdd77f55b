// Signals sent to process groups and the siginfo a receiver gets: kill
// with 0 and -pgid reaches every member and no one else, waitpid with 0
// and -pgid picks children by group, a signal from a child carries the
// child's pid, and SIGCONT runs its handler when it continues a stopped
// process. Pids differ under ward, so only relations are printed.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t usr1_count;
static volatile pid_t usr1_sender;
static volatile int usr1_code;

static void on_usr1(int signal_number, siginfo_t* info, void* context) {
  (void)signal_number;
  (void)context;
  usr1_count++;
  usr1_sender = info->si_pid;
  usr1_code = info->si_code;
}

static void sleep_ms(long milliseconds) {
  struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  nanosleep(&delay, NULL);
}

// A child in process group `pgid` (0: its own) that waits for a signal.
static pid_t fork_member(pid_t pgid) {
  pid_t child = fork();
  if (child == 0) {
    setpgid(0, pgid);
    for (;;) {
      pause();
    }
  }
  setpgid(child, pgid == 0 ? child : pgid);
  return child;
}

static const char* death_of(pid_t child, int options) {
  int status = 0;
  pid_t reaped = waitpid(child, &status, options);
  if (reaped == 0) {
    return "alive";
  }
  if (reaped != child) {
    return "wait failed";
  }
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? "killed by SIGTERM" : "other";
}

static void check_group_kill(void) {
  pid_t first = fork_member(0);
  pid_t second = fork_member(first);
  pid_t outsider = fork_member(0);

  SHOW("kill -pgid SIGTERM", kill(-first, SIGTERM));
  printf("first member: %s\n", death_of(first, 0));
  printf("second member: %s\n", death_of(second, 0));
  sleep_ms(50);
  printf("outsider: %s\n", death_of(outsider, WNOHANG));
  SHOW("kill -pgid of the emptied group", kill(-first, 0));
  kill(outsider, SIGTERM);
  waitpid(outsider, NULL, 0);
}

// kill(0, sig) from a child reaches its whole group, itself included.
static void check_kill_zero(void) {
  pid_t leader = fork();
  if (leader == 0) {
    setpgid(0, 0);
    pid_t member = fork_member(getpid());
    signal(SIGTERM, SIG_IGN);
    printf("kill 0 from the leader = %d\n", kill(0, SIGTERM));
    printf("member after kill 0: %s\n", death_of(member, 0));
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(leader, &status, 0);
  show_bool("the leader, which ignores SIGTERM, exited normally", WIFEXITED(status));
}

static void check_wait_by_group(void) {
  pid_t own_group = fork_member(0);
  pid_t same_group = fork();
  if (same_group == 0) {
    for (;;) {
      pause();
    }
  }
  kill(own_group, SIGTERM);
  kill(same_group, SIGTERM);
  sleep_ms(50);
  int status = 0;
  // waitpid(0) only reports children in the caller's group.
  pid_t reaped = waitpid(0, &status, 0);
  EXPECT("waitpid 0 reaps the child in the caller's group", reaped == same_group);
  SHOW("waitpid 0 with only another group's child left", waitpid(0, &status, WNOHANG));
  reaped = waitpid(-own_group, &status, 0);
  EXPECT("waitpid -pgid reaps the child of that group", reaped == own_group);
  SHOW("waitpid -pgid once it is empty", waitpid(-own_group, &status, WNOHANG));
}

static void check_siginfo_from_child(void) {
  struct sigaction action = {0};
  action.sa_sigaction = on_usr1;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &action, NULL);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigset_t old_mask;
  sigprocmask(SIG_BLOCK, &usr1, &old_mask);

  pid_t child = fork();
  if (child == 0) {
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  waitpid(child, NULL, 0);
  usr1_count = 0;
  sigsuspend(&old_mask);
  show_value("SIGUSR1 from the child: handler runs", usr1_count);
  show_bool("si_pid is the child", usr1_sender == child);
  show_bool("si_code is SI_USER", usr1_code == SI_USER);
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  signal(SIGUSR1, SIG_DFL);
}

static volatile sig_atomic_t cont_count;

static void on_cont(int signal_number) {
  (void)signal_number;
  cont_count++;
}

static void check_sigcont_handler(void) {
  int pipe_fds[2];
  pipe(pipe_fds);
  pid_t child = fork();
  if (child == 0) {
    close(pipe_fds[0]);
    signal(SIGCONT, on_cont);
    setpgid(0, 0);
    while (cont_count == 0) {
      pause();
    }
    char count = (char)cont_count;
    write(pipe_fds[1], &count, 1);
    _exit(0);
  }
  close(pipe_fds[1]);
  setpgid(child, child);
  sleep_ms(50);
  kill(child, SIGSTOP);
  int status = 0;
  waitpid(child, &status, WUNTRACED);
  show_bool("stopped before SIGCONT", WIFSTOPPED(status));
  kill(child, SIGCONT);
  char count = 0;
  SHOW("read the handler count", read(pipe_fds[0], &count, 1));
  show_value("SIGCONT handler runs", count);
  waitpid(child, &status, 0);
  show_bool("the child then exited", WIFEXITED(status));
  close(pipe_fds[0]);
}

int main(void) {
  check_group_kill();
  check_kill_zero();
  check_wait_by_group();
  check_siginfo_from_child();
  check_sigcont_handler();
  return finish_checks();
}
