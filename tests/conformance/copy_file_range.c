// copy_file_range between files in the working directory and in
// /dev/shm: the bytes copied, offsets, the end of the input, and the
// errno of each bad input, including a copy across filesystems.
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define SOURCE_BYTES 200000

// Creates `path` with SOURCE_BYTES bytes of a known pattern.
static int make_source(const char* path) {
  static char data[SOURCE_BYTES];
  for (int i = 0; i < SOURCE_BYTES; i++) {
    data[i] = (char)('A' + i % 29);
  }
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (write(fd, data, SOURCE_BYTES) != SOURCE_BYTES) {
    printf("setup write failed\n");
  }
  return fd;
}

static void show_file(const char* label, int fd) {
  struct stat st;
  fstat(fd, &st);
  char* data = malloc(st.st_size + 1);
  long got = pread(fd, data, st.st_size, 0);
  printf("%s: size %ld, read %ld, digest %016llx\n", label, (long)st.st_size, got,
         (unsigned long long)fnv1a(data, got > 0 ? got : 0));
  free(data);
}

static void check_copies(const char* directory) {
  char source_path[256];
  char target_path[256];
  snprintf(source_path, sizeof(source_path), "%s/copy-source", directory);
  snprintf(target_path, sizeof(target_path), "%s/copy-target", directory);
  int source = make_source(source_path);
  int target = open(target_path, O_RDWR | O_CREAT | O_TRUNC, 0600);

  lseek(source, 0, SEEK_SET);
  SHOW("  copy 150000 bytes at the file offsets",
       copy_file_range(source, NULL, target, NULL, 150000, 0));
  SHOW("  source offset", lseek(source, 0, SEEK_CUR));
  SHOW("  target offset", lseek(target, 0, SEEK_CUR));
  loff_t in_offset = 190000;
  loff_t out_offset = 10;
  SHOW("  copy past the end of the input",
       copy_file_range(source, &in_offset, target, &out_offset, 50000, 0));
  SHOW("  input offset after", in_offset);
  SHOW("  output offset after", out_offset);
  SHOW("  source offset untouched", lseek(source, 0, SEEK_CUR));
  in_offset = SOURCE_BYTES;
  SHOW("  copy at the end", copy_file_range(source, &in_offset, target, NULL, 10, 0));
  SHOW("  copy of 0 bytes", copy_file_range(source, NULL, target, NULL, 0, 0));
  show_file("  target", target);

  // Within one file: apart is fine, overlapping is EINVAL.
  in_offset = 0;
  out_offset = 100000;
  SHOW("  copy within a file, apart",
       copy_file_range(source, &in_offset, source, &out_offset, 1000, 0));
  in_offset = 0;
  out_offset = 500;
  SHOW("  copy within a file, overlapping",
       copy_file_range(source, &in_offset, source, &out_offset, 1000, 0));
  show_file("  source", source);

  // Bad inputs.
  SHOW("  flags 1", copy_file_range(source, NULL, target, NULL, 10, 1));
  SHOW("  closed input fd", copy_file_range(999, NULL, target, NULL, 10, 0));
  SHOW("  closed output fd", copy_file_range(source, NULL, 999, NULL, 10, 0));
  SHOW("  bad input offset pointer",
       copy_file_range(source, (loff_t*)1, target, NULL, 10, 0));
  in_offset = -1;
  SHOW("  negative input offset", copy_file_range(source, &in_offset, target, NULL, 10, 0));
  in_offset = 0;
  out_offset = -5;
  SHOW("  negative output offset", copy_file_range(source, &in_offset, target, &out_offset, 10, 0));
  int directory_fd = open(directory, O_RDONLY | O_DIRECTORY);
  SHOW("  from a directory", copy_file_range(directory_fd, NULL, target, NULL, 10, 0));
  close(directory_fd);
  int fds[2];
  pipe(fds);
  SHOW("  from a pipe", copy_file_range(fds[0], NULL, target, NULL, 10, 0));
  SHOW("  to a pipe", copy_file_range(source, NULL, fds[1], NULL, 10, 0));
  close(fds[0]);
  close(fds[1]);
  int read_only = open(target_path, O_RDONLY);
  SHOW("  to a read-only file", copy_file_range(source, NULL, read_only, NULL, 10, 0));
  int write_only = open(source_path, O_WRONLY);
  SHOW("  from a write-only file", copy_file_range(write_only, NULL, target, NULL, 10, 0));
  int appending = open(target_path, O_WRONLY | O_APPEND);
  SHOW("  to an O_APPEND file", copy_file_range(source, NULL, appending, NULL, 10, 0));
  close(read_only);
  close(write_only);
  close(appending);
  close(source);
  close(target);
}

int main(void) {
  printf("in the working directory\n");
  check_copies(".");
  printf("in /dev/shm\n");
  check_copies("/dev/shm");

  // Across filesystems: the working directory and /dev/shm.
  int here = open("copy-source", O_RDONLY);
  int shm = open("/dev/shm/copy-target", O_RDWR);
  SHOW("copy across filesystems", copy_file_range(here, NULL, shm, NULL, 10, 0));
  close(here);
  close(shm);
  unlink("copy-source");
  unlink("copy-target");
  unlink("/dev/shm/copy-source");
  unlink("/dev/shm/copy-target");
  return finish_checks();
}
