// AF_UNIX names and connections: abstract names, autobind, listen,
// connect, accept and accept4, the backlog, getsockname and getpeername,
// SO_PEERCRED across fork, datagram sendto to a bound name, and the
// errnos of each bad call.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

// An abstract name unique to this run, so native runs in parallel do not
// collide: "\0ward-conformance-<pid>-<tag>".
static socklen_t abstract_name(struct sockaddr_un* address, const char* tag) {
  memset(address, 0, sizeof(*address));
  address->sun_family = AF_UNIX;
  int length = snprintf(address->sun_path + 1, sizeof(address->sun_path) - 1,
                        "ward-conformance-%d-%s", getpid(), tag);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length);
}

static void check_names(void) {
  struct sockaddr_un address;
  socklen_t length = abstract_name(&address, "names");
  int server = socket(AF_UNIX, SOCK_STREAM, 0);

  struct sockaddr_un name;
  socklen_t name_length = sizeof(name);
  SHOW("getsockname unbound", getsockname(server, (struct sockaddr*)&name, &name_length));
  show_value("  length", name_length);
  SHOW("listen unbound", listen(server, 5));
  SHOW("getpeername unconnected", getpeername(server, (struct sockaddr*)&name, &name_length));
  SHOW("accept unbound", accept(server, NULL, NULL));

  SHOW("bind addrlen 1", bind(server, (struct sockaddr*)&address, 1));
  SHOW("bind addrlen 0", bind(server, (struct sockaddr*)&address, 0));
  SHOW("bind addrlen 111", bind(server, (struct sockaddr*)&address, 111));
  SHOW("bind addrlen 129", bind(server, (struct sockaddr*)&address, 129));
  SHOW("bind addrlen -1", bind(server, (struct sockaddr*)&address, -1));
  SHOW("bind bad pointer", bind(server, (struct sockaddr*)1, length));
  struct sockaddr_un wrong = address;
  wrong.sun_family = AF_INET;
  SHOW("bind AF_INET family", bind(server, (struct sockaddr*)&wrong, length));
  SHOW("bind on a pipe", ({
         int fds[2];
         pipe(fds);
         int result = bind(fds[0], (struct sockaddr*)&address, length);
         int saved = errno;
         close(fds[0]);
         close(fds[1]);
         errno = saved;
         result;
       }));

  SHOW("bind abstract", bind(server, (struct sockaddr*)&address, length));
  name_length = sizeof(name);
  SHOW("getsockname", getsockname(server, (struct sockaddr*)&name, &name_length));
  EXPECT("  same length", name_length == length);
  EXPECT("  same name", memcmp(&name, &address, length) == 0);
  name_length = 4;
  SHOW("getsockname short buffer", getsockname(server, (struct sockaddr*)&name, &name_length));
  EXPECT("  full length reported", name_length == length);
  SHOW("bind again", bind(server, (struct sockaddr*)&address, length));

  int other = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("bind a name in use", bind(other, (struct sockaddr*)&address, length));
  int datagram = socket(AF_UNIX, SOCK_DGRAM, 0);
  SHOW("bind the same name for another type", bind(datagram, (struct sockaddr*)&address, length));
  close(datagram);

  SHOW("autobind", bind(other, (struct sockaddr*)&(struct sockaddr_un){.sun_family = AF_UNIX},
                        sizeof(sa_family_t)));
  name_length = sizeof(name);
  getsockname(other, (struct sockaddr*)&name, &name_length);
  show_value("  autobind length", name_length);
  show_value("  first byte", name.sun_path[0]);
  bool hex = true;
  for (int i = 1; i <= 5; i++) {
    char c = name.sun_path[i];
    hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  EXPECT("  five hex digits", hex);
  SHOW("autobind again keeps the name",
       bind(other, (struct sockaddr*)&(struct sockaddr_un){.sun_family = AF_UNIX},
            sizeof(sa_family_t)));
  close(other);

  int client = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("connect before listen", connect(client, (struct sockaddr*)&address, length));
  struct sockaddr_un missing;
  socklen_t missing_length = abstract_name(&missing, "missing");
  SHOW("connect to a missing name", connect(client, (struct sockaddr*)&missing, missing_length));
  SHOW("connect addrlen 2", connect(client, (struct sockaddr*)&address, 2));

  SHOW("listen", listen(server, 1));
  int value = 0;
  socklen_t value_length = sizeof(value);
  getsockopt(server, SOL_SOCKET, SO_ACCEPTCONN, &value, &value_length);
  show_value("  SO_ACCEPTCONN", value);
  int seqpacket = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  SHOW("connect seqpacket to a stream name", connect(seqpacket, (struct sockaddr*)&address, length));
  close(seqpacket);

  SHOW("connect", connect(client, (struct sockaddr*)&address, length));
  SHOW("connect again", connect(client, (struct sockaddr*)&address, length));
  SHOW("listen on a connected socket", listen(client, 1));
  SHOW("send before accept", send(client, "early", 5, 0));
  name_length = sizeof(name);
  SHOW("getpeername of the client", getpeername(client, (struct sockaddr*)&name, &name_length));
  EXPECT("  is the server's name", name_length == length && memcmp(&name, &address, length) == 0);

  struct pollfd entry = {.fd = server, .events = POLLIN | POLLOUT};
  poll(&entry, 1, 0);
  show_hex("poll listener with a connection", (unsigned long)entry.revents);

  SHOW("accept4 bad flags", accept4(server, NULL, NULL, O_RDWR));
  name_length = sizeof(name);
  int accepted = SHOW_OK("accept4 SOCK_NONBLOCK|SOCK_CLOEXEC",
                         accept4(server, (struct sockaddr*)&name, &name_length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC));
  show_value("  peer name length", name_length);
  show_hex("  F_GETFL", (unsigned long)fcntl(accepted, F_GETFL));
  SHOW("  F_GETFD", fcntl(accepted, F_GETFD));
  name_length = sizeof(name);
  getsockname(accepted, (struct sockaddr*)&name, &name_length);
  EXPECT("  its own name is the server's", name_length == length);
  char buffer[16];
  SHOW("  recv the early data", recv(accepted, buffer, sizeof(buffer), 0));
  fcntl(server, F_SETFL, O_NONBLOCK);
  SHOW("  accept nonblocking", accept(server, NULL, NULL));

  // Backlog 1: Linux takes one more pending connection than the backlog.
  int pending[4];
  for (int i = 0; i < 3; i++) {
    pending[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SHOW(label_of("nonblocking connect %d", i),
         connect(pending[i], (struct sockaddr*)&address, length));
  }
  for (int i = 0; i < 3; i++) {
    close(pending[i]);
  }

  int udp_like = socket(AF_UNIX, SOCK_DGRAM, 0);
  SHOW("listen on a datagram socket", listen(udp_like, 1));
  SHOW("accept on a datagram socket", accept(udp_like, NULL, NULL));
  close(udp_like);

  close(accepted);
  close(client);
  close(server);

  int after = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("bind the name after close", bind(after, (struct sockaddr*)&address, length));
  close(after);
}

static void check_across_fork(void) {
  struct sockaddr_un address;
  socklen_t length = abstract_name(&address, "fork");
  int server = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(server, (struct sockaddr*)&address, length);
  listen(server, 8);

  pid_t child = fork();
  if (child == 0) {
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(client, (struct sockaddr*)&address, length) != 0) {
      _exit(2);
    }
    struct ucred credentials;
    socklen_t credentials_length = sizeof(credentials);
    getsockopt(client, SOL_SOCKET, SO_PEERCRED, &credentials, &credentials_length);
    bool parent_is_peer = credentials.pid == getppid();
    char message[] = "ping";
    write(client, message, 4);
    char reply[8] = {0};
    ssize_t got = read(client, reply, sizeof(reply));
    _exit(parent_is_peer && got == 4 && memcmp(reply, "pong", 4) == 0 ? 0 : 3);
  }

  int connection = SHOW_OK("accept from the child", accept(server, NULL, NULL));
  struct ucred credentials;
  socklen_t credentials_length = sizeof(credentials);
  SHOW("SO_PEERCRED", getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &credentials,
                                 &credentials_length));
  EXPECT("  pid is the child's", credentials.pid == child);
  EXPECT("  uid is ours", credentials.uid == geteuid());
  EXPECT("  gid is ours", credentials.gid == getegid());
  char buffer[8] = {0};
  SHOW("read the child's message", read(connection, buffer, sizeof(buffer)));
  printf("  data %.4s\n", buffer);
  SHOW("reply", write(connection, "pong", 4));
  int status = 0;
  waitpid(child, &status, 0);
  show_value("child exit status", WEXITSTATUS(status));
  SHOW("read after the child exited", read(connection, buffer, sizeof(buffer)));
  struct pollfd entry = {.fd = connection, .events = POLLIN | POLLOUT | POLLRDHUP};
  poll(&entry, 1, 0);
  show_hex("poll after the child exited", (unsigned long)entry.revents);
  close(connection);
  close(server);
}

