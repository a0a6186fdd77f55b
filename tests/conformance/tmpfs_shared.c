// Shared memory on tmpfs: a MAP_SHARED mapping of a tmpfs file seen across
// fork, memfd_create with its flags and seals (exact errnos), and POSIX
// shared memory and named semaphores, which live in /dev/shm.
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tmpfs_common.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static void check_shared_mapping(void) {
  int fd = open("mapped", O_CREAT | O_RDWR, 0600);
  SHOW("ftruncate", ftruncate(fd, 4096));
  char* shared = SHOW_PTR("mmap MAP_SHARED", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  strcpy(shared, "parent");
  pid_t child = fork();
  if (child == 0) {
    strcpy(shared + 100, "child wrote this");
    _exit(0);
  }
  waitpid(child, NULL, 0);
  show_string("mapping after child", shared + 100);
  char buffer[32] = {0};
  SHOW("pread after child", pread(fd, buffer, 16, 100));
  show_string("file after child", buffer);
  SHOW("pwrite", pwrite(fd, "via write", 9, 200));
  show_string("mapping after pwrite", shared + 200);
  struct stat st;
  fstat(fd, &st);
  show_value("blocks", (long)st.st_blocks);
  munmap(shared, 4096);
  close(fd);
}

static void show_seals(const char* label, int fd) {
  SHOW(label, fcntl(fd, F_GET_SEALS));
}

static void check_memfd(void) {
  SHOW("memfd_create bad flags", memfd_create("bad", 0x100));
  SHOW("memfd_create EXEC|NOEXEC_SEAL", memfd_create("bad", MFD_EXEC | MFD_NOEXEC_SEAL));
  char long_name[300];
  memset(long_name, 'n', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  SHOW("memfd_create long name", memfd_create(long_name, 0));
  SHOW("memfd_create bad name", memfd_create((const char*)1, 0));

  int plain = SHOW_OK("memfd_create", memfd_create("plain", MFD_CLOEXEC));
  SHOW("F_GETFD", fcntl(plain, F_GETFD));
  SHOW("F_GETFL", fcntl(plain, F_GETFL));
  struct stat st;
  fstat(plain, &st);
  show_octal("mode", st.st_mode);
  show_value("nlink", (long)st.st_nlink);
  char link[64];
  char target[128] = {0};
  snprintf(link, sizeof(link), "/proc/self/fd/%d", plain);
  readlink(link, target, sizeof(target) - 1);
  show_string("fd link", target);
  show_seals("plain seals", plain);
  SHOW("plain F_ADD_SEALS", fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE));

  int fd = SHOW_OK("memfd_create MFD_ALLOW_SEALING", memfd_create("sealed", MFD_ALLOW_SEALING));
  show_seals("initial seals", fd);
  SHOW("write", write(fd, "0123456789", 10));
  SHOW("F_ADD_SEALS unknown", fcntl(fd, F_ADD_SEALS, 0x1000));
  SHOW("F_ADD_SEALS SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
  SHOW("ftruncate shrink", ftruncate(fd, 5));
  SHOW("ftruncate grow", ftruncate(fd, 20));
  SHOW("F_ADD_SEALS GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
  SHOW("ftruncate grow sealed", ftruncate(fd, 30));
  SHOW("pwrite past end", pwrite(fd, "x", 1, 25));
  SHOW("pwrite inside", pwrite(fd, "x", 1, 0));

  char* writable = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  SHOW("F_ADD_SEALS WRITE with writable mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  munmap(writable, 4096);
  SHOW("F_ADD_SEALS WRITE", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  SHOW("write sealed", write(fd, "y", 1));
  SHOW_PTR("mmap writable sealed", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  char* readable = SHOW_PTR("mmap read-only sealed", mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
  if (readable != MAP_FAILED) {
    munmap(readable, 4096);
  }
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  int reader = open(link, O_RDONLY);
  SHOW("F_ADD_SEALS on read-only fd", fcntl(reader, F_ADD_SEALS, F_SEAL_SEAL));
  close(reader);
  SHOW("F_ADD_SEALS SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
  show_seals("final seals", fd);
  SHOW("F_ADD_SEALS after SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));

  int noexec = SHOW_OK("memfd_create MFD_NOEXEC_SEAL", memfd_create("noexec", MFD_NOEXEC_SEAL));
  fstat(noexec, &st);
  show_octal("noexec mode", st.st_mode);
  show_seals("noexec seals", noexec);
  SHOW("chmod +x noexec", fchmod(noexec, 0755));
  SHOW("chmod -w noexec", fchmod(noexec, 0644));

  int exec = memfd_create("exec", MFD_ALLOW_SEALING | MFD_EXEC);
  SHOW("F_ADD_SEALS EXEC on executable", fcntl(exec, F_ADD_SEALS, F_SEAL_EXEC));
  show_seals("exec seals", exec);

  SHOW("F_GET_SEALS on pipe", ({
         int pipe_fds[2];
         pipe(pipe_fds);
         fcntl(pipe_fds[0], F_GET_SEALS);
       }));
  int tmpfs_file = open("sealable", O_CREAT | O_RDWR, 0600);
  show_seals("tmpfs file seals", tmpfs_file);
  int directory = open(".", O_RDONLY);
  SHOW("F_GET_SEALS on directory", fcntl(directory, F_GET_SEALS));
}

static void check_posix_shm(void) {
  // Names carry the pid: the host's /dev/shm is shared by the native runs
  // of this test, which may run at the same time.
  char shm_name[64];
  char sem_name[64];
  snprintf(shm_name, sizeof shm_name, "/ward-conformance-shm-%d", (int)getpid());
  snprintf(sem_name, sizeof sem_name, "/ward-conformance-sem-%d", (int)getpid());

  int fd = SHOW_OK("shm_open", shm_open(shm_name, O_CREAT | O_EXCL | O_RDWR, 0600));
  SHOW("shm ftruncate", ftruncate(fd, 4096));
  int* counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  *counter = 1;
  pid_t child = fork();
  if (child == 0) {
    int again = shm_open(shm_name, O_RDWR, 0);
    int* other = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, again, 0);
    *other += 41;
    _exit(0);
  }
  waitpid(child, NULL, 0);
  show_value("shared counter", *counter);
  SHOW("shm_open O_EXCL existing", shm_open(shm_name, O_CREAT | O_EXCL | O_RDWR, 0600));
  SHOW("shm_unlink", shm_unlink(shm_name));
  SHOW("shm_unlink missing", shm_unlink(shm_name));

  sem_t* semaphore = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 0);
  show_bool("sem_open", semaphore != SEM_FAILED);
  child = fork();
  if (child == 0) {
    sem_t* other = sem_open(sem_name, 0);
    sem_post(other);
    _exit(0);
  }
  SHOW("sem_wait", sem_wait(semaphore));
  waitpid(child, NULL, 0);
  SHOW("sem_trywait empty", sem_trywait(semaphore));
  SHOW("sem_unlink", sem_unlink(sem_name));
}

int main(void) {
  enter_scratch();
  check_shared_mapping();
  check_memfd();
  check_posix_shm();
  return check_failures != 0;
}
