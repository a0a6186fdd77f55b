// How seccomp ends threads and processes, seen by the parent: the kill
// actions (with one thread and with several), an unknown action, and
// strict mode, which allows only read, write, exit and rt_sigreturn.
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "check.h"
#include "seccomp_filters.h"

// Writes `text` with the raw write syscall, which strict mode allows.
static void write_line(const char* text) { syscall(SYS_write, 1, text, strlen(text)); }

static void* call_getppid(void* unused) {
  (void)unused;
  syscall(SYS_getppid);
  write_line("thread survived getppid\n");
  return NULL;
}

static void* enter_strict_mode_and_getpid(void* unused) {
  (void)unused;
  syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL);
  write_line("thread in strict mode\n");
  syscall(SYS_getpid);
  write_line("thread survived getpid\n");
  return NULL;
}

static void on_sigsys(int signal) {
  (void)signal;
  write_line("SIGSYS handler ran\n");
}

// Each scenario runs in a child; the parent prints how the child ended.
static void scenario(const char* name) {
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  pthread_t thread;
  if (strcmp(name, "kill_process") == 0) {
    install_syscall_filter(0, SYS_getppid, SECCOMP_RET_KILL_PROCESS | 3);
    syscall(SYS_getppid);
  } else if (strcmp(name, "kill_process_with_handler") == 0) {
    signal(SIGSYS, on_sigsys);
    install_syscall_filter(0, SYS_getppid, SECCOMP_RET_KILL_PROCESS);
    syscall(SYS_getppid);
  } else if (strcmp(name, "kill_process_from_thread") == 0) {
    install_syscall_filter(0, SYS_getppid, SECCOMP_RET_KILL_PROCESS);
    pthread_create(&thread, NULL, call_getppid, NULL);
    pthread_join(thread, NULL);
  } else if (strcmp(name, "kill_thread_alone") == 0) {
    install_syscall_filter(0, SYS_getppid, SECCOMP_RET_KILL_THREAD);
    syscall(SYS_getppid);
  } else if (strcmp(name, "kill_thread_of_two") == 0) {
    // Only the calling thread ends; pthread_join still returns.
    install_syscall_filter(0, SYS_getppid, SECCOMP_RET_KILL_THREAD);
    pthread_create(&thread, NULL, call_getppid, NULL);
    pthread_join(thread, NULL);
    write_line("main thread joined\n");
    exit(5);
  } else if (strcmp(name, "unknown_action") == 0) {
    install_syscall_filter(0, SYS_getppid, 0x00010000);
    syscall(SYS_getppid);
  } else if (strcmp(name, "division_by_zero") == 0) {
    // Division by a zero X ends the program with 0: KILL_THREAD.
    struct sock_filter program[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_NR_OFFSET),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 2),
        BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
        BPF_STMT(BPF_RET | BPF_A, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    install_program(0, program, 5);
    syscall(SYS_getppid);
  } else if (strcmp(name, "strict_write_exit") == 0) {
    syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL);
    write_line("write works in strict mode\n");
    syscall(SYS_exit, 3);
  } else if (strcmp(name, "strict_getpid") == 0) {
    syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL);
    syscall(SYS_getpid);
  } else if (strcmp(name, "strict_exit_group") == 0) {
    syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL);
    syscall(SYS_exit_group, 4);
  } else if (strcmp(name, "strict_prctl") == 0) {
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
    write_line("prctl entered strict mode\n");
    prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  } else if (strcmp(name, "strict_twice") == 0) {
    syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL);
    syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL);
  } else if (strcmp(name, "strict_thread") == 0) {
    // Strict mode is the calling thread's alone, and so is its death.
    pthread_create(&thread, NULL, enter_strict_mode_and_getpid, NULL);
    pthread_join(thread, NULL);
    write_line("main thread joined\n");
    exit(6);
  }
  write_line("child survived\n");
  exit(0);
}

static void run_scenario(const char* name) {
  printf("%s:\n", name);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    scenario(name);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFSIGNALED(status)) {
    printf("%s: killed by signal %d\n", name, WTERMSIG(status));
  } else {
    printf("%s: exit %d\n", name, WEXITSTATUS(status));
  }
}

int main(void) {
  const char* scenarios[] = {
      "kill_process",      "kill_process_with_handler", "kill_process_from_thread",
      "kill_thread_alone", "kill_thread_of_two",        "unknown_action",
      "division_by_zero",  "strict_write_exit",         "strict_getpid",
      "strict_exit_group", "strict_prctl",              "strict_twice",
      "strict_thread",
  };
  for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
    run_scenario(scenarios[i]);
  }
  return finish_checks();
}
