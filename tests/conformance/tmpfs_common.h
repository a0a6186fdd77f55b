// A scratch directory on tmpfs for the tmpfs conformance programs: made
// under /dev/shm, which is tmpfs natively and under ward, made the working
// directory, and removed with everything in it at exit.
#pragma once

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char scratch_directory[64];

static int remove_entry(const char* path, const struct stat* st, int type, struct FTW* ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  remove(path);
  return 0;
}

static void remove_scratch(void) {
  if (scratch_directory[0] != '\0') {
    chdir("/");
    nftw(scratch_directory, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
}

// Makes the scratch directory the working directory; exits on failure.
static void enter_scratch(void) {
  snprintf(scratch_directory, sizeof(scratch_directory), "/dev/shm/ward-XXXXXX");
  if (mkdtemp(scratch_directory) == NULL || chdir(scratch_directory) != 0) {
    perror("scratch directory");
    exit(2);
  }
  atexit(remove_scratch);
}
