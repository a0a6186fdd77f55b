// poll in one process: the event masks on pipes, negative and bad fds,
// several entries, timeouts, stdio, files without a wait queue, and every
// errno poll returns.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "poll_events.h"

static void check_event_masks(void) {
  int fds[2];
  pipe(fds);
  show_poll_one("poll empty read end for POLLIN", fds[0], POLLIN, 0);
  show_poll_one(
      "poll empty read end for every event", fds[0],
      POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP,
      0);
  show_poll_one("poll write end for POLLOUT", fds[1], POLLOUT, 0);
  show_poll_one("poll write end for POLLWRNORM", fds[1], POLLWRNORM, 0);
  show_poll_one("poll write end for POLLIN", fds[1], POLLIN, 0);

  write(fds[1], "data", 4);
  show_poll_one("poll read end with data for POLLIN", fds[0], POLLIN, 0);
  show_poll_one("poll read end with data for POLLRDNORM", fds[0], POLLRDNORM, 0);
  show_poll_one("poll read end with data for POLLIN and POLLRDNORM", fds[0], POLLIN | POLLRDNORM,
                0);
  show_poll_one("poll read end with data for POLLPRI", fds[0], POLLPRI, 0);
  show_poll_one("poll read end with data for no event", fds[0], 0, 0);

  // POLLHUP is reported even when not asked for.
  close(fds[1]);
  show_poll_one("poll read end after the writer closed, data left", fds[0], POLLOUT, 0);
  show_poll_one("poll read end after the writer closed, no event", fds[0], 0, 0);
  char buffer[8];
  read(fds[0], buffer, sizeof(buffer));
  show_poll_one("poll read end at EOF", fds[0], POLLIN, 0);
  close(fds[0]);

  // POLLERR is reported even when not asked for.
  pipe(fds);
  close(fds[0]);
  show_poll_one("poll write end without a reader, no event", fds[1], 0, 0);
  show_poll_one("poll write end without a reader, POLLOUT", fds[1], POLLOUT, 0);
  close(fds[1]);
}

static void check_entries(void) {
  int fds[2];
  pipe(fds);
  write(fds[1], "x", 1);
  int closed_fd = dup(fds[0]);
  close(closed_fd);

  struct pollfd entries[6] = {
      {.fd = fds[0], .events = POLLIN, .revents = 0x7777},
      {.fd = -1, .events = POLLIN, .revents = 0x7777},
      {.fd = fds[1], .events = POLLOUT, .revents = 0x7777},
      {.fd = closed_fd, .events = POLLIN, .revents = 0x7777},
      {.fd = -200, .events = POLLIN | POLLOUT, .revents = 0x7777},
      {.fd = fds[0], .events = POLLOUT, .revents = 0x7777},
  };
  SHOW("poll six entries", poll(entries, 6, 0));
  for (int i = 0; i < 6; i++) {
    show_events(label_of("  entry %d revents", i), entries[i].revents);
  }
  EXPECT("  fd and events are unchanged", entries[0].fd == fds[0] && entries[1].fd == -1 &&
                                              entries[4].fd == -200 &&
                                              entries[4].events == (POLLIN | POLLOUT));

  struct pollfd only_closed = {.fd = closed_fd, .events = 0, .revents = 0};
  SHOW("poll a closed fd with no event", poll(&only_closed, 1, 0));
  show_events("  revents", only_closed.revents);
  struct pollfd large_fd = {.fd = 1 << 20, .events = POLLIN, .revents = 0};
  SHOW("poll fd 2^20", poll(&large_fd, 1, 0));
  show_events("  revents", large_fd.revents);
  struct pollfd only_negative[2] = {{.fd = -1, .events = POLLIN, .revents = 1},
                                    {.fd = -5, .events = POLLOUT, .revents = 1}};
  SHOW("poll negative fds only", poll(only_negative, 2, 0));
  show_events("  revents 0", only_negative[0].revents);
  show_events("  revents 1", only_negative[1].revents);
  close(fds[0]);
  close(fds[1]);
}

