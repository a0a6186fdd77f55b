// File changes in the working directory, which under `ward do` is a host
// directory seen through the overlay root: create, overwrite, append,
// unlink, rename, hard links, chmod, truncate, rmdir and mkdir over removed
// names, and listings after each change.
//
// The first run (the native one) leaves a fixture directory behind, so the
// run under ward finds it on the host: there every change lands on lower
// files and must behave as on an ordinary filesystem. Each run ends by
// putting the fixture back as it found it.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define FIXTURE "overlay-fixture"

static void write_text(const char* path, const char* text, int flags) {
  int fd = open(path, O_WRONLY | flags, 0644);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
    printf("write %s failed: %s\n", path, errno_name(errno));
  }
  if (fd >= 0) {
    close(fd);
  }
}

static void show_text(const char* path) {
  char buffer[256] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("%s: -1 %s\n", path, errno_name(errno));
    return;
  }
  ssize_t got = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  printf("%s: %zd bytes \"%s\"\n", path, got, got > 0 ? buffer : "");
}

static int compare_names(const void* left, const void* right) {
  return strcmp(*(char* const*)left, *(char* const*)right);
}

// Prints the names in `path`, sorted, with "." and "..": directory order
// differs between filesystems.
static void show_listing(const char* path) {
  DIR* directory = opendir(path);
  if (directory == NULL) {
    printf("list %s: %s\n", path, errno_name(errno));
    return;
  }
  char* names[64];
  int count = 0;
  struct dirent* entry;
  while ((entry = readdir(directory)) != NULL && count < 64) {
    names[count++] = strdup(entry->d_name);
  }
  closedir(directory);
  qsort(names, count, sizeof(names[0]), compare_names);
  printf("list %s:", path);
  for (int i = 0; i < count; ++i) {
    printf(" %s", names[i]);
    free(names[i]);
  }
  printf("\n");
}

static void make_fixture(void) {
  mkdir(FIXTURE, 0755);
  mkdir(FIXTURE "/dir", 0755);
  write_text(FIXTURE "/a", "alpha\n", O_CREAT | O_TRUNC);
  write_text(FIXTURE "/b", "beta\n", O_CREAT | O_TRUNC);
  write_text(FIXTURE "/dir/c", "gamma\n", O_CREAT | O_TRUNC);
}

// Removes the fixture whatever the test left in it.
static void remove_fixture(void) {
  const char* files[] = {FIXTURE "/a",     FIXTURE "/b",   FIXTURE "/a_link", FIXTURE "/c2",
                         FIXTURE "/new",   FIXTURE "/late", FIXTURE "/dir/c", FIXTURE "/dir/d",
                         FIXTURE "/moved"};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); ++i) {
    unlink(files[i]);
  }
  rmdir(FIXTURE "/dir");
  rmdir(FIXTURE "/made");
  rmdir(FIXTURE);
}

// Lists the fixture one entry at a time with telldir, then seeks back to
// each position and checks that readdir resumes at the same entry.
static void check_seekdir(void) {
  DIR* directory = opendir(FIXTURE);
  if (directory == NULL) {
    printf("opendir: %s\n", errno_name(errno));
    return;
  }
  long positions[64];
  char* names[64];
  int count = 0;
  for (;;) {
    long position = telldir(directory);
    struct dirent* entry = readdir(directory);
    if (entry == NULL || count == 64) {
      break;
    }
    positions[count] = position;
    names[count] = strdup(entry->d_name);
    count++;
  }
  bool resumed = true;
  for (int i = count - 1; i >= 0; --i) {
    seekdir(directory, positions[i]);
    struct dirent* entry = readdir(directory);
    resumed = resumed && entry != NULL && strcmp(entry->d_name, names[i]) == 0;
  }
  for (int i = 0; i < count; ++i) {
    free(names[i]);
  }
  closedir(directory);
  EXPECT("seekdir resumes at each telldir position", resumed);
}

int main(void) {
  struct stat st;
  if (stat(FIXTURE, &st) != 0) {
    make_fixture();
  }
  show_listing(FIXTURE);

  // Overwrite and append keep the inode number.
  SHOW_OK("stat a", stat(FIXTURE "/a", &st));
  ino_t a_ino = st.st_ino;
  write_text(FIXTURE "/a", "ALPHA!\n", O_TRUNC);
  show_text(FIXTURE "/a");
  SHOW_OK("stat a after overwrite", stat(FIXTURE "/a", &st));
  EXPECT("a keeps its inode number", st.st_ino == a_ino);
  write_text(FIXTURE "/dir/c", "more\n", O_APPEND);
  show_text(FIXTURE "/dir/c");

  // Unlink, then a new file under the same name.
  SHOW_OK("unlink b", unlink(FIXTURE "/b"));
  SHOW_OK("stat b after unlink", stat(FIXTURE "/b", &st));
  show_text(FIXTURE "/b");
  show_listing(FIXTURE);
  SHOW_OK("open b O_CREAT|O_EXCL", open(FIXTURE "/b", O_CREAT | O_EXCL | O_WRONLY, 0644));
  show_text(FIXTURE "/b");
  write_text(FIXTURE "/new", "new\n", O_CREAT | O_EXCL);
  show_listing(FIXTURE);

  // Rename across directories, then over an existing name.
  SHOW_OK("rename dir/c to c2", rename(FIXTURE "/dir/c", FIXTURE "/c2"));
  show_listing(FIXTURE);
  show_listing(FIXTURE "/dir");
  show_text(FIXTURE "/c2");
  SHOW_OK("rename new over a", rename(FIXTURE "/new", FIXTURE "/a"));
  show_text(FIXTURE "/a");
  SHOW_OK("stat new after rename", stat(FIXTURE "/new", &st));

  // A directory emptied of its lower files can be removed; a new one in
  // its place starts empty.
  SHOW_OK("rmdir dir", rmdir(FIXTURE "/dir"));
  SHOW_OK("stat dir after rmdir", stat(FIXTURE "/dir", &st));
  SHOW_OK("mkdir dir", mkdir(FIXTURE "/dir", 0700));
  show_listing(FIXTURE "/dir");
  SHOW_OK("stat dir", stat(FIXTURE "/dir", &st));
  show_octal("dir mode", st.st_mode & 07777);
  SHOW_OK("rmdir fixture, not empty", rmdir(FIXTURE));

  // Hard link, chmod and truncate.
  SHOW_OK("link c2 to a_link", link(FIXTURE "/c2", FIXTURE "/a_link"));
  SHOW_OK("stat c2", stat(FIXTURE "/c2", &st));
  show_value("c2 links", (long)st.st_nlink);
  write_text(FIXTURE "/a_link", "G", 0);
  show_text(FIXTURE "/c2");
  SHOW_OK("chmod c2 0600", chmod(FIXTURE "/c2", 0600));
  SHOW_OK("stat a_link", stat(FIXTURE "/a_link", &st));
  show_octal("a_link mode", st.st_mode & 07777);
  SHOW_OK("truncate c2 to 3", truncate(FIXTURE "/c2", 3));
  show_text(FIXTURE "/a_link");

  // A listing taken while names come and go, then a final one.
  write_text(FIXTURE "/late", "late\n", O_CREAT);
  check_seekdir();
  show_listing(FIXTURE);

  remove_fixture();
  SHOW_OK("stat fixture after removal", stat(FIXTURE, &st));
  make_fixture();
  return finish_checks();
}
