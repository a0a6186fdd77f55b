// AF_UNIX sockets bound to filesystem paths in a fresh directory under
// /dev/shm. The program checks the socket inode bind makes and connect
// through it. It also checks the errnos of names in use, missing paths,
// other types and files that are no socket, and the name left after close.
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static char directory[] = "/dev/shm/ward-XXXXXX";

static socklen_t path_name(struct sockaddr_un* address, const char* name) {
  memset(address, 0, sizeof(*address));
  address->sun_family = AF_UNIX;
  snprintf(address->sun_path, sizeof(address->sun_path), "%s/%s", directory, name);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(address->sun_path) + 1);
}

int main(void) {
  if (mkdtemp(directory) == NULL) {
    printf("mkdtemp failed: %s\n", errno_name(errno));
    return 1;
  }
  umask(022);
  struct sockaddr_un address;
  socklen_t length = path_name(&address, "server");

  int server = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("bind a path", bind(server, (struct sockaddr*)&address, length));
  struct stat st;
  SHOW("stat the path", stat(address.sun_path, &st));
  EXPECT("  S_ISSOCK", S_ISSOCK(st.st_mode));
  show_octal("  permission bits after umask 022", st.st_mode & 07777);
  struct sockaddr_un name;
  socklen_t name_length = sizeof(name);
  getsockname(server, (struct sockaddr*)&name, &name_length);
  EXPECT("  getsockname length counts the NUL", name_length == length);
  SHOW("bind again", bind(server, (struct sockaddr*)&address, length));

  int other = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("bind an existing path", bind(other, (struct sockaddr*)&address, length));
  struct sockaddr_un missing;
  socklen_t missing_length = path_name(&missing, "no/such/dir");
  SHOW("bind under a missing directory", bind(other, (struct sockaddr*)&missing, missing_length));
  SHOW("connect to a missing path", connect(other, (struct sockaddr*)&missing, missing_length));
  SHOW("connect before listen", connect(other, (struct sockaddr*)&address, length));

  listen(server, 4);
  int datagram = socket(AF_UNIX, SOCK_DGRAM, 0);
  SHOW("connect a datagram socket", connect(datagram, (struct sockaddr*)&address, length));
  close(datagram);

  SHOW("connect", connect(other, (struct sockaddr*)&address, length));
  int accepted = SHOW_OK("accept", accept(server, NULL, NULL));
  SHOW("send", send(other, "path", 4, 0));
  char buffer[8];
  SHOW("recv", recv(accepted, buffer, sizeof(buffer), 0));
  close(accepted);
  close(other);

  struct sockaddr_un plain;
  socklen_t plain_length = path_name(&plain, "plain");
  close(open(plain.sun_path, O_CREAT | O_WRONLY, 0600));
  int client = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("connect to a regular file", connect(client, (struct sockaddr*)&plain, plain_length));
  unlink(plain.sun_path);

  close(server);
  SHOW("connect after the server closed", connect(client, (struct sockaddr*)&address, length));
  SHOW("the name stays", access(address.sun_path, F_OK));
  SHOW("unlink it", unlink(address.sun_path));
  SHOW("connect after unlink", connect(client, (struct sockaddr*)&address, length));
  close(client);
  SHOW("remove the directory", rmdir(directory));
  return check_failures == 0 ? 0 : 1;
}
