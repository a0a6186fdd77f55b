// eventfd and eventfd2: the counter and semaphore modes, the limits of the
// counter, every bad input with its errno, flags, and readiness in poll and
// epoll, including a blocking read woken by another process.
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void show_counter_read(const char* label, int fd) {
  uint64_t value = 0;
  long result = SHOW(label, read(fd, &value, sizeof(value)));
  if (result == sizeof(value)) {
    printf("  value %llu\n", (unsigned long long)value);
  }
}

static long write_value(int fd, uint64_t value) { return write(fd, &value, sizeof(value)); }

static void show_readiness(const char* label, int fd) {
  struct pollfd entry = {.fd = fd, .events = POLLIN | POLLOUT | POLLPRI, .revents = 0};
  poll(&entry, 1, 0);
  printf("%s: revents %#x\n", label, entry.revents);
}

static void check_creation(void) {
  SHOW("eventfd2 with an unknown flag", syscall(SYS_eventfd2, 0, 2));
  SHOW("eventfd2 with O_RDWR", syscall(SYS_eventfd2, 0, O_RDWR));
  int fd = (int)SHOW_OK("eventfd", syscall(SYS_eventfd, 3));
  SHOW("  FD_CLOEXEC", fcntl(fd, F_GETFD) & FD_CLOEXEC);
  show_hex("  F_GETFL", (unsigned long)fcntl(fd, F_GETFL));
  char link[64] = {0};
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  readlink(path, link, sizeof(link) - 1);
  show_string("  /proc/self/fd link", link);
  show_counter_read("  read", fd);
  close(fd);

  fd = (int)SHOW_OK("eventfd2 EFD_CLOEXEC | EFD_NONBLOCK",
                    eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  SHOW("  FD_CLOEXEC", fcntl(fd, F_GETFD) & FD_CLOEXEC);
  show_hex("  F_GETFL", (unsigned long)fcntl(fd, F_GETFL));
  close(fd);
}

static void check_counter(void) {
  int fd = eventfd(0, EFD_NONBLOCK);
  show_readiness("empty counter", fd);
  show_counter_read("read of an empty counter", fd);
  SHOW("write 5", write_value(fd, 5));
  SHOW("write 7", write_value(fd, 7));
  show_readiness("counter 12", fd);
  show_counter_read("read", fd);
  show_counter_read("read again", fd);
  SHOW("write 0", write_value(fd, 0));
  show_readiness("after writing 0", fd);

  uint64_t value = 1;
  SHOW("read into 4 bytes", read(fd, &value, 4));
  SHOW("write of 4 bytes", write(fd, &value, 4));
  write_value(fd, 2);
  uint64_t wide[2] = {0, 0};
  SHOW("read into 16 bytes", read(fd, wide, sizeof(wide)));
  printf("  value %llu\n", (unsigned long long)wide[0]);
  wide[0] = 4;
  wide[1] = 100;
  SHOW("write of 16 bytes", write(fd, wide, sizeof(wide)));
  show_counter_read("  only the first 8 count", fd);

  SHOW("write of 2^64 - 1", write_value(fd, UINT64_MAX));
  SHOW("write of 2^64 - 2", write_value(fd, UINT64_MAX - 1));
  show_readiness("counter 2^64 - 2", fd);
  SHOW("write of 1 more", write_value(fd, 1));
  SHOW("write of 0 more", write_value(fd, 0));
  show_counter_read("read", fd);
  SHOW("write of 2^64 - 2 into an empty counter", write_value(fd, UINT64_MAX - 1));
  show_counter_read("read", fd);

  write_value(fd, 9);
  SHOW("read into a bad buffer", read(fd, (void*)8, 8));
  SHOW("write from a bad buffer", write(fd, (void*)8, 8));
  SHOW("pread", pread(fd, &value, sizeof(value), 0));
  SHOW("pwrite", pwrite(fd, &value, sizeof(value), 0));
  close(fd);
}

static void check_semaphore(void) {
  int fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
  show_counter_read("semaphore read 1", fd);
  show_counter_read("semaphore read 2", fd);
  show_counter_read("semaphore read 3", fd);
  show_counter_read("semaphore read 4", fd);
  write_value(fd, 2);
  show_counter_read("after adding 2", fd);
  show_readiness("counter 1", fd);
  close(fd);
}

static void check_blocking(void) {
  int fd = eventfd(0, 0);
  pid_t child = fork();
  if (child == 0) {
    usleep(100 * 1000);
    write_value(fd, 42);
    _exit(0);
  }
  show_counter_read("blocking read woken by another process", fd);
  int status = 0;
  waitpid(child, &status, 0);

  // A blocking write at the limit waits for a read.
  write_value(fd, UINT64_MAX - 1);
  child = fork();
  if (child == 0) {
    usleep(100 * 1000);
    uint64_t taken;
    read(fd, &taken, sizeof(taken));
    _exit(taken == UINT64_MAX - 1 ? 0 : 1);
  }
  SHOW("blocking write woken by a read", write_value(fd, 5));
  waitpid(child, &status, 0);
  EXPECT("  the reader took the old counter", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  show_counter_read("  the counter", fd);
  close(fd);
}

static void check_epoll(void) {
  int fd = eventfd(0, EFD_NONBLOCK);
  int epfd = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN | EPOLLET, .data.u64 = 77};
  epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
  struct epoll_event got[2];
  SHOW("epoll_wait on an empty eventfd", epoll_wait(epfd, got, 2, 0));
  write_value(fd, 1);
  SHOW("after a write", epoll_wait(epfd, got, 2, 0));
  printf("  events %#x data %llu\n", got[0].events, (unsigned long long)got[0].data.u64);
  SHOW("again, edge-triggered", epoll_wait(epfd, got, 2, 0));
  write_value(fd, 0);
  SHOW("after a write of 0", epoll_wait(epfd, got, 2, 0));
  uint64_t value;
  read(fd, &value, sizeof(value));
  SHOW("after the read", epoll_wait(epfd, got, 2, 0));

  pid_t child = fork();
  if (child == 0) {
    usleep(100 * 1000);
    write_value(fd, 3);
    _exit(0);
  }
  SHOW("blocking epoll_wait woken by another process", epoll_wait(epfd, got, 2, 5000));
  int status = 0;
  waitpid(child, &status, 0);
  close(epfd);
  close(fd);
}

int main(void) {
  check_creation();
  check_counter();
  check_semaphore();
  check_blocking();
  check_epoll();
  return finish_checks();
}
