// F_SETPIPE_SZ and F_GETPIPE_SZ: shrinking a pipe and then writing more
// than the new capacity, a size below the data held, rounding up to a
// power-of-two number of pages, bad sizes, non-pipes and the
// pipe-max-size limit without CAP_SYS_RESOURCE.
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

// Drops CAP_SYS_RESOURCE from the effective set, keeping the others.
static long drop_sys_resource(void) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof(data));
  if (syscall(SYS_capget, &header, data) != 0) {
    return -1;
  }
  data[CAP_SYS_RESOURCE / 32].effective &= ~(1u << (CAP_SYS_RESOURCE % 32));
  return syscall(SYS_capset, &header, data);
}

int main(void) {
  int fds[2];
  pipe2(fds, O_NONBLOCK);
  char* block = calloc(1, 3 * 4096);
  SHOW("F_GETPIPE_SZ of a new pipe", fcntl(fds[0], F_GETPIPE_SZ));
  SHOW("F_SETPIPE_SZ 4096", fcntl(fds[1], F_SETPIPE_SZ, 4096));
  SHOW("F_GETPIPE_SZ after setting", fcntl(fds[0], F_GETPIPE_SZ));
  SHOW("write 8192 bytes into a 4096-byte pipe", write(fds[1], block, 8192));
  SHOW("write 1 byte into the full pipe", write(fds[1], block, 1));
  SHOW("F_SETPIPE_SZ below the data held", fcntl(fds[1], F_SETPIPE_SZ, 0));
  read(fds[0], block, 8192);
  SHOW("F_SETPIPE_SZ 0", fcntl(fds[1], F_SETPIPE_SZ, 0));
  SHOW("F_SETPIPE_SZ 5000 rounds up", fcntl(fds[1], F_SETPIPE_SZ, 5000));
  SHOW("F_SETPIPE_SZ 65537 rounds up", fcntl(fds[1], F_SETPIPE_SZ, 65537));

  // Three pages held, then shrinking to two pages is EBUSY.
  SHOW("F_SETPIPE_SZ 16384", fcntl(fds[1], F_SETPIPE_SZ, 16384));
  SHOW("write 3 pages", write(fds[1], block, 3 * 4096));
  SHOW("F_SETPIPE_SZ 8192 with 3 pages held", fcntl(fds[1], F_SETPIPE_SZ, 8192));
  SHOW("F_SETPIPE_SZ 12288 rounds to 16384", fcntl(fds[1], F_SETPIPE_SZ, 12288));
  SHOW("read the 3 pages", read(fds[0], block, 3 * 4096));

  SHOW("F_SETPIPE_SZ -1", fcntl(fds[1], F_SETPIPE_SZ, -1));
  SHOW("F_SETPIPE_SZ 2 GiB + 1", fcntl(fds[1], F_SETPIPE_SZ, 0x80000001u));
  SHOW("F_SETPIPE_SZ 1 MiB", fcntl(fds[1], F_SETPIPE_SZ, 1 << 20));
  SHOW("F_SETPIPE_SZ 64 KiB", fcntl(fds[1], F_SETPIPE_SZ, 65536));

  int file = open("/dev/null", O_RDONLY);
  SHOW("F_SETPIPE_SZ on /dev/null", fcntl(file, F_SETPIPE_SZ, 4096));
  SHOW("F_GETPIPE_SZ on /dev/null", fcntl(file, F_GETPIPE_SZ));
  close(file);

  SHOW("drop CAP_SYS_RESOURCE", drop_sys_resource());
  SHOW("F_SETPIPE_SZ 2 MiB without it", fcntl(fds[1], F_SETPIPE_SZ, 2 << 20));
  SHOW("F_SETPIPE_SZ 1 MiB without it", fcntl(fds[1], F_SETPIPE_SZ, 1 << 20));
  SHOW("F_SETPIPE_SZ 4096 without it", fcntl(fds[1], F_SETPIPE_SZ, 4096));
  free(block);
  close(fds[0]);
  close(fds[1]);
  return finish_checks();
}
