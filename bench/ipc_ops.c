// Measures one inter-process communication path of an event loop and
// prints one number: the throughput in MiB/s or the mean time of one
// operation in microseconds.
//
// Usage: ipc_ops MODE COUNT [FDS]
//   pipe-stream MIB       a child writes MIB MiB into a pipe in 64 KiB
//                         writes and the parent reads them; MiB/s
//   unix-pingpong N       N round trips of 1 byte between the parent and a
//                         child over socketpair(AF_UNIX, SOCK_STREAM);
//                         microseconds per round trip
//   tcp-stream MIB        as pipe-stream, over a TCP connection to
//                         127.0.0.1; MiB/s
//   tcp-pingpong N        as unix-pingpong, over a TCP connection to
//                         127.0.0.1; microseconds per round trip
//   epoll-wait N [FDS]    FDS pipes (1,000 by default) in one epoll set,
//                         one made readable before each of N epoll_wait
//                         calls; microseconds per epoll_wait
//
// Exit status:
//   0  the number is on stdout
//   1  a step failed, and stderr names it with its errno
//   2  bad usage
//   3  the system lacks a feature the mode needs: socket() failed with
//      EAFNOSUPPORT, EPROTONOSUPPORT or ENOSYS. bench/run_benchmarks.py
//      records the cell as unsupported.
// A watchdog alarm ends a run that takes longer than TIME_LIMIT_SECONDS.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
  EXIT_UNSUPPORTED = 3,
  STREAM_CHUNK_BYTES = 64 * 1024,
  // Within bench/run_benchmarks.py's 300 s timeout of one run.
  TIME_LIMIT_SECONDS = 280,
  ACCEPT_TIMEOUT_MS = 10000,
  EPOLL_TIMEOUT_MS = 10000,
  DEFAULT_EPOLL_FDS = 1000,
  MAX_EPOLL_FDS = 100000,
  // stdin, stdout, stderr and the epoll fd, besides the two ends of each pipe.
  EPOLL_OTHER_FDS = 4,
};

static const long long BYTES_PER_MIB = 1024LL * 1024;
static const long MAX_MIB = 1024L * 1024;  // 1 TiB

static long long now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void on_alarm(int signal) {
  (void)signal;
  static const char message[] = "ipc_ops: timed out\n";
  ssize_t ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
  (void)ignored;
  _exit(1);
}

// Arms the watchdog. fork does not pass a pending alarm to the child, so
// each child arms its own.
static void arm_watchdog(void) {
  signal(SIGALRM, on_alarm);
  alarm(TIME_LIMIT_SECONDS);
}

static int fail(const char* step) {
  fprintf(stderr, "ipc_ops: %s failed: %s (errno %d)\n", step, strerror(errno), errno);
  return 1;
}

// Writes all `size` bytes, retrying short writes. Returns 0, or -1 with errno set.
static int write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    data += written;
    size -= (size_t)written;
  }
  return 0;
}

// Reads exactly `size` bytes. Returns 0, 1 at end of file before `size`
// bytes, or -1 with errno set.
static int read_exactly(int fd, char* data, size_t size) {
  while (size > 0) {
    ssize_t got = read(fd, data, size);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    if (got == 0) {
      return 1;
    }
    data += got;
    size -= (size_t)got;
  }
  return 0;
}

// Waits for the child and returns 0 when it exited with status 0.
static int reap(pid_t child) {
  int status = 0;
  pid_t waited;
  do {
    waited = waitpid(child, &status, 0);
  } while (waited < 0 && errno == EINTR);
  if (waited != child) {
    return fail("waitpid");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "ipc_ops: the child ended with wait status 0x%x\n", (unsigned)status);
    return 1;
  }
  return 0;
}

// Reports a read that failed or met end of file early, then closes `fd`,
// which ends a child blocked on it, and reaps the child.
static int fail_read(int result, const char* step, int fd, pid_t child) {
  if (result < 0) {
    fail(step);
  } else {
    fprintf(stderr, "ipc_ops: %s met end of file early\n", step);
  }
  close(fd);
  reap(child);
  return 1;
}

