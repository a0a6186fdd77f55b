// Loopback TCP over 127.0.0.1: an echo with a half-close, ECONNREFUSED,
// EADDRINUSE with SO_REUSEADDR and SO_REUSEPORT, ephemeral ports, a
// non-blocking connect with poll, a RST from a close with unread data,
// socket options, and the errnos of each bad call. Every port is an
// ephemeral one the kernel picks, so parallel runs never collide.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static struct sockaddr_in loopback(uint16_t port) {
  struct sockaddr_in address;
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

static uint16_t port_of(int fd) {
  struct sockaddr_in address;
  socklen_t length = sizeof(address);
  if (getsockname(fd, (struct sockaddr*)&address, &length) != 0) {
    return 0;
  }
  return ntohs(address.sin_port);
}

static int bind_loopback(int fd, uint16_t port) {
  struct sockaddr_in address = loopback(port);
  return bind(fd, (struct sockaddr*)&address, sizeof(address));
}

static int connect_loopback(int fd, uint16_t port) {
  struct sockaddr_in address = loopback(port);
  return connect(fd, (struct sockaddr*)&address, sizeof(address));
}

// A listener on 127.0.0.1 at an ephemeral port.
static int make_listener(int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  bind_loopback(fd, 0);
  listen(fd, backlog);
  return fd;
}

static short wait_for(int fd, short events) {
  struct pollfd entry = {.fd = fd, .events = events};
  if (poll(&entry, 1, 5000) != 1) {
    return 0;
  }
  return entry.revents;
}

static int int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof(value);
  if (getsockopt(fd, level, name, &value, &length) != 0) {
    return -errno;
  }
  return value;
}

