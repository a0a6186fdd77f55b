// Writes to the /proc files a process may change about itself: comm,
// which renames the thread as PR_SET_NAME does, and oom_score_adj.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
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

int main(void) {
  SHOW("write comm", write_text("/proc/self/comm", "renamed", 7));
  show_file("  comm", "/proc/self/comm");
  char name[17] = {0};
  prctl(PR_GET_NAME, name);
  show_string("  PR_GET_NAME", name);
  SHOW("write a 21-byte comm", write_text("/proc/self/comm", "a-name-longer-than-15", 21));
  show_file("  comm", "/proc/self/comm");
  char thread_path[64];
  snprintf(thread_path, sizeof(thread_path), "/proc/self/task/%d/comm", gettid());
  SHOW("write the thread's comm", write_text(thread_path, "thread\n", 7));
  show_file("  comm", "/proc/self/comm");

  SHOW("write oom_score_adj 500", write_text("/proc/self/oom_score_adj", "500\n", 4));
  show_file("  oom_score_adj", "/proc/self/oom_score_adj");
  SHOW("write oom_score_adj 1001", write_text("/proc/self/oom_score_adj", "1001", 4));
  SHOW("write oom_score_adj junk", write_text("/proc/self/oom_score_adj", "12x", 3));
  SHOW("write oom_score_adj 0x10", write_text("/proc/self/oom_score_adj", " 0x10 ", 6));
  show_file("  oom_score_adj", "/proc/self/oom_score_adj");

  // Another process's comm is not the writer's to change.
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  snprintf(thread_path, sizeof(thread_path), "/proc/%d/comm", child);
  SHOW("write a child's comm", write_text(thread_path, "child", 5));
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return finish_checks();
}
