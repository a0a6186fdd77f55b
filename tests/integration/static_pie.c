// A program linked with -static-pie: no interpreter, loaded at a random
// base, relocating itself. Prints only what is the same natively and under
// ward, so that the two runs can be compared.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "check.h"

extern char _start[];

static __thread int thread_local_value = 42;

int main(int argc, char** argv) {
  printf("argc = %d\n", argc);
  for (int i = 1; i < argc; i++) {
    printf("argv[%d] = \"%s\"\n", i, argv[i]);
  }
  show_value("AT_BASE (no interpreter)", (long)getauxval(AT_BASE));
  EXPECT("AT_ENTRY is the address of _start", getauxval(AT_ENTRY) == (unsigned long)_start);
  EXPECT("the program is relocated away from address 0", (unsigned long)_start > 0x10000);
  show_value("thread-local initial value", thread_local_value);

  char* heap = malloc(1 << 20);
  EXPECT("malloc of 1 MiB works", heap != NULL);
  memset(heap, 1, 1 << 20);
  free(heap);

  char hostname[256] = {0};
  int fd = SHOW("open /etc/hostname", open("/etc/hostname", O_RDONLY));
  long size = SHOW("read /etc/hostname", read(fd, hostname, sizeof(hostname) - 1));
  close(fd);
  show_hex("fnv1a of /etc/hostname", fnv1a(hostname, size > 0 ? (size_t)size : 0));
  return finish_checks();
}
