// SECCOMP_RET_TRAP: the SIGSYS a filter forces, its siginfo (si_code
// SYS_SECCOMP, si_syscall, si_arch, si_errno with the filter's data,
// si_call_addr), the registers the handler gets, the call's result after
// the handler returns, and what happens when SIGSYS is blocked or ignored.
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ucontext.h>
#include <sys/wait.h>

#include "check.h"
#include "seccomp_filters.h"

// asm-generic/siginfo.h's SYS_SECCOMP, which glibc does not define.
#define SIGSYS_CODE_SECCOMP 1

static volatile sig_atomic_t handler_runs;
static siginfo_t trapped;
static long trapped_rip;
static long trapped_rax;
static long trapped_rdi;

static void on_sigsys(int signal, siginfo_t* info, void* context) {
  (void)signal;
  ucontext_t* ucontext = context;
  handler_runs++;
  trapped = *info;
  trapped_rip = ucontext->uc_mcontext.gregs[REG_RIP];
  trapped_rax = ucontext->uc_mcontext.gregs[REG_RAX];
  trapped_rdi = ucontext->uc_mcontext.gregs[REG_RDI];
}

static void check_trap_siginfo(void) {
  struct sigaction action = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
  sigaction(SIGSYS, &action, NULL);

  SHOW("filter getppid TRAP|0x42", install_syscall_filter(0, SYS_getppid, SECCOMP_RET_TRAP | 0x42));
  long result = syscall(SYS_getppid, 1234);
  show_value("handler runs", handler_runs);
  show_value("si_signo", trapped.si_signo);
  show_value("si_code", trapped.si_code);
  EXPECT("si_code is SYS_SECCOMP", trapped.si_code == SIGSYS_CODE_SECCOMP);
  show_hex("si_errno", (unsigned long)trapped.si_errno);
  show_value("si_syscall", trapped.si_syscall);
  EXPECT("si_syscall is getppid", trapped.si_syscall == SYS_getppid);
  show_hex("si_arch", trapped.si_arch);
  EXPECT("si_call_addr is the rip the handler sees",
         (long)trapped.si_call_addr == trapped_rip);
  // The syscall instruction is two bytes long and ends at si_call_addr.
  const unsigned char* instruction = (const unsigned char*)trapped.si_call_addr - 2;
  EXPECT("the bytes before si_call_addr are a syscall instruction",
         instruction[0] == 0x0f && instruction[1] == 0x05);
  show_value("rax in the handler", trapped_rax);
  show_value("rdi in the handler", trapped_rdi);
  // The call never ran, so rax still contains its number when the handler
  // returns.
  show_value("getppid result after the handler", result);
}

static void check_trap_data_bits(void) {
  // Only the low 16 bits are data: 0x3ffff is TRAP with data 0xffff.
  handler_runs = 0;
  SHOW("filter getpgrp 0x3ffff", install_syscall_filter(0, SYS_getpgrp, 0x0003ffff));
  syscall(SYS_getpgrp);
  show_value("handler runs", handler_runs);
  show_hex("si_errno", (unsigned long)trapped.si_errno);
  show_value("si_syscall", trapped.si_syscall);
}

// Runs a child that traps getsid with SIGSYS set up by `prepare`, and
// prints how it ended.
static void run_trap_child(const char* label, void (*prepare)(void)) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    prepare();
    install_syscall_filter(0, SYS_getsid, SECCOMP_RET_TRAP);
    syscall(SYS_getsid, 0);
    printf("%s: child survived\n", label);
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFSIGNALED(status)) {
    printf("%s: killed by signal %d\n", label, WTERMSIG(status));
  } else {
    printf("%s: exit %d\n", label, WEXITSTATUS(status));
  }
}

static void block_sigsys(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGSYS);
  sigprocmask(SIG_BLOCK, &set, NULL);
}

static void ignore_sigsys(void) { signal(SIGSYS, SIG_IGN); }

static void default_sigsys(void) { signal(SIGSYS, SIG_DFL); }

int main(void) {
  SHOW("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  run_trap_child("SIGSYS blocked", block_sigsys);
  run_trap_child("SIGSYS ignored", ignore_sigsys);
  run_trap_child("SIGSYS default", default_sigsys);
  check_trap_siginfo();
  check_trap_data_bits();
  return finish_checks();
}
