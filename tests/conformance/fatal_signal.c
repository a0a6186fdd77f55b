// Dies of a fault in the way argv[1] names, so that the runner can compare
// the wait status natively and under ward. Each mode and the signal it ends
// with:
//   segv_null   a store through a NULL pointer: SIGSEGV
//   segv_exec   a call to an unmapped address: SIGSEGV
//   trap        __builtin_trap, which is ud2: SIGILL
//   divide      an integer division by zero: SIGFPE
//   bus         a read of a file mapping past the end of the file: SIGBUS
// fatal_signal_sent.c covers signals the process sends itself, and
// fatal_signal_handled.c a fault caught by a handler.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fatal_signal MODE\n");
    return 2;
  }
  const char* mode = argv[1];
  printf("mode %s\n", mode);
  fflush(stdout);

  // Volatile operands keep the compiler from folding the faults away.
  volatile int* volatile null_pointer = NULL;
  volatile int numerator = 1000;
  volatile int zero = 0;
  if (strcmp(mode, "segv_null") == 0) {
    *null_pointer = 1;
  } else if (strcmp(mode, "segv_exec") == 0) {
    void (*volatile function)(void) = (void (*)(void))16;
    function();
  } else if (strcmp(mode, "trap") == 0) {
    __builtin_trap();
  } else if (strcmp(mode, "divide") == 0) {
    printf("%d\n", numerator / zero);
  } else if (strcmp(mode, "bus") == 0) {
    int fd = open("/usr/include/linux/errno.h", O_RDONLY);
    volatile char* mapped = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("mmap = %s\n", mapped == MAP_FAILED ? errno_name(errno) : "ok");
    fflush(stdout);
    printf("%d\n", mapped[4096]);
  } else {
    fprintf(stderr, "fatal_signal: unknown mode %s\n", mode);
    return 2;
  }
  printf("still alive after %s\n", mode);
  return 1;
}
