// The C library's interface listings, which read NETLINK_ROUTE dumps:
// getifaddrs and if_nameindex. The host has more interfaces than the
// sandbox, so only lo's entries are printed.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"

static void print_address(const char* label, const struct sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address == NULL) {
    printf("  %s none\n", label);
    return;
  }
  switch (address->sa_family) {
    case AF_INET:
      inet_ntop(AF_INET, &((const struct sockaddr_in*)address)->sin_addr, text, sizeof(text));
      printf("  %s %s\n", label, text);
      break;
    case AF_INET6:
      inet_ntop(AF_INET6, &((const struct sockaddr_in6*)address)->sin6_addr, text, sizeof(text));
      printf("  %s %s scope id %u\n", label, text, ((const struct sockaddr_in6*)address)->sin6_scope_id);
      break;
    case AF_PACKET: {
      const struct sockaddr_ll* link = (const struct sockaddr_ll*)address;
      printf("  %s packet index %d hatype %u halen %u\n", label, link->sll_ifindex, link->sll_hatype,
             link->sll_halen);
      break;
    }
    default:
      printf("  %s family %d\n", label, address->sa_family);
      break;
  }
}

static const char* family_name(int family) {
  switch (family) {
    case AF_PACKET:
      return "AF_PACKET";
    case AF_INET:
      return "AF_INET";
    case AF_INET6:
      return "AF_INET6";
    default:
      return "other";
  }
}

int main(void) {
  struct ifaddrs* list = NULL;
  SHOW("getifaddrs", getifaddrs(&list));
  for (struct ifaddrs* entry = list; entry != NULL; entry = entry->ifa_next) {
    if (strcmp(entry->ifa_name, "lo") != 0) {
      continue;
    }
    int family = entry->ifa_addr != NULL ? entry->ifa_addr->sa_family : -1;
    printf("lo family %s flags %#x\n", family_name(family), entry->ifa_flags);
    print_address("address", entry->ifa_addr);
    print_address("netmask", entry->ifa_netmask);
    print_address("broadcast", (entry->ifa_flags & IFF_BROADCAST) != 0 ? entry->ifa_broadaddr : NULL);
    printf("  has data: %s\n", entry->ifa_data != NULL ? "yes" : "no");
  }
  freeifaddrs(list);

  struct if_nameindex* names = if_nameindex();
  EXPECT("if_nameindex returns a list", names != NULL);
  bool found = false;
  for (struct if_nameindex* name = names; name != NULL && name->if_index != 0; ++name) {
    if (name->if_index == 1) {
      found = true;
      show_string("if_nameindex 1", name->if_name);
    }
  }
  EXPECT("if_nameindex has index 1", found);
  if_freenameindex(names);
  return check_failures == 0 ? 0 : 1;
}
