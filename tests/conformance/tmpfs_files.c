// Files on tmpfs: create and open flags, O_TMPFILE with linkat, unlinked
// files that stay readable, links, symlinks, special nodes, stat fields,
// statfs, truncation and extended attributes.
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"
#include "tmpfs_common.h"

static void show_stat(const char* label, const char* path) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    printf("%s: lstat = -1 %s\n", label, errno_name(errno));
    return;
  }
  printf("%s: mode %#o nlink %lu size %ld blocks %ld\n", label, st.st_mode, (unsigned long)st.st_nlink,
         (long)st.st_size, (long)st.st_blocks);
}

static void check_create_flags(void) {
  int fd = SHOW_OK("open O_CREAT", open("file", O_CREAT | O_WRONLY, 0644));
  SHOW("write", write(fd, "hello", 5));
  close(fd);
  show_stat("file", "file");
  SHOW("open O_CREAT|O_EXCL existing", open("file", O_CREAT | O_EXCL | O_WRONLY, 0644));
  SHOW("open missing", open("missing", O_RDONLY));
  SHOW("open missing/", open("missing/", O_CREAT | O_WRONLY, 0644));
  SHOW("open file/", open("file/", O_RDONLY));
  SHOW("open O_CREAT dir", open(".", O_CREAT | O_WRONLY, 0644));
  SHOW("open O_WRONLY dir", open(".", O_WRONLY));

  fd = SHOW_OK("open O_APPEND", open("file", O_WRONLY | O_APPEND));
  SHOW("pwrite O_APPEND", pwrite(fd, "!!", 2, 0));
  SHOW("lseek cur", lseek(fd, 0, SEEK_CUR));
  close(fd);
  char buffer[32] = {0};
  fd = open("file", O_RDONLY);
  SHOW("read", read(fd, buffer, sizeof(buffer)));
  show_string("content", buffer);
  close(fd);

  fd = SHOW_OK("open O_TRUNC", open("file", O_RDWR | O_TRUNC));
  show_stat("truncated", "file");
  close(fd);

  // The umask applies to the new file's mode.
  mode_t old_mask = umask(027);
  close(open("masked", O_CREAT | O_WRONLY, 0777));
  show_stat("masked", "masked");
  umask(old_mask);

  // A dangling symlink is followed and its target made, unless O_EXCL.
  symlink("target", "dangling");
  SHOW("open O_CREAT|O_EXCL dangling", open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0600));
  fd = SHOW_OK("open O_CREAT dangling", open("dangling", O_CREAT | O_WRONLY, 0600));
  close(fd);
  show_stat("target", "target");
}

