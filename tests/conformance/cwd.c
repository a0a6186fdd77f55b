// The working directory: getcwd, chdir and fchdir, relative lookups, and
// the symlinks and ".." that chdir resolves. argv[1] is the directory the
// runner starts the program in.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static void show_cwd(const char* label) {
  char buffer[4096];
  if (getcwd(buffer, sizeof(buffer)) == NULL) {
    printf("%s: getcwd = -1 %s\n", label, errno_name(errno));
  } else {
    printf("%s: getcwd = \"%s\"\n", label, buffer);
  }
}

static bool same_file(const char* left, const char* right) {
  struct stat a = {0};
  struct stat b = {0};
  return stat(left, &a) == 0 && stat(right, &b) == 0 && a.st_ino == b.st_ino &&
         a.st_dev == b.st_dev;
}

static void check_getcwd(const char* start) {
  char buffer[4096];
  EXPECT("getcwd equals the directory the runner chose",
         getcwd(buffer, sizeof(buffer)) != NULL && strcmp(buffer, start) == 0);
  long length = (long)strlen(start);
  // The raw syscall returns the length including the NUL.
  EXPECT("raw getcwd returns strlen + 1",
         syscall(SYS_getcwd, buffer, sizeof(buffer)) == length + 1);
  EXPECT("raw getcwd with an exact buffer", syscall(SYS_getcwd, buffer, length + 1) == length + 1);
  SHOW("raw getcwd one byte short", syscall(SYS_getcwd, buffer, length));
  SHOW("raw getcwd into a 1-byte buffer", syscall(SYS_getcwd, buffer, 1));
  SHOW("raw getcwd with size 0", syscall(SYS_getcwd, buffer, 0));
  SHOW_PTR("getcwd into a 1-byte buffer", getcwd(buffer, 1));
  SHOW_PTR("getcwd with size 0", getcwd(buffer, 0));
  char* allocated = SHOW_PTR("getcwd(NULL, 0) allocates", getcwd(NULL, 0));
  EXPECT("the allocated copy is right", allocated != NULL && strcmp(allocated, start) == 0);
  free(allocated);
  EXPECT("stat . is the start directory", same_file(".", start));
}

static void check_chdir(void) {
  SHOW("chdir /usr/include", chdir("/usr/include"));
  show_cwd("after chdir /usr/include");
  SHOW("chdir linux (relative)", chdir("linux"));
  show_cwd("after chdir linux");
  int fd = SHOW("open stat.h (relative)", open("stat.h", O_RDONLY));
  close(fd);
  EXPECT(". is /usr/include/linux", same_file(".", "/usr/include/linux"));
  SHOW("chdir ..", chdir(".."));
  show_cwd("after chdir ..");
  SHOW("chdir ../../", chdir("../../"));
  show_cwd("after chdir ../../");
  SHOW("chdir /..", chdir("/.."));
  show_cwd("after chdir /..");
  SHOW("chdir ..", chdir(".."));
  show_cwd("after chdir .. at /");

  // chdir follows symlinks, and getcwd reports the resolved path.
  SHOW("chdir /bin", chdir("/bin"));
  show_cwd("after chdir /bin");
  SHOW("chdir /bin/..", chdir("/bin/.."));
  show_cwd("after chdir /bin/..");
  SHOW("chdir /usr//lib/./", chdir("/usr//lib/./"));
  show_cwd("after chdir /usr//lib/./");

  SHOW("chdir to a file", chdir("/etc/passwd"));
  SHOW("chdir to a missing directory", chdir("/no-such-directory"));
  SHOW("chdir to an empty path", chdir(""));
  SHOW("chdir through a file", chdir("/etc/passwd/x"));
  SHOW("chdir bad pointer", syscall(SYS_chdir, (char*)1));
  show_cwd("after the failed calls");
}

static void check_fchdir(void) {
  int directory = open("/usr/include/linux", O_RDONLY | O_DIRECTORY);
  SHOW("fchdir /usr/include/linux", fchdir(directory));
  show_cwd("after fchdir");
  int file = open("/etc/passwd", O_RDONLY);
  SHOW("fchdir to a file", fchdir(file));
  SHOW("fchdir to fd 999", fchdir(999));
  SHOW("fchdir to fd -1", fchdir(-1));
  int path_fd = open("/usr/share", O_PATH | O_DIRECTORY);
  SHOW("fchdir to an O_PATH directory", fchdir(path_fd));
  show_cwd("after fchdir O_PATH");
  show_cwd("still there after the failed calls");

  // openat relative to AT_FDCWD follows the new working directory.
  SHOW("chdir /usr/include", chdir("/usr/include"));
  int fd = SHOW("openat AT_FDCWD linux/stat.h", openat(AT_FDCWD, "linux/stat.h", O_RDONLY));
  close(fd);
  SHOW("faccessat AT_FDCWD linux", faccessat(AT_FDCWD, "linux", R_OK | X_OK, 0));
  close(path_fd);
  close(file);
  close(directory);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cwd START_DIRECTORY\n");
    return 2;
  }
  check_getcwd(argv[1]);
  check_chdir();
  check_fchdir();
  return finish_checks();
}
