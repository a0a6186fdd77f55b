// NETLINK_ROUTE sockets: binding and port ids, dumps and queries of the
// loopback link and its addresses, acknowledgements and errors. The host
// has more interfaces than the sandbox, so only lo's entries are printed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define BUFFER_BYTES 65536

static unsigned char buffer[BUFFER_BYTES];
static uint32_t own_port;

struct request {
  struct nlmsghdr header;
  union {
    struct ifinfomsg link;
    struct ifaddrmsg address;
  };
  char attributes[64];
};

static int open_route_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    perror("socket");
    exit(1);
  }
  return fd;
}

static long send_request(int fd, const void* request, size_t length) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  return sendto(fd, request, length, 0, (struct sockaddr*)&kernel, sizeof(kernel));
}

// Receives one datagram the way glibc sizes it: a zero-length peek with
// MSG_TRUNC, then the read.
static long receive_datagram(int fd) {
  struct sockaddr_nl from;
  struct iovec iov = {.iov_base = NULL, .iov_len = 0};
  struct msghdr message = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
  long length = recvmsg(fd, &message, MSG_PEEK | MSG_TRUNC);
  if (length <= 0 || length > BUFFER_BYTES) {
    return -1;
  }
  if ((message.msg_flags & MSG_TRUNC) == 0 || from.nl_pid != 0) {
    return -1;
  }
  iov.iov_base = buffer;
  iov.iov_len = BUFFER_BYTES;
  message.msg_flags = 0;
  long read = recvmsg(fd, &message, 0);
  if (read != length || (message.msg_flags & MSG_TRUNC) != 0) {
    return -1;
  }
  return read;
}

static void print_link(struct nlmsghdr* header) {
  struct ifinfomsg* link = NLMSG_DATA(header);
  if (link->ifi_index != 1) {
    return;
  }
  printf("link index %d type %u flags %#x\n", link->ifi_index, link->ifi_type,
         link->ifi_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING | 0x10000));
  int length = IFLA_PAYLOAD(header);
  bool stats = false;
  for (struct rtattr* attribute = IFLA_RTA(link); RTA_OK(attribute, length);
       attribute = RTA_NEXT(attribute, length)) {
    unsigned char* data = RTA_DATA(attribute);
    switch (attribute->rta_type) {
      case IFLA_IFNAME:
        printf("  IFLA_IFNAME %s\n", (char*)data);
        break;
      case IFLA_MTU:
        printf("  IFLA_MTU %u\n", *(uint32_t*)data);
        break;
      case IFLA_TXQLEN:
        printf("  IFLA_TXQLEN %u\n", *(uint32_t*)data);
        break;
      case IFLA_ADDRESS:
      case IFLA_BROADCAST:
        printf("  %s length %lu:", attribute->rta_type == IFLA_ADDRESS ? "IFLA_ADDRESS" : "IFLA_BROADCAST",
               (unsigned long)RTA_PAYLOAD(attribute));
        for (size_t i = 0; i < RTA_PAYLOAD(attribute); ++i) {
          printf(" %02x", data[i]);
        }
        printf("\n");
        break;
      case IFLA_STATS:
      case IFLA_STATS64:
        stats = true;
        break;
      default:
        break;
    }
  }
  printf("  has stats: %s\n", stats ? "yes" : "no");
}

static void print_address(struct nlmsghdr* header) {
  struct ifaddrmsg* address = NLMSG_DATA(header);
  if (address->ifa_index != 1) {
    return;
  }
  printf("address family %s prefix %u scope %u\n", address->ifa_family == AF_INET ? "AF_INET" : "AF_INET6",
         address->ifa_prefixlen, address->ifa_scope);
  int length = IFA_PAYLOAD(header);
  for (struct rtattr* attribute = IFA_RTA(address); RTA_OK(attribute, length);
       attribute = RTA_NEXT(attribute, length)) {
    char text[INET6_ADDRSTRLEN];
    switch (attribute->rta_type) {
      case IFA_ADDRESS:
      case IFA_LOCAL:
        inet_ntop(address->ifa_family, RTA_DATA(attribute), text, sizeof(text));
        printf("  %s %s\n", attribute->rta_type == IFA_ADDRESS ? "IFA_ADDRESS" : "IFA_LOCAL", text);
        break;
      case IFA_LABEL:
        printf("  IFA_LABEL %s\n", (char*)RTA_DATA(attribute));
        break;
      default:
        break;
    }
  }
}

