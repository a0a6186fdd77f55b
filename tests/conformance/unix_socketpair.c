// AF_UNIX socketpairs within one process: stream, datagram and seqpacket
// data flow with message boundaries, MSG_TRUNC, MSG_PEEK, MSG_WAITALL,
// non-blocking EAGAIN, FIONREAD, shutdown halves, EPIPE and SIGPIPE,
// fstat, socket options, poll and the errnos of bad arguments.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int signal) {
  (void)signal;
  sigpipes++;
}

static int queued(int fd) {
  int count = -1;
  if (ioctl(fd, FIONREAD, &count) < 0) {
    return -1;
  }
  return count;
}

static void show_poll(const char* label, int fd) {
  struct pollfd entry = {.fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP};
  poll(&entry, 1, 0);
  show_hex(label, (unsigned long)entry.revents);
}

static void check_creation(void) {
  int sv[2];
  SHOW("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  show_hex("  F_GETFL", (unsigned long)fcntl(sv[0], F_GETFL));
  SHOW("  F_GETFD", fcntl(sv[0], F_GETFD));
  struct stat st;
  SHOW("  fstat", fstat(sv[0], &st));
  EXPECT("  S_ISSOCK", S_ISSOCK(st.st_mode));
  show_octal("  permission bits", st.st_mode & 07777);
  close(sv[0]);
  close(sv[1]);

  SHOW("socketpair nonblock cloexec",
       socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
  show_hex("  F_GETFL", (unsigned long)fcntl(sv[0], F_GETFL));
  SHOW("  F_GETFD", fcntl(sv[1], F_GETFD));
  close(sv[0]);
  close(sv[1]);

  SHOW("socketpair protocol PF_UNIX", socketpair(AF_UNIX, SOCK_DGRAM, PF_UNIX, sv));
  close(sv[0]);
  close(sv[1]);
  SHOW("socketpair SOCK_RAW", socketpair(AF_UNIX, SOCK_RAW, 0, sv));
  int type = 0;
  socklen_t length = sizeof(type);
  getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &length);
  show_value("  SO_TYPE of SOCK_RAW", type);
  close(sv[0]);
  close(sv[1]);

  SHOW("socketpair bad flag", socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, sv));
  SHOW("socketpair bad protocol", socketpair(AF_UNIX, SOCK_STREAM, 7, sv));
  SHOW("socketpair type 11", socketpair(AF_UNIX, 11, 0, sv));
  SHOW("socketpair SOCK_RDM", socketpair(AF_UNIX, SOCK_RDM, 0, sv));
  SHOW("socketpair family 99", socketpair(99, SOCK_STREAM, 0, sv));
  SHOW("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, sv));
  SHOW("socketpair bad pointer", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (int*)1));
  SHOW("socket bad protocol", socket(AF_UNIX, SOCK_STREAM, 3));
  SHOW("socket family -1", socket(-1, SOCK_STREAM, 0));
  SHOW("socket type 12", socket(AF_UNIX, 12, 0));
}

static void check_stream(void) {
  int sv[2];
  char buffer[64];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);

  SHOW("stream write 3", write(sv[0], "abc", 3));
  SHOW("stream send 4", send(sv[0], "defg", 4, 0));
  SHOW("  FIONREAD", queued(sv[1]));
  SHOW("  peek 2", recv(sv[1], buffer, 2, MSG_PEEK));
  SHOW("  peek all", recv(sv[1], buffer, sizeof(buffer), MSG_PEEK));
  SHOW("  read joins the writes", read(sv[1], buffer, sizeof(buffer)));
  printf("  data %.7s\n", buffer);
  SHOW("  recv empty nonblocking", recv(sv[1], buffer, 1, MSG_DONTWAIT));

  SHOW("  send 2 for WAITALL", send(sv[0], "hi", 2, 0));
  SHOW("  recv WAITALL nonblocking takes what is there",
       recv(sv[1], buffer, 10, MSG_WAITALL | MSG_DONTWAIT));

  struct iovec parts[2] = {{"12", 2}, {"345", 3}};
  SHOW("  writev", writev(sv[0], parts, 2));
  char first[3] = {0}, second[8] = {0};
  struct iovec into[2] = {{first, 2}, {second, sizeof(second)}};
  SHOW("  readv", readv(sv[1], into, 2));
  printf("  readv data %.2s %.3s\n", first, second);
  SHOW("  read of 0 bytes", read(sv[1], buffer, 0));

  // Fill the pair without blocking.
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  static char big[65536];
  long total = 0;
  long result;
  while ((result = write(sv[0], big, sizeof(big))) > 0) {
    total += result;
  }
  show_result("  write until full", result, errno);
  EXPECT("  some bytes fit", total > 0);
  show_poll("  poll full writer", sv[0]);
  close(sv[0]);
  close(sv[1]);
}