static void check_tmpfile(void) {
  int fd = SHOW_OK("open O_TMPFILE", open(".", O_TMPFILE | O_RDWR, 0600));
  SHOW("write tmpfile", write(fd, "tmp", 3));
  struct stat st;
  fstat(fd, &st);
  printf("tmpfile: mode %#o nlink %lu size %ld\n", st.st_mode, (unsigned long)st.st_nlink,
         (long)st.st_size);
  char proc_path[64];
  snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
  SHOW("linkat /proc/self/fd", linkat(AT_FDCWD, proc_path, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
  show_stat("named", "named");
  close(fd);

  fd = SHOW_OK("open O_TMPFILE|O_EXCL", open(".", O_TMPFILE | O_EXCL | O_RDWR, 0600));
  snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
  SHOW("linkat O_EXCL tmpfile", linkat(AT_FDCWD, proc_path, AT_FDCWD, "named2", AT_SYMLINK_FOLLOW));
  close(fd);
  SHOW("open O_TMPFILE read-only", open(".", O_TMPFILE | O_RDONLY, 0600));
  SHOW("open O_TMPFILE on file", open("file", O_TMPFILE | O_RDWR, 0600));
}

static void check_unlinked(void) {
  int fd = open("doomed", O_CREAT | O_RDWR, 0600);
  write(fd, "still here", 10);
  SHOW("unlink open file", unlink("doomed"));
  struct stat st;
  fstat(fd, &st);
  show_value("unlinked nlink", (long)st.st_nlink);
  char buffer[16] = {0};
  SHOW("pread unlinked", pread(fd, buffer, sizeof(buffer) - 1, 0));
  show_string("unlinked content", buffer);
  SHOW("write unlinked", write(fd, "more", 4));
  close(fd);
  SHOW("stat doomed", stat("doomed", &st));
}

static void check_links(void) {
  close(open("original", O_CREAT | O_WRONLY, 0644));
  SHOW("link", link("original", "hard"));
  show_stat("original after link", "original");
  SHOW("link existing", link("original", "hard"));
  SHOW("link missing", link("missing", "other"));
  mkdir("dir", 0755);
  SHOW("link dir", link("dir", "dirlink"));
  SHOW("symlink", symlink("original", "soft"));
  SHOW("symlink existing", symlink("original", "soft"));
  SHOW("symlink empty", symlink("", "empty"));
  char buffer[64] = {0};
  SHOW("readlink", readlink("soft", buffer, sizeof(buffer)));
  show_string("readlink target", buffer);
  SHOW("readlink file", readlink("original", buffer, sizeof(buffer)));
  show_stat("soft", "soft");
  SHOW("unlink hard", unlink("hard"));
  show_stat("original after unlink", "original");
  SHOW("unlink dir", unlink("dir"));
  SHOW("unlink missing", unlink("missing"));
  SHOW("unlink original/", unlink("original/"));
  SHOW("unlink dir/", unlink("dir/"));
  SHOW("unlink .", unlink("."));
}

static void check_special_nodes(void) {
  SHOW("mkfifo", mkfifo("fifo", 0644));
  show_stat("fifo", "fifo");
  int reader = SHOW_OK("open fifo O_RDONLY|O_NONBLOCK", open("fifo", O_RDONLY | O_NONBLOCK));
  int writer = SHOW_OK("open fifo O_WRONLY", open("fifo", O_WRONLY));
  SHOW("write fifo", write(writer, "pipe", 4));
  char buffer[8] = {0};
  SHOW("read fifo", read(reader, buffer, sizeof(buffer)));
  close(reader);
  close(writer);
  SHOW("open fifo O_WRONLY|O_NONBLOCK no reader", open("fifo", O_WRONLY | O_NONBLOCK));

  SHOW("mknod socket", mknod("socket", S_IFSOCK | 0644, 0));
  show_stat("socket", "socket");
  SHOW("open socket", open("socket", O_RDONLY));
  SHOW("mknod whiteout", mknod("whiteout", S_IFCHR, makedev(0, 0)));
  show_stat("whiteout", "whiteout");
  SHOW("mknod regular", mknod("plain", 0644, 0));
  show_stat("plain", "plain");
  SHOW("mknod dir", mknod("nodedir", S_IFDIR | 0755, 0));
  SHOW("mknod bad type", mknod("bad", 0170000 | 0644, 0));
  // Whether the node opens depends on the mount's nodev, which differs
  // between hosts, so only its making is compared.
  SHOW("mknod null", mknod("null", S_IFCHR | 0666, makedev(1, 3)));
  show_stat("null", "null");
}

static void check_sizes(void) {
  int fd = open("sized", O_CREAT | O_RDWR, 0644);
  SHOW("ftruncate grow", ftruncate(fd, 10000));
  show_stat("grown", "sized");
  SHOW("pwrite", pwrite(fd, "x", 1, 5000));
  show_stat("written", "sized");
  SHOW("ftruncate shrink", ftruncate(fd, 100));
  show_stat("shrunk", "sized");
  SHOW("truncate", truncate("sized", 0));
  show_stat("emptied", "sized");
  SHOW("ftruncate negative", ftruncate(fd, -1));
  SHOW("truncate dir", truncate(".", 0));
  SHOW("truncate fifo", truncate("fifo", 0));
  close(fd);
  fd = open("sized", O_RDONLY);
  SHOW("ftruncate read-only", ftruncate(fd, 0));
  close(fd);
  SHOW("lseek SEEK_DATA empty", lseek(open("sized", O_RDONLY), 0, SEEK_DATA));

  struct statfs fs;
  SHOW("statfs", statfs(".", &fs));
  EXPECT("f_type is TMPFS_MAGIC", fs.f_type == TMPFS_MAGIC);
  show_value("f_bsize", (long)fs.f_bsize);
  show_value("f_namelen", (long)fs.f_namelen);
}

static void check_xattrs(void) {
  close(open("attributed", O_CREAT | O_WRONLY, 0644));
  SHOW("setxattr user", setxattr("attributed", "user.colour", "blue", 4, 0));
  SHOW("setxattr XATTR_CREATE existing",
       setxattr("attributed", "user.colour", "red", 3, XATTR_CREATE));
  SHOW("setxattr XATTR_REPLACE missing",
       setxattr("attributed", "user.size", "big", 3, XATTR_REPLACE));
  SHOW("setxattr trusted", setxattr("attributed", "trusted.note", "t", 1, 0));
  char value[16] = {0};
  SHOW("getxattr user", getxattr("attributed", "user.colour", value, sizeof(value)));
  show_string("value", value);
  SHOW("getxattr length", getxattr("attributed", "user.colour", NULL, 0));
  SHOW("getxattr small buffer", getxattr("attributed", "user.colour", value, 2));
  SHOW("getxattr missing", getxattr("attributed", "user.none", value, sizeof(value)));
  // Linux lists the names in no fixed order.
  char list[64] = {0};
  long length = SHOW("listxattr", listxattr("attributed", list, sizeof(list)));
  bool has_user = false;
  bool has_trusted = false;
  for (long position = 0; position < length; position += (long)strlen(list + position) + 1) {
    has_user |= strcmp(list + position, "user.colour") == 0;
    has_trusted |= strcmp(list + position, "trusted.note") == 0;
  }
  EXPECT("listxattr has user.colour", has_user);
  EXPECT("listxattr has trusted.note", has_trusted);
  SHOW("removexattr", removexattr("attributed", "user.colour"));
  SHOW("removexattr missing", removexattr("attributed", "user.colour"));
  SHOW("setxattr user on symlink", lsetxattr("soft", "user.x", "1", 1, 0));
}

int main(void) {
  enter_scratch();
  check_create_flags();
  check_tmpfile();
  check_unlinked();
  check_links();
  check_special_nodes();
  check_sizes();
  check_xattrs();
  return check_failures != 0;
}