// Sends a dump request of `type` and prints lo's entries until NLMSG_DONE.
static void dump(int fd, uint16_t type, uint8_t family, uint32_t sequence) {
  struct request request = {0};
  request.header.nlmsg_len = NLMSG_LENGTH(type == RTM_GETLINK ? sizeof(struct ifinfomsg) : sizeof(struct ifaddrmsg));
  request.header.nlmsg_type = type;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = sequence;
  if (type == RTM_GETLINK) {
    request.link.ifi_family = family;
  } else {
    request.address.ifa_family = family;
  }
  SHOW("dump send", send_request(fd, &request, request.header.nlmsg_len));

  bool done = false;
  bool headers_ok = true;
  for (int datagrams = 0; !done && datagrams < 64; ++datagrams) {
    long length = receive_datagram(fd);
    if (length < 0) {
      printf("receive failed\n");
      return;
    }
    int remaining = (int)length;
    for (struct nlmsghdr* header = (struct nlmsghdr*)buffer; NLMSG_OK(header, remaining);
         header = NLMSG_NEXT(header, remaining)) {
      if (header->nlmsg_seq != sequence || header->nlmsg_pid != own_port ||
          (header->nlmsg_flags & NLM_F_MULTI) == 0) {
        headers_ok = false;
      }
      if (header->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (header->nlmsg_type == RTM_NEWLINK) {
        print_link(header);
      } else if (header->nlmsg_type == RTM_NEWADDR) {
        print_address(header);
      } else {
        printf("unexpected type %u\n", header->nlmsg_type);
      }
    }
  }
  EXPECT("dump ends with NLMSG_DONE", done);
  EXPECT("dump headers echo sequence and port, with NLM_F_MULTI", headers_ok);
}

// Receives one datagram holding an NLMSG_ERROR and prints its error.
static void show_ack(int fd, const char* label, uint32_t sequence) {
  long length = receive_datagram(fd);
  struct nlmsghdr* header = (struct nlmsghdr*)buffer;
  if (length < (long)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || header->nlmsg_type != NLMSG_ERROR) {
    printf("%s: no NLMSG_ERROR\n", label);
    return;
  }
  struct nlmsgerr* error = NLMSG_DATA(header);
  printf("%s: error %s, sequence echoed %s, port echoed %s\n", label,
         error->error == 0 ? "0" : errno_name(-error->error), header->nlmsg_seq == sequence ? "yes" : "no",
         header->nlmsg_pid == own_port ? "yes" : "no");
  printf("%s: request header copied %s, request length %u\n", label,
         error->msg.nlmsg_seq == sequence ? "yes" : "no", error->msg.nlmsg_len);
}

static void show_link_query(int fd, const char* label, int index, const char* name, uint16_t flags,
                            uint32_t sequence) {
  struct request request = {0};
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | flags;
  request.header.nlmsg_seq = sequence;
  request.link.ifi_index = index;
  size_t length = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  if (name != NULL) {
    struct rtattr* attribute = (struct rtattr*)((char*)&request + NLMSG_ALIGN(length));
    attribute->rta_type = IFLA_IFNAME;
    attribute->rta_len = RTA_LENGTH(strlen(name) + 1);
    strcpy(RTA_DATA(attribute), name);
    length = NLMSG_ALIGN(length) + RTA_ALIGN(attribute->rta_len);
  }
  request.header.nlmsg_len = length;
  SHOW(label_of("%s send", label), send_request(fd, &request, length));
  long received = receive_datagram(fd);
  struct nlmsghdr* header = (struct nlmsghdr*)buffer;
  if (received > 0 && header->nlmsg_type == RTM_NEWLINK) {
    printf("%s: RTM_NEWLINK, multi %s\n", label, (header->nlmsg_flags & NLM_F_MULTI) != 0 ? "yes" : "no");
    print_link(header);
    if ((flags & NLM_F_ACK) != 0) {
      show_ack(fd, label, sequence);
    }
  } else if (received > 0 && header->nlmsg_type == NLMSG_ERROR) {
    struct nlmsgerr* error = NLMSG_DATA(header);
    printf("%s: error %s\n", label, error->error == 0 ? "0" : errno_name(-error->error));
  } else {
    printf("%s: no reply\n", label);
  }
}

static void check_nothing_queued(int fd, const char* label) {
  char byte;
  SHOW(label, recv(fd, &byte, 1, MSG_DONTWAIT));
}

// The SOL_NETLINK options: group memberships, capped errors and flags.
static void show_netlink_options(void) {
  int fd = open_route_socket();
  uint32_t words[4] = {0};
  socklen_t length = sizeof(uint32_t) * 2;
  SHOW("NETLINK_LIST_MEMBERSHIPS none", getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, words, &length));
  show_value("memberships length", length);

  int group = RTNLGRP_LINK;
  SHOW("NETLINK_ADD_MEMBERSHIP link", setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)));
  group = RTNLGRP_IPV4_IFADDR;
  SHOW("NETLINK_ADD_MEMBERSHIP ipv4", setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)));
  group = RTNLGRP_IPV6_IFADDR;
  SHOW("NETLINK_ADD_MEMBERSHIP ipv6", setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)));
  SHOW("NETLINK_DROP_MEMBERSHIP ipv6", setsockopt(fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &group, sizeof(group)));
  group = 0;
  SHOW("NETLINK_ADD_MEMBERSHIP 0", setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)));
  group = 1000;
  SHOW("NETLINK_ADD_MEMBERSHIP 1000", setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)));
  SHOW("NETLINK_ADD_MEMBERSHIP short", setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, 2));
  length = sizeof(uint32_t) * 2;
  SHOW("NETLINK_LIST_MEMBERSHIPS", getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, words, &length));
  show_value("memberships length", length);
  show_hex("memberships word 0", words[0]);
  length = 2;
  SHOW("NETLINK_LIST_MEMBERSHIPS short", getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, words, &length));
  show_value("memberships short length", length);

  struct sockaddr_nl groups = {.nl_family = AF_NETLINK, .nl_groups = 1u << (RTNLGRP_IPV6_IFADDR - 1)};
  SHOW("bind with groups", bind(fd, (struct sockaddr*)&groups, sizeof(groups)));
  struct sockaddr_nl name;
  socklen_t name_length = sizeof(name);
  getsockname(fd, (struct sockaddr*)&name, &name_length);
  show_hex("bound groups", name.nl_groups);
  length = sizeof(uint32_t) * 2;
  getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, words, &length);
  show_hex("memberships after bind", words[0]);
  own_port = name.nl_pid;

  int on = 1;
  SHOW("NETLINK_CAP_ACK short", setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, 2));
  SHOW("NETLINK_CAP_ACK", setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on)));
  int value = 0;
  length = sizeof(value);
  SHOW("get NETLINK_CAP_ACK", getsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &value, &length));
  show_value("NETLINK_CAP_ACK value", value);
  length = 2;
  SHOW("get NETLINK_CAP_ACK short", getsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &value, &length));
  SHOW("NETLINK_NO_ENOBUFS", setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof(on)));
  SHOW("NETLINK_BROADCAST_ERROR", setsockopt(fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, &on, sizeof(on)));
  SHOW("SOL_NETLINK option 99", setsockopt(fd, SOL_NETLINK, 99, &on, sizeof(on)));

  // A capped error carries the request's header only.
  struct request request = {0};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg));
  request.header.nlmsg_type = 1000;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = 500;
  send_request(fd, &request, request.header.nlmsg_len);
  long received = receive_datagram(fd);
  show_value("capped error length", received);
  show_hex("capped error flags", ((struct nlmsghdr*)buffer)->nlmsg_flags);
  close(fd);
}

