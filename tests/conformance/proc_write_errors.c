// Writes to /proc that Linux rejects or treats specially: bad comm and
// oom_score_adj values, offsets, truncation, the files that take no
// writes, sysctls, and making or removing names in /proc.
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"

static void show_file(const char* label, const char* path) {
  char text[64] = {0};
  int fd = open(path, O_RDONLY);
  ssize_t got = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
  if (fd >= 0) {
    close(fd);
  }
  if (got < 0) {
    printf("%s = (unreadable)\n", label);
    return;
  }
  show_string(label, text);
}

// write(2) of `length` bytes of `text` to a new open of `path`.
static long write_text(const char* path, const char* text, size_t length) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) {
    return -1;
  }
  long written = write(fd, text, length);
  int error = errno;
  close(fd);
  errno = error;
  return written;
}

static void check_comm(void) {
  const char* comm = "/proc/self/comm";
  SHOW("comm empty write", write_text(comm, "", 0));
  show_file("  comm", comm);
  SHOW("comm newline only", write_text(comm, "\n", 1));
  show_file("  comm", comm);
  SHOW("comm with a NUL", write_text(comm, "ab\0cd", 5));
  show_file("  comm", comm);

  // comm is a seq_file: pwrite fails, lseek takes SEEK_SET and SEEK_CUR
  // only, and a write after a seek still names the thread from the start.
  int fd = open(comm, O_RDWR | O_TRUNC);
  SHOW_OK("comm open O_TRUNC", fd);
  SHOW("comm pwrite at 3", pwrite(fd, "abc", 3, 3));
  SHOW("comm lseek SEEK_END", lseek(fd, 0, SEEK_END));
  SHOW("comm lseek SEEK_SET 5", lseek(fd, 5, SEEK_SET));
  SHOW("comm write after seek", write(fd, "seeked", 6));
  SHOW("comm ftruncate", ftruncate(fd, 0));
  close(fd);
  show_file("  comm", comm);
  SHOW("comm truncate", truncate(comm, 0));
  show_file("  comm", comm);
}

static void* wait_for_cancel(void* unused) {
  (void)unused;
  for (;;) {
    pause();
  }
  return NULL;
}

// A thread of the same process may rename another one through its
// task directory.
static void check_thread_comm(void) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, wait_for_cancel, NULL) != 0) {
    printf("pthread_create failed\n");
    return;
  }
  pid_t tid = 0;
  char path[80];
  // The new thread's tid is the only task entry besides this thread's.
  for (int attempt = 0; attempt < 1000 && tid == 0; ++attempt) {
    int directory = open("/proc/self/task", O_RDONLY | O_DIRECTORY);
    char buffer[4096];
    long got = syscall(SYS_getdents64, directory, buffer, sizeof(buffer));
    close(directory);
    for (long offset = 0; offset < got;) {
      unsigned short length = *(unsigned short*)(buffer + offset + 16);
      const char* name = buffer + offset + 19;
      pid_t entry = atoi(name);
      if (entry > 0 && entry != gettid()) {
        tid = entry;
      }
      offset += length;
    }
  }
  snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
  SHOW("sibling thread comm", write_text(path, "sibling", 7));
  show_file("  sibling comm", path);
  show_file("  own comm", "/proc/thread-self/comm");
  pthread_cancel(thread);
  pthread_join(thread, NULL);
}

static void check_oom_score_adj(void) {
  const char* adj = "/proc/self/oom_score_adj";
  SHOW("oom_score_adj abc", write_text(adj, "abc", 3));
  SHOW("oom_score_adj 2000", write_text(adj, "2000", 4));
  SHOW("oom_score_adj -1001", write_text(adj, "-1001", 5));
  SHOW("oom_score_adj empty", write_text(adj, "", 0));
  SHOW("oom_score_adj newline", write_text(adj, "\n", 1));
  SHOW("oom_score_adj 0x", write_text(adj, "0x", 2));
  SHOW("oom_score_adj 08", write_text(adj, "08", 2));
  SHOW("oom_score_adj -+5", write_text(adj, "-+5", 3));
  SHOW("oom_score_adj 99999999999", write_text(adj, "99999999999", 11));
  show_file("  oom_score_adj", adj);
  SHOW("oom_score_adj 010", write_text(adj, "010", 3));
  show_file("  oom_score_adj", adj);
  SHOW("oom_score_adj -0x10 padded", write_text(adj, " -0x10 \n", 8));
  show_file("  oom_score_adj", adj);
  // Only 12 bytes are read, and the count returned is 12.
  SHOW("oom_score_adj 16 bytes", write_text(adj, "7           xyz", 16));
  show_file("  oom_score_adj", adj);
  SHOW("oom_score_adj with a NUL", write_text(adj, "9\0junk", 6));
  show_file("  oom_score_adj", adj);

  // A plain file: pwrite works and ignores its offset, SEEK_END counts
  // from size 0.
  int fd = open(adj, O_RDWR);
  SHOW("oom_score_adj pwrite at 100", pwrite(fd, "5", 1, 100));
  SHOW("oom_score_adj lseek SEEK_END", lseek(fd, 0, SEEK_END));
  SHOW("oom_score_adj lseek SEEK_DATA", lseek(fd, 0, SEEK_DATA));
  close(fd);
  show_file("  oom_score_adj", adj);
  SHOW("oom_score_adj -1000", write_text(adj, "-1000", 5));
  show_file("  oom_score_adj", adj);
  SHOW("oom_score_adj 0", write_text(adj, "0", 1));
}

