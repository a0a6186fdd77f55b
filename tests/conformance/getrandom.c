// getrandom and the random devices: counts returned, flag validation and
// EFAULT. The random bytes themselves are never printed.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

static long raw_getrandom(void* buffer, size_t count, unsigned int flags) {
  return syscall(SYS_getrandom, buffer, count, flags);
}

static bool all_zero(const unsigned char* bytes, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (bytes[i] != 0) {
      return false;
    }
  }
  return true;
}

int main(void) {
  unsigned char first[16] = {0};
  unsigned char second[16] = {0};
  SHOW("getrandom 16 bytes", raw_getrandom(first, sizeof(first), 0));
  SHOW("getrandom 16 bytes again", raw_getrandom(second, sizeof(second), 0));
  EXPECT("two results differ", memcmp(first, second, sizeof(first)) != 0);
  EXPECT("the result is not all zero", !all_zero(first, sizeof(first)));
  SHOW("getrandom GRND_NONBLOCK", raw_getrandom(first, sizeof(first), GRND_NONBLOCK));
  SHOW("getrandom GRND_RANDOM", raw_getrandom(first, sizeof(first), GRND_RANDOM));
  SHOW("getrandom GRND_RANDOM|GRND_NONBLOCK",
       raw_getrandom(first, sizeof(first), GRND_RANDOM | GRND_NONBLOCK));
  SHOW("getrandom GRND_INSECURE", raw_getrandom(first, sizeof(first), GRND_INSECURE));
  SHOW("getrandom 0 bytes", raw_getrandom(first, 0, 0));
  SHOW("getrandom 0 bytes into NULL", raw_getrandom(NULL, 0, 0));
  SHOW("getrandom 1 byte", raw_getrandom(first, 1, 0));
  unsigned char block[256];
  SHOW("getrandom 256 bytes", raw_getrandom(block, sizeof(block), 0));

  // Large requests: Linux fills them whole unless a signal interrupts.
  size_t large_count = 1 << 20;
  unsigned char* large = malloc(large_count);
  memset(large, 0, large_count);
  SHOW("getrandom 1 MiB", raw_getrandom(large, large_count, 0));
  EXPECT("the last 16 bytes of 1 MiB were written", !all_zero(large + large_count - 16, 16));
  free(large);

  // Flag validation.
  SHOW("getrandom flag 0x8", raw_getrandom(first, sizeof(first), 0x8));
  SHOW("getrandom flag 0x80000000", raw_getrandom(first, sizeof(first), 0x80000000u));
  SHOW("getrandom GRND_INSECURE|GRND_RANDOM",
       raw_getrandom(first, sizeof(first), GRND_INSECURE | GRND_RANDOM));
  SHOW("getrandom into a bad pointer", raw_getrandom((void*)1, 16, 0));
  SHOW("getrandom into NULL", raw_getrandom(NULL, 16, 0));

  // A buffer that ends in an unmapped page.
  char* pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(pages + 4096, 4096);
  SHOW("getrandom across the end of a mapping", raw_getrandom(pages + 4096 - 8, 16, 0));
  munmap(pages, 4096);

  // glibc's wrapper and the devices.
  SHOW("glibc getrandom", getrandom(first, sizeof(first), 0));
  unsigned char entropy[257];
  SHOW("getentropy 256 bytes", getentropy(entropy, 256));
  SHOW("getentropy 257 bytes", getentropy(entropy, 257));
  int fd = SHOW("open /dev/urandom", open("/dev/urandom", O_RDONLY));
  SHOW("read /dev/urandom 16 bytes", read(fd, second, sizeof(second)));
  EXPECT("/dev/urandom bytes are not all zero", !all_zero(second, sizeof(second)));
  close(fd);
  fd = SHOW("open /dev/random", open("/dev/random", O_RDONLY));
  SHOW("read /dev/random 16 bytes", read(fd, second, sizeof(second)));
  close(fd);
  return finish_checks();
}
