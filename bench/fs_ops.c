// Repeats one file system operation over a generated tree of small files
// and prints its mean cost in microseconds.
//
// The tree is ROOT/dDDD/fFFF, 100 files to a directory, numbered from 0:
// file i is ROOT/d<i / 100>/f<i % 100> with three digits each.
// bench/run_benchmarks.py generates it.
//
// Usage: fs_ops OPERATION ROOT FILES ROUNDS
//   stat   stat each of the first FILES paths, ROUNDS times over; the cost
//          is per stat call
//   read   open, read to the end and close each of the first FILES files,
//          ROUNDS times over; the cost is per file
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { FILES_PER_DIRECTORY = 100 };

static long long now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

// Builds every path before timing, so that the loop measures only syscalls.
static char** make_paths(const char* root, long files) {
  char** paths = calloc((size_t)files, sizeof(char*));
  if (paths == NULL) {
    return NULL;
  }
  for (long i = 0; i < files; ++i) {
    size_t length = strlen(root) + sizeof("/d000/f000");
    paths[i] = malloc(length);
    if (paths[i] == NULL) {
      return NULL;
    }
    snprintf(paths[i], length, "%s/d%03ld/f%03ld", root, i / FILES_PER_DIRECTORY,
             i % FILES_PER_DIRECTORY);
  }
  return paths;
}

static int stat_all(char** paths, long files) {
  struct stat status;
  for (long i = 0; i < files; ++i) {
    if (stat(paths[i], &status) != 0) {
      fprintf(stderr, "fs_ops: stat %s failed: %s\n", paths[i], strerror(errno));
      return -1;
    }
  }
  return 0;
}

static int read_all(char** paths, long files) {
  static char buffer[65536];
  for (long i = 0; i < files; ++i) {
    int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      fprintf(stderr, "fs_ops: open %s failed: %s\n", paths[i], strerror(errno));
      return -1;
    }
    ssize_t count;
    while ((count = read(fd, buffer, sizeof(buffer))) > 0) {
    }
    if (count < 0) {
      fprintf(stderr, "fs_ops: read %s failed: %s\n", paths[i], strerror(errno));
      close(fd);
      return -1;
    }
    close(fd);
  }
  return 0;
}

int main(int argc, char** argv) {
  long files = argc > 3 ? atol(argv[3]) : 0;
  long rounds = argc > 4 ? atol(argv[4]) : 0;
  if (argc != 5 || files <= 0 || files > 1000L * FILES_PER_DIRECTORY || rounds <= 0) {
    fprintf(stderr, "usage: %s stat|read ROOT FILES ROUNDS (FILES at most %d)\n", argv[0],
            1000 * FILES_PER_DIRECTORY);
    return 2;
  }
  int (*operation)(char**, long) = NULL;
  if (strcmp(argv[1], "stat") == 0) {
    operation = stat_all;
  } else if (strcmp(argv[1], "read") == 0) {
    operation = read_all;
  } else {
    fprintf(stderr, "fs_ops: unknown operation %s\n", argv[1]);
    return 2;
  }
  char** paths = make_paths(argv[2], files);
  if (paths == NULL) {
    fprintf(stderr, "fs_ops: out of memory\n");
    return 1;
  }

  long long start = now_ns();
  for (long round = 0; round < rounds; ++round) {
    if (operation(paths, files) != 0) {
      return 1;
    }
  }
  long long elapsed = now_ns() - start;
  printf("%.2f\n", (double)elapsed / (double)(files * rounds) / 1000.0);
  return 0;
}