// Without CAP_SYS_RESOURCE a process may not go below the minimum that the
// last privileged write set, and may change the value above it.
static void check_oom_minimum(void) {
  pid_t child = fork();
  if (child == 0) {
    const char* adj = "/proc/self/oom_score_adj";
    SHOW("privileged oom_score_adj 100", write_text(adj, "100", 3));
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    syscall(SYS_capget, &header, data);
    data[CAP_SYS_RESOURCE / 32].effective &= ~(1U << (CAP_SYS_RESOURCE % 32));
    SHOW("drop CAP_SYS_RESOURCE", syscall(SYS_capset, &header, data));
    SHOW("oom_score_adj 50 below the minimum", write_text(adj, "50", 2));
    SHOW("oom_score_adj 300", write_text(adj, "300", 3));
    SHOW("oom_score_adj 100 at the minimum", write_text(adj, "100", 3));
    show_file("  oom_score_adj", adj);
    fflush(stdout);
    _exit(0);
  }
  waitpid(child, NULL, 0);
}

// Files without a write method: root may open them for writing, but each
// write fails, with EIO for the top-level files. Sysctls without a write
// bit refuse root.
static void check_read_only_files(void) {
  SHOW("write /proc/self/status", write_text("/proc/self/status", "1\n", 2));
  SHOW("write /proc/self/oom_score", write_text("/proc/self/oom_score", "1\n", 2));
  SHOW("write /proc/meminfo", write_text("/proc/meminfo", "1\n", 2));
  SHOW("write /proc/uptime", write_text("/proc/uptime", "1\n", 2));
  SHOW("empty write /proc/meminfo", write_text("/proc/meminfo", "", 0));
  SHOW("open /proc/sys/kernel/osrelease", open("/proc/sys/kernel/osrelease", O_WRONLY));
  SHOW("open /proc/sys/kernel/ostype", open("/proc/sys/kernel/ostype", O_RDWR));
  int fd = open("/proc/self/stat", O_RDWR | O_TRUNC);
  SHOW_OK("open /proc/self/stat O_TRUNC", fd);
  close(fd);
  SHOW("truncate /proc/self/status", truncate("/proc/self/status", 0));
}

static void check_names(void) {
  SHOW("create /proc/new", open("/proc/new", O_WRONLY | O_CREAT, 0644));
  SHOW("create /proc/self/new", open("/proc/self/new", O_WRONLY | O_CREAT, 0644));
  SHOW("mkdir /proc/dir", mkdir("/proc/dir", 0755));
  SHOW("mkdir /proc/self", mkdir("/proc/self", 0755));
  SHOW("symlink /proc/link", symlink("x", "/proc/link"));
  SHOW("mknod /proc/fifo", mknod("/proc/fifo", S_IFIFO | 0644, 0));
  SHOW("link into /proc/self", link("/proc/self/status", "/proc/self/status2"));
  SHOW("rename in /proc/self", rename("/proc/self/status", "/proc/self/status2"));
  SHOW("unlink /proc/self/status", unlink("/proc/self/status"));
  SHOW("unlink /proc/meminfo", unlink("/proc/meminfo"));
  SHOW("rmdir /proc/self/fd", rmdir("/proc/self/fd"));
  SHOW("chmod /proc/self/status", chmod("/proc/self/status", 0600));
  SHOW("chown /proc/self/status", chown("/proc/self/status", 0, 0));
  SHOW("setxattr /proc/self/status", setxattr("/proc/self/status", "user.x", "1", 1, 0));
}

int main(void) {
  check_comm();
  check_thread_comm();
  check_oom_score_adj();
  check_oom_minimum();
  check_read_only_files();
  check_names();
  return finish_checks();
}