// The writer side of a stream: waits for one start byte when `start_first`
// is set, then writes `total_bytes` in STREAM_CHUNK_BYTES writes.
static int send_stream(int fd, long long total_bytes, int start_first) {
  static char chunk[STREAM_CHUNK_BYTES];
  memset(chunk, 'x', sizeof(chunk));
  if (start_first) {
    char start;
    int result = read_exactly(fd, &start, 1);
    if (result != 0) {
      return result < 0 ? fail("read of the start byte") : 1;
    }
  }
  for (long long sent = 0; sent < total_bytes; sent += STREAM_CHUNK_BYTES) {
    long long left = total_bytes - sent;
    size_t size = left < STREAM_CHUNK_BYTES ? (size_t)left : STREAM_CHUNK_BYTES;
    if (write_all(fd, chunk, size) != 0) {
      return fail("write");
    }
  }
  return 0;
}

// The reader side of a stream: reads `total_bytes`, then reaps the child
// and prints MiB/s. When `start_fd` is not -1, the clock starts when one
// byte is sent on it, which starts the writer.
static int receive_stream(int fd, int start_fd, long long total_bytes, pid_t child) {
  static char chunk[STREAM_CHUNK_BYTES];
  long long start = now_ns();
  if (start_fd >= 0 && write_all(start_fd, "s", 1) != 0) {
    fail("write of the start byte");
    close(fd);
    reap(child);
    return 1;
  }
  long long received = 0;
  while (received < total_bytes) {
    ssize_t got = read(fd, chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      return fail_read(got < 0 ? -1 : 1, "read", fd, child);
    }
    received += got;
  }
  long long elapsed_ns = now_ns() - start;
  if (reap(child) != 0) {
    return 1;
  }
  double mib = (double)total_bytes / (double)BYTES_PER_MIB;
  printf("%.1f\n", mib / ((double)elapsed_ns / 1e9));
  return 0;
}

// Sends one byte and waits for its echo `round_trips` times after one
// untimed round trip, then closes `fd` so that the echoing child exits,
// reaps it and prints the mean round trip in microseconds.
static int ping(int fd, long round_trips, pid_t child) {
  char byte = 'p';
  long long start = 0;
  for (long i = 0; i <= round_trips; ++i) {
    if (i == 1) {
      start = now_ns();
    }
    if (write_all(fd, &byte, 1) != 0) {
      fail("write");
      close(fd);
      reap(child);
      return 1;
    }
    int result = read_exactly(fd, &byte, 1);
    if (result != 0) {
      return fail_read(result, "read of the echo", fd, child);
    }
  }
  long long elapsed_ns = now_ns() - start;
  close(fd);
  if (reap(child) != 0) {
    return 1;
  }
  printf("%.2f\n", (double)elapsed_ns / (double)round_trips / 1000.0);
  return 0;
}

// The child of a ping-pong: echoes each byte until end of file.
static int echo(int fd) {
  char byte;
  for (;;) {
    int result = read_exactly(fd, &byte, 1);
    if (result == 1) {
      return 0;
    }
    if (result < 0) {
      return fail("read in the echoing child");
    }
    if (write_all(fd, &byte, 1) != 0) {
      return fail("write in the echoing child");
    }
  }
}

static int pipe_stream(long mib) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) {
    return fail("pipe2");
  }
  long long total_bytes = mib * BYTES_PER_MIB;
  pid_t child = fork();
  if (child < 0) {
    return fail("fork");
  }
  if (child == 0) {
    arm_watchdog();
    close(ends[0]);
    _exit(send_stream(ends[1], total_bytes, 0));
  }
  close(ends[1]);
  // The child may fill the 64 KiB pipe buffer before the clock starts, a
  // negligible share of a stream of MiBs.
  return receive_stream(ends[0], -1, total_bytes, child);
}

static int unix_pingpong(long round_trips) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail("socketpair(AF_UNIX, SOCK_STREAM)");
  }
  pid_t child = fork();
  if (child < 0) {
    return fail("fork");
  }
  if (child == 0) {
    arm_watchdog();
    close(pair[0]);
    _exit(echo(pair[1]));
  }
  close(pair[1]);
  return ping(pair[0], round_trips, child);
}

