// sendfile, splice, tee and vmsplice between files in the working
// directory and pipes: the bytes moved, the offsets afterwards, waiting
// rules for non-blocking ends, and the errno of each bad input.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

#define SOURCE_BYTES 100000

static char source_data[SOURCE_BYTES];

// Creates `name` with SOURCE_BYTES bytes of a known pattern.
static int make_source(const char* name) {
  for (int i = 0; i < SOURCE_BYTES; i++) {
    source_data[i] = (char)('a' + i % 23);
  }
  int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (write(fd, source_data, SOURCE_BYTES) != SOURCE_BYTES) {
    printf("setup write failed\n");
  }
  return fd;
}

// Prints the size and a digest of the file at `fd`.
static void show_file(const char* label, int fd) {
  struct stat st;
  fstat(fd, &st);
  char* data = malloc(st.st_size + 1);
  long got = pread(fd, data, st.st_size, 0);
  printf("%s: size %ld, read %ld, digest %016llx\n", label, (long)st.st_size, got,
         (unsigned long long)fnv1a(data, got > 0 ? got : 0));
  free(data);
}

// Reads everything a non-blocking pipe holds and prints its count and digest.
static void drain_pipe(const char* label, int fd) {
  static char buffer[1 << 20];
  long total = 0;
  long got;
  while ((got = read(fd, buffer + total, sizeof(buffer) - total)) > 0) {
    total += got;
  }
  printf("%s: %ld bytes, digest %016llx\n", label, total,
         (unsigned long long)fnv1a(buffer, total));
}

static void check_sendfile(void) {
  int source = make_source("sendfile-source");
  int target = open("sendfile-target", O_RDWR | O_CREAT | O_TRUNC, 0600);

  lseek(source, 1000, SEEK_SET);
  SHOW("sendfile file to file, file offset", sendfile(target, source, NULL, 5000));
  SHOW("  source offset", lseek(source, 0, SEEK_CUR));
  SHOW("  target offset", lseek(target, 0, SEEK_CUR));
  off_t offset = 90000;
  SHOW("sendfile with an offset past the end", sendfile(target, source, &offset, 50000));
  SHOW("  offset after", offset);
  SHOW("  source offset untouched", lseek(source, 0, SEEK_CUR));
  offset = SOURCE_BYTES;
  SHOW("sendfile at the end", sendfile(target, source, &offset, 10));
  show_file("  target", target);

  int fds[2];
  pipe2(fds, O_NONBLOCK);
  offset = 0;
  SHOW("sendfile file to pipe, 100000 bytes", sendfile(fds[1], source, &offset, SOURCE_BYTES));
  SHOW("  offset after", offset);
  SHOW("sendfile into the full pipe", sendfile(fds[1], source, &offset, 10));
  drain_pipe("  pipe", fds[0]);

  // Bad inputs.
  SHOW("sendfile from a pipe", sendfile(target, fds[0], NULL, 10));
  SHOW("sendfile from a pipe with an offset", sendfile(target, fds[0], &offset, 10));
  SHOW("sendfile from a write-only file", sendfile(fds[1], fds[1], NULL, 10));
  SHOW("sendfile to a read-only end", sendfile(fds[0], source, NULL, 10));
  SHOW("sendfile from a closed fd", sendfile(target, 999, NULL, 10));
  SHOW("sendfile to a closed fd", sendfile(999, source, NULL, 10));
  offset = -1;
  SHOW("sendfile at a negative offset", sendfile(target, source, &offset, 10));
  SHOW("sendfile with a bad offset pointer", sendfile(target, source, (off_t*)1, 10));
  SHOW("sendfile of SIZE_MAX bytes", sendfile(target, source, NULL, (size_t)-1));
  int appending = open("sendfile-target", O_WRONLY | O_APPEND);
  SHOW("sendfile to an O_APPEND file", sendfile(appending, source, NULL, 10));
  close(appending);
  int directory = open(".", O_RDONLY | O_DIRECTORY);
  SHOW("sendfile from a directory", sendfile(target, directory, NULL, 10));
  close(directory);
  close(fds[0]);
  SHOW("sendfile into a pipe without readers", sendfile(fds[1], source, NULL, 10));
  close(fds[1]);
  close(source);
  close(target);
  unlink("sendfile-source");
  unlink("sendfile-target");
}

