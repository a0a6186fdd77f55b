// poll on the ends of a pipe within one process, with a zero timeout: empty,
// holding data, full, after the writer closed, and with no reader.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static void show_poll(const char* label, int fd, short events) {
  struct pollfd entry = {fd, events, 0};
  long ready = SHOW(label, poll(&entry, 1, 0));
  if (ready >= 0) {
    printf("  revents%s%s%s%s\n", entry.revents & POLLIN ? " POLLIN" : "",
           entry.revents & POLLOUT ? " POLLOUT" : "", entry.revents & POLLHUP ? " POLLHUP" : "",
           entry.revents & POLLERR ? " POLLERR" : "");
  }
}

static void check_data_flow(void) {
  int fds[2];
  pipe2(fds, O_NONBLOCK);
  char buffer[128] = {0};
  show_poll("poll read end when empty", fds[0], POLLIN);
  show_poll("poll write end when empty", fds[1], POLLOUT);

  write(fds[1], "hello", 5);
  show_poll("poll read end with data", fds[0], POLLIN);
  read(fds[0], buffer, sizeof(buffer));

  // A nonblocking writer fills the pipe.
  char* block = calloc(1, 70000);
  SHOW("write 70000 bytes into an empty pipe", write(fds[1], block, 70000));
  show_poll("poll write end when full", fds[1], POLLOUT);
  for (int i = 0; i < 100; i++) {
    if (read(fds[0], block, 70000) <= 0) {
      break;
    }
  }
  free(block);

  write(fds[1], "z", 1);
  close(fds[1]);
  show_poll("poll read end after the writer closed, data left", fds[0], POLLIN);
  read(fds[0], buffer, sizeof(buffer));
  show_poll("poll read end at EOF", fds[0], POLLIN);
  close(fds[0]);
}

static void check_broken_pipe(void) {
  int fds[2];
  pipe(fds);
  close(fds[0]);
  show_poll("poll write end with no reader", fds[1], POLLOUT);
  close(fds[1]);
}

int main(void) {
  check_data_flow();
  check_broken_pipe();
  return finish_checks();
}