static void check_datagrams(int type, const char* name) {
  int sv[2];
  char buffer[64];
  printf("%s\n", name);
  SHOW("  socketpair", socketpair(AF_UNIX, type, 0, sv));
  SHOW("  send 5", send(sv[0], "hello", 5, 0));
  SHOW("  send 3", send(sv[0], "abc", 3, 0));
  SHOW("  send 0", send(sv[0], "", 0, 0));
  SHOW("  FIONREAD is the first message", queued(sv[1]));
  SHOW("  peek 2", recv(sv[1], buffer, 2, MSG_PEEK));

  struct iovec vector = {buffer, 2};
  struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1};
  SHOW("  recvmsg 2 of 5", recvmsg(sv[1], &message, 0));
  show_hex("  msg_flags", (unsigned long)message.msg_flags);
  SHOW("  recv MSG_TRUNC reports the length", recv(sv[1], buffer, 1, MSG_TRUNC));
  SHOW("  recv empty message", recv(sv[1], buffer, sizeof(buffer), 0));
  SHOW("  recv nothing left", recv(sv[1], buffer, sizeof(buffer), MSG_DONTWAIT));

  struct iovec parts[2] = {{"ab", 2}, {"cd", 2}};
  SHOW("  writev is one message", writev(sv[0], parts, 2));
  SHOW("  read", read(sv[1], buffer, sizeof(buffer)));

  int size = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  static char big[16384];
  SHOW("  send larger than SO_SNDBUF", send(sv[0], big, sizeof(big), 0));
  SHOW("  sendto on a connected pair",
       sendto(sv[0], "x", 1, 0, (struct sockaddr*)&(struct sockaddr_un){.sun_family = AF_UNIX},
              sizeof(sa_family_t) + 2));

  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  long result;
  int sent = 0;
  while ((result = send(sv[0], "x", 1, 0)) > 0) {
    sent++;
  }
  show_result("  send until full", result, errno);
  EXPECT("  some messages fit", sent > 0);

  SHOW("  shutdown SHUT_WR", shutdown(sv[0], SHUT_WR));
  SHOW("  send after SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL));
  close(sv[0]);
  close(sv[1]);
}

