// Hits known compatibility gaps of ward, each from its own function, so
// that a compatibility report can be checked for the exact gaps, counts
// and stack frames: perf_event_open twice (a missing syscall), mmap with
// MAP_HUGETLB once (an unsupported flag) and FIOASYNC on a pipe three
// times (an unsupported ioctl). With the argument "fail" it then exits
// with status 3, as a program that cannot cope with a gap would.
//
// Built with -g and frame pointers, and the functions kept out of line,
// so that every stack names them.
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noinline)) static long hit_missing_syscall(void) {
  return syscall(SYS_perf_event_open, 0, 0, -1, -1, 0);
}

__attribute__((noinline)) static void* hit_hugetlb_flag(void) {
  return mmap(NULL, 2 * 1024 * 1024, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
}

__attribute__((noinline)) static int hit_fioasync_ioctl(int fd) {
  int on = 1;
  return ioctl(fd, FIOASYNC, &on);
}

int main(int argc, char** argv) {
  hit_missing_syscall();
  hit_missing_syscall();
  hit_hugetlb_flag();

  int fds[2];
  if (pipe(fds) != 0) {
    return 1;
  }
  for (int i = 0; i < 3; ++i) {
    hit_fioasync_ioctl(fds[0]);
  }
  if (argc > 1 && strcmp(argv[1], "fail") == 0) {
    return 3;
  }
  return 0;
}