static void check_files(void) {
  // The runner gives the program /dev/null as stdin and pipes as stdout.
  show_poll_one("poll stdin (/dev/null) for POLLIN and POLLOUT", 0, POLLIN | POLLOUT, 0);
  show_poll_one("poll stdout (a pipe) for POLLOUT", 1, POLLOUT, 0);

  int regular = open("/proc/self/exe", O_RDONLY);
  show_poll_one("poll a regular file for every event", regular,
                POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM | POLLRDHUP, 0);
  show_poll_one("poll a regular file with a negative timeout", regular, POLLIN, -1);
  close(regular);

  int directory = open("/", O_RDONLY | O_DIRECTORY);
  show_poll_one("poll a directory for POLLIN and POLLOUT", directory, POLLIN | POLLOUT, 0);
  close(directory);

  int path_only = open("/", O_PATH);
  show_poll_one("poll an O_PATH fd", path_only, POLLIN, 0);
  close(path_only);

  int null_device = open("/dev/null", O_WRONLY);
  show_poll_one("poll /dev/null opened write-only", null_device, POLLIN | POLLOUT, 0);
  close(null_device);

  // Files with a poll method of their own on Linux, and some without.
  const char* paths[] = {
      "/dev/zero",         "/dev/full",         "/dev/random",          "/dev/urandom",
      "/proc/self/status", "/proc/self/mounts", "/proc/self/mountinfo", "/proc/self/fd",
  };
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
    int fd = open(paths[i], O_RDONLY);
    show_poll_one(label_of("poll %s for every event", paths[i]), fd,
                  POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM, 0);
    close(fd);
  }

  // A sysfs attribute reports POLLERR and POLLPRI until it is read.
  int attribute = open("/sys/devices/system/cpu/online", O_RDONLY);
  show_poll_one("poll a sysfs attribute before reading it", attribute, POLLIN | POLLPRI, 0);
  char text[64];
  SHOW_OK("read the sysfs attribute", read(attribute, text, sizeof(text)));
  show_poll_one("poll the sysfs attribute after reading it", attribute, POLLIN | POLLPRI, 0);
  close(attribute);
}

static void check_timeouts(void) {
  int fds[2];
  pipe(fds);
  long start = monotonic_ms();
  show_poll_one("poll empty pipe with a 0 ms timeout", fds[0], POLLIN, 0);
  EXPECT("  returns at once", monotonic_ms() - start < 1000);

  start = monotonic_ms();
  show_poll_one("poll empty pipe with a 150 ms timeout", fds[0], POLLIN, 150);
  long waited = monotonic_ms() - start;
  EXPECT("  waits at least 150 ms", waited >= 150);
  EXPECT("  waits less than 5 s", waited < 5000);

  start = monotonic_ms();
  SHOW("poll no entries with a 100 ms timeout", poll(NULL, 0, 100));
  EXPECT("  waits at least 100 ms", monotonic_ms() - start >= 100);

  write(fds[1], "x", 1);
  show_poll_one("poll ready pipe with a negative timeout", fds[0], POLLIN, -1);
  show_poll_one("poll ready pipe with timeout INT_MIN", fds[0], POLLIN, -2147483647 - 1);
  close(fds[0]);
  close(fds[1]);
}

static void check_errors(void) {
  SHOW("poll NULL with nfds 1", poll(NULL, 1, 0));
  SHOW("poll NULL with nfds 0", poll(NULL, 0, 0));
  SHOW("poll a bad address", poll((struct pollfd*)1, 1, 0));

  // revents are written back: read-only entries fault after the poll.
  struct pollfd* read_only =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  read_only[0] = (struct pollfd){.fd = -1, .events = POLLIN, .revents = 0};
  mprotect(read_only, 4096, PROT_READ);
  SHOW("poll read-only entries", poll(read_only, 1, 0));

  // An array that runs into an unmapped page faults before any poll.
  struct pollfd* page =
      mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap((char*)page + 4096, 4096);
  int last = 4096 / sizeof(struct pollfd) - 1;
  page[last] = (struct pollfd){.fd = 0, .events = POLLIN, .revents = 0};
  SHOW("poll entries that end in an unmapped page", poll(&page[last], 2, 0));
  show_events("  revents of the mapped entry", page[last].revents);
  munmap(read_only, 4096);
  munmap(page, 4096);

  // nfds may not exceed RLIMIT_NOFILE, and the check comes before the copy.
  struct rlimit old_limit;
  getrlimit(RLIMIT_NOFILE, &old_limit);
  struct rlimit limit = {.rlim_cur = 100, .rlim_max = old_limit.rlim_max};
  SHOW("setrlimit RLIMIT_NOFILE to 100", setrlimit(RLIMIT_NOFILE, &limit));
  struct pollfd* entries = calloc(101, sizeof(struct pollfd));
  for (int i = 0; i < 101; i++) {
    entries[i].fd = -1;
  }
  SHOW("poll 100 entries", poll(entries, 100, 0));
  SHOW("poll 101 entries", poll(entries, 101, 0));
  SHOW("poll NULL with nfds 101", poll(NULL, 101, 0));
  SHOW("poll NULL with nfds 2^32-1", poll(NULL, 0xffffffffu, 0));
  setrlimit(RLIMIT_NOFILE, &old_limit);
  free(entries);
}