// Receives one datagram with its SCM_CREDENTIALS and prints who sent it.
static void show_sender(int fd, const char* label, uint32_t expected_port) {
  struct sockaddr_nl from;
  struct iovec iov = {.iov_base = buffer, .iov_len = BUFFER_BYTES};
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(struct ucred))];
  } control;
  struct msghdr message = {.msg_name = &from,
                           .msg_namelen = sizeof(from),
                           .msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = control.bytes,
                           .msg_controllen = sizeof(control.bytes)};
  long length = SHOW(label_of("%s recvmsg", label), recvmsg(fd, &message, 0) > 0 ? 0 : -1);
  if (length != 0) {
    return;
  }
  show_bool(label_of("%s source port", label), from.nl_pid == expected_port);
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (header == NULL || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_CREDENTIALS) {
    printf("%s: no SCM_CREDENTIALS\n", label);
    return;
  }
  struct ucred credentials;
  memcpy(&credentials, CMSG_DATA(header), sizeof(credentials));
  show_bool(label_of("%s pid is the process", label), credentials.pid == getpid());
  show_value(label_of("%s pid is 0", label), credentials.pid == 0);
  show_bool(label_of("%s uid is the real uid", label), credentials.uid == getuid());
  show_bool(label_of("%s uid is 0", label), credentials.uid == 0);
}

