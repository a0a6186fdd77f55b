// getdents64 on a tmpfs directory whose entries are renamed, made and
// removed between calls: the listing ends, lists each untouched entry
// once, and lists no entry made or renamed after it began. A rewind with
// lseek starts a listing that shows them.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tmpfs_common.h"

enum { kKept = 100, kMutated = 100, kMaxCalls = 1000 };

struct linux_dirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static void make_file(const char* name) { close(open(name, O_CREAT | O_WRONLY, 0644)); }

static int kept_seen[kKept];
static int new_names_seen;
static int other_names_seen;

// Reads one getdents64 batch and tallies the names in it; returns its size.
static long read_batch(int directory, char* buffer, size_t size) {
  long got = syscall(SYS_getdents64, directory, buffer, size);
  for (long position = 0; position < got;) {
    struct linux_dirent64* entry = (struct linux_dirent64*)(buffer + position);
    int index = 0;
    if (sscanf(entry->d_name, "k%d", &index) == 1 && index >= 0 && index < kKept) {
      kept_seen[index]++;
    } else if (entry->d_name[0] == 'r' || entry->d_name[0] == 'c') {
      new_names_seen++;
    } else {
      other_names_seen++;
    }
    position += entry->d_reclen;
  }
  return got;
}

int main(void) {
  enter_scratch();
  char name[32];
  for (int i = 0; i < kKept; i++) {
    snprintf(name, sizeof(name), "k%d", i);
    make_file(name);
  }
  for (int i = 0; i < kMutated; i++) {
    snprintf(name, sizeof(name), "m%d", i);
    make_file(name);
  }

  int directory = open(".", O_RDONLY | O_DIRECTORY);
  char buffer[512];
  int calls = 0;
  long got = 0;
  while (calls < kMaxCalls && (got = read_batch(directory, buffer, sizeof(buffer))) > 0) {
    char renamed[32];
    snprintf(name, sizeof(name), "m%d", calls);
    snprintf(renamed, sizeof(renamed), "r%d", calls);
    rename(name, renamed);
    snprintf(name, sizeof(name), "c%d", calls);
    make_file(name);
    calls++;
  }
  printf("listing ended: %s\n", got == 0 ? "yes" : "no");

  int kept_once = 0;
  for (int i = 0; i < kKept; i++) {
    kept_once += kept_seen[i] == 1;
  }
  printf("untouched entries listed once: %d of %d\n", kept_once, kKept);
  printf("entries made or renamed during the listing: %d\n", new_names_seen);

  make_file("late");
  printf("getdents64 after the end and a new entry: %ld\n",
         syscall(SYS_getdents64, directory, buffer, sizeof(buffer)));

  memset(kept_seen, 0, sizeof(kept_seen));
  new_names_seen = 0;
  lseek(directory, 0, SEEK_SET);
  while (read_batch(directory, buffer, sizeof(buffer)) > 0) {
  }
  kept_once = 0;
  for (int i = 0; i < kKept; i++) {
    kept_once += kept_seen[i] == 1;
  }
  printf("after a rewind, untouched entries listed once: %d of %d\n", kept_once, kKept);
  printf("after a rewind, renamed and made entries listed: %d\n", new_names_seen);
  close(directory);
  return 0;
}
