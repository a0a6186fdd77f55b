// access, faccessat and faccessat2 for reading and executing host files.
// Write access is left out on purpose: natively root may write the host
// root, while ward's root is read-only, so no native oracle exists for it.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

static long faccessat2(int directory, const char* path, int mode, int flags) {
  return syscall(SYS_faccessat2, directory, path, mode, flags);
}

int main(void) {
  SHOW("access /etc/passwd F_OK", access("/etc/passwd", F_OK));
  SHOW("access /etc/passwd R_OK", access("/etc/passwd", R_OK));
  SHOW("access /etc/passwd X_OK", access("/etc/passwd", X_OK));
  SHOW("access /etc/passwd R_OK|X_OK", access("/etc/passwd", R_OK | X_OK));
  SHOW("access /bin/sh X_OK", access("/bin/sh", X_OK));
  SHOW("access /bin/sh R_OK|X_OK", access("/bin/sh", R_OK | X_OK));
  SHOW("access /usr X_OK (search)", access("/usr", X_OK));
  SHOW("access /usr/include R_OK|X_OK", access("/usr/include", R_OK | X_OK));
  SHOW("access /bin F_OK (a symlink)", access("/bin", F_OK));
  SHOW("access /etc/shadow R_OK", access("/etc/shadow", R_OK));
  SHOW("access missing", access("/no-such-file", F_OK));
  SHOW("access through a file", access("/etc/passwd/x", F_OK));
  SHOW("access empty path", access("", F_OK));
  SHOW("access mode 8", access("/etc/passwd", 8));
  SHOW("access mode -1", access("/etc/passwd", -1));
  SHOW("access bad path pointer", syscall(SYS_access, (char*)1, F_OK));

  int directory = open("/usr/include", O_RDONLY | O_DIRECTORY);
  SHOW("faccessat relative", faccessat(directory, "linux/stat.h", R_OK, 0));
  SHOW("faccessat relative missing", faccessat(directory, "linux/no-such-file", R_OK, 0));
  SHOW("faccessat AT_EACCESS", faccessat(AT_FDCWD, "/etc/passwd", R_OK, AT_EACCESS));
  SHOW("faccessat bad dirfd", faccessat(999, "linux/stat.h", R_OK, 0));
  SHOW("faccessat absolute with bad dirfd", faccessat(999, "/etc/passwd", R_OK, 0));
  int file = open("/etc/passwd", O_RDONLY);
  SHOW("faccessat relative to a file", faccessat(file, "x", R_OK, 0));
  SHOW("raw faccessat ignores a fourth argument",
       syscall(SYS_faccessat, AT_FDCWD, "/etc/passwd", R_OK, 0x12345));

  SHOW("faccessat2 flags 0", faccessat2(AT_FDCWD, "/etc/passwd", R_OK, 0));
  SHOW("faccessat2 AT_EACCESS", faccessat2(AT_FDCWD, "/etc/passwd", R_OK, AT_EACCESS));
  SHOW("faccessat2 AT_SYMLINK_NOFOLLOW on /bin",
       faccessat2(AT_FDCWD, "/bin", F_OK, AT_SYMLINK_NOFOLLOW));
  SHOW("faccessat2 AT_SYMLINK_NOFOLLOW X_OK on /bin",
       faccessat2(AT_FDCWD, "/bin", X_OK, AT_SYMLINK_NOFOLLOW));
  SHOW("faccessat2 AT_EMPTY_PATH on a file fd", faccessat2(file, "", R_OK, AT_EMPTY_PATH));
  SHOW("faccessat2 AT_EMPTY_PATH X_OK on a file fd", faccessat2(file, "", X_OK, AT_EMPTY_PATH));
  SHOW("faccessat2 empty path without AT_EMPTY_PATH", faccessat2(file, "", R_OK, 0));
  SHOW("faccessat2 bad flags", faccessat2(AT_FDCWD, "/etc/passwd", R_OK, 0x1));
  SHOW("faccessat2 bad mode", faccessat2(AT_FDCWD, "/etc/passwd", 0x10, 0));
  close(file);
  close(directory);
  return finish_checks();
}