// Opens a TCP socket listening on 127.0.0.1 at a port the kernel picks and
// stores that address in `address`. Returns the socket, -1 on a failure,
// or -EXIT_UNSUPPORTED when the system has no AF_INET stream sockets.
static int listen_on_loopback(struct sockaddr_in* address) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) {
    int unsupported = errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT || errno == ENOSYS;
    fail("socket(AF_INET, SOCK_STREAM)");
    return unsupported ? -EXIT_UNSUPPORTED : -1;
  }
  memset(address, 0, sizeof(*address));
  address->sin_family = AF_INET;
  address->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address->sin_port = 0;
  socklen_t length = sizeof(*address);
  if (bind(listener, (struct sockaddr*)address, sizeof(*address)) != 0) {
    fail("bind to 127.0.0.1");
  } else if (listen(listener, 1) != 0) {
    fail("listen");
  } else if (getsockname(listener, (struct sockaddr*)address, &length) != 0) {
    fail("getsockname");
  } else {
    return listener;
  }
  close(listener);
  return -1;
}

// Forks a child connected to the parent over TCP on 127.0.0.1. In the
// parent, returns the accepted connection and stores the child's pid; in
// the child, returns the connected socket with *child set to 0. Returns -1
// on a failure, or -EXIT_UNSUPPORTED without AF_INET stream sockets.
static int connect_child(pid_t* child) {
  struct sockaddr_in address;
  int listener = listen_on_loopback(&address);
  if (listener < 0) {
    return listener;
  }
  *child = fork();
  if (*child < 0) {
    fail("fork");
    close(listener);
    return -1;
  }
  if (*child == 0) {
    arm_watchdog();
    close(listener);
    int connection = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connection < 0) {
      _exit(fail("socket(AF_INET, SOCK_STREAM) in the child"));
    }
    if (connect(connection, (struct sockaddr*)&address, sizeof(address)) != 0) {
      _exit(fail("connect to 127.0.0.1"));
    }
    return connection;
  }

  // A child that fails before connecting would leave accept blocked, so
  // the parent waits for the connection with a timeout.
  struct pollfd ready = {.fd = listener, .events = POLLIN};
  int polled;
  do {
    polled = poll(&ready, 1, ACCEPT_TIMEOUT_MS);
  } while (polled < 0 && errno == EINTR);
  if (polled <= 0) {
    if (polled == 0) {
      fprintf(stderr, "ipc_ops: no connection from the child within %d ms\n", ACCEPT_TIMEOUT_MS);
    } else {
      fail("poll of the listening socket");
    }
    close(listener);
    kill(*child, SIGKILL);
    reap(*child);
    return -1;
  }
  int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  if (connection < 0) {
    fail("accept4");
    close(listener);
    kill(*child, SIGKILL);
    reap(*child);
    return -1;
  }
  close(listener);
  return connection;
}

static int tcp_stream(long mib) {
  pid_t child = 0;
  int connection = connect_child(&child);
  if (connection < 0) {
    return connection == -EXIT_UNSUPPORTED ? EXIT_UNSUPPORTED : 1;
  }
  long long total_bytes = mib * BYTES_PER_MIB;
  if (child == 0) {
    _exit(send_stream(connection, total_bytes, 1));
  }
  // The child waits for a start byte, so that the socket buffers, which
  // hold megabytes on loopback, fill only after the clock starts.
  return receive_stream(connection, connection, total_bytes, child);
}

// The sockets keep their default options. Nagle's algorithm does not
// delay a strict ping-pong, because each byte is sent only after the
// previous one came back.
static int tcp_pingpong(long round_trips) {
  pid_t child = 0;
  int connection = connect_child(&child);
  if (connection < 0) {
    return connection == -EXIT_UNSUPPORTED ? EXIT_UNSUPPORTED : 1;
  }
  if (child == 0) {
    _exit(echo(connection));
  }
  return ping(connection, round_trips, child);
}

