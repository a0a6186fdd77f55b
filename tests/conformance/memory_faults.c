// Faults that page protections cause: a SIGSEGV handler catches writes to
// read-only and PROT_NONE pages and reports the signal, si_code and si_addr.
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096L

static sigjmp_buf fault_jump;
static volatile int fault_signal;
static volatile int fault_code;
static void* volatile fault_address;

static void on_fault(int signal_number, siginfo_t* info, void* context) {
  (void)context;
  fault_signal = signal_number;
  fault_code = info->si_code;
  fault_address = info->si_addr;
  siglongjmp(fault_jump, 1);
}

// Writes one byte at `address` and prints whether and how it faulted.
static void show_write_fault(const char* label, char* address) {
  fault_signal = 0;
  if (sigsetjmp(fault_jump, 1) == 0) {
    *(volatile char*)address = 1;
    printf("%s: no fault\n", label);
  } else {
    printf("%s: signal %d si_code %d, si_addr is the address: %s\n", label, fault_signal,
           fault_code, fault_address == address ? "yes" : "no");
  }
}

static void check_protection_faults(void) {
  struct sigaction action = {0};
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &action, NULL);

  char* region = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  region[0] = 'a';
  mprotect(region, PAGE, PROT_READ);
  mprotect(region + PAGE, PAGE, PROT_NONE);
  show_write_fault("write to read-only page", region);
  EXPECT("the faulting write changed nothing", region[0] == 'a');
  show_write_fault("write to PROT_NONE page", region + PAGE);
  SHOW("mprotect read-write again", mprotect(region, 2 * PAGE, PROT_READ | PROT_WRITE));
  show_write_fault("write after restoring", region);
  munmap(region, 2 * PAGE);
}

int main(void) {
  check_protection_faults();
  return finish_checks();
}
