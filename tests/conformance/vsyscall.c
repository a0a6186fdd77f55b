// Calls into the legacy vsyscall page, which Linux emulates (vsyscall=xonly
// by default): gettimeofday at +0x0, time at +0x400, getcpu at +0x800. A
// bad output pointer in user space makes the call fail with EFAULT, so the
// task gets SIGSEGV with rip left in the page. A pointer past user space
// gets SIGSEGV SEGV_MAPERR at that address before the call runs. Data
// reads of the page fault too.
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#define VSYSCALL_PAGE 0xffffffffff600000UL

typedef long (*gettimeofday_entry)(struct timeval*, struct timezone*);
typedef long (*time_entry)(time_t*);
typedef long (*getcpu_entry)(unsigned*, unsigned*, void*);

static const gettimeofday_entry vsys_gettimeofday = (gettimeofday_entry)(VSYSCALL_PAGE + 0x0);
static const time_entry vsys_time = (time_entry)(VSYSCALL_PAGE + 0x400);
static const getcpu_entry vsys_getcpu = (getcpu_entry)(VSYSCALL_PAGE + 0x800);

static sigjmp_buf fault_return;
static volatile int fault_code;
static volatile uintptr_t fault_address;
static volatile uintptr_t fault_rip;

static void on_segv(int signal, siginfo_t* info, void* context) {
  (void)signal;
  ucontext_t* uc = context;
  fault_code = info->si_code;
  fault_address = (uintptr_t)info->si_addr;
  fault_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  siglongjmp(fault_return, 1);
}

// Runs `call` and prints the SIGSEGV it raises.
#define SHOW_FAULT(label, call)                                                     \
  do {                                                                              \
    fault_code = 0;                                                                 \
    if (sigsetjmp(fault_return, 1) == 0) {                                          \
      long result_ = (call);                                                        \
      printf("%s = %ld, no fault\n", (label), result_);                             \
    } else {                                                                        \
      printf("%s: SIGSEGV si_code %d, si_addr %s, rip in the vsyscall page: %s\n",  \
             (label), fault_code, fault_address == 0 ? "0" : "set",                 \
             fault_rip - VSYSCALL_PAGE < 4096 ? "yes" : "no");                      \
    }                                                                               \
  } while (0)

int main(void) {
  struct timeval before;
  gettimeofday(&before, NULL);
  struct timeval tv = {0, 0};
  struct timezone tz = {1, 1};
  show_value("vsyscall gettimeofday(&tv, &tz)", vsys_gettimeofday(&tv, &tz));
  EXPECT("tv is not before the libc time", tv.tv_sec >= before.tv_sec);
  show_value("vsyscall gettimeofday(&tv, NULL)", vsys_gettimeofday(&tv, NULL));
  show_value("vsyscall gettimeofday(NULL, NULL)", vsys_gettimeofday(NULL, NULL));

  time_t stored = 0;
  long now = vsys_time(&stored);
  EXPECT("vsyscall time returns what it stores", now == stored);
  // time() reads the coarse clock, which may lag the precise one behind
  // gettimeofday by up to a tick across a second boundary.
  EXPECT("vsyscall time is not before the libc time", now >= before.tv_sec - 1);
  EXPECT("vsyscall time(NULL) is not before the libc time", vsys_time(NULL) >= before.tv_sec - 1);

  unsigned cpu = ~0U;
  unsigned node = ~0U;
  show_value("vsyscall getcpu(&cpu, &node, NULL)", vsys_getcpu(&cpu, &node, NULL));
  EXPECT("cpu is below CPU_SETSIZE", cpu < CPU_SETSIZE);
  EXPECT("node was written", node != ~0U);
  show_value("vsyscall getcpu(NULL, NULL, NULL)", vsys_getcpu(NULL, NULL, NULL));

  struct sigaction action = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER};
  sigaction(SIGSEGV, &action, NULL);
  SHOW_FAULT("vsyscall gettimeofday((void*)8, NULL)", vsys_gettimeofday((struct timeval*)8, NULL));
  SHOW_FAULT("vsyscall time((void*)8)", vsys_time((time_t*)8));
  SHOW_FAULT("vsyscall getcpu((void*)8, NULL, NULL)", vsys_getcpu((unsigned*)8, NULL, NULL));
  SHOW_FAULT("vsyscall time(kernel address)", vsys_time((time_t*)0xffff880000000000UL));
  SHOW_FAULT("vsyscall at +0x100", ((time_entry)(VSYSCALL_PAGE + 0x100))(NULL));
  SHOW_FAULT("read of the vsyscall page", *(volatile long*)VSYSCALL_PAGE);

  // A forked child makes the call in its own stub and exits.
  pid_t child = fork();
  if (child == 0) {
    _exit(vsys_gettimeofday(&tv, NULL) == 0 ? 7 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_value("child exit status", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
  return check_failures == 0 ? 0 : 1;
}
