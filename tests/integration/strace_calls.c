// Makes the calls whose --strace lines the strace_decoding case checks:
// buffers, struct stat, timespec, a unix socket address, an iovec array, a
// bad pointer and a child's exit. Every path it creates is under /tmp,
// which ward keeps in memory.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// An address below the first page, which no program maps.
#define BAD_POINTER ((void*)0x10)

static void on_child(int signal) { (void)signal; }

static int fail(const char* what) {
  perror(what);
  return 1;
}

int main(void) {
  if (write(1, "hello\n", 6) != 6) {
    return fail("write");
  }

  // glibc's fstat calls newfstatat, so the raw syscall gives an fstat line.
  int file = open("/tmp/strace-data", O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (file < 0 || write(file, "12345", 5) != 5) {
    return fail("/tmp/strace-data");
  }
  struct stat status;
  if (syscall(SYS_fstat, file, &status) != 0) {
    return fail("fstat");
  }

  // glibc's nanosleep calls clock_nanosleep.
  struct timespec delay = {.tv_sec = 0, .tv_nsec = 1000000};
  if (syscall(SYS_nanosleep, &delay, NULL) != 0) {
    return fail("nanosleep");
  }

  struct sockaddr_un address = {.sun_family = AF_UNIX};
  strcpy(address.sun_path, "/tmp/strace.sock");
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  if (listener < 0 || bind(listener, (struct sockaddr*)&address, sizeof(address)) != 0 ||
      listen(listener, 1) != 0) {
    return fail("listen");
  }
  int client = socket(AF_UNIX, SOCK_STREAM, 0);
  if (client < 0 || connect(client, (struct sockaddr*)&address, sizeof(address)) != 0) {
    return fail("connect");
  }

  struct iovec pieces[2] = {{.iov_base = "a", .iov_len = 1}, {.iov_base = "b", .iov_len = 1}};
  if (writev(1, pieces, 2) != 2) {
    return fail("writev");
  }

  // The raw syscall, because glibc's write is declared to read its buffer.
  if (syscall(SYS_write, 1, BAD_POINTER, 3) != -1) {
    return fail("write to a bad pointer");
  }

  // A handler, so that the SIGCHLD is delivered rather than ignored.
  struct sigaction action = {.sa_handler = on_child};
  if (sigaction(SIGCHLD, &action, NULL) != 0) {
    return fail("sigaction");
  }
  pid_t child = fork();
  if (child == 0) {
    _exit(7);
  }
  int child_status = 0;
  if (child < 0 || waitpid(child, &child_status, 0) != child) {
    return fail("waitpid");
  }
  return 0;
}
