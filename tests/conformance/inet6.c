// Loopback IPv6: TCP and UDP over ::1, an AF_INET6 socket bound to the
// v4-mapped ::ffff:127.0.0.1 accepting IPv4 connections, IPV6_V6ONLY, and
// the errnos of bad AF_INET6 addresses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static struct sockaddr_in6 address6(const char* text, uint16_t port) {
  struct sockaddr_in6 address;
  memset(&address, 0, sizeof(address));
  address.sin6_family = AF_INET6;
  address.sin6_port = htons(port);
  inet_pton(AF_INET6, text, &address.sin6_addr);
  return address;
}

static uint16_t port_of(int fd) {
  struct sockaddr_storage address;
  socklen_t length = sizeof(address);
  getsockname(fd, (struct sockaddr*)&address, &length);
  return ntohs(((struct sockaddr_in*)&address)->sin_port);
}

static void show_address(const char* label, const struct sockaddr_storage* address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address->ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((const struct sockaddr_in6*)address)->sin6_addr, text, sizeof(text));
  } else if (address->ss_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in*)address)->sin_addr, text, sizeof(text));
  }
  printf("%s = family %d %s\n", label, address->ss_family, text);
}

static void check_tcp6(void) {
  int server = socket(AF_INET6, SOCK_STREAM, 0);
  int one = 1;
  int value = -1;
  socklen_t value_length = sizeof(value);
  SHOW("IPV6_V6ONLY default", getsockopt(server, IPPROTO_IPV6, IPV6_V6ONLY, &value, &value_length));
  show_value("  value", value);
  struct sockaddr_in6 address = address6("::1", 0);
  SHOW("bind ::1", bind(server, (struct sockaddr*)&address, sizeof(address)));
  SHOW("IPV6_V6ONLY after bind", setsockopt(server, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
  SHOW("listen", listen(server, 2));
  struct sockaddr_storage name;
  socklen_t length = sizeof(name);
  getsockname(server, (struct sockaddr*)&name, &length);
  show_value("getsockname length", length);
  show_address("getsockname", &name);

  int client = socket(AF_INET6, SOCK_STREAM, 0);
  address.sin6_port = htons(port_of(server));
  SHOW("connect ::1", connect(client, (struct sockaddr*)&address, sizeof(address)));
  length = sizeof(name);
  int connection = SHOW_OK("accept", accept(server, (struct sockaddr*)&name, &length));
  show_value("  peer length", length);
  show_address("  peer", &name);
  SHOW("send", send(client, "six", 3, 0));
  char buffer[16];
  SHOW("recv", recv(connection, buffer, sizeof(buffer), 0));
  close(connection);
  close(client);

  // An IPv4 client reaches an AF_INET6 socket bound to a v4-mapped
  // address, which reports it as ::ffff:127.0.0.1.
  int mapped = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 mapped_address = address6("::ffff:127.0.0.1", 0);
  SHOW("bind ::ffff:127.0.0.1", bind(mapped, (struct sockaddr*)&mapped_address, sizeof(mapped_address)));
  listen(mapped, 2);
  int v4 = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in v4_address = {.sin_family = AF_INET, .sin_port = htons(port_of(mapped))};
  v4_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  SHOW("connect from AF_INET", connect(v4, (struct sockaddr*)&v4_address, sizeof(v4_address)));
  length = sizeof(name);
  connection = SHOW_OK("accept", accept(mapped, (struct sockaddr*)&name, &length));
  show_value("  peer length", length);
  show_address("  peer", &name);
  length = sizeof(name);
  getsockname(connection, (struct sockaddr*)&name, &length);
  show_address("  local", &name);
  length = sizeof(name);
  getpeername(v4, (struct sockaddr*)&name, &length);
  show_address("client peer", &name);

  // An AF_INET6 client to a v4-mapped address is seen the same way.
  int v6_client = socket(AF_INET6, SOCK_STREAM, 0);
  mapped_address.sin6_port = htons(port_of(mapped));
  SHOW("connect AF_INET6 to ::ffff:127.0.0.1", connect(v6_client, (struct sockaddr*)&mapped_address, sizeof(mapped_address)));
  length = sizeof(name);
  getsockname(v6_client, (struct sockaddr*)&name, &length);
  show_address("  local", &name);
  int v6only = socket(AF_INET6, SOCK_STREAM, 0);
  setsockopt(v6only, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  SHOW("V6ONLY connect to a mapped address", connect(v6only, (struct sockaddr*)&mapped_address, sizeof(mapped_address)));
  SHOW("V6ONLY bind a mapped address", bind(v6only, (struct sockaddr*)&mapped_address, sizeof(mapped_address)));
  close(v6only);
  close(v6_client);
  close(connection);
  close(v4);
  close(mapped);
  close(server);
}

static void check_udp6(void) {
  int receiver = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 address = address6("::1", 0);
  bind(receiver, (struct sockaddr*)&address, sizeof(address));
  address.sin6_port = htons(port_of(receiver));
  int sender = socket(AF_INET6, SOCK_DGRAM, 0);
  SHOW("sendto ::1", sendto(sender, "datagram", 8, 0, (struct sockaddr*)&address, sizeof(address)));
  struct pollfd entry = {.fd = receiver, .events = POLLIN};
  poll(&entry, 1, 5000);
  char buffer[16];
  struct sockaddr_storage from;
  socklen_t length = sizeof(from);
  SHOW("recvfrom", recvfrom(receiver, buffer, sizeof(buffer), 0, (struct sockaddr*)&from, &length));
  show_value("  from length", length);
  show_address("  from", &from);
  EXPECT("  from the sender's port", ntohs(((struct sockaddr_in6*)&from)->sin6_port) == port_of(sender));
  SHOW("sendto addrlen 23", sendto(sender, "x", 1, 0, (struct sockaddr*)&address, 23));
  close(sender);
  close(receiver);
}

static void check_bad_inputs(void) {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 address = address6("::1", 0);
  SHOW("bind addrlen 23", bind(fd, (struct sockaddr*)&address, 23));
  struct sockaddr_in6 wrong = address;
  wrong.sin6_family = AF_INET;
  SHOW("bind AF_INET family", bind(fd, (struct sockaddr*)&wrong, sizeof(wrong)));
  struct sockaddr_in6 remote = address6("2001:db8::1", 0);  // documentation prefix
  SHOW("bind a non-local address", bind(fd, (struct sockaddr*)&remote, sizeof(remote)));
  SHOW("connect addrlen 23", connect(fd, (struct sockaddr*)&address, 23));
  SHOW("connect AF_INET family", connect(fd, (struct sockaddr*)&wrong, sizeof(wrong)));
  SHOW("bind addrlen 24", bind(fd, (struct sockaddr*)&address, 24));
  SHOW("bind twice", bind(fd, (struct sockaddr*)&address, sizeof(address)));
  close(fd);
}

int main(void) {
  check_tcp6();
  check_udp6();
  check_bad_inputs();
  return finish_checks();
}
