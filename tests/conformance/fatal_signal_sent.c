// Dies of a signal it sends itself, in the way argv[1] names, so that the
// runner can compare the wait status natively and under ward. Each mode and
// the signal it ends with:
//   abort       abort(): SIGABRT
//   kill_self   kill(getpid(), SIGTERM): SIGTERM
//   sigkill     raise(SIGKILL): SIGKILL
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fatal_signal_sent MODE\n");
    return 2;
  }
  const char* mode = argv[1];
  printf("mode %s\n", mode);
  fflush(stdout);

  if (strcmp(mode, "abort") == 0) {
    abort();
  } else if (strcmp(mode, "kill_self") == 0) {
    kill(getpid(), SIGTERM);
  } else if (strcmp(mode, "sigkill") == 0) {
    raise(SIGKILL);
  } else {
    fprintf(stderr, "fatal_signal_sent: unknown mode %s\n", mode);
    return 2;
  }
  printf("still alive after %s\n", mode);
  return 1;
}