static void check_ppoll_errors(void) {
  int fds[2];
  pipe(fds);
  write(fds[1], "x", 1);
  struct pollfd entry = {.fd = fds[0], .events = POLLIN, .revents = 0};
  sigset_t empty;
  sigemptyset(&empty);
  struct timespec zero = {0, 0};

  SHOW("ppoll with a mask", syscall(SYS_ppoll, &entry, 1, &zero, &empty, 8));
  SHOW("ppoll with sigsetsize 7", syscall(SYS_ppoll, &entry, 1, &zero, &empty, 7));
  SHOW("ppoll with sigsetsize 16", syscall(SYS_ppoll, &entry, 1, &zero, &empty, 16));
  SHOW("ppoll without a mask, sigsetsize 7", syscall(SYS_ppoll, &entry, 1, &zero, NULL, 7));
  SHOW("ppoll with a bad mask address", syscall(SYS_ppoll, &entry, 1, &zero, (void*)8, 8));
  SHOW("ppoll with a bad timeout address", syscall(SYS_ppoll, &entry, 1, (void*)8, NULL, 8));
  SHOW("ppoll with a bad entry address", syscall(SYS_ppoll, (void*)8, 1, &zero, NULL, 8));

  struct timespec bad_times[] = {
      {.tv_sec = -1, .tv_nsec = 0},
      {.tv_sec = 0, .tv_nsec = -1},
      {.tv_sec = 0, .tv_nsec = 1000000000},
  };
  for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
    SHOW(label_of("ppoll with timeout {%ld, %ld}", (long)bad_times[i].tv_sec,
                  (long)bad_times[i].tv_nsec),
         syscall(SYS_ppoll, &entry, 1, &bad_times[i], NULL, 8));
  }
  // The timeout is checked before the mask, and both before the entries.
  SHOW("ppoll with a bad timeout and sigsetsize 7",
       syscall(SYS_ppoll, &entry, 1, &bad_times[0], &empty, 7));
  SHOW("ppoll with a bad timeout address and sigsetsize 7",
       syscall(SYS_ppoll, &entry, 1, (void*)8, &empty, 7));
  SHOW("ppoll with sigsetsize 7 and a bad entry address",
       syscall(SYS_ppoll, (void*)8, 1, &zero, &empty, 7));
  SHOW("ppoll with a bad timeout and a bad entry address",
       syscall(SYS_ppoll, (void*)8, 1, &bad_times[1], NULL, 8));

  struct rlimit old_limit;
  getrlimit(RLIMIT_NOFILE, &old_limit);
  struct rlimit limit = {.rlim_cur = 100, .rlim_max = old_limit.rlim_max};
  setrlimit(RLIMIT_NOFILE, &limit);
  SHOW("ppoll NULL with nfds 101", syscall(SYS_ppoll, NULL, 101, &zero, NULL, 8));
  setrlimit(RLIMIT_NOFILE, &old_limit);

  // A timeout of INT_MAX ms is no error.
  SHOW("poll a ready pipe with timeout INT_MAX", poll(&entry, 1, 2147483647));
  close(fds[0]);
  close(fds[1]);
}

static void check_many_entries(void) {
  // More entries than one page holds, all on the same pipe.
  enum { kCount = 1000 };
  int fds[2];
  pipe(fds);
  struct pollfd* entries = calloc(kCount, sizeof(struct pollfd));
  for (int i = 0; i < kCount; i++) {
    entries[i] = (struct pollfd){.fd = i % 3 == 0 ? -1 : fds[i % 2], .events = POLLIN | POLLOUT};
  }
  SHOW("poll 1000 entries", poll(entries, kCount, 0));
  int readable = 0;
  int writable = 0;
  for (int i = 0; i < kCount; i++) {
    readable += (entries[i].revents & POLLIN) != 0;
    writable += (entries[i].revents & POLLOUT) != 0;
  }
  show_value("  entries with POLLIN", readable);
  show_value("  entries with POLLOUT", writable);
  free(entries);
  close(fds[0]);
  close(fds[1]);
}

int main(void) {
  check_event_masks();
  check_entries();
  check_files();
  check_timeouts();
  check_errors();
  check_ppoll_errors();
  check_many_entries();
  return finish_checks();
}