static void check_echo(void) {
  int server = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in name;
  socklen_t length = sizeof(name);
  SHOW("getsockname unbound", getsockname(server, (struct sockaddr*)&name, &length));
  show_value("  length", length);
  show_value("  port", ntohs(name.sin_port));
  EXPECT("  address is 0.0.0.0", name.sin_addr.s_addr == htonl(INADDR_ANY));

  SHOW("bind 127.0.0.1 port 0", bind_loopback(server, 0));
  const uint16_t port = port_of(server);
  printf("ephemeral port: %s\n", port != 0 ? "nonzero" : "zero");
  EXPECT("  in 32768-60999", port >= 32768 && port <= 60999);
  SHOW("listen", listen(server, 4));
  show_value("SO_ACCEPTCONN listener", int_option(server, SOL_SOCKET, SO_ACCEPTCONN));

  int client = socket(AF_INET, SOCK_STREAM, 0);
  SHOW("connect", connect_loopback(client, port));
  struct sockaddr_in peer;
  socklen_t peer_length = sizeof(peer);
  int connection = SHOW_OK("accept", accept(server, (struct sockaddr*)&peer, &peer_length));
  show_value("  peer length", peer_length);
  show_value("  peer family", peer.sin_family);
  EXPECT("  peer is 127.0.0.1", peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  EXPECT("  peer port is the client's", ntohs(peer.sin_port) == port_of(client));
  EXPECT("client port is ephemeral", port_of(client) >= 32768 && port_of(client) <= 60999);

  struct sockaddr_in client_peer;
  socklen_t client_peer_length = sizeof(client_peer);
  SHOW("getpeername client", getpeername(client, (struct sockaddr*)&client_peer, &client_peer_length));
  EXPECT("  is the server port", ntohs(client_peer.sin_port) == port);
  show_value("SO_TYPE", int_option(connection, SOL_SOCKET, SO_TYPE));
  show_value("SO_DOMAIN", int_option(connection, SOL_SOCKET, SO_DOMAIN));
  show_value("SO_PROTOCOL", int_option(connection, SOL_SOCKET, SO_PROTOCOL));
  show_value("SO_ACCEPTCONN accepted", int_option(connection, SOL_SOCKET, SO_ACCEPTCONN));
  show_value("SO_ERROR", int_option(connection, SOL_SOCKET, SO_ERROR));

  struct tcp_info info;
  socklen_t info_length = sizeof(info);
  memset(&info, 0, sizeof(info));
  SHOW("TCP_INFO listener", getsockopt(server, IPPROTO_TCP, TCP_INFO, &info, &info_length));
  show_value("  state", info.tcpi_state);
  SHOW("TCP_INFO client", getsockopt(client, IPPROTO_TCP, TCP_INFO, &info, &info_length));
  show_value("  state", info.tcpi_state);

  show_value("TCP_NODELAY default", int_option(client, IPPROTO_TCP, TCP_NODELAY));
  int one = 1;
  SHOW("set TCP_NODELAY", setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
  show_value("TCP_NODELAY", int_option(client, IPPROTO_TCP, TCP_NODELAY));
  SHOW("set TCP_CORK", setsockopt(client, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
  show_value("TCP_CORK", int_option(client, IPPROTO_TCP, TCP_CORK));
  int zero = 0;
  SHOW("clear TCP_CORK", setsockopt(client, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
  SHOW("set SO_KEEPALIVE", setsockopt(client, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
  show_value("SO_KEEPALIVE", int_option(client, SOL_SOCKET, SO_KEEPALIVE));
  show_value("TCP_KEEPIDLE", int_option(client, IPPROTO_TCP, TCP_KEEPIDLE));
  int big = 1 << 20;
  SHOW("set TCP_KEEPIDLE too big", setsockopt(client, IPPROTO_TCP, TCP_KEEPIDLE, &big, sizeof(big)));
  show_value("IP_TTL", int_option(client, IPPROTO_IP, IP_TTL));
  show_value("IPV6_V6ONLY on AF_INET", int_option(client, IPPROTO_IPV6, IPV6_V6ONLY));

  SHOW("send abc", send(client, "abc", 3, 0));
  EXPECT("connection readable", (wait_for(connection, POLLIN) & POLLIN) != 0);
  int available = -1;
  SHOW("FIONREAD", ioctl(connection, FIONREAD, &available));
  show_value("  bytes", available);
  char buffer[64];
  SHOW("recv MSG_PEEK", recv(connection, buffer, sizeof(buffer), MSG_PEEK));
  SHOW("recv", recv(connection, buffer, sizeof(buffer), 0));
  SHOW("recv MSG_DONTWAIT empty", recv(connection, buffer, sizeof(buffer), MSG_DONTWAIT));

  // Echo with a half-close: the client's SHUT_WR is the server's EOF.
  SHOW("send hello", send(client, "hello", 5, 0));
  SHOW("shutdown SHUT_WR", shutdown(client, SHUT_WR));
  SHOW("send after SHUT_WR", send(client, "x", 1, MSG_NOSIGNAL));
  SHOW("recv MSG_WAITALL", recv(connection, buffer, 5, MSG_WAITALL));
  SHOW("recv EOF", recv(connection, buffer, sizeof(buffer), 0));
  short events = wait_for(connection, POLLIN | POLLRDHUP);
  show_hex("connection revents after EOF", events & (POLLIN | POLLRDHUP | POLLHUP));
  SHOW("echo back", send(connection, buffer, 5, 0));
  SHOW("close connection", close(connection));
  SHOW("client recv echo", recv(client, buffer, 5, MSG_WAITALL));
  EXPECT("  echo matches", memcmp(buffer, "hello", 5) == 0);
  SHOW("client recv EOF", recv(client, buffer, sizeof(buffer), 0));
  SHOW("getpeername after both FINs", getpeername(client, (struct sockaddr*)&client_peer, &client_peer_length));
  close(client);
  close(server);
}

static void check_refused(void) {
  // A bound socket that does not listen replies to a SYN with a RST.
  int reserved = socket(AF_INET, SOCK_STREAM, 0);
  bind_loopback(reserved, 0);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  SHOW("connect to a port without listener", connect_loopback(client, port_of(reserved)));
  SHOW("connect to port 0", connect_loopback(client, 0));
  close(client);
  close(reserved);
}

static void check_address_in_use(void) {
  int first = make_listener(1);
  const uint16_t port = port_of(first);
  int second = socket(AF_INET, SOCK_STREAM, 0);
  SHOW("bind a listening port", bind_loopback(second, port));
  int one = 1;
  setsockopt(second, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  SHOW("bind it with SO_REUSEADDR", bind_loopback(second, port));
  close(second);
  int wildcard = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in any = loopback(port);
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  SHOW("bind INADDR_ANY on it", bind(wildcard, (struct sockaddr*)&any, sizeof(any)));
  close(wildcard);
  close(first);

  // A listener with SO_REUSEADDR closes while a connection it accepted is
  // alive: the port is free for SO_REUSEADDR sockets only.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  bind_loopback(listener, 0);
  listen(listener, 1);
  const uint16_t reused = port_of(listener);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  connect_loopback(client, reused);
  int connection = accept(listener, NULL, NULL);
  close(listener);
  int plain = socket(AF_INET, SOCK_STREAM, 0);
  SHOW("bind while a connection lives", bind_loopback(plain, reused));
  int reuser = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(reuser, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  SHOW("bind it with SO_REUSEADDR", bind_loopback(reuser, reused));
  SHOW("listen on it", listen(reuser, 1));
  int again = socket(AF_INET, SOCK_STREAM, 0);
  connect_loopback(again, reused);
  int accepted = SHOW_OK("accept on the new listener", accept(reuser, NULL, NULL));
  close(accepted);
  close(again);
  close(reuser);
  close(plain);
  close(connection);
  close(client);

  // Two SO_REUSEADDR sockets share a port until one of them listens.
  int a = socket(AF_INET, SOCK_STREAM, 0);
  int b = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  bind_loopback(a, 0);
  SHOW("bind second SO_REUSEADDR socket", bind_loopback(b, port_of(a)));
  SHOW("listen first", listen(a, 1));
  SHOW("listen second", listen(b, 1));
  close(a);
  close(b);

  // SO_REUSEPORT sockets of one user share a listening port.
  int c = socket(AF_INET, SOCK_STREAM, 0);
  int d = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(c, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  setsockopt(d, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  show_value("SO_REUSEPORT", int_option(c, SOL_SOCKET, SO_REUSEPORT));
  bind_loopback(c, 0);
  SHOW("listen first SO_REUSEPORT", listen(c, 1));
  SHOW("bind second SO_REUSEPORT", bind_loopback(d, port_of(c)));
  SHOW("listen second SO_REUSEPORT", listen(d, 1));
  close(c);
  close(d);
}

static void check_nonblocking_connect(void) {
  int server = make_listener(4);
  int client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  SHOW("non-blocking connect", connect_loopback(client, port_of(server)));
  short events = wait_for(client, POLLOUT);
  show_hex("  revents", events);
  show_value("  SO_ERROR", int_option(client, SOL_SOCKET, SO_ERROR));
  SHOW("  connect again", connect_loopback(client, port_of(server)));
  SHOW("  and again", connect_loopback(client, port_of(server)));
  int connection = SHOW_OK("accept4 SOCK_NONBLOCK", accept4(server, NULL, NULL, SOCK_NONBLOCK));
  show_hex("  accepted O_NONBLOCK", fcntl(connection, F_GETFL) & O_NONBLOCK);
  fcntl(server, F_SETFL, O_NONBLOCK);
  SHOW("accept on an empty non-blocking listener", accept(server, NULL, NULL));
  close(connection);
  close(client);

  int reserved = socket(AF_INET, SOCK_STREAM, 0);
  bind_loopback(reserved, 0);
  int refused = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  SHOW("non-blocking connect refused", connect_loopback(refused, port_of(reserved)));
  events = wait_for(refused, POLLOUT);
  show_hex("  revents", events);
  show_value("  SO_ERROR", int_option(refused, SOL_SOCKET, SO_ERROR));
  SHOW("  connect again", connect_loopback(refused, port_of(reserved)));
  close(refused);
  close(reserved);

  int fresh = socket(AF_INET, SOCK_STREAM, 0);
  show_hex("fresh socket revents", wait_for(fresh, POLLIN | POLLOUT));
  close(fresh);
  show_hex("listener revents empty", ({
             struct pollfd entry = {.fd = server, .events = POLLIN | POLLOUT};
             poll(&entry, 1, 0);
             entry.revents;
           }));
  close(server);
}

static void check_reset(void) {
  int server = make_listener(4);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  connect_loopback(client, port_of(server));
  int connection = accept(server, NULL, NULL);
  SHOW("send unread data", send(client, "data", 4, 0));
  EXPECT("connection readable", (wait_for(connection, POLLIN) & POLLIN) != 0);
  SHOW("close with unread data", close(connection));
  short events = wait_for(client, POLLIN);
  show_hex("client revents", events & (POLLIN | POLLERR | POLLHUP));
  char buffer[16];
  SHOW("recv after RST", recv(client, buffer, sizeof(buffer), 0));
  SHOW("recv again", recv(client, buffer, sizeof(buffer), 0));
  SHOW("send after RST", send(client, "x", 1, MSG_NOSIGNAL));
  SHOW("getpeername after RST", ({
         struct sockaddr_in peer;
         socklen_t length = sizeof(peer);
         getpeername(client, (struct sockaddr*)&peer, &length);
       }));
  close(client);

  // A listener closing resets the connections not yet accepted.
  int waiting = socket(AF_INET, SOCK_STREAM, 0);
  connect_loopback(waiting, port_of(server));
  SHOW("close listener with a queued connection", close(server));
  wait_for(waiting, POLLIN);
  SHOW("recv on the dropped connection", recv(waiting, buffer, sizeof(buffer), 0));
  close(waiting);

  // The peer closed cleanly: a send is taken, its RST makes the next one
  // EPIPE.
  server = make_listener(4);
  client = socket(AF_INET, SOCK_STREAM, 0);
  connect_loopback(client, port_of(server));
  connection = accept(server, NULL, NULL);
  close(connection);
  wait_for(client, POLLIN);
  SHOW("recv FIN", recv(client, buffer, sizeof(buffer), 0));
  SHOW("send to a closed peer", send(client, "x", 1, MSG_NOSIGNAL));
  wait_for(client, POLLERR);
  SHOW("send after its RST", send(client, "x", 1, MSG_NOSIGNAL));
  close(client);
  close(server);
}

static int sigpipe_count;

static void count_sigpipe(int signal) {
  (void)signal;
  sigpipe_count++;
}

static void check_signals_and_timeouts(void) {
  int server = make_listener(4);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  connect_loopback(client, port_of(server));
  int connection = accept(server, NULL, NULL);

  signal(SIGPIPE, count_sigpipe);
  shutdown(client, SHUT_WR);
  SHOW("send after SHUT_WR without MSG_NOSIGNAL", send(client, "x", 1, 0));
  show_value("  SIGPIPE count", sigpipe_count);
  signal(SIGPIPE, SIG_DFL);

  struct timeval timeout = {.tv_sec = 0, .tv_usec = 100000};
  SHOW("set SO_RCVTIMEO", setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)));
  struct timeval read_back;
  socklen_t length = sizeof(read_back);
  getsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &read_back, &length);
  show_value("  tv_usec", read_back.tv_usec);
  int reader = socket(AF_INET, SOCK_STREAM, 0);
  connect_loopback(reader, port_of(server));
  int reader_peer = accept(server, NULL, NULL);
  setsockopt(reader, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char buffer[8];
  SHOW("recv with SO_RCVTIMEO", recv(reader, buffer, sizeof(buffer), 0));
  struct timeval bad = {.tv_sec = 0, .tv_usec = 1000000};
  SHOW("SO_RCVTIMEO usec out of range", setsockopt(reader, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof(bad)));

  // epoll reports the peer's half-close as EPOLLIN | EPOLLRDHUP.
  int epoll = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET};
  SHOW("epoll_ctl ADD", epoll_ctl(epoll, EPOLL_CTL_ADD, reader, &event));
  struct epoll_event ready;
  SHOW("epoll_wait writable", epoll_wait(epoll, &ready, 1, 1000));
  show_hex("  events", ready.events);
  shutdown(reader_peer, SHUT_WR);
  SHOW("epoll_wait after peer SHUT_WR", epoll_wait(epoll, &ready, 1, 1000));
  show_hex("  events", ready.events);
  close(epoll);

  // SO_LINGER with a zero timeout closes with a RST, unread data or not.
  struct linger linger = {.l_onoff = 1, .l_linger = 0};
  SHOW("set SO_LINGER", setsockopt(reader_peer, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger)));
  struct linger linger_back;
  length = sizeof(linger_back);
  getsockopt(reader_peer, SOL_SOCKET, SO_LINGER, &linger_back, &length);
  show_value("  l_onoff", linger_back.l_onoff);
  int lingering = socket(AF_INET, SOCK_STREAM, 0);
  connect_loopback(lingering, port_of(server));
  int lingering_peer = accept(server, NULL, NULL);
  setsockopt(lingering_peer, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
  close(lingering_peer);
  wait_for(lingering, POLLIN);
  SHOW("recv after an abortive close", recv(lingering, buffer, sizeof(buffer), 0));
  close(lingering);
  close(reader_peer);
  close(reader);
  close(connection);
  close(client);
  close(server);
}

// A writer fills the bounded buffers until EAGAIN, is not writable, and
// becomes writable once the reader drains everything.
static void check_backpressure(void) {
  int server = make_listener(4);
  int client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  connect_loopback(client, port_of(server));
  wait_for(client, POLLOUT);
  int connection = accept(server, NULL, NULL);

  static char chunk[65536];
  long sent = 0;
  int last_error = 0;
  for (int i = 0; i < 1024; i++) {
    ssize_t result = send(client, chunk, sizeof(chunk), 0);
    if (result < 0) {
      last_error = errno;
      break;
    }
    sent += result;
  }
  printf("fill stopped with: %s\n", errno_name(last_error));
  EXPECT("  buffers are bounded", last_error == EAGAIN && sent < 64L * 1024 * 1024);
  struct pollfd entry = {.fd = client, .events = POLLOUT};
  poll(&entry, 1, 0);
  show_hex("  revents when full", entry.revents);

  long received = 0;
  while (received < sent) {
    ssize_t result = recv(connection, chunk, sizeof(chunk), 0);
    if (result <= 0) {
      break;
    }
    received += result;
  }
  EXPECT("reader got every byte", received == sent);
  show_hex("writer revents after the drain", wait_for(client, POLLOUT));
  close(connection);
  close(client);
  close(server);
}

static void check_bad_inputs(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = loopback(0);
  SHOW("bind addrlen 15", bind(fd, (struct sockaddr*)&address, 15));
  SHOW("bind addrlen -1", bind(fd, (struct sockaddr*)&address, -1));
  struct sockaddr_in wrong = address;
  wrong.sin_family = AF_INET6;
  SHOW("bind AF_INET6 family", bind(fd, (struct sockaddr*)&wrong, sizeof(wrong)));
  struct sockaddr_in remote = address;
  inet_pton(AF_INET, "192.0.2.1", &remote.sin_addr);  // TEST-NET-1, never local
  SHOW("bind a non-local address", bind(fd, (struct sockaddr*)&remote, sizeof(remote)));
  SHOW("connect addrlen 15", connect(fd, (struct sockaddr*)&address, 15));
  SHOW("connect addrlen 1", connect(fd, (struct sockaddr*)&address, 1));
  SHOW("connect AF_INET6 family", connect(fd, (struct sockaddr*)&wrong, sizeof(wrong)));
  SHOW("accept on a non-listening socket", accept(fd, NULL, NULL));
  SHOW("getpeername unconnected", ({
         struct sockaddr_in peer;
         socklen_t length = sizeof(peer);
         getpeername(fd, (struct sockaddr*)&peer, &length);
       }));
  char buffer[4];
  SHOW("recv unconnected", recv(fd, buffer, sizeof(buffer), 0));
  SHOW("send unconnected", send(fd, "x", 1, MSG_NOSIGNAL));
  SHOW("shutdown unconnected", shutdown(fd, SHUT_RDWR));
  SHOW("shutdown bad how", shutdown(fd, 7));
  SHOW("bind", bind(fd, (struct sockaddr*)&address, sizeof(address)));
  SHOW("bind twice", bind(fd, (struct sockaddr*)&address, sizeof(address)));
  int one = 1;
  SHOW("setsockopt short", setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, 2));
  SHOW("setsockopt TCP_INFO", setsockopt(fd, IPPROTO_TCP, TCP_INFO, &one, sizeof(one)));
  SHOW("setsockopt SO_TYPE", setsockopt(fd, SOL_SOCKET, SO_TYPE, &one, sizeof(one)));
  close(fd);

  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  SHOW("listen on UDP", listen(udp, 1));
  SHOW("accept on UDP", accept(udp, NULL, NULL));
  SHOW("TCP_NODELAY on UDP", setsockopt(udp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
  close(udp);

  SHOW("socket SOCK_STREAM IPPROTO_UDP", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
  SHOW("socket SOCK_DGRAM IPPROTO_TCP", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
  SHOW("socket SOCK_SEQPACKET", socket(AF_INET, SOCK_SEQPACKET, 0));
  SHOW("socketpair AF_INET", ({
         int fds[2];
         socketpair(AF_INET, SOCK_STREAM, 0, fds);
       }));
}

// The client side of check_shutdown_during_connect, run in a thread.
struct blocked_connect {
  int fd;
  uint16_t port;
  long result;
  int error;
};

static void* connect_in_thread(void* argument) {
  struct blocked_connect* request = argument;
  errno = 0;
  request->result = connect_loopback(request->fd, request->port);
  request->error = errno;
  return NULL;
}

// A blocking connect to a full accept queue waits in SYN_SENT. A
// shutdown(2) from another thread ends it with ECONNRESET.
static void check_shutdown_during_connect(void) {
  int listener = make_listener(0);
  uint16_t port = port_of(listener);
  int queued[3];
  for (int i = 0; i < 3; i++) {
    queued[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect_loopback(queued[i], port);
  }
  usleep(50000);

  struct blocked_connect request = {.fd = socket(AF_INET, SOCK_STREAM, 0), .port = port};
  pthread_t thread;
  pthread_create(&thread, NULL, connect_in_thread, &request);
  // Until the thread is inside connect, shutdown reports ENOTCONN.
  int shut = -1;
  for (int attempt = 0; attempt < 100 && shut != 0; attempt++) {
    usleep(20000);
    shut = shutdown(request.fd, SHUT_RDWR);
  }
  pthread_join(thread, NULL);
  EXPECT("shutdown of a connecting socket succeeds", shut == 0);
  show_result("blocked connect after shutdown", request.result, request.error);
  close(request.fd);

  // When SO_SNDTIMEO runs out first, the connect reports EINPROGRESS.
  int timed = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval timeout = {.tv_sec = 0, .tv_usec = 100000};
  setsockopt(timed, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  SHOW("connect past SO_SNDTIMEO", connect_loopback(timed, port));
  close(timed);

  for (int i = 0; i < 3; i++) {
    close(queued[i]);
  }
  close(listener);
}

int main(void) {
  check_echo();
  check_refused();
  check_address_in_use();
  check_nonblocking_connect();
  check_reset();
  check_signals_and_timeouts();
  check_backpressure();
  check_bad_inputs();
  check_shutdown_during_connect();
  return finish_checks();
}
