// /proc/net: the link to self/net, lo in dev and if_inet6, and the
// program's own AF_UNIX sockets in unix. The host has more interfaces and
// sockets than the sandbox, so only lo and this program's sockets are
// printed.
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static char text[1 << 20];

static bool read_file(const char* path) {
  FILE* file = fopen(path, "r");
  if (file == NULL) {
    printf("open %s = -1 %s\n", path, errno_name(errno));
    return false;
  }
  size_t length = fread(text, 1, sizeof(text) - 1, file);
  text[length] = '\0';
  fclose(file);
  return true;
}

static char directory[] = "/tmp/proc_net_XXXXXX";

// Prints the line of /proc/net/unix of the socket at `fd`, found by its
// inode, without the kernel address and reference count. The temporary
// directory in a path prints as DIR.
static void show_unix_socket(const char* label, int fd) {
  if (!read_file("/proc/net/unix")) {
    return;
  }
  struct stat st;
  fstat(fd, &st);
  for (char* line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    unsigned refs, protocol, flags, type, state;
    unsigned long inode;
    char path[256] = "";
    if (sscanf(line, "%*x: %x %x %x %x %x %lu %255s", &refs, &protocol, &flags, &type, &state, &inode,
               path) < 6 ||
        inode != st.st_ino) {
      continue;
    }
    size_t prefix = strlen(directory);
    const char* printed_path = path;
    char replaced[300];
    if (strncmp(path, directory, prefix) == 0) {
      snprintf(replaced, sizeof(replaced), "DIR%s", path + prefix);
      printed_path = replaced;
    }
    printf("unix %s: protocol %u flags %#x type %u state %u path \"%s\"\n", label, protocol, flags, type,
           state, printed_path);
    return;
  }
  printf("unix %s: not listed\n", label);
}

int main(void) {
  char target[64] = "";
  SHOW("readlink /proc/net", readlink("/proc/net", target, sizeof(target) - 1));
  show_string("/proc/net target", target);

  if (read_file("/proc/net/dev")) {
    char* second_line = strchr(text, '\n');
    printf("dev header fields: %s\n", second_line != NULL && strstr(second_line, "compressed multicast|bytes") != NULL ? "yes" : "no");
    char* lo = strstr(text, "    lo:");
    int counters = 0;
    if (lo != NULL) {
      char* end = strchr(lo, '\n');
      for (char* token = strtok(lo + 7, " \n"); token != NULL && token < end; token = strtok(NULL, " \n")) {
        ++counters;
      }
    }
    printf("dev lo counters: %d\n", counters);
  }

  if (read_file("/proc/net/if_inet6")) {
    char* lo = strstr(text, "00000000000000000000000000000001 ");
    if (lo != NULL) {
      *strchr(lo, '\n') = '\0';
      printf("if_inet6 ::1: %s\n", lo);
    } else {
      printf("if_inet6 ::1: not listed\n");
    }
  }

  // The header of the IPv4 routes; the host's routes differ.
  if (read_file("/proc/net/route")) {
    char* end = strchr(text, '\n');
    show_value("route header length", end != NULL ? end - text : -1);
    if (end != NULL) {
      *end = '\0';
    }
    show_bool("route header starts with Iface", strncmp(text, "Iface\tDestination\tGateway \tFlags", 32) == 0);
  }

  // A listening stream socket at a path, an abstract datagram socket and
  // a connected pair. The path lives in a fresh temporary directory.
  if (mkdtemp(directory) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  struct sockaddr_un path_address = {.sun_family = AF_UNIX};
  snprintf(path_address.sun_path, sizeof(path_address.sun_path), "%s/listener", directory);
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("bind path", bind(listener, (struct sockaddr*)&path_address, sizeof(path_address)));
  SHOW("listen", listen(listener, 4));

  struct sockaddr_un abstract_address = {.sun_family = AF_UNIX};
  const char abstract_name[] = "proc_net_abstract\0tail";
  memcpy(abstract_address.sun_path + 1, abstract_name, sizeof(abstract_name) - 1);
  int datagram = socket(AF_UNIX, SOCK_DGRAM, 0);
  // The name is a NUL, then the bytes of abstract_name without its final NUL.
  socklen_t abstract_length = offsetof(struct sockaddr_un, sun_path) + sizeof(abstract_name);
  SHOW("bind abstract", bind(datagram, (struct sockaddr*)&abstract_address, abstract_length));

  int client = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("connect", connect(client, (struct sockaddr*)&path_address, sizeof(path_address)));

  show_unix_socket("listener", listener);
  show_unix_socket("abstract datagram", datagram);
  show_unix_socket("client", client);
  int accepted = accept(listener, NULL, NULL);
  show_unix_socket("accepted", accepted);
  close(accepted);

  int pair[2];
  SHOW("socketpair", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair));
  show_unix_socket("seqpacket pair", pair[0]);
  close(pair[0]);
  close(pair[1]);

  close(client);
  close(listener);
  close(datagram);
  unlink(path_address.sun_path);
  rmdir(directory);
  return check_failures == 0 ? 0 : 1;
}
