// AF_UNIX ancillary data: SCM_RIGHTS carrying a pipe end to a forked
// child, MSG_CTRUNC with a short control buffer, MSG_CMSG_CLOEXEC, rights
// dropped by a plain read, SCM_CREDENTIALS with SO_PASSCRED, and the
// errnos of malformed control messages.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

// Sends one byte with `count` descriptors from `fds`.
static long send_fds(int socket, const int* fds, int count) {
  char byte = 'r';
  struct iovec vector = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int) * 8)] = {0};
  struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control,
                           .msg_controllen = CMSG_SPACE(sizeof(int) * count)};
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int) * count);
  memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
  return sendmsg(socket, &message, 0);
}

// Receives one byte into a control buffer of `control_length` bytes and
// returns the first descriptor received, or -1.
static int receive_fd(int socket, size_t control_length, int flags, int* msg_flags) {
  char byte;
  struct iovec vector = {&byte, 1};
  char control[256] = {0};
  struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control,
                           .msg_controllen = control_length};
  if (recvmsg(socket, &message, flags) < 0) {
    return -2;
  }
  *msg_flags = message.msg_flags;
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (header == NULL || header->cmsg_type != SCM_RIGHTS) {
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(header), sizeof(fd));
  return fd;
}

static void check_pipe_to_child(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pid_t child = fork();
  if (child == 0) {
    close(sv[0]);
    int flags = 0;
    int fd = receive_fd(sv[1], CMSG_SPACE(sizeof(int)), 0, &flags);
    if (fd < 0) {
      _exit(2);
    }
    const char text[] = "through the pipe";
    _exit(write(fd, text, sizeof(text)) == sizeof(text) ? 0 : 3);
  }
  close(sv[1]);
  int pipe_fds[2];
  pipe(pipe_fds);
  SHOW("send the write end", send_fds(sv[0], &pipe_fds[1], 1));
  close(pipe_fds[1]);
  char buffer[32] = {0};
  SHOW("read what the child wrote", read(pipe_fds[0], buffer, sizeof(buffer)));
  printf("  data %s\n", buffer);
  int status = 0;
  waitpid(child, &status, 0);
  show_value("child exit status", WEXITSTATUS(status));
  SHOW("pipe EOF once the child is gone", read(pipe_fds[0], buffer, sizeof(buffer)));
  close(pipe_fds[0]);
  close(sv[0]);
}

static void check_truncation(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  int pipe_fds[2];
  pipe(pipe_fds);
  int three[3] = {pipe_fds[0], pipe_fds[1], pipe_fds[0]};

  SHOW("send three descriptors", send_fds(sv[0], three, 3));
  int flags = 0;
  int fd = receive_fd(sv[1], CMSG_SPACE(sizeof(int)), 0, &flags);
  EXPECT("  one fits", fd >= 0);
  show_hex("  MSG_CTRUNC", (unsigned long)(flags & MSG_CTRUNC));
  close(fd);

  SHOW("send one", send_fds(sv[0], three, 1));
  fd = receive_fd(sv[1], 0, 0, &flags);
  show_value("  none without a buffer", fd);
  show_hex("  MSG_CTRUNC", (unsigned long)(flags & MSG_CTRUNC));

  SHOW("send one more", send_fds(sv[0], three, 1));
  fd = receive_fd(sv[1], CMSG_SPACE(sizeof(int)), MSG_PEEK, &flags);
  EXPECT("  peek installs a copy", fd >= 0);
  close(fd);
  fd = receive_fd(sv[1], CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC, &flags);
  SHOW("  F_GETFD with MSG_CMSG_CLOEXEC", fcntl(fd, F_GETFD));
  close(fd);

  SHOW("send to a plain read", send_fds(sv[0], three, 1));
  char byte;
  SHOW("  read drops the descriptors", read(sv[1], &byte, 1));

  SHOW("send a closed descriptor", send_fds(sv[0], (int[]){999}, 1));
  int many[254];
  for (int i = 0; i < 254; i++) {
    many[i] = pipe_fds[0];
  }
  char byte_out = 'x';
  struct iovec vector = {&byte_out, 1};
  static char control[CMSG_SPACE(sizeof(int) * 254)];
  struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control,
                           .msg_controllen = sizeof(control)};
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int) * 254);
  memcpy(CMSG_DATA(header), many, sizeof(many));
  SHOW("send 254 descriptors", sendmsg(sv[0], &message, 0));
  header->cmsg_len = sizeof(control) + 8;
  SHOW("cmsg_len past the buffer", sendmsg(sv[0], &message, 0));
  header->cmsg_len = 4;
  SHOW("cmsg_len below a header", sendmsg(sv[0], &message, 0));
  header->cmsg_len = CMSG_LEN(sizeof(int));
  header->cmsg_type = 99;
  SHOW("unknown SOL_SOCKET type", sendmsg(sv[0], &message, 0));
  header->cmsg_level = 6;
  SHOW("another level, then a zeroed header", sendmsg(sv[0], &message, 0));
  message.msg_iovlen = 1025;
  SHOW("msg_iovlen 1025", sendmsg(sv[0], &message, 0));
  SHOW("sendmsg bad header", sendmsg(sv[0], (struct msghdr*)1, 0));

  close(pipe_fds[0]);
  close(pipe_fds[1]);
  close(sv[0]);
  close(sv[1]);
}

static void check_credentials(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  int on = 1;
  SHOW("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
  SHOW("send", send(sv[0], "c", 1, 0));

  char byte;
  struct iovec vector = {&byte, 1};
  char control[CMSG_SPACE(sizeof(struct ucred))];
  struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control,
                           .msg_controllen = sizeof(control)};
  SHOW("recvmsg", recvmsg(sv[1], &message, 0));
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  EXPECT("  SCM_CREDENTIALS", header != NULL && header->cmsg_type == SCM_CREDENTIALS);
  struct ucred credentials;
  memcpy(&credentials, CMSG_DATA(header), sizeof(credentials));
  EXPECT("  pid is ours", credentials.pid == getpid());
  EXPECT("  uid is ours", credentials.uid == getuid());
  show_value("  msg_controllen", (long)message.msg_controllen);

  send(sv[0], "c", 1, 0);
  message.msg_control = NULL;
  message.msg_controllen = 0;
  SHOW("recvmsg without a control buffer", recvmsg(sv[1], &message, 0));
  show_hex("  MSG_CTRUNC", (unsigned long)(message.msg_flags & MSG_CTRUNC));

  // Claiming another pid is EPERM unless the sender is privileged.
  struct ucred claimed = {.pid = getpid(), .uid = getuid(), .gid = getgid()};
  char out[CMSG_SPACE(sizeof(struct ucred))] = {0};
  struct msghdr sent = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = out,
                        .msg_controllen = sizeof(out)};
  header = CMSG_FIRSTHDR(&sent);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_CREDENTIALS;
  header->cmsg_len = CMSG_LEN(sizeof(claimed));
  memcpy(CMSG_DATA(header), &claimed, sizeof(claimed));
  SHOW("sendmsg own SCM_CREDENTIALS", sendmsg(sv[0], &sent, 0));
  header->cmsg_len = CMSG_LEN(sizeof(claimed)) - 1;
  SHOW("SCM_CREDENTIALS short", sendmsg(sv[0], &sent, 0));
  close(sv[0]);
  close(sv[1]);
}

int main(void) {
  check_pipe_to_child();
  check_truncation();
  check_credentials();
  return check_failures == 0 ? 0 : 1;
}
