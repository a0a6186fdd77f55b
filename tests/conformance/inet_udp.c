// Loopback UDP over 127.0.0.1: sendto and recvfrom with the source
// address, autobind on the first send, MSG_TRUNC and MSG_PEEK. Also
// connect for a default destination, ECONNREFUSED on a connected socket
// after a send to a closed port, the mmsg calls with msg_name, and bad
// inputs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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

static struct sockaddr_in name_of(int fd) {
  struct sockaddr_in address;
  memset(&address, 0, sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, (struct sockaddr*)&address, &length);
  return address;
}

static short wait_for(int fd, short events) {
  struct pollfd entry = {.fd = fd, .events = events};
  if (poll(&entry, 1, 5000) != 1) {
    return 0;
  }
  return entry.revents;
}

int main(void) {
  int receiver = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in address = loopback(0);
  SHOW("bind receiver", bind(receiver, (struct sockaddr*)&address, sizeof(address)));
  address = name_of(receiver);
  show_hex("fresh socket revents", wait_for(receiver, POLLIN | POLLOUT));

  int sender = socket(AF_INET, SOCK_DGRAM, 0);
  SHOW("send unconnected without address", send(sender, "x", 1, 0));
  SHOW("sendto", sendto(sender, "0123456789", 10, 0, (struct sockaddr*)&address, sizeof(address)));
  struct sockaddr_in sender_name = name_of(sender);
  printf("autobound port: %s\n", sender_name.sin_port != 0 ? "nonzero" : "zero");
  EXPECT("  address is 0.0.0.0", sender_name.sin_addr.s_addr == htonl(INADDR_ANY));

  EXPECT("receiver readable", (wait_for(receiver, POLLIN) & POLLIN) != 0);
  int available = -1;
  SHOW("FIONREAD", ioctl(receiver, FIONREAD, &available));
  show_value("  bytes", available);
  char buffer[64];
  SHOW("recv MSG_PEEK", recv(receiver, buffer, sizeof(buffer), MSG_PEEK));
  struct sockaddr_in from;
  socklen_t from_length = sizeof(from);
  SHOW("recvfrom 4 bytes of 10", recvfrom(receiver, buffer, 4, 0, (struct sockaddr*)&from, &from_length));
  show_value("  from length", from_length);
  show_value("  from family", from.sin_family);
  EXPECT("  from 127.0.0.1", from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  EXPECT("  from the sender's port", from.sin_port == sender_name.sin_port);
  SHOW("recv MSG_DONTWAIT empty", recv(receiver, buffer, sizeof(buffer), MSG_DONTWAIT));

  sendto(sender, "0123456789", 10, 0, (struct sockaddr*)&address, sizeof(address));
  wait_for(receiver, POLLIN);
  SHOW("recv MSG_TRUNC", recv(receiver, buffer, 4, MSG_TRUNC));

  sendto(sender, "abcdef", 6, 0, (struct sockaddr*)&address, sizeof(address));
  wait_for(receiver, POLLIN);
  struct iovec iov = {.iov_base = buffer, .iov_len = 3};
  struct msghdr message = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
  SHOW("recvmsg 3 bytes of 6", recvmsg(receiver, &message, 0));
  show_hex("  msg_flags", message.msg_flags);
  show_value("  msg_namelen", message.msg_namelen);

  struct iovec out = {.iov_base = "ghi", .iov_len = 3};
  struct msghdr sent = {.msg_name = &address, .msg_namelen = sizeof(address), .msg_iov = &out, .msg_iovlen = 1};
  SHOW("sendmsg with msg_name", sendmsg(sender, &sent, 0));
  wait_for(receiver, POLLIN);
  SHOW("recv", recv(receiver, buffer, sizeof(buffer), 0));

  // sendmmsg and recvmmsg move several datagrams with their addresses.
  struct iovec parts[2] = {{.iov_base = "first", .iov_len = 5}, {.iov_base = "second", .iov_len = 6}};
  struct mmsghdr outgoing[2];
  memset(outgoing, 0, sizeof(outgoing));
  for (int i = 0; i < 2; i++) {
    outgoing[i].msg_hdr.msg_name = &address;
    outgoing[i].msg_hdr.msg_namelen = sizeof(address);
    outgoing[i].msg_hdr.msg_iov = &parts[i];
    outgoing[i].msg_hdr.msg_iovlen = 1;
  }
  SHOW("sendmmsg", sendmmsg(sender, outgoing, 2, 0));
  show_value("  second length", outgoing[1].msg_len);
  wait_for(receiver, POLLIN);
  char first[16];
  char second[16];
  struct iovec in_parts[2] = {{.iov_base = first, .iov_len = sizeof(first)}, {.iov_base = second, .iov_len = sizeof(second)}};
  struct sockaddr_in sources[2];
  struct mmsghdr incoming[2];
  memset(incoming, 0, sizeof(incoming));
  for (int i = 0; i < 2; i++) {
    incoming[i].msg_hdr.msg_name = &sources[i];
    incoming[i].msg_hdr.msg_namelen = sizeof(sources[i]);
    incoming[i].msg_hdr.msg_iov = &in_parts[i];
    incoming[i].msg_hdr.msg_iovlen = 1;
  }
  SHOW("recvmmsg", recvmmsg(receiver, incoming, 2, MSG_DONTWAIT, NULL));
  show_value("  lengths", incoming[0].msg_len * 100 + incoming[1].msg_len);
  EXPECT("  second from the sender", sources[1].sin_port == sender_name.sin_port);

  // connect sets the default destination and fixes the source address.
  SHOW("connect", connect(sender, (struct sockaddr*)&address, sizeof(address)));
  sender_name = name_of(sender);
  EXPECT("  source now 127.0.0.1", sender_name.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  struct sockaddr_in peer;
  socklen_t peer_length = sizeof(peer);
  SHOW("getpeername", getpeername(sender, (struct sockaddr*)&peer, &peer_length));
  EXPECT("  is the receiver", peer.sin_port == address.sin_port);
  SHOW("send connected", send(sender, "xyz", 3, 0));
  wait_for(receiver, POLLIN);
  SHOW("recv", recv(receiver, buffer, sizeof(buffer), 0));
  struct sockaddr_in unspecified = {.sin_family = AF_UNSPEC};
  SHOW("connect AF_UNSPEC", connect(sender, (struct sockaddr*)&unspecified, sizeof(unspecified)));
  SHOW("getpeername after", getpeername(sender, (struct sockaddr*)&peer, &peer_length));

  // A connected socket hears of the port-unreachable its send caused.
  int closed = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in closed_address = loopback(0);
  bind(closed, (struct sockaddr*)&closed_address, sizeof(closed_address));
  closed_address = name_of(closed);
  close(closed);
  int connected = socket(AF_INET, SOCK_DGRAM, 0);
  SHOW("connect to a closed port", connect(connected, (struct sockaddr*)&closed_address, sizeof(closed_address)));
  SHOW("send to it", send(connected, "x", 1, 0));
  show_hex("  revents", wait_for(connected, POLLERR));
  SHOW("recv after port unreachable", recv(connected, buffer, sizeof(buffer), MSG_DONTWAIT));
  SHOW("recv again", recv(connected, buffer, sizeof(buffer), MSG_DONTWAIT));

  // A send also reports the pending error, and clears it.
  SHOW("send again", send(connected, "x", 1, 0));
  show_hex("  revents", wait_for(connected, POLLERR));
  SHOW("send after port unreachable", send(connected, "x", 1, 0));
  SHOW("recv after the failed send", recv(connected, buffer, sizeof(buffer), MSG_DONTWAIT));
  close(connected);

  // Bad inputs.
  SHOW("sendto addrlen 15", sendto(sender, "x", 1, 0, (struct sockaddr*)&address, 15));
  struct sockaddr_in wrong = address;
  wrong.sin_family = AF_INET6;
  SHOW("sendto AF_INET6 family", sendto(sender, "x", 1, 0, (struct sockaddr*)&wrong, sizeof(wrong)));
  struct sockaddr_in port_zero = loopback(0);
  SHOW("sendto port 0", sendto(sender, "x", 1, 0, (struct sockaddr*)&port_zero, sizeof(port_zero)));
  static char big[65508];
  SHOW("sendto 65508 bytes", sendto(sender, big, sizeof(big), 0, (struct sockaddr*)&address, sizeof(address)));
  SHOW("sendto 65507 bytes", sendto(sender, big, sizeof(big) - 1, 0, (struct sockaddr*)&address, sizeof(address)));
  wait_for(receiver, POLLIN);
  SHOW("recv it", recv(receiver, big, sizeof(big), 0));
  SHOW("bind twice", bind(receiver, (struct sockaddr*)&address, sizeof(address)));
  int other = socket(AF_INET, SOCK_DGRAM, 0);
  SHOW("bind a bound port", bind(other, (struct sockaddr*)&address, sizeof(address)));
  int one = 1;
  setsockopt(other, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  SHOW("  with SO_REUSEADDR on one side", bind(other, (struct sockaddr*)&address, sizeof(address)));
  close(other);
  SHOW("shutdown unconnected", shutdown(receiver, SHUT_RD));
  SHOW("recv after SHUT_RD", recv(receiver, buffer, sizeof(buffer), 0));
  show_hex("revents after SHUT_RD", wait_for(receiver, POLLIN | POLLRDHUP));
  close(sender);
  close(receiver);
  return finish_checks();
}
