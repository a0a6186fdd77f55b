// readlink on the /proc links a program commonly reads: /proc/self/exe,
// cwd, root, fd/N for files it opened, /proc/self and /proc/thread-self.
// Links to fds 0-2 name ward's pipes or the runner's, so they are never read.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

// Reads a link into `buffer`, NUL-terminated, and prints the call's result.
static long read_link(const char* label, const char* path, char* buffer, size_t size) {
  memset(buffer, 0, size);
  return SHOW(label, readlink(path, buffer, size - 1));
}

// Like read_link for links whose length depends on a pid or an inode
// number: prints "ok" in place of the length.
static long read_pid_link(const char* label, const char* path, char* buffer, size_t size) {
  memset(buffer, 0, size);
  return SHOW_OK(label, readlink(path, buffer, size - 1));
}

int main(int argc, char** argv) {
  (void)argc;
  char target[PATH_MAX];
  char expected[PATH_MAX];

  read_link("readlink /proc/self/exe", "/proc/self/exe", target, sizeof(target));
  EXPECT("/proc/self/exe is the program's real path",
         realpath(argv[0], expected) != NULL && strcmp(target, expected) == 0);
  SHOW("readlink /proc/self/exe into 4 bytes", readlink("/proc/self/exe", target, 4));
  EXPECT("the truncated target is the path's first 4 bytes", memcmp(target, expected, 4) == 0);

  read_link("readlink /proc/self/cwd", "/proc/self/cwd", target, sizeof(target));
  EXPECT("/proc/self/cwd equals getcwd",
         getcwd(expected, sizeof(expected)) != NULL && strcmp(target, expected) == 0);
  chdir("/usr/include");
  read_link("readlink /proc/self/cwd after chdir", "/proc/self/cwd", target, sizeof(target));
  show_string("  target", target);
  read_link("readlink /proc/self/root", "/proc/self/root", target, sizeof(target));
  show_string("  target", target);

  // /proc/self and /proc/thread-self name the caller by pid and tid.
  read_pid_link("readlink /proc/self", "/proc/self", target, sizeof(target));
  snprintf(expected, sizeof(expected), "%d", getpid());
  EXPECT("/proc/self is the pid", strcmp(target, expected) == 0);
  read_pid_link("readlink /proc/thread-self", "/proc/thread-self", target, sizeof(target));
  snprintf(expected, sizeof(expected), "%d/task/%d", getpid(), gettid());
  EXPECT("/proc/thread-self is pid/task/tid", strcmp(target, expected) == 0);
  snprintf(expected, sizeof(expected), "/proc/%d/exe", getpid());
  read_link("readlink /proc/PID/exe", expected, target, sizeof(target));
  EXPECT("/proc/PID/exe is the program's real path",
         realpath(argv[0], expected) != NULL && strcmp(target, expected) == 0);

  // fd links of files the program opened itself.
  int file = open("/etc/passwd", O_RDONLY);
  snprintf(expected, sizeof(expected), "/proc/self/fd/%d", file);
  read_link("readlink /proc/self/fd/N of /etc/passwd", expected, target, sizeof(target));
  show_string("  target", target);
  int directory = open("/usr/include/linux", O_RDONLY | O_DIRECTORY);
  snprintf(expected, sizeof(expected), "/proc/self/fd/%d", directory);
  read_link("readlink /proc/self/fd/N of a directory", expected, target, sizeof(target));
  show_string("  target", target);
  int through_link = open("/bin/sh", O_RDONLY);
  snprintf(expected, sizeof(expected), "/proc/self/fd/%d", through_link);
  read_link("readlink /proc/self/fd/N of /bin/sh", expected, target, sizeof(target));
  show_string("  target (symlinks resolved)", target);
  int pipe_fds[2];
  pipe(pipe_fds);
  snprintf(expected, sizeof(expected), "/proc/self/fd/%d", pipe_fds[0]);
  // The target contains the pipe's inode number, so only its form is compared.
  read_pid_link("readlink /proc/self/fd/N of a pipe", expected, target, sizeof(target));
  show_bool("  target starts with pipe:[", strncmp(target, "pipe:[", 6) == 0);
  SHOW("readlink /proc/self/fd/999", readlink("/proc/self/fd/999", target, sizeof(target)));

  // An fd link's permission bits show the access mode: r-x for read, -wx
  // for write, and none for O_PATH. Its size is 64 whatever the target.
  // The write-only file is /dev/null, so the test writes nowhere.
  const struct {
    const char* label;
    const char* path;
    int flags;
  } access_modes[] = {
      {"mode of the link to an O_RDONLY fd", "/etc/passwd", O_RDONLY},
      {"mode of the link to an O_WRONLY fd", "/dev/null", O_WRONLY},
      {"mode of the link to an O_RDWR fd", "/dev/null", O_RDWR},
      {"mode of the link to an O_PATH fd", "/etc/passwd", O_PATH},
  };
  for (size_t i = 0; i < sizeof(access_modes) / sizeof(access_modes[0]); i++) {
    int fd = open(access_modes[i].path, access_modes[i].flags);
    struct stat link_status = {0};
    snprintf(expected, sizeof(expected), "/proc/self/fd/%d", fd);
    if (fd < 0 || lstat(expected, &link_status) != 0) {
      show_error_number(access_modes[i].label, errno);
    } else {
      show_octal(access_modes[i].label, link_status.st_mode);
      show_value("  st_size", link_status.st_size);
    }
    close(fd);
  }

  // Opening /proc/self/fd/N reopens the file.
  snprintf(expected, sizeof(expected), "/proc/self/fd/%d", file);
  int reopened = SHOW("open /proc/self/fd/N", open(expected, O_RDONLY));
  struct stat original = {0};
  struct stat again = {0};
  fstat(file, &original);
  fstat(reopened, &again);
  EXPECT("the reopened fd is the same file", original.st_ino == again.st_ino);
  SHOW("lseek the original to 5", lseek(file, 5, SEEK_SET));
  SHOW("  the reopened fd has its own offset", lseek(reopened, 0, SEEK_CUR));
  close(reopened);

  // The fd directory lists exactly the open fds.
  DIR* listing = opendir("/proc/self/fd");
  int listing_fd = listing != NULL ? dirfd(listing) : -1;
  int count = 0;
  bool only_open_fds = true;
  for (struct dirent* entry;
       listing != NULL && (entry = readdir(listing)) != NULL && count < 1000;) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    int fd = atoi(entry->d_name);
    count++;
    only_open_fds = only_open_fds && (fd == listing_fd || fcntl(fd, F_GETFD) >= 0);
    only_open_fds = only_open_fds && entry->d_type == DT_LNK;
  }
  if (listing != NULL) {
    closedir(listing);
  }
  show_value("entries in /proc/self/fd", count);
  EXPECT("each entry is an open fd and a symlink", only_open_fds);

  SHOW("readlink /proc/self/exe with size 0", readlink("/proc/self/exe", target, 0));
  SHOW("readlink /proc/self/status (not a link)",
       readlink("/proc/self/status", target, sizeof(target)));
  return finish_checks();
}
