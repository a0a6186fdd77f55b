// execveat: a program named by a dirfd and a relative path, by a descriptor
// alone (AT_EMPTY_PATH, as fexecve does), the /dev/fd/N name the new
// program sees as AT_EXECFN, its process name, a script through a
// close-on-exec descriptor, and each error.
//
// Usage: execveat SCRIPT
//   SCRIPT is a `#!/bin/sh` script that prints a line.
// The program runs itself again as "execveat report" to print what the new
// image sees.
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static char* const kEmptyEnvironment[] = {NULL};

static long execveat_call(int dirfd, const char* path, char* const argv[], char* const envp[],
                          int flags) {
  return syscall(SYS_execveat, dirfd, path, argv, envp, flags);
}

// In the re-executed image: what AT_EXECFN and the process name are,
// compared with what the parent expects (passed as arguments, since they
// contain descriptor numbers and paths).
static int report(int argc, char** argv) {
  const char* execfn = (const char*)getauxval(AT_EXECFN);
  char comm[32] = {0};
  int comm_fd = open("/proc/self/comm", O_RDONLY);
  if (comm_fd >= 0) {
    ssize_t length = read(comm_fd, comm, sizeof(comm) - 1);
    if (length > 0 && comm[length - 1] == '\n') {
      comm[length - 1] = '\0';
    }
    close(comm_fd);
  }
  printf("  argc = %d\n", argc);
  if (argc >= 4) {
    printf("  AT_EXECFN is %s: %s\n", argv[2], strcmp(execfn, argv[2]) == 0 ? "yes" : "no");
    show_string("  comm", comm);
  }
  return 0;
}

// Runs execveat in a child and reports how the child ended.
static void run_child(const char* label, int dirfd, const char* path, char* const argv[],
                      int flags) {
  printf("%s:\n", label);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    long result = execveat_call(dirfd, path, argv, kEmptyEnvironment, flags);
    printf("  execveat = %ld %s\n", result, errno_name(errno));
    fflush(stdout);
    _exit(120);
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("  exit status = %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "report") == 0) {
    return report(argc, argv);
  }
  if (argc < 2) {
    fprintf(stderr, "usage: execveat SCRIPT\n");
    return 2;
  }
  const char* script = argv[1];

  char self[4096] = {0};
  ssize_t self_length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  EXPECT("readlink /proc/self/exe", self_length > 0);
  char self_copy[4096];
  strcpy(self_copy, self);
  const char* directory = dirname(self_copy);
  char base[256];
  strcpy(base, strrchr(self, '/') + 1);

  // An absolute path: the dirfd is ignored and AT_EXECFN is the path.
  char* absolute_argv[] = {"execveat", "report", self, base, NULL};
  run_child("absolute path, bad dirfd ignored", 999, self, absolute_argv, 0);

  // A path relative to a directory descriptor: AT_EXECFN is /dev/fd/N/name.
  int directory_fd = open(directory, O_PATH | O_DIRECTORY);
  char relative_name[4096];
  snprintf(relative_name, sizeof(relative_name), "/dev/fd/%d/%s", directory_fd, base);
  char* relative_argv[] = {"execveat", "report", relative_name, base, NULL};
  run_child("relative to a dirfd", directory_fd, base, relative_argv, 0);

  // The descriptor alone: AT_EXECFN is /dev/fd/N, and the process is named
  // after the file, not after "N".
  int program_fd = open(self, O_RDONLY | O_CLOEXEC);
  char fd_name[64];
  snprintf(fd_name, sizeof(fd_name), "/dev/fd/%d", program_fd);
  char* fd_argv[] = {"execveat", "report", fd_name, base, NULL};
  run_child("AT_EMPTY_PATH on a close-on-exec descriptor", program_fd, "", fd_argv,
            AT_EMPTY_PATH);

  int path_fd = open(self, O_PATH);
  snprintf(fd_name, sizeof(fd_name), "/dev/fd/%d", path_fd);
  run_child("AT_EMPTY_PATH on an O_PATH descriptor", path_fd, "", fd_argv, AT_EMPTY_PATH);

  // A script reached through a close-on-exec descriptor cannot be opened
  // by its interpreter: ENOENT. Without close-on-exec it runs.
  char* script_argv[] = {"script", "one", NULL};
  int script_cloexec_fd = open(script, O_RDONLY | O_CLOEXEC);
  run_child("script through a close-on-exec descriptor", script_cloexec_fd, "", script_argv,
            AT_EMPTY_PATH);
  int script_fd = open(script, O_RDONLY);
  run_child("script through a plain descriptor", script_fd, "", script_argv, AT_EMPTY_PATH);
  close(script_fd);

  // Errors, each in the calling process, which stays as it was.
  char* true_argv[] = {"true", NULL};
  int file_fd = open("/bin/true", O_RDONLY);
  SHOW("unknown flag", execveat_call(AT_FDCWD, "/bin/true", true_argv, kEmptyEnvironment, 0x1));
  SHOW("empty path without AT_EMPTY_PATH",
       execveat_call(program_fd, "", true_argv, kEmptyEnvironment, 0));
  SHOW("empty path and unknown flag",
       execveat_call(program_fd, "", true_argv, kEmptyEnvironment, 0x1));
  SHOW("relative path, bad dirfd",
       execveat_call(999, "true", true_argv, kEmptyEnvironment, 0));
  SHOW("relative path, dirfd of a file",
       execveat_call(file_fd, "true", true_argv, kEmptyEnvironment, 0));
  SHOW("AT_SYMLINK_NOFOLLOW on /bin/sh",
       execveat_call(AT_FDCWD, "/bin/sh", true_argv, kEmptyEnvironment, AT_SYMLINK_NOFOLLOW));
  SHOW("AT_EMPTY_PATH on a directory",
       execveat_call(directory_fd, "", true_argv, kEmptyEnvironment, AT_EMPTY_PATH));
  SHOW("AT_EMPTY_PATH on the cwd",
       execveat_call(AT_FDCWD, "", true_argv, kEmptyEnvironment, AT_EMPTY_PATH));
  SHOW("AT_EMPTY_PATH on a bad descriptor",
       execveat_call(999, "", true_argv, kEmptyEnvironment, AT_EMPTY_PATH));
  SHOW("bad path pointer",
       execveat_call(AT_FDCWD, (const char*)1, true_argv, kEmptyEnvironment, 0));
  SHOW("bad argv pointer",
       execveat_call(file_fd, "", (char* const*)1, kEmptyEnvironment, AT_EMPTY_PATH));
  SHOW("not executable", execveat_call(AT_FDCWD, "/etc/passwd", true_argv, kEmptyEnvironment, 0));
  SHOW("missing file", execveat_call(directory_fd, "no-such-program", true_argv,
                                     kEmptyEnvironment, 0));

  close(file_fd);
  close(path_fd);
  close(program_fd);
  close(script_cloexec_fd);
  close(directory_fd);
  return finish_checks();
}
