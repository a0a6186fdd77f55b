// splice and sendfile with a socket at one end: a file sent over a
// loopback TCP connection, a TCP connection spliced into a pipe and a
// pipe into it, and the same between a pipe and an AF_UNIX socketpair.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static void wait_readable(int fd) {
  struct pollfd entry = {.fd = fd, .events = POLLIN};
  poll(&entry, 1, 5000);
}

// Reads exactly `length` bytes, or fewer at EOF or an error.
static long read_all(int fd, char* buffer, long length) {
  long done = 0;
  while (done < length) {
    ssize_t got = read(fd, buffer + done, (size_t)(length - done));
    if (got <= 0) {
      break;
    }
    done += got;
  }
  return done;
}

// A connected loopback TCP pair: `ends[0]` the client, `ends[1]` the
// accepted side.
static void tcp_pair(int ends[2]) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {.sin_family = AF_INET};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, (struct sockaddr*)&address, sizeof(address));
  listen(listener, 1);
  socklen_t length = sizeof(address);
  getsockname(listener, (struct sockaddr*)&address, &length);
  ends[0] = socket(AF_INET, SOCK_STREAM, 0);
  connect(ends[0], (struct sockaddr*)&address, sizeof(address));
  ends[1] = accept(listener, NULL, NULL);
  close(listener);
}

static void check_pair(const char* kind, int ends[2]) {
  char buffer[256];
  printf("%s:\n", kind);

  // sendfile from a memfd into the socket.
  int file = memfd_create("payload", 0);
  static const char payload[] = "file contents sent with sendfile";
  write(file, payload, sizeof(payload) - 1);
  off_t offset = 5;
  SHOW("  sendfile from offset 5", sendfile(ends[0], file, &offset, sizeof(payload)));
  show_value("  offset after", offset);
  long got = read_all(ends[1], buffer, (long)sizeof(payload) - 1 - 5);
  EXPECT("  received the file's tail", got == (long)sizeof(payload) - 1 - 5 &&
                                           memcmp(buffer, payload + 5, (size_t)got) == 0);
  close(file);

  // The socket into a pipe.
  int pipe_ends[2];
  pipe(pipe_ends);
  send(ends[0], "spliced out", 11, 0);
  wait_readable(ends[1]);
  SHOW("  splice socket to pipe", splice(ends[1], NULL, pipe_ends[1], NULL, 64, 0));
  got = read(pipe_ends[0], buffer, sizeof(buffer));
  EXPECT("  pipe has the bytes", got == 11 && memcmp(buffer, "spliced out", 11) == 0);

  // A pipe into the socket.
  write(pipe_ends[1], "spliced in", 10);
  SHOW("  splice pipe to socket", splice(pipe_ends[0], NULL, ends[0], NULL, 64, 0));
  got = read_all(ends[1], buffer, 10);
  EXPECT("  socket has the bytes", got == 10 && memcmp(buffer, "spliced in", 10) == 0);
  close(pipe_ends[0]);
  close(pipe_ends[1]);
}

int main(void) {
  int tcp[2];
  tcp_pair(tcp);
  check_pair("AF_INET stream", tcp);
  fcntl(tcp[1], F_SETFL, O_NONBLOCK);
  int pipe_ends[2];
  pipe(pipe_ends);
  SHOW("splice from an empty non-blocking socket", splice(tcp[1], NULL, pipe_ends[1], NULL, 64, 0));
  // A count that is negative as ssize_t is EINVAL with a socket end.
  // Between two pipes, Linux moves whatever the pipe contains.
  SHOW("splice socket to pipe, count SIZE_MAX",
       splice(tcp[1], NULL, pipe_ends[1], NULL, SIZE_MAX, SPLICE_F_NONBLOCK));
  write(pipe_ends[1], "abc", 3);
  SHOW("splice pipe to socket, count SIZE_MAX", splice(pipe_ends[0], NULL, tcp[0], NULL, SIZE_MAX, 0));
  int other_pipe[2];
  pipe(other_pipe);
  SHOW("splice pipe to pipe, count SIZE_MAX",
       splice(pipe_ends[0], NULL, other_pipe[1], NULL, SIZE_MAX, SPLICE_F_NONBLOCK));
  close(other_pipe[0]);
  close(other_pipe[1]);
  close(pipe_ends[0]);
  close(pipe_ends[1]);
  close(tcp[0]);
  close(tcp[1]);

  int unix_ends[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, unix_ends);
  check_pair("AF_UNIX stream", unix_ends);
  close(unix_ends[0]);
  close(unix_ends[1]);
  return finish_checks();
}