static void check_splice(void) {
  int source = make_source("splice-source");
  int target = open("splice-target", O_RDWR | O_CREAT | O_TRUNC, 0600);
  int fds[2];
  pipe2(fds, O_NONBLOCK);
  int other_pipe[2];
  pipe2(other_pipe, O_NONBLOCK);

  loff_t in_offset = 10;
  SHOW("splice file to pipe", splice(source, &in_offset, fds[1], NULL, 30000, 0));
  SHOW("  offset after", in_offset);
  SHOW("  file offset untouched", lseek(source, 0, SEEK_CUR));
  lseek(source, 0, SEEK_SET);
  SHOW("splice file to pipe, file offset", splice(source, NULL, fds[1], NULL, 50000, 0));
  SHOW("  file offset after", lseek(source, 0, SEEK_CUR));
  SHOW("splice into the full pipe", splice(source, NULL, fds[1], NULL, 10, 0));
  SHOW("splice 10 bytes to a second pipe", splice(source, &in_offset, other_pipe[1], NULL, 10, 0));
  in_offset = SOURCE_BYTES;
  SHOW("splice at the end of the file", splice(source, &in_offset, other_pipe[1], NULL, 10, 0));

  loff_t out_offset = 5;
  SHOW("splice pipe to file at an offset", splice(fds[0], NULL, target, &out_offset, 20000, 0));
  SHOW("  offset after", out_offset);
  SHOW("  target file offset untouched", lseek(target, 0, SEEK_CUR));
  SHOW("splice the rest to the file offset", splice(fds[0], NULL, target, NULL, 1 << 20, 0));
  drain_pipe("  the other pipe", other_pipe[0]);
  close(other_pipe[0]);
  close(other_pipe[1]);
  SHOW("  target file offset", lseek(target, 0, SEEK_CUR));
  SHOW("splice from the empty pipe", splice(fds[0], NULL, target, NULL, 10, 0));
  SHOW("splice from the empty pipe, SPLICE_F_NONBLOCK",
       splice(fds[0], NULL, target, NULL, 10, SPLICE_F_NONBLOCK));
  show_file("  target", target);

  // Pipe to pipe, then tee.
  int other[2];
  pipe2(other, O_NONBLOCK);
  SHOW("write 12 bytes", write(fds[1], "hello, pipes", 12));
  SHOW("splice pipe to pipe, 5 bytes", splice(fds[0], NULL, other[1], NULL, 5, 0));
  SHOW("tee the rest back", tee(fds[0], other[1], 100, 0));
  drain_pipe("  first pipe", fds[0]);
  drain_pipe("  second pipe", other[0]);
  SHOW("tee from the empty pipe", tee(fds[0], other[1], 100, 0));

  // Bad inputs.
  SHOW("splice of 0 bytes with bad fds", splice(999, NULL, 999, NULL, 0, 0));
  SHOW("splice with unknown flags", splice(fds[0], NULL, target, NULL, 10, 0x100));
  SHOW("splice file to file", splice(source, NULL, target, NULL, 10, 0));
  SHOW("splice with an offset on the pipe", splice(fds[0], &in_offset, target, NULL, 10, 0));
  SHOW("splice to a pipe with an offset", splice(source, NULL, fds[1], &out_offset, 10, 0));
  SHOW("splice a pipe to itself", splice(fds[0], NULL, fds[1], NULL, 10, 0));
  SHOW("splice from a closed fd", splice(999, NULL, fds[1], NULL, 10, 0));
  SHOW("splice from the write end", splice(fds[1], NULL, target, NULL, 10, 0));
  SHOW("splice to the read end", splice(source, NULL, fds[0], NULL, 10, 0));
  SHOW("splice with a bad offset pointer", splice(source, (loff_t*)1, fds[1], NULL, 10, 0));
  in_offset = -1;
  SHOW("splice at a negative offset", splice(source, &in_offset, fds[1], NULL, 10, 0));
  int appending = open("splice-target", O_WRONLY | O_APPEND);
  SHOW("write 3 bytes", write(fds[1], "abc", 3));
  SHOW("splice to an O_APPEND file", splice(fds[0], NULL, appending, NULL, 10, 0));
  close(appending);
  SHOW("tee with unknown flags", tee(fds[0], other[1], 10, 0x100));
  SHOW("tee of 0 bytes", tee(fds[0], other[1], 0, 0));
  SHOW("tee a pipe to itself", tee(fds[0], fds[1], 10, 0));
  SHOW("tee from a file", tee(source, other[1], 10, 0));
  SHOW("tee to a file", tee(fds[0], target, 10, 0));
  SHOW("tee from a closed fd", tee(999, other[1], 10, 0));
  SHOW("tee from the write end", tee(fds[1], other[1], 10, 0));
  close(other[0]);
  SHOW("tee to a pipe without readers", tee(fds[0], other[1], 10, 0));
  close(other[1]);
  close(fds[0]);
  close(fds[1]);
  close(source);
  close(target);
  unlink("splice-source");
  unlink("splice-target");
}

static void check_vmsplice(void) {
  int fds[2];
  pipe2(fds, O_NONBLOCK);
  char first[] = "vmsplice ";
  char second[] = "gathers";
  struct iovec in[2] = {{first, strlen(first)}, {second, strlen(second)}};
  SHOW("vmsplice two iovecs in", vmsplice(fds[1], in, 2, 0));
  char a[5] = {0};
  char b[20] = {0};
  struct iovec out[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
  SHOW("vmsplice out of the read end", vmsplice(fds[0], out, 2, 0));
  printf("  got \"%.5s\" \"%s\"\n", a, b);
  SHOW("vmsplice out of the empty pipe, SPLICE_F_NONBLOCK",
       vmsplice(fds[0], out, 2, SPLICE_F_NONBLOCK));

  static char big[70000];
  struct iovec large = {big, sizeof(big)};
  SHOW("vmsplice 70000 bytes in", vmsplice(fds[1], &large, 1, 0));
  SHOW("vmsplice into the full pipe, SPLICE_F_NONBLOCK",
       vmsplice(fds[1], &large, 1, SPLICE_F_NONBLOCK));

  SHOW("vmsplice with unknown flags", vmsplice(fds[1], in, 2, 0x100));
  SHOW("vmsplice on a closed fd", vmsplice(999, in, 2, 0));
  SHOW("vmsplice with no iovecs", vmsplice(fds[1], in, 0, 0));
  SHOW("vmsplice with a bad iovec array", vmsplice(fds[1], (struct iovec*)1, 2, 0));
  SHOW("vmsplice with too many iovecs", vmsplice(fds[1], in, 1025, 0));
  int file = open("/dev/null", O_WRONLY);
  SHOW("vmsplice to /dev/null", vmsplice(file, in, 2, 0));
  close(file);
  close(fds[0]);
  SHOW("vmsplice into a pipe without readers", vmsplice(fds[1], in, 2, 0));
  close(fds[1]);
}

int main(void) {
  // A write to a pipe without readers must fail with EPIPE, not kill.
  signal(SIGPIPE, SIG_IGN);
  check_sendfile();
  check_splice();
  check_vmsplice();
  return finish_checks();
}
