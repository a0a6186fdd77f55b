// Signals the CPU raises for the instruction that ran, caught by handlers:
// SIGSEGV for an unmapped page (SEGV_MAPERR) and for a protected one
// (SEGV_ACCERR) with a siglongjmp out of the handler and a retry once the
// page is readable, SIGFPE for an integer division by zero, SIGILL for ud2,
// SIGTRAP for int3, and SIGBUS past the end of a mapped file. Addresses
// differ between runs, so si_addr is shown as a relation.
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096L

static sigjmp_buf fault_jump;

// What the last handler saw.
static volatile int seen_signal;
static volatile int seen_code;
static void* volatile seen_address;
static volatile uint64_t seen_rip;
static volatile uint64_t seen_trapno;

static void record(int signal_number, siginfo_t* info, void* context) {
  ucontext_t* frame = context;
  seen_signal = signal_number;
  seen_code = info->si_code;
  seen_address = info->si_addr;
  seen_rip = (uint64_t)frame->uc_mcontext.gregs[REG_RIP];
  seen_trapno = (uint64_t)frame->uc_mcontext.gregs[REG_TRAPNO];
}

static void record_and_jump(int signal_number, siginfo_t* info, void* context) {
  record(signal_number, info, context);
  siglongjmp(fault_jump, 1);
}

// ud2 is two bytes long: the handler skips it and returns, so rt_sigreturn
// resumes at the next instruction with the edited registers.
static void record_and_skip_ud2(int signal_number, siginfo_t* info, void* context) {
  record(signal_number, info, context);
  ((ucontext_t*)context)->uc_mcontext.gregs[REG_RIP] += 2;
}

static void install(int signal_number, void (*handler)(int, siginfo_t*, void*)) {
  struct sigaction action = {0};
  action.sa_sigaction = handler;
  action.sa_flags = SA_SIGINFO;
  sigaction(signal_number, &action, NULL);
}

static const char* code_name(int signal_number, int code) {
  if (code == SI_KERNEL) {
    return "SI_KERNEL";
  }
  switch (signal_number) {
    case SIGSEGV:
      if (code == SEGV_MAPERR) {
        return "SEGV_MAPERR";
      }
      if (code == SEGV_ACCERR) {
        return "SEGV_ACCERR";
      }
      return "other";
    case SIGBUS:
      if (code == BUS_ADRERR) {
        return "BUS_ADRERR";
      }
      if (code == BUS_ADRALN) {
        return "BUS_ADRALN";
      }
      return "other";
    case SIGFPE:
      return code == FPE_INTDIV ? "FPE_INTDIV" : "other";
    case SIGILL:
      return code == ILL_ILLOPN ? "ILL_ILLOPN" : "other";
    case SIGTRAP:
      return code == TRAP_BRKPT ? "TRAP_BRKPT" : "other";
  }
  return "other";
}

static void show_fault(const char* label, const void* expected_address) {
  printf("%s: signal %d %s, si_addr is the address: %s, trapno %lu\n", label, seen_signal,
         code_name(seen_signal, seen_code), seen_address == expected_address ? "yes" : "no",
         (unsigned long)seen_trapno);
}

// Reads one byte at `address`; returns -1 when the read faulted.
static int read_byte(const char* address) {
  if (sigsetjmp(fault_jump, 1) == 0) {
    return *(volatile const char*)address;
  }
  return -1;
}

static int write_byte(char* address) {
  if (sigsetjmp(fault_jump, 1) == 0) {
    *(volatile char*)address = 1;
    return 0;
  }
  return -1;
}

static void check_segv(void) {
  install(SIGSEGV, record_and_jump);

  char* unmapped = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(unmapped, PAGE);
  show_value("read of an unmapped page", read_byte(unmapped + 16));
  show_fault("unmapped read", unmapped + 16);
  show_value("write to an unmapped page", write_byte(unmapped + 32));
  show_fault("unmapped write", unmapped + 32);

  char* guarded = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  show_value("read of a PROT_NONE page", read_byte(guarded + 100));
  show_fault("PROT_NONE read", guarded + 100);

  // The handler left through siglongjmp, which restored the mask, so a
  // second fault is caught the same way.
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  show_bool("SIGSEGV blocked after the siglongjmp", sigismember(&mask, SIGSEGV));
  SHOW("mprotect PROT_READ", mprotect(guarded, PAGE, PROT_READ));
  show_value("read once the page is readable", read_byte(guarded + 100));
  show_value("write to the read-only page", write_byte(guarded + 100));
  show_fault("read-only write", guarded + 100);
  SHOW("mprotect PROT_READ|PROT_WRITE", mprotect(guarded, PAGE, PROT_READ | PROT_WRITE));
  show_value("write once the page is writable", write_byte(guarded + 100));
  show_value("read back", read_byte(guarded + 100));
  munmap(guarded, PAGE);
  signal(SIGSEGV, SIG_DFL);
}

