// execve from a thread that is not the main one: Linux ends every other
// thread, and the thread that called execve takes over the process's pid
// as its tid. The new program checks that it is alone in the process and
// that its pid is the old one. Pids differ under ward, so the old pid goes
// to the new program as an argument and only the relation is printed.
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static char* program_path;

static int count_tasks(void) {
  DIR* directory = opendir("/proc/self/task");
  if (directory == NULL) {
    return -1;
  }
  int count = 0;
  struct dirent* entry;
  while ((entry = readdir(directory)) != NULL) {
    if (entry->d_name[0] != '.') {
      count++;
    }
  }
  closedir(directory);
  return count;
}

// The program after execve: argv[2] is the pid before it, argv[3] the tid
// of the thread that called it.
static int run_after_exec(char** argv) {
  pid_t old_pid = (pid_t)atol(argv[2]);
  pid_t old_tid = (pid_t)atol(argv[3]);
  printf("after: the pid is the old one: %s\n", getpid() == old_pid ? "yes" : "no");
  printf("after: the tid is the pid: %s\n", gettid() == getpid() ? "yes" : "no");
  printf("after: the exec'ing thread's old tid is gone: %s\n",
         kill(old_tid, 0) == -1 && errno == ESRCH ? "yes" : "no");
  show_value("after: tasks in /proc/self/task", count_tasks());

  // The signal mask comes from the thread that called execve.
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  show_bool("after: SIGUSR2 blocked as in the exec'ing thread", sigismember(&mask, SIGUSR2));
  show_bool("after: SIGUSR1 blocked, as in every thread", sigismember(&mask, SIGUSR1));
  return finish_checks() == 0 ? 21 : 1;
}

static void* park_forever(void* argument) {
  (void)argument;
  for (;;) {
    pause();
  }
  return NULL;
}

static void* exec_again(void* argument) {
  pid_t pid = (pid_t)(intptr_t)argument;
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, NULL);

  char pid_text[32];
  char tid_text[32];
  snprintf(pid_text, sizeof(pid_text), "%d", pid);
  snprintf(tid_text, sizeof(tid_text), "%d", gettid());
  printf("before: the exec'ing thread's tid differs from the pid: %s\n",
         gettid() != pid ? "yes" : "no");
  show_value("before: tasks in /proc/self/task", count_tasks());
  fflush(stdout);
  char* const argv[] = {program_path, "after", pid_text, tid_text, NULL};
  execv(program_path, argv);
  printf("execv failed: %s\n", errno_name(errno));
  fflush(stdout);
  _exit(1);
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "after") == 0) {
    return run_after_exec(argv);
  }
  program_path = argv[0];

  // The exec happens in a child, so that the parent can report how the
  // new program ended.
  pid_t child = fork();
  if (child == 0) {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);

    pthread_t parked[2];
    pthread_create(&parked[0], NULL, park_forever, NULL);
    pthread_create(&parked[1], NULL, park_forever, NULL);
    pthread_t exec_thread;
    pthread_create(&exec_thread, NULL, exec_again, (void*)(intptr_t)getpid());
    for (;;) {
      pause();
    }
  }
  int status = 0;
  pid_t reaped = waitpid(child, &status, 0);
  EXPECT("waitpid returns the child that exec'ed", reaped == child);
  show_bool("the new program exited", WIFEXITED(status));
  show_value("its exit code", WEXITSTATUS(status));
  return finish_checks();
}
