// Ends the process in the way argv names, so that the runner can compare
// the exit status natively and under ward:
//   exit N                    exit(N) from main
//   return N                  return N from main
//   exit_group N              the raw exit_group syscall, skipping atexit
// exit_status_threads.c has the modes that need a second thread.
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static int exit_value;

static void say_goodbye(void) { printf("atexit handler ran\n"); }

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: exit_status MODE N\n");
    return 2;
  }
  const char* mode = argv[1];
  exit_value = atoi(argv[2]);
  atexit(say_goodbye);
  printf("mode %s value %d\n", mode, exit_value);
  fflush(stdout);

  if (strcmp(mode, "exit") == 0) {
    exit(exit_value);
  }
  if (strcmp(mode, "return") == 0) {
    return exit_value;
  }
  if (strcmp(mode, "exit_group") == 0) {
    syscall(SYS_exit_group, exit_value);
  }
  fprintf(stderr, "exit_status: unknown mode %s\n", mode);
  return 2;
}
