// Permission rules on tmpfs, as root and as an unprivileged user in a
// forked child: chmod, chown, utimensat, the sticky bit, setgid
// directories, and creating and removing without write permission.
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tmpfs_common.h"

enum { kUser = 1000, kGroup = 1000, kOtherUser = 1001, kOtherGroup = 1001 };

static void show_owner(const char* label, const char* path) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    printf("%s: lstat = -1 %s\n", label, errno_name(errno));
    return;
  }
  printf("%s: mode %#o uid %u gid %u\n", label, st.st_mode, st.st_uid, st.st_gid);
}

static void make_file(const char* path, mode_t mode, uid_t uid, gid_t gid) {
  close(open(path, O_CREAT | O_WRONLY, 0600));
  chown(path, uid, gid);
  chmod(path, mode);
}

static void check_as_root(void) {
  make_file("root-file", 06755, 0, 0);
  show_owner("root-file", "root-file");
  SHOW("chown keeps root", chown("root-file", -1, -1));
  show_owner("after chown -1 -1", "root-file");
  chmod("root-file", 06755);
  SHOW("chown to user", chown("root-file", kUser, kGroup));
  show_owner("after chown", "root-file");
  SHOW("chmod", chmod("root-file", 0640));
  show_owner("after chmod", "root-file");
  symlink("root-file", "link");
  SHOW("lchown", lchown("link", kUser, kGroup));
  show_owner("link", "link");
  SHOW("fchmodat2 symlink", syscall(452, AT_FDCWD, "link", 0600, AT_SYMLINK_NOFOLLOW));

  struct timespec times[2] = {{1000000000, 5}, {1100000000, 6}};
  SHOW("utimensat explicit", utimensat(AT_FDCWD, "root-file", times, 0));
  struct stat st;
  stat("root-file", &st);
  show_value("atime", (long)st.st_atim.tv_sec);
  show_value("mtime", (long)st.st_mtim.tv_sec);
  show_value("mtime ns", st.st_mtim.tv_nsec);
  struct timespec omit_atime[2] = {{0, UTIME_OMIT}, {1200000000, 0}};
  SHOW("utimensat UTIME_OMIT", utimensat(AT_FDCWD, "root-file", omit_atime, 0));
  stat("root-file", &st);
  show_value("atime kept", (long)st.st_atim.tv_sec);
  show_value("mtime set", (long)st.st_mtim.tv_sec);
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  SHOW("utimensat bad nsec", utimensat(AT_FDCWD, "root-file", bad, 0));

  // A write moves mtime and ctime.
  int fd = open("root-file", O_WRONLY);
  write(fd, "x", 1);
  close(fd);
  stat("root-file", &st);
  EXPECT("write moved mtime", st.st_mtim.tv_sec > 1200000000);

  // Directories for the unprivileged child.
  mkdir("sticky", 01777);
  chmod("sticky", 01777);
  make_file("sticky/root-owned", 0666, 0, 0);
  make_file("sticky/user-owned", 0666, kOtherUser, kOtherGroup);
  mkdir("closed", 0755);
  make_file("closed/file", 0666, 0, 0);
  mkdir("setgid", 02777);
  chown("setgid", 0, kOtherGroup);
  chmod("setgid", 02777);
  make_file("user-file", 0644, kUser, kGroup);
  make_file("other-file", 0666, kOtherUser, kOtherGroup);
  make_file("setid-file", 06755, kUser, kGroup);
  make_file("readonly-file", 0444, kOtherUser, kOtherGroup);
}

static void check_as_user(void) {
  gid_t groups[] = {kGroup};
  if (setgroups(1, groups) != 0 || setgid(kGroup) != 0 || setuid(kUser) != 0) {
    printf("dropping privileges failed: %s\n", errno_name(errno));
    _exit(3);
  }
  SHOW("user chmod own", chmod("user-file", 0600));
  SHOW("user chmod other's", chmod("other-file", 0600));
  SHOW("user chmod setgid, foreign group", (chown("user-file", -1, kGroup), chmod("user-file", 02755)));
  show_owner("user-file", "user-file");
  SHOW("user chown to other", chown("user-file", kOtherUser, -1));
  SHOW("user chown to self", chown("user-file", kUser, -1));
  SHOW("user chgrp foreign group", chown("user-file", -1, kOtherGroup));
  SHOW("user chgrp own group", chown("user-file", -1, kGroup));
  SHOW("user chown other's file", chown("other-file", -1, kGroup));
  SHOW("user chown setid file", chown("setid-file", -1, kGroup));
  show_owner("setid-file after chown", "setid-file");

  struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  SHOW("user utimensat explicit on other's", utimensat(AT_FDCWD, "other-file", times, 0));
  SHOW("user utimensat now on writable other's", utimensat(AT_FDCWD, "other-file", NULL, 0));
  SHOW("user utimensat now on read-only other's", utimensat(AT_FDCWD, "readonly-file", NULL, 0));
  struct timespec now_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  SHOW("user utimensat now+omit on other's", utimensat(AT_FDCWD, "other-file", now_omit, 0));
  SHOW("user utimensat explicit on own", utimensat(AT_FDCWD, "user-file", times, 0));

  SHOW("user create in closed dir", open("closed/new", O_CREAT | O_WRONLY, 0644));
  SHOW("user unlink in closed dir", unlink("closed/file"));
  SHOW("user mkdir in closed dir", mkdir("closed/sub", 0755));
  SHOW("user rename into closed dir", rename("user-file", "closed/moved"));
  SHOW("user open read-only file for writing", open("readonly-file", O_WRONLY));
  SHOW("user truncate read-only file", truncate("readonly-file", 0));
  SHOW("user link to other's read-only file", link("readonly-file", "hard"));

  SHOW("user unlink root's file in sticky dir", unlink("sticky/root-owned"));
  SHOW("user rename root's file in sticky dir", rename("sticky/root-owned", "sticky/x"));
  SHOW("user unlink other user's file in sticky dir", unlink("sticky/user-owned"));
  int fd = open("sticky/mine", O_CREAT | O_WRONLY, 0644);
  close(fd);
  SHOW("user unlink own file in sticky dir", unlink("sticky/mine"));

  close(open("setgid/new", O_CREAT | O_WRONLY, 02755));
  show_owner("file in setgid dir", "setgid/new");
  mkdir("setgid/subdir", 0755);
  show_owner("dir in setgid dir", "setgid/subdir");
  int written = open("setid-file", O_WRONLY);
  SHOW("user ftruncate setid file", ftruncate(written, 0));
  close(written);
  show_owner("setid-file after truncate", "setid-file");
}

int main(void) {
  enter_scratch();
  chmod(".", 0777);
  check_as_root();
  pid_t child = fork();
  if (child == 0) {
    check_as_user();
    fflush(stdout);
    _exit(check_failures != 0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_value("child exit", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return check_failures != 0;
}
