// inotify: the events of file operations on a watched directory and file,
// in the working directory and in /dev/shm, printed by name and mask in
// the order they were queued, then the flags and errors of the calls.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static int directory_wd = -1;
static int file_wd = -1;
static uint32_t last_moved_from_cookie;

static const char* wd_label(int wd) {
  if (wd == directory_wd) {
    return "dir";
  }
  if (wd == file_wd) {
    return "file";
  }
  if (wd == -1) {
    return "none";
  }
  return "other";
}

static void print_mask(uint32_t mask) {
  static const struct {
    uint32_t bit;
    const char* name;
  } names[] = {
      {IN_ACCESS, "ACCESS"},           {IN_MODIFY, "MODIFY"},
      {IN_ATTRIB, "ATTRIB"},           {IN_CLOSE_WRITE, "CLOSE_WRITE"},
      {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {IN_OPEN, "OPEN"},
      {IN_MOVED_FROM, "MOVED_FROM"},   {IN_MOVED_TO, "MOVED_TO"},
      {IN_CREATE, "CREATE"},           {IN_DELETE, "DELETE"},
      {IN_DELETE_SELF, "DELETE_SELF"}, {IN_MOVE_SELF, "MOVE_SELF"},
      {IN_UNMOUNT, "UNMOUNT"},         {IN_Q_OVERFLOW, "Q_OVERFLOW"},
      {IN_IGNORED, "IGNORED"},         {IN_ISDIR, "ISDIR"},
  };
  const char* separator = "";
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if ((mask & names[i].bit) != 0) {
      printf("%s%s", separator, names[i].name);
      separator = "|";
      mask &= ~names[i].bit;
    }
  }
  if (mask != 0) {
    printf("%s%#x", separator, mask);
  }
}

// Reads and prints every queued event of `fd`, after the FIONREAD count.
static void drain(const char* step, int fd) {
  int queued = -1;
  ioctl(fd, FIONREAD, &queued);
  printf("%s: %d bytes queued\n", step, queued);
  char buffer[4096] __attribute__((aligned(8)));
  for (;;) {
    ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0) {
      if (errno != EAGAIN) {
        printf("  read = -1 %s\n", errno_name(errno));
      }
      return;
    }
    for (char* at = buffer; at < buffer + got;) {
      const struct inotify_event* event = (const struct inotify_event*)at;
      printf("  %s ", wd_label(event->wd));
      print_mask(event->mask);
      if (event->len > 0) {
        printf(" \"%s\" len=%u", event->name, event->len);
      }
      if ((event->mask & IN_MOVED_FROM) != 0) {
        last_moved_from_cookie = event->cookie;
        printf(" cookie=%s", event->cookie != 0 ? "set" : "zero");
      } else if ((event->mask & IN_MOVED_TO) != 0) {
        printf(" cookie=%s", event->cookie == last_moved_from_cookie ? "paired" : "unpaired");
      } else if (event->cookie != 0) {
        printf(" cookie=unexpected");
      }
      printf("\n");
      at += sizeof(*event) + event->len;
    }
  }
}

static void write_bytes(const char* path, const char* text, int flags) {
  int fd = open(path, O_WRONLY | flags, 0644);
  if (fd < 0) {
    printf("open %s = -1 %s\n", path, errno_name(errno));
    return;
  }
  if (write(fd, text, strlen(text)) < 0) {
    printf("write %s = -1 %s\n", path, errno_name(errno));
  }
  close(fd);
}

