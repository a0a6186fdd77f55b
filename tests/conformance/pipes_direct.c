// Packet mode: pipe2 with O_DIRECT, or F_SETFL O_DIRECT on a pipe end,
// makes each write a packet of up to PIPE_BUF bytes, and a read return at
// most one packet, dropping what does not fit.
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

// Reads with a buffer of `size` bytes and prints the count and the first
// byte, which tells the packets apart.
static void show_read(const char* label, int fd, size_t size) {
  char buffer[8192];
  memset(buffer, 0, sizeof(buffer));
  long got = SHOW(label, read(fd, buffer, size));
  if (got > 0) {
    printf("  first byte %c\n", buffer[0]);
  }
}

static void check_pipe2_packets(void) {
  int fds[2];
  SHOW("pipe2 O_DIRECT", pipe2(fds, O_DIRECT | O_NONBLOCK));
  show_hex("  F_GETFL write end", (unsigned long)fcntl(fds[1], F_GETFL));
  SHOW("  write packet a", write(fds[1], "aaaaaaaaaa", 10));
  SHOW("  write packet b", write(fds[1], "bbbbb", 5));
  SHOW("  write packet c", write(fds[1], "cccccccccccccccccccc", 20));
  show_read("  read 100 bytes", fds[0], 100);
  show_read("  read 3 bytes of a 5-byte packet", fds[0], 3);
  show_read("  read after the dropped rest", fds[0], 100);
  show_read("  read an empty pipe", fds[0], 100);

  // A packet write larger than a page is one packet per page.
  char block[6000];
  memset(block, 'd', sizeof(block));
  memset(block + 4096, 'e', sizeof(block) - 4096);
  SHOW("  write 6000 bytes", write(fds[1], block, sizeof(block)));
  show_read("  read 8192 bytes", fds[0], 8192);
  show_read("  read 8192 bytes again", fds[0], 8192);

  // Sixteen one-byte packets fill the sixteen pages of the ring.
  int written = 0;
  while (write(fds[1], "f", 1) == 1 && written < 100) {
    written++;
  }
  SHOW("  one-byte packets until full", written);
  close(fds[0]);
  close(fds[1]);
}

static void check_setfl(void) {
  int fds[2];
  SHOW("pipe2 O_NONBLOCK", pipe2(fds, O_NONBLOCK));
  SHOW("  stream write 1", write(fds[1], "gggg", 4));
  SHOW("  F_SETFL O_DIRECT on the write end", fcntl(fds[1], F_SETFL, O_DIRECT | O_NONBLOCK));
  show_hex("  F_GETFL write end", (unsigned long)fcntl(fds[1], F_GETFL));
  // The first packet write still merges into the stream's page, as Linux
  // merges into any buffer that is not a packet.
  SHOW("  packet write 1", write(fds[1], "hhh", 3));
  SHOW("  packet write 2", write(fds[1], "iii", 3));
  show_read("  read 100 bytes", fds[0], 100);
  show_read("  read 100 bytes again", fds[0], 100);
  SHOW("  F_SETFL without O_DIRECT", fcntl(fds[1], F_SETFL, O_NONBLOCK));
  SHOW("  stream write 2", write(fds[1], "jj", 2));
  SHOW("  stream write 3", write(fds[1], "kk", 2));
  show_read("  read 100 bytes of a stream", fds[0], 100);
  close(fds[0]);
  close(fds[1]);
}

int main(void) {
  check_pipe2_packets();
  check_setfl();
  return finish_checks();
}
