// argv and the environment as execve lays them out: contents, order, the
// layout of the initial stack, and /proc/self/cmdline and /proc/self/environ.
// The runner passes fixed arguments and a fixed environment to both runs.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

extern char** environ;

// Reads a whole /proc file into `buffer` and returns its size, or -1.
static long read_proc_file(const char* path, char* buffer, size_t size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("open %s = -1 %s\n", path, errno_name(errno));
    return -1;
  }
  size_t total = 0;
  for (int reads = 0; reads < 1000 && total < size; reads++) {
    long got = read(fd, buffer + total, size - total);
    if (got <= 0) {
      break;
    }
    total += (size_t)got;
  }
  close(fd);
  return (long)total;
}

// Joins strings with a NUL after each, as /proc/self/cmdline and environ do.
static size_t join_with_nuls(char** strings, char* buffer, size_t size) {
  size_t used = 0;
  for (char** string = strings; *string != NULL; string++) {
    size_t length = strlen(*string) + 1;
    if (used + length > size) {
      break;
    }
    memcpy(buffer + used, *string, length);
    used += length;
  }
  return used;
}

int main(int argc, char** argv, char** envp) {
  show_value("argc", argc);
  for (int i = 0; i < argc; i++) {
    printf("argv[%d] = \"%s\"\n", i, argv[i]);
  }
  EXPECT("argv[argc] is NULL", argv[argc] == NULL);
  EXPECT("envp follows argv on the stack", envp == argv + argc + 1);
  EXPECT("environ starts as envp", environ == envp);

  int count = 0;
  for (char** entry = envp; *entry != NULL; entry++) {
    printf("envp[%d] = \"%s\"\n", count, *entry);
    count++;
  }
  show_value("environment entries", count);
  show_string("getenv PATH", getenv("PATH"));
  show_string("getenv WARD_CONFORMANCE", getenv("WARD_CONFORMANCE"));
  show_string("getenv NOT_SET", getenv("NOT_SET"));

  // Linux copies the strings to the top of the stack back to back: each
  // argv string starts right after the previous one's NUL, and the first
  // environment string right after the last argument's.
  bool contiguous = true;
  for (int i = 0; i + 1 < argc; i++) {
    contiguous = contiguous && argv[i + 1] == argv[i] + strlen(argv[i]) + 1;
  }
  EXPECT("argv strings are contiguous", contiguous);
  if (argc > 0 && count > 0) {
    EXPECT("environment strings follow argv strings",
           envp[0] == argv[argc - 1] + strlen(argv[argc - 1]) + 1);
  }
  EXPECT("argv strings are above the argv array", (char*)argv[0] > (char*)(envp + count));

  static char proc[65536];
  static char expected[65536];
  long size = read_proc_file("/proc/self/cmdline", proc, sizeof(proc));
  size_t expected_size = join_with_nuls(argv, expected, sizeof(expected));
  EXPECT("/proc/self/cmdline is argv joined by NULs",
         size == (long)expected_size && memcmp(proc, expected, expected_size) == 0);
  size = read_proc_file("/proc/self/environ", proc, sizeof(proc));
  expected_size = join_with_nuls(envp, expected, sizeof(expected));
  EXPECT("/proc/self/environ is envp joined by NULs",
         size == (long)expected_size && memcmp(proc, expected, expected_size) == 0);

  // setenv changes environ but not the kernel's record of the stack.
  setenv("ADDED", "1", 1);
  size = read_proc_file("/proc/self/environ", proc, sizeof(proc));
  EXPECT("/proc/self/environ ignores setenv", size == (long)expected_size);
  show_string("getenv ADDED", getenv("ADDED"));
  return finish_checks();
}