static void check_shutdown(void) {
  int sv[2];
  char buffer[16];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  show_poll("poll fresh pair", sv[0]);
  SHOW("shutdown bad how", shutdown(sv[0], 3));
  SHOW("shutdown on a pipe", ({
         int fds[2];
         pipe(fds);
         int result = shutdown(fds[0], SHUT_RD);
         int saved = errno;
         close(fds[0]);
         close(fds[1]);
         errno = saved;
         result;
       }));
  send(sv[0], "xy", 2, 0);
  SHOW("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR));
  show_poll("  poll reader", sv[1]);
  show_poll("  poll writer", sv[0]);
  SHOW("  read keeps the data", read(sv[1], buffer, sizeof(buffer)));
  SHOW("  then EOF", read(sv[1], buffer, sizeof(buffer)));
  sigpipes = 0;
  SHOW("  write after SHUT_WR", write(sv[0], "z", 1));
  show_value("  SIGPIPEs", sigpipes);
  SHOW("  send MSG_NOSIGNAL", send(sv[0], "z", 1, MSG_NOSIGNAL));
  show_value("  SIGPIPEs", sigpipes);
  SHOW("  other way still works", write(sv[1], "back", 4));
  SHOW("  read it", read(sv[0], buffer, sizeof(buffer)));
  SHOW("shutdown SHUT_RD", shutdown(sv[0], SHUT_RD));
  show_poll("  poll both shut", sv[0]);
  SHOW("  peer write after SHUT_RD", send(sv[1], "q", 1, MSG_NOSIGNAL));
  close(sv[0]);
  close(sv[1]);

  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  send(sv[0], "unread", 6, 0);
  close(sv[1]);
  show_poll("closed peer with unread data", sv[0]);
  sigpipes = 0;
  SHOW("  write", write(sv[0], "x", 1));
  show_value("  SIGPIPEs", sigpipes);
  SHOW("  read reports the reset", read(sv[0], buffer, sizeof(buffer)));
  SHOW("  then EOF", read(sv[0], buffer, sizeof(buffer)));
  close(sv[0]);

  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
  close(sv[1]);
  sigpipes = 0;
  SHOW("seqpacket write to a closed peer", write(sv[0], "x", 1));
  show_value("  SIGPIPEs", sigpipes);
  SHOW("  read", read(sv[0], buffer, sizeof(buffer)));
  SHOW("  recv nonblocking", recv(sv[0], buffer, sizeof(buffer), MSG_DONTWAIT));
  show_poll("  poll", sv[0]);
  close(sv[0]);
}

static void check_options(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
  int value = -1;
  socklen_t length = sizeof(value);
  static const struct {
    const char* name;
    int option;
  } options[] = {
      {"SO_TYPE", SO_TYPE},           {"SO_DOMAIN", SO_DOMAIN},   {"SO_PROTOCOL", SO_PROTOCOL},
      {"SO_ACCEPTCONN", SO_ACCEPTCONN}, {"SO_ERROR", SO_ERROR}, {"SO_PASSCRED", SO_PASSCRED},
      {"SO_REUSEADDR", SO_REUSEADDR}, {"SO_KEEPALIVE", SO_KEEPALIVE},
  };
  for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
    value = -1;
    length = sizeof(value);
    SHOW(label_of("getsockopt %s", options[i].name),
         getsockopt(sv[0], SOL_SOCKET, options[i].option, &value, &length));
    show_value("  value", value);
    show_value("  length", length);
  }

  value = 4096;
  SHOW("setsockopt SO_SNDBUF 4096", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &value, sizeof(value)));
  length = sizeof(value);
  getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &value, &length);
  show_value("  SO_SNDBUF", value);
  value = 1;
  SHOW("setsockopt SO_SNDBUF 1", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &value, sizeof(value)));
  getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &value, &length);
  show_value("  SO_SNDBUF", value);
  value = 3000;
  SHOW("setsockopt SO_RCVBUF 3000", setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &value, sizeof(value)));
  getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &value, &length);
  show_value("  SO_RCVBUF", value);

  struct timeval timeout = {.tv_sec = 0, .tv_usec = 20000};
  SHOW("setsockopt SO_RCVTIMEO",
       setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)));
  char byte;
  SHOW("  recv times out", recv(sv[0], &byte, 1, 0));
  struct timeval read_back = {0};
  length = sizeof(read_back);
  getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &read_back, &length);
  show_value("  tv_usec", read_back.tv_usec);
  timeout.tv_usec = 1000000;
  SHOW("  tv_usec out of range", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)));
  SHOW("  short timeval", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, 8));

  struct ucred credentials;
  length = sizeof(credentials);
  SHOW("getsockopt SO_PEERCRED", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &credentials, &length));
  EXPECT("  pid is ours", credentials.pid == getpid());
  EXPECT("  uid is ours", credentials.uid == geteuid());
  show_value("  length", length);

  value = 1;
  SHOW("setsockopt short length", setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &value, 2));
  SHOW("setsockopt negative length", setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &value, -1));
  SHOW("setsockopt bad pointer", setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, (void*)1, 4));
  SHOW("setsockopt SO_TYPE", setsockopt(sv[0], SOL_SOCKET, SO_TYPE, &value, sizeof(value)));
  SHOW("setsockopt SOL_TCP", setsockopt(sv[0], 6, 1, &value, sizeof(value)));
  SHOW("setsockopt SO_REUSEPORT 1", setsockopt(sv[0], SOL_SOCKET, SO_REUSEPORT, &value, sizeof(value)));
  length = 2;
  SHOW("getsockopt short length", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &value, &length));
  show_value("  length", length);
  int negative = -1;
  SHOW("getsockopt negative length", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &value, (socklen_t*)&negative));
  SHOW("getsockopt on a pipe", ({
         int fds[2];
         pipe(fds);
         length = sizeof(value);
         int result = getsockopt(fds[0], SOL_SOCKET, SO_TYPE, &value, &length);
         int saved = errno;
         close(fds[0]);
         close(fds[1]);
         errno = saved;
         result;
       }));
  SHOW("getsockopt bad fd", getsockopt(999, SOL_SOCKET, SO_TYPE, &value, &length));
  close(sv[0]);
  close(sv[1]);
}

int main(void) {
  signal(SIGPIPE, on_sigpipe);
  check_creation();
  check_stream();
  check_datagrams(SOCK_DGRAM, "datagram");
  check_datagrams(SOCK_SEQPACKET, "seqpacket");
  check_shutdown();
  check_options();
  return check_failures == 0 ? 0 : 1;
}
