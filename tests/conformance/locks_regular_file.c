// fcntl record locks and flock on a regular file opened for reading and
// writing, in a temporary directory under /dev/shm. l_whence SEEK_END
// counts from the file's size and SEEK_CUR from its offset. A second open
// of the file is a separate description, which flock locks conflict with.
#include <sys/file.h>

#include "locks_util.h"

static int file_fd;
static pid_t parent_pid;

static void child_tests_whole_file(void) {
  show_lock_test("  child F_GETLK F_WRLCK whole", file_fd, F_GETLK, F_WRLCK, 0, 0, parent_pid);
}

int main(void) {
  char directory[] = "/dev/shm/ward-XXXXXX";
  if (mkdtemp(directory) == NULL) {
    printf("mkdtemp = -1 %s\n", errno_name(errno));
    return 1;
  }
  char path[64];
  snprintf(path, sizeof(path), "%s/file", directory);
  file_fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (file_fd < 0) {
    printf("open = -1 %s\n", errno_name(errno));
    rmdir(directory);
    return 1;
  }
  parent_pid = getpid();
  char data[100] = {0};
  SHOW("write 100 bytes", write(file_fd, data, sizeof(data)));

  SHOW("F_SETLK F_WRLCK SEEK_END -10", record_lock(file_fd, F_SETLK, F_WRLCK, SEEK_END, -10, 10));
  in_child(child_tests_whole_file);
  SHOW("F_SETLK F_UNLCK whole", record_lock(file_fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

  SHOW("lseek 50", lseek(file_fd, 50, SEEK_SET));
  SHOW("F_SETLK F_RDLCK SEEK_CUR -5 len 10",
       record_lock(file_fd, F_SETLK, F_RDLCK, SEEK_CUR, -5, 10));
  in_child(child_tests_whole_file);
  SHOW("F_SETLK F_WRLCK SEEK_CUR 0 len -50",
       record_lock(file_fd, F_SETLK, F_WRLCK, SEEK_CUR, 0, -50));
  in_child(child_tests_whole_file);
  SHOW("F_SETLK F_UNLCK whole", record_lock(file_fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

  int second_fd = open(path, O_RDONLY);
  SHOW("flock LOCK_EX", flock(file_fd, LOCK_EX));
  SHOW("flock LOCK_SH|LOCK_NB on a second open", flock(second_fd, LOCK_SH | LOCK_NB));
  SHOW("close of the first open", close(file_fd));
  SHOW("flock LOCK_SH|LOCK_NB on the second open", flock(second_fd, LOCK_SH | LOCK_NB));
  close(second_fd);

  unlink(path);
  rmdir(directory);
  return finish_checks();
}