// The sequence of file operations, in the directory `base`.
static void run_sequence(const char* base) {
  char dir[256], file[256], renamed[256], linked[256], sub[256], symlink_path[256];
  snprintf(dir, sizeof(dir), "%s/w", base);
  snprintf(file, sizeof(file), "%s/w/f", base);
  snprintf(renamed, sizeof(renamed), "%s/w/a-longer-name-of-16", base);
  snprintf(linked, sizeof(linked), "%s/w/h", base);
  snprintf(sub, sizeof(sub), "%s/w/sub", base);
  snprintf(symlink_path, sizeof(symlink_path), "%s/w/l", base);
  mkdir(dir, 0755);

  int fd = SHOW_OK("inotify_init1", inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  directory_wd = SHOW_OK("watch dir", inotify_add_watch(fd, dir, IN_ALL_EVENTS));
  EXPECT("same wd for the same dir", inotify_add_watch(fd, dir, IN_ALL_EVENTS) == directory_wd);

  struct pollfd poller = {.fd = fd, .events = POLLIN};
  SHOW("poll before events", poll(&poller, 1, 0));

  int out = open(file, O_CREAT | O_WRONLY, 0644);
  SHOW("poll after create", poll(&poller, 1, 0));
  show_hex("revents", poller.revents);
  write(out, "hello", 5);
  write(out, "world", 5);
  close(out);
  drain("create and write", fd);
  SHOW("poll after read", poll(&poller, 1, 0));

  file_wd = SHOW_OK("watch file", inotify_add_watch(fd, file, IN_ALL_EVENTS));
  chmod(file, 0600);
  drain("chmod", fd);

  char small[4];
  int in = open(file, O_RDONLY);
  read(in, small, sizeof(small));
  read(in, small, sizeof(small));
  close(in);
  drain("open and read", fd);

  truncate(file, 1);
  drain("truncate", fd);
  write_bytes(file, "x", O_TRUNC);
  drain("open O_TRUNC and write", fd);
  utimensat(AT_FDCWD, file, NULL, 0);
  drain("utimensat", fd);
  chown(file, 0, 0);
  drain("chown", fd);

  mkdir(sub, 0755);
  symlink("f", symlink_path);
  drain("mkdir and symlink", fd);

  rename(file, renamed);
  drain("rename", fd);
  link(renamed, linked);
  drain("link", fd);
  unlink(linked);
  drain("unlink one link", fd);
  rename(linked, renamed);  // fails: no events
  unlink(renamed);
  drain("unlink the last link", fd);
  rmdir(sub);
  unlink(symlink_path);
  drain("rmdir and unlink symlink", fd);

  // Too small a buffer for the next event.
  write_bytes(file, "y", O_CREAT);
  char tiny[sizeof(struct inotify_event)];
  SHOW("read into a header-sized buffer", read(fd, tiny, sizeof(tiny)));
  drain("after the short read", fd);
  unlink(file);
  drain("unlink", fd);

  SHOW("rm_watch dir", inotify_rm_watch(fd, directory_wd));
  drain("rm_watch", fd);
  SHOW("rm_watch again", inotify_rm_watch(fd, directory_wd));
  SHOW("read empty", read(fd, small, sizeof(small)));
  close(fd);
  rmdir(dir);
}

static void check_flags(void) {
  mkdir("flags", 0755);
  write_bytes("flags/f", "data", O_CREAT);
  symlink("f", "flags/l");
  int fd = inotify_init1(IN_NONBLOCK);

  // IN_ONESHOT: one event, then IN_IGNORED.
  file_wd = SHOW_OK("oneshot watch", inotify_add_watch(fd, "flags/f", IN_MODIFY | IN_ONESHOT));
  directory_wd = -2;
  write_bytes("flags/f", "a", O_APPEND);
  write_bytes("flags/f", "b", O_APPEND);
  drain("oneshot", fd);

  // IN_MASK_ADD adds to the mask; without it the mask is replaced.
  file_wd = SHOW_OK("modify watch", inotify_add_watch(fd, "flags/f", IN_MODIFY));
  EXPECT("mask add keeps wd",
         inotify_add_watch(fd, "flags/f", IN_ATTRIB | IN_MASK_ADD) == file_wd);
  write_bytes("flags/f", "c", O_APPEND);
  chmod("flags/f", 0640);
  drain("mask add", fd);
  inotify_add_watch(fd, "flags/f", IN_ATTRIB);
  write_bytes("flags/f", "d", O_APPEND);
  chmod("flags/f", 0644);
  drain("mask replaced", fd);
  SHOW("mask create on a watched file",
       inotify_add_watch(fd, "flags/f", IN_ATTRIB | IN_MASK_CREATE));
  inotify_rm_watch(fd, file_wd);
  drain("rm_watch file", fd);

  // IN_DONT_FOLLOW watches the symlink itself.
  file_wd = SHOW_OK("dont follow", inotify_add_watch(fd, "flags/l", IN_ATTRIB | IN_DONT_FOLLOW));
  chmod("flags/f", 0600);
  drain("chmod the target", fd);
  inotify_rm_watch(fd, file_wd);
  drain("rm_watch symlink", fd);

  // IN_EXCL_UNLINK: no events for an unlinked child.
  directory_wd =
      SHOW_OK("excl unlink", inotify_add_watch(fd, "flags", IN_MODIFY | IN_EXCL_UNLINK));
  file_wd = -2;
  int out = open("flags/f", O_WRONLY);
  write(out, "e", 1);
  unlink("flags/f");
  write(out, "f", 1);
  close(out);
  drain("excl unlink", fd);

  // Past max_queued_events one IN_Q_OVERFLOW event stands for the rest.
  write_bytes("flags/g", "g", O_CREAT);
  inotify_add_watch(fd, "flags", IN_OPEN | IN_CLOSE_NOWRITE);
  for (int i = 0; i < 8200; i++) {
    close(open("flags/g", O_RDONLY));
  }
  int queued = 0;
  ioctl(fd, FIONREAD, &queued);
  show_value("bytes queued past the limit", queued);
  static char big[65536] __attribute__((aligned(8)));
  long events = 0;
  uint32_t last_mask = 0;
  int last_wd = 0;
  for (ssize_t got; (got = read(fd, big, sizeof(big))) > 0;) {
    for (char* at = big; at < big + got;) {
      const struct inotify_event* event = (const struct inotify_event*)at;
      events++;
      last_mask = event->mask;
      last_wd = event->wd;
      at += sizeof(*event) + event->len;
    }
  }
  show_value("events read", events);
  show_hex("last mask", last_mask);
  show_value("last wd", last_wd);
  close(fd);
  unlink("flags/g");
  unlink("flags/l");
  rmdir("flags");
}

static void check_errors(void) {
  int fd = inotify_init();
  int pipe_fds[2];
  pipe(pipe_fds);
  write_bytes("errors-file", "", O_CREAT);
  SHOW("init1 bad flag", inotify_init1(1));
  SHOW("init1 O_RDWR", inotify_init1(O_RDWR));
  SHOW("add mask 0", inotify_add_watch(fd, ".", 0));
  SHOW("add mask flags only", inotify_add_watch(fd, ".", IN_ONESHOT));
  SHOW("add mask unknown bit only", inotify_add_watch(fd, ".", 0x00010000));
  SHOW("add add|create", inotify_add_watch(fd, ".", IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
  SHOW("add bad fd", inotify_add_watch(-1, ".", IN_MODIFY));
  SHOW("add closed fd", inotify_add_watch(999, ".", IN_MODIFY));
  SHOW("add pipe fd", inotify_add_watch(pipe_fds[0], ".", IN_MODIFY));
  SHOW("add missing path", inotify_add_watch(fd, "missing", IN_MODIFY));
  SHOW("add empty path", inotify_add_watch(fd, "", IN_MODIFY));
  SHOW("add bad path pointer", inotify_add_watch(fd, (const char*)1, IN_MODIFY));
  SHOW("add onlydir on a file", inotify_add_watch(fd, "errors-file", IN_MODIFY | IN_ONLYDIR));
  SHOW("rm unknown wd", inotify_rm_watch(fd, 12345));
  SHOW("rm negative wd", inotify_rm_watch(fd, -1));
  SHOW("rm pipe fd", inotify_rm_watch(pipe_fds[0], 1));
  SHOW("rm bad fd", inotify_rm_watch(-1, 1));
  SHOW("write to inotify", write(fd, "x", 1));
  unlink("errors-file");
  close(fd);
}

int main(void) {
  printf("== working directory\n");
  run_sequence(".");

  printf("== /dev/shm\n");
  char shm[] = "/dev/shm/inotify-XXXXXX";
  if (mkdtemp(shm) == NULL) {
    printf("mkdtemp = -1 %s\n", errno_name(errno));
    return 1;
  }
  run_sequence(shm);
  rmdir(shm);

  printf("== flags\n");
  check_flags();
  printf("== errors\n");
  check_errors();
  return check_failures == 0 ? 0 : 1;
}
