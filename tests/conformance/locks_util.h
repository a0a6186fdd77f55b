// Helpers of the file lock programs. They lock a pipe: its two ends are two
// open file descriptions of one inode, one readable and one writable, which
// no process outside the test can reach, so parallel runs never meet.
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

// How often wait_for_blocked_requests polls, and how many times.
#define LOCKS_POLL_INTERVAL_MS 10
#define LOCKS_POLL_LIMIT 500

static inline void sleep_ms(long milliseconds) {
  struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  nanosleep(&delay, NULL);
}

// An l_pid as a relation to `owner`, the same in every run.
static inline const char* pid_relation(pid_t pid, pid_t owner) {
  if (pid == owner) {
    return "owner";
  }
  if (pid == -1) {
    return "-1";
  }
  return "another";
}

static inline const char* lock_type_name(short type) {
  switch (type) {
    case F_RDLCK:
      return "F_RDLCK";
    case F_WRLCK:
      return "F_WRLCK";
    case F_UNLCK:
      return "F_UNLCK";
    default:
      return "?";
  }
}

// fcntl(fd, command) with a struct flock of the other arguments.
static inline int record_lock(int fd, int command, short type, short whence, off_t start,
                              off_t length) {
  struct flock lock = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = length};
  return fcntl(fd, command, &lock);
}

// Prints what F_GETLK (or F_OFD_GETLK) reports for a request of `type`
// over [start, start + length), with l_pid as a relation to `owner`.
static inline void show_lock_test(const char* label, int fd, int command, short type, off_t start,
                                  off_t length, pid_t owner) {
  struct flock lock = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = length};
  if (fcntl(fd, command, &lock) == -1) {
    printf("%s = -1 %s\n", label, errno_name(errno));
    return;
  }
  if (lock.l_type == F_UNLCK) {
    printf("%s: F_UNLCK\n", label);
    return;
  }
  const char* pid = pid_relation(lock.l_pid, owner);
  printf("%s: %s whence %d start %lld len %lld pid %s\n", label, lock_type_name(lock.l_type),
         lock.l_whence, (long long)lock.l_start, (long long)lock.l_len, pid);
}

// The "MAJOR:MINOR:INO" of fd's inode, as /proc/locks writes it.
static inline void inode_key(int fd, char* key, size_t key_size) {
  struct stat st;
  fstat(fd, &st);
  snprintf(key, key_size, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
           (unsigned long)st.st_ino);
}

// Counts the /proc/locks lines about fd's inode that show a waiting
// request ("-> "), or -1 when /proc/locks cannot be read.
static inline int count_blocked_requests(int fd) {
  char key[64];
  inode_key(fd, key, sizeof(key));
  FILE* file = fopen("/proc/locks", "r");
  if (file == NULL) {
    return -1;
  }
  char line[256];
  int count = 0;
  while (fgets(line, sizeof(line), file) != NULL) {
    char with_spaces[80];
    snprintf(with_spaces, sizeof(with_spaces), " %s ", key);
    if (strstr(line, "-> ") != NULL && strstr(line, with_spaces) != NULL) {
      count++;
    }
  }
  fclose(file);
  return count;
}

// Waits until `count` requests wait for a lock on fd's inode, so that the
// next step meets a blocked process. Returns false on timeout.
static inline bool wait_for_blocked_requests(int fd, int count) {
  for (int attempt = 0; attempt < LOCKS_POLL_LIMIT; attempt++) {
    if (count_blocked_requests(fd) >= count) {
      return true;
    }
    sleep_ms(LOCKS_POLL_INTERVAL_MS);
  }
  return false;
}

// Runs `check` in a child process, which owns no lock of the caller, and
// waits for it.
static inline void in_child(void (*check)(void)) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    check();
    fflush(stdout);
    _exit(0);
  }
  waitpid(child, NULL, 0);
}