// Raises the soft RLIMIT_NOFILE to `needed` when it is lower, within the
// hard limit.
static int allow_fds(long needed) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return fail("getrlimit(RLIMIT_NOFILE)");
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= (rlim_t)needed) {
    return 0;
  }
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < (rlim_t)needed) {
    fprintf(stderr, "ipc_ops: the hard RLIMIT_NOFILE %llu is below the %ld fds needed\n",
            (unsigned long long)limit.rlim_max, needed);
    return 1;
  }
  limit.rlim_cur = (rlim_t)needed;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return fail("setrlimit(RLIMIT_NOFILE)");
  }
  return 0;
}

// Times only the epoll_wait calls. The write that makes a pipe readable
// comes before the clock starts, and the read that drains it after.
static int epoll_wait_ready(long iterations, long fds) {
  if (allow_fds(2 * fds + EPOLL_OTHER_FDS) != 0) {
    return 1;
  }
  int* read_ends = calloc((size_t)fds, sizeof(int));
  int* write_ends = calloc((size_t)fds, sizeof(int));
  if (read_ends == NULL || write_ends == NULL) {
    fprintf(stderr, "ipc_ops: out of memory\n");
    return 1;
  }
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    return fail("epoll_create1");
  }
  for (long i = 0; i < fds; ++i) {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) {
      return fail("pipe2");
    }
    read_ends[i] = ends[0];
    write_ends[i] = ends[1];
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, ends[0], &event) != 0) {
      return fail("epoll_ctl(EPOLL_CTL_ADD)");
    }
  }

  long long waiting_ns = 0;
  struct epoll_event events[8];
  for (long k = 0; k < iterations; ++k) {
    long ready = k % fds;
    if (write_all(write_ends[ready], "e", 1) != 0) {
      return fail("write");
    }
    long long start = now_ns();
    int count = epoll_wait(epoll_fd, events, 8, EPOLL_TIMEOUT_MS);
    waiting_ns += now_ns() - start;
    if (count < 0) {
      return fail("epoll_wait");
    }
    if (count != 1 || events[0].data.u64 != (uint64_t)ready || !(events[0].events & EPOLLIN)) {
      fprintf(stderr, "ipc_ops: epoll_wait returned %d events, expected pipe %ld alone\n", count,
              ready);
      return 1;
    }
    char byte;
    if (read(read_ends[ready], &byte, 1) != 1) {
      return fail("read");
    }
  }
  printf("%.2f\n", (double)waiting_ns / (double)iterations / 1000.0);
  return 0;
}

static int usage(const char* program) {
  fprintf(stderr,
          "usage: %s pipe-stream MIB | unix-pingpong ROUND_TRIPS | tcp-stream MIB |\n"
          "       tcp-pingpong ROUND_TRIPS | epoll-wait ITERATIONS [FDS]\n"
          "(MIB from 1 to %ld, FDS from 1 to %d, 1,000 by default)\n",
          program, MAX_MIB, MAX_EPOLL_FDS);
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    return usage(argv[0]);
  }
  const char* mode = argv[1];
  long count = atol(argv[2]);
  long fds = argc == 4 ? atol(argv[3]) : DEFAULT_EPOLL_FDS;
  int is_epoll = strcmp(mode, "epoll-wait") == 0;
  if (count <= 0 || (argc == 4 && !is_epoll) || fds <= 0 || fds > MAX_EPOLL_FDS) {
    return usage(argv[0]);
  }
  // A child may write to a pipe or socket whose reader is gone. The write
  // then fails with EPIPE and is reported instead of killing the child.
  signal(SIGPIPE, SIG_IGN);
  arm_watchdog();

  if (strcmp(mode, "pipe-stream") == 0 && count <= MAX_MIB) {
    return pipe_stream(count);
  }
  if (strcmp(mode, "unix-pingpong") == 0) {
    return unix_pingpong(count);
  }
  if (strcmp(mode, "tcp-stream") == 0 && count <= MAX_MIB) {
    return tcp_stream(count);
  }
  if (strcmp(mode, "tcp-pingpong") == 0) {
    return tcp_pingpong(count);
  }
  if (is_epoll) {
    return epoll_wait_ready(count, fds);
  }
  return usage(argv[0]);
}
