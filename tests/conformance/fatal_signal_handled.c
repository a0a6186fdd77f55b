// A SIGSEGV handler reports a store through a NULL pointer and exits with
// 42, so that the runner can compare what the handler saw and the exit
// status natively and under ward.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static void report_fault(int signal_number, siginfo_t* info, void* context) {
  (void)context;
  printf("handler: signal %d si_code %d si_addr is NULL: %s\n", signal_number, info->si_code,
         info->si_addr == NULL ? "yes" : "no");
  fflush(stdout);
  _exit(42);
}

int main(void) {
  // A volatile pointer keeps the compiler from folding the fault away.
  volatile int* volatile null_pointer = NULL;
  struct sigaction action = {0};
  action.sa_sigaction = report_fault;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &action, NULL);
  *null_pointer = 1;
  printf("still alive after the fault\n");
  return 1;
}
