// Directories on tmpfs: mkdir and rmdir errors, rename in all its forms,
// link counts, and a listing that continues while entries come and go.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "tmpfs_common.h"

static long rename2(const char* from, const char* to, unsigned flags) {
  return syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
}

static void show_links(const char* label, const char* path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    printf("%s: stat = -1 %s\n", label, errno_name(errno));
    return;
  }
  printf("%s: mode %#o nlink %lu size %ld\n", label, st.st_mode, (unsigned long)st.st_nlink,
         (long)st.st_size);
}

static void make_file(const char* path, const char* content) {
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  write(fd, content, strlen(content));
  close(fd);
}

static void show_content(const char* label, const char* path) {
  char buffer[32] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("%s: open = -1 %s\n", label, errno_name(errno));
    return;
  }
  read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  show_string(label, buffer);
}

static void check_mkdir_rmdir(void) {
  show_links("scratch", ".");
  SHOW("mkdir", mkdir("a", 0755));
  SHOW("mkdir existing", mkdir("a", 0755));
  SHOW("mkdir missing parent", mkdir("missing/b", 0755));
  SHOW("mkdir trailing slash", mkdir("c/", 0755));
  make_file("file", "f");
  SHOW("mkdir under file", mkdir("file/b", 0755));
  SHOW("mkdir a/sub", mkdir("a/sub", 0755));
  show_links("a with sub", "a");
  show_links("scratch with a and c", ".");
  SHOW("rmdir nonempty", rmdir("a"));
  SHOW("rmdir file", rmdir("file"));
  SHOW("rmdir missing", rmdir("missing"));
  SHOW("rmdir .", rmdir("a/."));
  SHOW("rmdir ..", rmdir("a/sub/.."));
  SHOW("rmdir a/sub", rmdir("a/sub"));
  show_links("a emptied", "a");
  SHOW("rmdir c/", rmdir("c/"));

  // A removed working directory takes no new entries.
  mkdir("gone", 0755);
  chdir("gone");
  SHOW("rmdir cwd", rmdir("../gone"));
  SHOW("create in removed cwd", open("x", O_CREAT | O_WRONLY, 0644));
  SHOW("mkdir in removed cwd", mkdir("y", 0755));
  chdir("..");
}

static void check_renames(void) {
  make_file("one", "1");
  make_file("two", "2");
  SHOW("rename over file", rename("one", "two"));
  show_content("two", "two");
  SHOW("rename missing", rename("one", "three"));
  SHOW("rename to self", rename("two", "two"));
  link("two", "two-link");
  SHOW("rename between hard links", rename("two", "two-link"));
  show_links("two after", "two");

  mkdir("d1", 0755);
  mkdir("d2", 0755);
  make_file("d2/inside", "i");
  SHOW("rename dir over nonempty dir", rename("d1", "d2"));
  SHOW("rename dir over file", rename("d1", "two"));
  SHOW("rename file over dir", rename("two", "d1"));
  SHOW("rename dir into itself", rename("d2", "d2/sub"));
  SHOW("rename parent over child", rename("d2/..", "x"));
  mkdir("d2/child", 0755);
  SHOW("rename onto own ancestor", rename("d2/child", "d2"));
  SHOW("rename dir over empty dir", rename("d2/child", "d1"));
  show_links("d2 after move", "d2");
  show_links("scratch after move", ".");
  SHOW("rename file/", rename("two/", "other"));
  SHOW("rename to file/", rename("two", "other/"));
  SHOW("rename dir/", rename("d1/", "d3/"));
  show_links("d3", "d3");

  make_file("left", "L");
  make_file("right", "R");
  SHOW("RENAME_NOREPLACE existing", rename2("left", "right", RENAME_NOREPLACE));
  SHOW("RENAME_NOREPLACE new", rename2("left", "center", RENAME_NOREPLACE));
  SHOW("RENAME_EXCHANGE", rename2("center", "right", RENAME_EXCHANGE));
  show_content("center", "center");
  show_content("right", "right");
  SHOW("RENAME_EXCHANGE missing", rename2("center", "nowhere", RENAME_EXCHANGE));
  SHOW("RENAME_EXCHANGE file and dir", rename2("center", "d3", RENAME_EXCHANGE));
  show_links("center is dir", "center");
  show_links("d3 is file", "d3");
  SHOW("RENAME_EXCHANGE|NOREPLACE", rename2("center", "d3", RENAME_EXCHANGE | RENAME_NOREPLACE));
  SHOW("rename flags", rename2("center", "d3", 0x80));

  // A directory moved away keeps working as a cwd.
  mkdir("moving", 0755);
  chdir("moving");
  SHOW("rename cwd", rename("../moving", "../moved"));
  make_file("here", "h");
  chdir("..");
  show_content("moved/here", "moved/here");
}

static int compare_names(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static void check_listing(void) {
  mkdir("list", 0755);
  for (int i = 0; i < 20; i++) {
    char name[16];
    snprintf(name, sizeof(name), "list/e%02d", i);
    make_file(name, "");
  }
  DIR* dir = opendir("list");
  char* names[64];
  int count = 0;
  int seen = 0;
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL) {
    seen++;
    if (seen == 5) {
      // Remove some entries and add one while the listing runs.
      unlink("list/e00");
      unlink("list/e10");
      unlink("list/e19");
      make_file("list/late", "");
    }
    if (count < 64) {
      names[count++] = strdup(entry->d_name);
    }
  }
  closedir(dir);
  qsort(names, count, sizeof(names[0]), compare_names);
  bool duplicates = false;
  for (int i = 1; i < count; i++) {
    duplicates |= strcmp(names[i - 1], names[i]) == 0;
  }
  EXPECT("listing has no duplicates", !duplicates);
  bool has_e05 = false;
  bool has_dots = false;
  for (int i = 0; i < count; i++) {
    has_e05 |= strcmp(names[i], "e05") == 0;
    has_dots |= strcmp(names[i], "..") == 0;
    free(names[i]);
  }
  EXPECT("listing kept an untouched entry", has_e05);
  EXPECT("listing has ..", has_dots);

  // A fresh listing shows exactly the remaining entries.
  dir = opendir("list");
  int fresh = 0;
  while ((entry = readdir(dir)) != NULL) {
    fresh++;
  }
  closedir(dir);
  show_value("entries after changes", fresh);
  show_links("list", "list");

  int fd = open("list", O_RDONLY | O_DIRECTORY);
  SHOW("read directory", read(fd, names, 1));
  SHOW("lseek SEEK_END directory", lseek(fd, 0, SEEK_END));
  close(fd);
}

int main(void) {
  enter_scratch();
  check_mkdir_rmdir();
  check_renames();
  check_listing();
  return check_failures != 0;
}
