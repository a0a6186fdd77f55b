// Error paths of file system calls: EBADF, EFAULT, ENOENT, ENOTDIR,
// ENAMETOOLONG, ELOOP, EACCES and EINVAL, plus path resolution through the
// host's own symlinks (/bin -> usr/bin).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static void check_bad_fds(void) {
  char byte;
  struct stat result = {0};
  SHOW("close -1", close(-1));
  SHOW("close 999", close(999));
  SHOW("read fd 999", read(999, &byte, 1));
  SHOW("write fd 999", write(999, &byte, 1));
  SHOW("fstat fd 999", fstat(999, &result));
  SHOW("fstat fd -1", fstat(-1, &result));
  SHOW("fchdir fd 999", fchdir(999));
  SHOW("fcntl F_GETFD fd 999", fcntl(999, F_GETFD));
  SHOW("dup fd 999", dup(999));
  SHOW("read fd 1000000", read(1000000, &byte, 1));
  SHOW("close INT_MAX", close(0x7fffffff));
}

static void check_bad_pointers(void) {
  int fd = open("/etc/passwd", O_RDONLY);
  SHOW("open bad path pointer", syscall(SYS_open, (char*)1, O_RDONLY));
  SHOW("openat bad path pointer", syscall(SYS_openat, AT_FDCWD, (char*)1, O_RDONLY));
  SHOW("read into bad pointer", read(fd, (void*)1, 10));
  SHOW("read 0 bytes into bad pointer", read(fd, (void*)1, 0));
  SHOW("write from bad pointer", write(1, (void*)1, 10));
  SHOW("stat bad result pointer", syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", (void*)1, 0));
  SHOW("fstat bad result pointer", syscall(SYS_fstat, fd, (void*)1));
  SHOW("getcwd into bad pointer", syscall(SYS_getcwd, (char*)1, 100));
  SHOW("access bad path pointer", syscall(SYS_access, (char*)1, R_OK));
  SHOW("readlink bad path pointer", syscall(SYS_readlink, (char*)1, (char*)1, 10));
  char target[16];
  SHOW("readlink /bin into bad pointer", syscall(SYS_readlink, "/bin", (char*)1, sizeof(target)));
  SHOW("chdir bad path pointer", syscall(SYS_chdir, (char*)1));
  SHOW("execve bad path pointer", syscall(SYS_execve, (char*)1, NULL, NULL));

  // A path whose bytes run off the end of the last mapped page.
  char* pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(pages + 4096, 4096);
  memset(pages, '/', 4096);
  SHOW("open path running into an unmapped page", open(pages + 4096 - 8, O_RDONLY));
  memcpy(pages + 4096 - 12, "/etc/passwd", 12);
  int near_end = SHOW("open path ending at the page end", open(pages + 4096 - 12, O_RDONLY));
  close(near_end);
  munmap(pages, 4096);
  close(fd);
}

static void check_missing_paths(void) {
  SHOW("open missing file", open("/no-such-file", O_RDONLY));
  SHOW("open missing directory component", open("/no-such-directory/file", O_RDONLY));
  SHOW("open empty path", open("", O_RDONLY));
  SHOW("open file as directory", open("/etc/passwd/x", O_RDONLY));
  SHOW("open file with trailing slash", open("/etc/passwd/", O_RDONLY));
  SHOW("open file/.", open("/etc/passwd/.", O_RDONLY));
  SHOW("stat missing file",
       syscall(SYS_newfstatat, AT_FDCWD, "/no-such-file", &(struct stat){0}, 0));
  SHOW("chdir to a file", chdir("/etc/passwd"));
  SHOW("chdir to missing", chdir("/no-such-directory"));
  SHOW("chdir to empty path", chdir(""));
  SHOW("access missing", access("/no-such-file", F_OK));
  SHOW("access through a file", access("/etc/passwd/x", F_OK));
  SHOW("readlink missing", readlink("/no-such-link", (char[8]){0}, 8));
}

static void check_long_names(void) {
  char* long_path = malloc(5001);
  long_path[0] = '/';
  memset(long_path + 1, 'a', 4999);
  long_path[5000] = '\0';
  SHOW("open 5000-byte path", open(long_path, O_RDONLY));
  SHOW("stat 5000-byte path", syscall(SYS_newfstatat, AT_FDCWD, long_path, &(struct stat){0}, 0));
  SHOW("chdir 5000-byte path", chdir(long_path));
  SHOW("access 5000-byte path", access(long_path, F_OK));

  // 4095 bytes plus the terminator is exactly PATH_MAX: accepted, then ENOENT.
  long_path[4095] = '\0';
  for (int i = 200; i < 4095; i += 200) {
    long_path[i] = '/';
  }
  SHOW("open 4095-byte path", open(long_path, O_RDONLY));
  long_path[4095] = 'a';
  long_path[4096] = '\0';
  SHOW("open 4096-byte path", open(long_path, O_RDONLY));

  // A single component longer than NAME_MAX (255).
  char long_name[300];
  long_name[0] = '/';
  memset(long_name + 1, 'b', 256);
  long_name[257] = '\0';
  SHOW("open 256-byte name", open(long_name, O_RDONLY));
  long_name[256] = '\0';
  SHOW("open 255-byte name", open(long_name, O_RDONLY));
  free(long_path);
}

static void check_symlinks(void) {
  char target[64] = {0};
  SHOW("readlink /bin", readlink("/bin", target, sizeof(target)));
  show_string("readlink /bin target", target);
  memset(target, 0, sizeof(target));
  SHOW("readlink /bin into 3 bytes", readlink("/bin", target, 3));
  show_string("readlink /bin truncated", target);
  SHOW("readlink with size 0", readlink("/bin", target, 0));
  SHOW("readlink not a link", readlink("/etc/passwd", target, sizeof(target)));
  SHOW("readlink /bin/ (follows)", readlink("/bin/", target, sizeof(target)));

  // O_NOFOLLOW on a final symlink is ELOOP, but O_PATH opens the link.
  SHOW("open /bin O_NOFOLLOW", open("/bin", O_RDONLY | O_NOFOLLOW));
  SHOW("open /bin/ O_NOFOLLOW", open("/bin/", O_RDONLY | O_NOFOLLOW | O_DIRECTORY));
  int link_fd = SHOW("open /bin O_PATH|O_NOFOLLOW", open("/bin", O_PATH | O_NOFOLLOW));
  struct stat result = {0};
  fstat(link_fd, &result);
  EXPECT("O_PATH|O_NOFOLLOW fd is the symlink", S_ISLNK(result.st_mode));
  SHOW("readlinkat on the link fd", readlinkat(link_fd, "", target, sizeof(target)));
  close(link_fd);
  SHOW("open /bin/sh O_NOFOLLOW", open("/bin/sh", O_RDONLY | O_NOFOLLOW));

  // "/bin/.." is "/usr" because ".." applies after following the link.
  struct stat via_link = {0};
  struct stat usr = {0};
  SHOW("stat /bin/..", stat("/bin/..", &via_link));
  stat("/usr", &usr);
  EXPECT("/bin/.. is /usr", via_link.st_ino == usr.st_ino && via_link.st_dev == usr.st_dev);
  SHOW("open /bin/../etc/passwd", open("/bin/../etc/passwd", O_RDONLY));
  struct stat sh_direct = {0};
  struct stat sh_via_link = {0};
  stat("/usr/bin/sh", &sh_direct);
  SHOW("stat /bin/sh", stat("/bin/sh", &sh_via_link));
  EXPECT("/bin/sh is /usr/bin/sh", sh_via_link.st_ino == sh_direct.st_ino);
  SHOW("lstat /bin/sh", lstat("/bin/sh", &result));
  show_bool("/bin/sh is a symlink", S_ISLNK(result.st_mode));
  SHOW("stat /..", stat("/..", &via_link));
  struct stat root = {0};
  stat("/", &root);
  EXPECT("/.. is /", via_link.st_ino == root.st_ino);
  SHOW("stat ///usr//bin/", stat("///usr//bin/", &result));
}

static void check_access_and_exec(void) {
  // Root needs at least one execute bit to exec a file, and exec of a
  // directory is EACCES.
  char* arguments[] = {"x", NULL};
  char* environment[] = {NULL};
  SHOW("execve a file without x bits", execve("/etc/passwd", arguments, environment));
  SHOW("execve a directory", execve("/", arguments, environment));
  SHOW("execve missing", execve("/no-such-program", arguments, environment));
  SHOW("execve through a file", execve("/etc/passwd/x", arguments, environment));
  SHOW("access X_OK on a file without x bits", access("/etc/passwd", X_OK));
  SHOW("access invalid mode", access("/etc/passwd", 0x10));
  SHOW("openat with an unknown flag bit",
       syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | 0x40000000));
}

int main(void) {
  check_bad_fds();
  check_bad_pointers();
  check_missing_paths();
  check_long_names();
  check_symlinks();
  check_access_and_exec();
  return finish_checks();
}