static void check_fpe(void) {
  install(SIGFPE, record_and_jump);
  volatile int dividend = 7;
  volatile int divisor = 0;
  volatile int quotient = 0;
  if (sigsetjmp(fault_jump, 1) == 0) {
    quotient = dividend / divisor;
    printf("division by zero: no signal, quotient %d\n", quotient);
  } else {
    printf("division by zero: signal %d %s, si_addr is the instruction: %s, trapno %lu\n",
           seen_signal, code_name(seen_signal, seen_code),
           (uint64_t)seen_address == seen_rip ? "yes" : "no", (unsigned long)seen_trapno);
  }
  signal(SIGFPE, SIG_DFL);
}

static void check_ill_and_trap(void) {
  install(SIGILL, record_and_skip_ud2);
  seen_signal = 0;
  __asm__ volatile("ud2");
  printf("ud2: resumed after the handler skipped it: %s\n", seen_signal == SIGILL ? "yes" : "no");
  printf("ud2: signal %d %s, si_addr is the instruction: %s, trapno %lu\n", seen_signal,
         code_name(seen_signal, seen_code), (uint64_t)seen_address == seen_rip ? "yes" : "no",
         (unsigned long)seen_trapno);
  signal(SIGILL, SIG_DFL);

  // int3 traps after the instruction, so the handler simply returns.
  install(SIGTRAP, record);
  seen_signal = 0;
  __asm__ volatile("int3");
  printf("int3: resumed: %s\n", seen_signal == SIGTRAP ? "yes" : "no");
  printf("int3: signal %d %s, si_addr is NULL: %s, trapno %lu\n", seen_signal,
         code_name(seen_signal, seen_code), seen_address == NULL ? "yes" : "no",
         (unsigned long)seen_trapno);
  signal(SIGTRAP, SIG_DFL);
}

// The first file of the list with 1 to PAGE - 1 bytes: a host file that
// ward's read-only root shows unchanged.
static const char* find_small_file(void) {
  static const char* const candidates[] = {"/etc/hostname", "/etc/debian_version",
                                           "/etc/host.conf", "/etc/shells", NULL};
  for (int i = 0; candidates[i] != NULL; i++) {
    struct stat info;
    if (stat(candidates[i], &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0 &&
        info.st_size < PAGE) {
      return candidates[i];
    }
  }
  return NULL;
}

static void check_bus(void) {
  const char* path = find_small_file();
  if (path == NULL) {
    printf("SIGBUS: no small file to map; skipped\n");
    return;
  }
  int fd = open(path, O_RDONLY);
  struct stat info;
  fstat(fd, &info);
  char* mapped = SHOW_PTR("mmap two pages of a small file",
                          mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
  close(fd);
  if (mapped == MAP_FAILED) {
    return;
  }
  install(SIGBUS, record_and_jump);
  EXPECT("the first byte reads", read_byte(mapped) > 0);
  // The rest of the last page of the file reads as zeros.
  show_value("read past the end of the file in its last page", read_byte(mapped + info.st_size));
  show_value("read in the page past the end of the file", read_byte(mapped + PAGE + 8));
  show_fault("past the end of the file", mapped + PAGE + 8);
  munmap(mapped, 2 * PAGE);
  signal(SIGBUS, SIG_DFL);
}

// A fault the process blocks or ignores still kills it: Linux resets the
// disposition to the default first.
static void check_blocked_and_ignored_faults(void) {
  for (int ignore = 0; ignore <= 1; ignore++) {
    pid_t child = fork();
    if (child == 0) {
      if (ignore) {
        signal(SIGSEGV, SIG_IGN);
      } else {
        sigset_t segv;
        sigemptyset(&segv);
        sigaddset(&segv, SIGSEGV);
        sigprocmask(SIG_BLOCK, &segv, NULL);
      }
      volatile int* volatile null_pointer = NULL;
      *null_pointer = 1;
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("fault with SIGSEGV %s: killed by signal %d\n", ignore ? "ignored" : "blocked",
           WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
}

int main(void) {
  check_segv();
  check_fpe();
  check_ill_and_trap();
  check_bus();
  check_blocked_and_ignored_faults();
  return finish_checks();
}