static void check_datagram_names(void) {
  struct sockaddr_un address;
  socklen_t length = abstract_name(&address, "dgram");
  int receiver = socket(AF_UNIX, SOCK_DGRAM, 0);
  bind(receiver, (struct sockaddr*)&address, length);
  int sender = socket(AF_UNIX, SOCK_DGRAM, 0);

  SHOW("send unconnected", send(sender, "x", 1, 0));
  SHOW("sendto a bound name", sendto(sender, "one", 3, 0, (struct sockaddr*)&address, length));
  char buffer[16];
  struct sockaddr_un from;
  socklen_t from_length = sizeof(from);
  SHOW("recvfrom", recvfrom(receiver, buffer, sizeof(buffer), 0, (struct sockaddr*)&from,
                            &from_length));
  show_value("  unbound sender's name length", from_length);

  bind(sender, (struct sockaddr*)&(struct sockaddr_un){.sun_family = AF_UNIX}, sizeof(sa_family_t));
  sendto(sender, "two", 3, 0, (struct sockaddr*)&address, length);
  from_length = sizeof(from);
  SHOW("recvfrom an autobound sender", recvfrom(receiver, buffer, sizeof(buffer), 0,
                                                (struct sockaddr*)&from, &from_length));
  show_value("  name length", from_length);

  SHOW("connect to the receiver", connect(sender, (struct sockaddr*)&address, length));
  SHOW("send connected", send(sender, "three", 5, 0));
  SHOW("recv", recv(receiver, buffer, sizeof(buffer), 0));

  int third = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un sender_name;
  socklen_t sender_length = sizeof(sender_name);
  getsockname(sender, (struct sockaddr*)&sender_name, &sender_length);
  SHOW("sendto a socket connected elsewhere",
       sendto(third, "no", 2, 0, (struct sockaddr*)&sender_name, sender_length));
  struct sockaddr_un missing;
  socklen_t missing_length = abstract_name(&missing, "nobody");
  SHOW("sendto a missing name", sendto(third, "no", 2, 0, (struct sockaddr*)&missing, missing_length));
  SHOW("sendto addrlen 1", sendto(third, "no", 2, 0, (struct sockaddr*)&missing, 1));

  // Linux queues max_dgram_qlen + 1 messages for a receiver that is not
  // connected back.
  int sent = 0;
  while (sendto(third, "q", 1, MSG_DONTWAIT, (struct sockaddr*)&address, length) == 1 && sent < 100) {
    sent++;
  }
  show_result("sendto a full receiver", -1, errno);
  EXPECT("  queued some", sent > 0);

  SHOW("connect AF_UNSPEC", connect(sender, (struct sockaddr*)&(struct sockaddr){.sa_family = AF_UNSPEC},
                                    sizeof(struct sockaddr)));
  SHOW("send after AF_UNSPEC", send(sender, "x", 1, 0));

  close(third);
  close(sender);
  close(receiver);
  int after = socket(AF_UNIX, SOCK_DGRAM, 0);
  SHOW("connect to a closed receiver's name", connect(after, (struct sockaddr*)&address, length));
  close(after);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  check_names();
  check_across_fork();
  check_datagram_names();
  return check_failures == 0 ? 0 : 1;
}
