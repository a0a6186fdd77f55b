// Who runs under a filter: a forked child, the program after execve (also
// /bin/true), threads created after the filter, and other threads only
// through SECCOMP_FILTER_FLAG_TSYNC, whose conflicts return the tid of the
// thread that cannot follow, or ESRCH with SECCOMP_FILTER_FLAG_TSYNC_ESRCH.
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "check.h"
#include "seccomp_filters.h"

static void show_filtered_state(const char* who) {
  SHOW(label_of("%s: getppid", who), syscall(SYS_getppid));
  SHOW(label_of("%s: PR_GET_SECCOMP", who), prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  SHOW(label_of("%s: PR_GET_NO_NEW_PRIVS", who), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

static void print_status(const char* label, int status) {
  if (WIFSIGNALED(status)) {
    printf("%s: killed by signal %d\n", label, WTERMSIG(status));
  } else {
    printf("%s: exit %d\n", label, WEXITSTATUS(status));
  }
}

static void check_fork_and_exec(const char* self) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    show_filtered_state("forked child");
    exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  print_status("forked child", status);

  fflush(stdout);
  child = fork();
  if (child == 0) {
    execl(self, self, "after-exec", (char*)NULL);
    _exit(126);
  }
  waitpid(child, &status, 0);
  print_status("exec of self", status);

  fflush(stdout);
  child = fork();
  if (child == 0) {
    execl("/bin/true", "true", (char*)NULL);
    _exit(126);
  }
  waitpid(child, &status, 0);
  print_status("exec of /bin/true", status);
}

static void* show_thread_state(void* unused) {
  (void)unused;
  show_filtered_state("new thread");
  return NULL;
}

// A thread that installs its own filter on getsid and waits until the
// main thread has tried TSYNC.
static int waiting_pipe[2];
static int ready_pipe[2];
static long waiting_thread_tid;
static long waiting_thread_install;

static void* install_and_wait(void* unused) {
  (void)unused;
  waiting_thread_tid = syscall(SYS_gettid);
  waiting_thread_install = install_syscall_filter(0, SYS_getsid, SECCOMP_RET_ERRNO | ENOTTY);
  char byte = 'r';
  write(ready_pipe[1], &byte, 1);
  read(waiting_pipe[0], &byte, 1);
  SHOW("waiting thread: getsid", syscall(SYS_getsid, 0));
  SHOW("waiting thread: umask", syscall(SYS_umask, 022));
  return NULL;
}

static void check_tsync_conflict(void) {
  pipe(waiting_pipe);
  pipe(ready_pipe);
  pthread_t thread;
  pthread_create(&thread, NULL, install_and_wait, NULL);
  char byte;
  read(ready_pipe[0], &byte, 1);
  show_value("waiting thread installs", waiting_thread_install);

  // The thread's chain is not an ancestor of this one's, so it cannot
  // follow: TSYNC fails with the thread's tid and installs nothing.
  long result = install_syscall_filter(SECCOMP_FILTER_FLAG_TSYNC, SYS_umask,
                                       SECCOMP_RET_ERRNO | EROFS);
  EXPECT("TSYNC returns the tid of the thread", result == waiting_thread_tid);
  SHOW("umask after the failed TSYNC", syscall(SYS_umask, 022));
  SHOW("TSYNC with TSYNC_ESRCH",
       install_syscall_filter(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
                              SYS_umask, SECCOMP_RET_ERRNO | EROFS));
  SHOW("main: getsid", syscall(SYS_getsid, 0) > 0);

  write(waiting_pipe[1], "g", 1);
  pthread_join(thread, NULL);
}

// A thread started before no_new_privs and any filter; TSYNC gives it both.
static void* wait_then_show(void* unused) {
  (void)unused;
  char byte;
  read(waiting_pipe[0], &byte, 1);
  SHOW("early thread: getpgrp", syscall(SYS_getpgrp));
  SHOW("early thread: PR_GET_SECCOMP", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  SHOW("early thread: PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  return NULL;
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "after-exec") == 0) {
    show_filtered_state("after exec");
    return 0;
  }

  pipe(waiting_pipe);
  pthread_t early;
  pthread_create(&early, NULL, wait_then_show, NULL);

  SHOW("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  SHOW("filter getppid ERRNO(EPERM) with TSYNC",
       install_syscall_filter(SECCOMP_FILTER_FLAG_TSYNC, SYS_getppid, SECCOMP_RET_ERRNO | EPERM));
  SHOW("filter getpgrp ERRNO(EPERM) with TSYNC",
       install_syscall_filter(SECCOMP_FILTER_FLAG_TSYNC, SYS_getpgrp, SECCOMP_RET_ERRNO | EPERM));
  write(waiting_pipe[1], "g", 1);
  pthread_join(early, NULL);
  close(waiting_pipe[0]);
  close(waiting_pipe[1]);

  show_filtered_state("main");
  pthread_t thread;
  pthread_create(&thread, NULL, show_thread_state, NULL);
  pthread_join(thread, NULL);

  check_fork_and_exec(argv[0]);
  check_tsync_conflict();
  return finish_checks();
}