// SO_PASSCRED: the kernel side's credentials, and a unicast from another
// socket with its port and process.
static void show_credentials(void) {
  int receiver = open_route_socket();
  int sender = open_route_socket();
  struct sockaddr_nl any = {.nl_family = AF_NETLINK};
  bind(receiver, (struct sockaddr*)&any, sizeof(any));
  bind(sender, (struct sockaddr*)&any, sizeof(any));
  struct sockaddr_nl receiver_name, sender_name;
  socklen_t length = sizeof(receiver_name);
  getsockname(receiver, (struct sockaddr*)&receiver_name, &length);
  length = sizeof(sender_name);
  getsockname(sender, (struct sockaddr*)&sender_name, &length);

  int on = 1;
  SHOW("SO_PASSCRED", setsockopt(receiver, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
  struct request request = {0};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg));
  request.header.nlmsg_type = NLMSG_NOOP;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  send_request(receiver, &request, request.header.nlmsg_len);
  show_sender(receiver, "kernel reply", 0);

  SHOW("sendto another socket",
       sendto(sender, &request, request.header.nlmsg_len, 0, (struct sockaddr*)&receiver_name,
              sizeof(receiver_name)));
  show_sender(receiver, "unicast", sender_name.nl_pid);

  struct sockaddr_nl nobody = {.nl_family = AF_NETLINK, .nl_pid = 0x7ffffff0};
  SHOW("sendto an unbound port",
       sendto(sender, &request, request.header.nlmsg_len, 0, (struct sockaddr*)&nobody, sizeof(nobody)));

  // An empty message is ENODATA for any destination, even a bad address.
  SHOW("send empty to the kernel", send(sender, &request, 0, 0));
  SHOW("sendto empty to another socket",
       sendto(sender, &request, 0, 0, (struct sockaddr*)&receiver_name, sizeof(receiver_name)));
  struct sockaddr_nl wrong_family = {.nl_family = AF_INET};
  SHOW("sendto empty to another family",
       sendto(sender, &request, 0, 0, (struct sockaddr*)&wrong_family, sizeof(wrong_family)));
  SHOW("send empty MSG_OOB", send(sender, &request, 0, MSG_OOB));
  check_nothing_queued(receiver, "after the empty sends");
  close(sender);
  close(receiver);
}

