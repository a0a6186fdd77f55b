// getdents64 into an unmapped buffer fails with EFAULT and loses no entry:
// the next call still lists the directory from its start, on tmpfs, the
// root filesystem and procfs.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  const char* directories[] = {"/dev/shm", "/etc", "/proc/self"};
  for (size_t i = 0; i < sizeof(directories) / sizeof(directories[0]); i++) {
    int fd = open(directories[i], O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
      perror(directories[i]);
      return 1;
    }
    long unmapped = syscall(SYS_getdents64, fd, (void*)1, 4096);
    const char* unmapped_error = strerrorname_np(errno);
    char byte;
    long too_small = syscall(SYS_getdents64, fd, &byte, 1);
    const char* too_small_error = too_small < 0 ? strerrorname_np(errno) : "none";
    char buffer[4096];
    long listed = syscall(SYS_getdents64, fd, buffer, sizeof(buffer));
    printf("%s: unmapped buffer %ld %s, 1-byte buffer %ld %s, then %s\n", directories[i],
           unmapped, unmapped_error, too_small, too_small_error,
           listed > 0 ? "entries" : "no entries");
    close(fd);
  }
  return 0;
}
