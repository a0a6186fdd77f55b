// Magic links of /proc resolve inside the sandbox: a walk through
// /proc/self/root or /proc/self/cwd cannot climb above the root, the
// executable's link names a path the program itself can open, and a
// pipe's fd link reopens that pipe.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static long read_text(const char* path, char* buffer, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  ssize_t got = read(fd, buffer, size - 1);
  close(fd);
  buffer[got > 0 ? got : 0] = '\0';
  return got;
}

static bool same_file(const char* a, const char* b) {
  struct stat first = {0};
  struct stat second = {0};
  return stat(a, &first) == 0 && stat(b, &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

int main(void) {
  char through_proc[4096];
  char direct[4096];

  // ".." at the root stays at the root, also through /proc/self/root.
  SHOW_OK("read /proc/self/root/../../etc/passwd",
          read_text("/proc/self/root/../../etc/passwd", through_proc, sizeof(through_proc)));
  read_text("/etc/passwd", direct, sizeof(direct));
  EXPECT("it is the sandbox's /etc/passwd", strcmp(through_proc, direct) == 0);
  EXPECT("/proc/self/root/.. is /", same_file("/proc/self/root/..", "/"));
  EXPECT("/proc/self/root/../.. is /", same_file("/proc/self/root/../..", "/"));
  chdir("/");
  EXPECT("/proc/self/cwd/.. is / when the cwd is /", same_file("/proc/self/cwd/..", "/"));

  // The executable's link is a path that opens the program.
  char exe[PATH_MAX] = {0};
  SHOW_OK("readlink /proc/self/exe", readlink("/proc/self/exe", exe, sizeof(exe) - 1));
  EXPECT("it is absolute", exe[0] == '/');
  EXPECT("it names this program", same_file(exe, "/proc/self/exe"));

  // A pipe's fd link reopens the pipe itself.
  int pipe_fds[2];
  SHOW("pipe", pipe(pipe_fds));
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", pipe_fds[1]);
  char target[64] = {0};
  SHOW_OK("readlink the write end", readlink(path, target, sizeof(target) - 1));
  EXPECT("it reads pipe:[N]",
         strncmp(target, "pipe:[", 6) == 0 && target[strlen(target) - 1] == ']');
  int reopened = SHOW_OK("open the write end's link for writing", open(path, O_WRONLY));
  SHOW("write through the reopened pipe", write(reopened, "via proc", 8));
  char received[16] = {0};
  SHOW("read from the original read end", read(pipe_fds[0], received, sizeof(received) - 1));
  show_string("  received", received);
  struct stat original = {0};
  struct stat again = {0};
  fstat(pipe_fds[1], &original);
  fstat(reopened, &again);
  EXPECT("the reopened fd is the same pipe", original.st_ino == again.st_ino);
  return finish_checks();
}
