// The interface ioctls that if_nametoindex, if_indextoname and net-tools
// use, which Linux serves on sockets of every family. Only lo is
// printed, because the host has more interfaces than the sandbox.
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static struct ifreq request_for(const char* name) {
  struct ifreq request;
  memset(&request, 0, sizeof(request));
  strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  return request;
}

static void show_interface(int fd, const char* family) {
  struct ifreq request = request_for("lo");
  SHOW(label_of("%s SIOCGIFINDEX lo", family), ioctl(fd, SIOCGIFINDEX, &request));
  show_value(label_of("%s lo index", family), request.ifr_ifindex);

  request = request_for("nosuchif0");
  SHOW(label_of("%s SIOCGIFINDEX nosuchif0", family), ioctl(fd, SIOCGIFINDEX, &request));

  request = request_for("");
  request.ifr_ifindex = 1;
  SHOW(label_of("%s SIOCGIFNAME 1", family), ioctl(fd, SIOCGIFNAME, &request));
  show_string(label_of("%s index 1 name", family), request.ifr_name);
  request.ifr_ifindex = 999999;
  SHOW(label_of("%s SIOCGIFNAME 999999", family), ioctl(fd, SIOCGIFNAME, &request));

  request = request_for("lo");
  SHOW(label_of("%s SIOCGIFFLAGS lo", family), ioctl(fd, SIOCGIFFLAGS, &request));
  show_hex(label_of("%s lo flags", family), (unsigned short)request.ifr_flags);
  request = request_for("nosuchif0");
  SHOW(label_of("%s SIOCGIFFLAGS nosuchif0", family), ioctl(fd, SIOCGIFFLAGS, &request));

  request = request_for("lo");
  SHOW(label_of("%s SIOCGIFMTU lo", family), ioctl(fd, SIOCGIFMTU, &request));
  show_value(label_of("%s lo mtu", family), request.ifr_mtu);
  request = request_for("nosuchif0");
  SHOW(label_of("%s SIOCGIFMTU nosuchif0", family), ioctl(fd, SIOCGIFMTU, &request));

  request = request_for("lo");
  SHOW(label_of("%s SIOCGIFMETRIC lo", family), ioctl(fd, SIOCGIFMETRIC, &request));
  show_value(label_of("%s lo metric", family), request.ifr_metric);

  request = request_for("lo");
  SHOW(label_of("%s SIOCGIFTXQLEN lo", family), ioctl(fd, SIOCGIFTXQLEN, &request));
  show_value(label_of("%s lo txqueuelen", family), request.ifr_qlen);

  request = request_for("lo");
  SHOW(label_of("%s SIOCGIFHWADDR lo", family), ioctl(fd, SIOCGIFHWADDR, &request));
  show_value(label_of("%s lo hardware family", family), request.ifr_hwaddr.sa_family);
  bool zero = true;
  for (int i = 0; i < 6; ++i) {
    zero = zero && request.ifr_hwaddr.sa_data[i] == 0;
  }
  show_bool(label_of("%s lo hardware address is zero", family), zero);

  // The name is cut to IFNAMSIZ - 1 bytes whatever the last byte is.
  request = request_for("lo");
  memset(request.ifr_name, 'x', IFNAMSIZ);
  SHOW(label_of("%s SIOCGIFINDEX unterminated", family), ioctl(fd, SIOCGIFINDEX, &request));
  SHOW(label_of("%s SIOCGIFINDEX bad pointer", family), ioctl(fd, SIOCGIFINDEX, (void*)1));

  // SIOCGIFCONF lists the IPv4 addresses: lo's is printed, and a buffer
  // too short for one entry gets none.
  struct ifreq entries[64];
  struct ifconf list = {.ifc_len = sizeof(entries), .ifc_req = entries};
  SHOW(label_of("%s SIOCGIFCONF", family), ioctl(fd, SIOCGIFCONF, &list));
  bool whole = list.ifc_len % (int)sizeof(struct ifreq) == 0;
  show_bool(label_of("%s SIOCGIFCONF length is whole entries", family), whole);
  for (int i = 0; i < list.ifc_len / (int)sizeof(struct ifreq); ++i) {
    if (strcmp(entries[i].ifr_name, "lo") == 0) {
      struct sockaddr_in* address = (struct sockaddr_in*)&entries[i].ifr_addr;
      printf("%s SIOCGIFCONF lo family %d address %s\n", family, address->sin_family,
             inet_ntoa(address->sin_addr));
    }
  }
  struct ifconf short_list = {.ifc_len = 10, .ifc_req = entries};
  SHOW(label_of("%s SIOCGIFCONF short buffer", family), ioctl(fd, SIOCGIFCONF, &short_list));
  show_value(label_of("%s SIOCGIFCONF short length", family), short_list.ifc_len);
  struct ifconf size_only = {.ifc_len = 0, .ifc_req = NULL};
  SHOW(label_of("%s SIOCGIFCONF null buffer", family), ioctl(fd, SIOCGIFCONF, &size_only));
  show_bool(label_of("%s SIOCGIFCONF size is whole entries", family),
            size_only.ifc_len > 0 && size_only.ifc_len % (int)sizeof(struct ifreq) == 0);
  SHOW(label_of("%s SIOCGIFCONF bad pointer", family), ioctl(fd, SIOCGIFCONF, (void*)1));

  request = request_for("lo");
  SHOW(label_of("%s SIOCGIFADDR lo", family), ioctl(fd, SIOCGIFADDR, &request));
}

int main(void) {
  int unix_socket = socket(AF_UNIX, SOCK_DGRAM, 0);
  show_interface(unix_socket, "AF_UNIX");
  close(unix_socket);

  int netlink_socket = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  show_interface(netlink_socket, "AF_NETLINK");
  close(netlink_socket);

  int pipe_fds[2];
  pipe(pipe_fds);
  struct ifreq request = request_for("lo");
  SHOW("pipe SIOCGIFINDEX", ioctl(pipe_fds[0], SIOCGIFINDEX, &request));

  // The C library's name and index lookups.
  SHOW("if_nametoindex lo", if_nametoindex("lo"));
  SHOW("if_nametoindex nosuchif0", if_nametoindex("nosuchif0"));
  char name[IF_NAMESIZE];
  show_string("if_indextoname 1", if_indextoname(1, name));
  errno = 0;
  char* missing = if_indextoname(999999, name);
  show_ok("if_indextoname 999999", missing == NULL ? -1 : 0, errno);
  return check_failures == 0 ? 0 : 1;
}