int main(void) {
  // Socket creation: types and protocols.
  SHOW("socket SOCK_STREAM", socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE));
  SHOW("socket protocol 31", socket(AF_NETLINK, SOCK_RAW, 31));
  SHOW("socket protocol 32", socket(AF_NETLINK, SOCK_RAW, 32));
  SHOW("socket protocol -1", socket(AF_NETLINK, SOCK_RAW, -1));
  int datagram = SHOW_OK("socket SOCK_DGRAM", socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE));
  close(datagram);
  SHOW("socketpair", socketpair(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, (int[2]){0}));

  int fd = open_route_socket();
  int value = 0;
  socklen_t value_length = sizeof(value);
  SHOW("SO_PROTOCOL", getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &value, &value_length));
  show_value("SO_PROTOCOL value", value);
  SHOW("SO_DOMAIN", getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &value_length));
  show_value("SO_DOMAIN is AF_NETLINK", value == AF_NETLINK);
  SHOW("SO_TYPE", getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &value_length));
  show_value("SO_TYPE is SOCK_RAW", value == SOCK_RAW);

  SHOW("setsockopt IPPROTO_IP", setsockopt(fd, IPPROTO_IP, 1, &value, sizeof(value)));
  value_length = sizeof(value);
  SHOW("getsockopt IPPROTO_TCP", getsockopt(fd, IPPROTO_TCP, 1, &value, &value_length));

  // Names before and after bind.
  struct sockaddr_nl name;
  socklen_t name_length = sizeof(name);
  SHOW("getsockname unbound", getsockname(fd, (struct sockaddr*)&name, &name_length));
  show_value("unbound length", name_length);
  show_value("unbound port", name.nl_pid);
  name_length = sizeof(name);
  SHOW("getpeername", getpeername(fd, (struct sockaddr*)&name, &name_length));
  show_value("peer port", name.nl_pid);

  struct sockaddr_nl wrong_family = {.nl_family = AF_INET};
  SHOW("bind AF_INET family", bind(fd, (struct sockaddr*)&wrong_family, sizeof(wrong_family)));
  struct sockaddr_nl any = {.nl_family = AF_NETLINK};
  SHOW("bind short length", bind(fd, (struct sockaddr*)&any, sizeof(sa_family_t)));
  SHOW("bind port 0", bind(fd, (struct sockaddr*)&any, sizeof(any)));
  name_length = sizeof(name);
  SHOW("getsockname bound", getsockname(fd, (struct sockaddr*)&name, &name_length));
  own_port = name.nl_pid;
  EXPECT("first port is the process id", own_port == (uint32_t)getpid());
  struct sockaddr_nl other_port = {.nl_family = AF_NETLINK, .nl_pid = own_port + 1};
  SHOW("rebind to another port", bind(fd, (struct sockaddr*)&other_port, sizeof(other_port)));
  SHOW("rebind to the same port", bind(fd, (struct sockaddr*)&name, sizeof(name)));

  int second = open_route_socket();
  SHOW("bind second to a used port", bind(second, (struct sockaddr*)&name, sizeof(name)));
  SHOW("bind second port 0", bind(second, (struct sockaddr*)&any, sizeof(any)));
  struct sockaddr_nl second_name;
  name_length = sizeof(second_name);
  getsockname(second, (struct sockaddr*)&second_name, &name_length);
  EXPECT("second port is negative", (int32_t)second_name.nl_pid < 0);
  close(second);

  SHOW("listen", listen(fd, 1));
  SHOW("shutdown", shutdown(fd, SHUT_RDWR));
  char byte;
  SHOW("recv MSG_OOB", recv(fd, &byte, 1, MSG_OOB | MSG_DONTWAIT));
  SHOW("sendto AF_INET family", sendto(fd, "x", 1, 0, (struct sockaddr*)&wrong_family, sizeof(wrong_family)));
  SHOW("sendto short address", sendto(fd, "x", 1, 0, (struct sockaddr*)&any, sizeof(sa_family_t)));

  // Readiness.
  struct pollfd poller = {.fd = fd, .events = POLLIN | POLLOUT};
  SHOW("poll idle", poll(&poller, 1, 0));
  show_hex("poll idle revents", poller.revents);

  dump(fd, RTM_GETLINK, AF_UNSPEC, 100);
  dump(fd, RTM_GETLINK, AF_PACKET, 101);
  dump(fd, RTM_GETADDR, AF_UNSPEC, 102);
  dump(fd, RTM_GETADDR, AF_INET, 103);
  dump(fd, RTM_GETADDR, AF_INET6, 104);

  show_link_query(fd, "query index 1", 1, NULL, 0, 200);
  show_link_query(fd, "query index 1 ack", 1, NULL, NLM_F_ACK, 201);
  show_link_query(fd, "query name lo", 0, "lo", 0, 202);
  show_link_query(fd, "query name nosuchif0", 0, "nosuchif0", 0, 203);
  show_link_query(fd, "query index 999999", 999999, NULL, 0, 204);
  show_link_query(fd, "query nothing", 0, NULL, 0, 205);

  // Requests that are not served, acknowledgements and messages ignored.
  struct request request = {0};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg));
  request.header.nlmsg_type = 1000;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = 300;
  SHOW("type 1000 send", send_request(fd, &request, request.header.nlmsg_len));
  poller.revents = 0;
  SHOW("poll with a reply", poll(&poller, 1, 0));
  show_hex("poll with a reply revents", poller.revents);
  show_ack(fd, "type 1000", 300);

  request.header.nlmsg_type = NLMSG_NOOP;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = 301;
  SHOW("NLMSG_NOOP send", send_request(fd, &request, request.header.nlmsg_len));
  show_ack(fd, "NLMSG_NOOP", 301);

  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_ACK;
  request.header.nlmsg_seq = 302;
  SHOW("no NLM_F_REQUEST send", send_request(fd, &request, request.header.nlmsg_len));
  show_ack(fd, "no NLM_F_REQUEST", 302);

  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = 303;
  request.header.nlmsg_len = NLMSG_HDRLEN;
  SHOW("empty payload send", send_request(fd, &request, NLMSG_HDRLEN));
  check_nothing_queued(fd, "empty payload reply");

  SHOW("short message send", send_request(fd, &request, 8));
  check_nothing_queued(fd, "short message reply");
  request.header.nlmsg_len = 4096;
  SHOW("overlong length send", send_request(fd, &request, NLMSG_LENGTH(sizeof(struct rtgenmsg))));
  check_nothing_queued(fd, "overlong length reply");

  show_netlink_options();
  show_credentials();

  // A receive timeout ends a wait on an empty queue.
  struct timeval timeout = {.tv_sec = 0, .tv_usec = 50000};
  SHOW("SO_RCVTIMEO", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)));
  struct timeval read_back = {0};
  socklen_t timeout_length = sizeof(read_back);
  SHOW("get SO_RCVTIMEO", getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_back, &timeout_length));
  // Linux rounds the timeout up to whole clock ticks.
  show_bool("SO_RCVTIMEO read back", read_back.tv_sec == 0 && read_back.tv_usec >= 50000);
  SHOW("recv past the timeout", recv(fd, buffer, BUFFER_BYTES, 0));
  timeout.tv_usec = -1;
  SHOW("SO_RCVTIMEO bad microseconds", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)));
  own_port = name.nl_pid;

  // A datagram cut by a small buffer.
  dump(fd, RTM_GETLINK, AF_UNSPEC, 400);
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = 401;
  send_request(fd, &request, request.header.nlmsg_len);
  struct iovec iov = {.iov_base = buffer, .iov_len = 16};
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
  long cut = SHOW("recvmsg 16 bytes", recvmsg(fd, &message, 0));
  EXPECT("cut datagram has MSG_TRUNC", (message.msg_flags & MSG_TRUNC) != 0);
  EXPECT("cut datagram starts with its header", cut == 16 && ((struct nlmsghdr*)buffer)->nlmsg_seq == 401);
  // Linux may queue the NLMSG_DONE of that dump as a datagram of its own.
  while (recv(fd, buffer, BUFFER_BYTES, MSG_DONTWAIT) > 0) {
  }
  close(fd);
  return check_failures == 0 ? 0 : 1;
}
