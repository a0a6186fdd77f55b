// mount_basic: mount(2), umount2(2) and unshare(CLONE_NEWNS). The program
// first moves into a mount namespace of its own and makes every mount in
// it private, so that a native run never changes the host's mount table.
// It mounts only on directories under a fresh directory in /tmp, which it
// removes at the end.
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static char base[64];

// `name` below the test's directory, in a static buffer of `slot`.
static const char* at(int slot, const char* name) {
  static char paths[4][256];
  snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", base, name);
  return paths[slot];
}

// Prints the source, type and ro or rw of the mount at `name` in
// /proc/self/mounts, or "absent". The last entry wins, because the topmost
// mount is listed last. With `access_only`, only ro or rw is printed,
// because a bind shows its source filesystem, which differs between the
// host and ward.
static void show_mount_entry(const char* label, const char* name, bool access_only) {
  char wanted[300];
  snprintf(wanted, sizeof(wanted), "%s/%s", base, name);
  FILE* mounts = fopen("/proc/self/mounts", "r");
  if (mounts == NULL) {
    show_string(label, "no /proc/self/mounts");
    return;
  }
  char line[1024];
  char found[600] = "absent";
  while (fgets(line, sizeof(line), mounts) != NULL) {
    char source[256], point[300], type[64], options[256];
    if (sscanf(line, "%255s %299s %63s %255s", source, point, type, options) != 4) {
      continue;
    }
    if (strcmp(point, wanted) == 0) {
      // Only the first option (ro or rw): Linux lists more than ward.
      char* comma = strchr(options, ',');
      if (comma != NULL) {
        *comma = '\0';
      }
      if (access_only) {
        snprintf(found, sizeof(found), "%s", options);
      } else {
        snprintf(found, sizeof(found), "%s %s %s", source, type, options);
      }
    }
  }
  fclose(mounts);
  show_string(label, found);
}

static int write_file(const char* path, const char* text) {
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
  if (fd < 0) {
    return -1;
  }
  ssize_t written = write(fd, text, strlen(text));
  close(fd);
  return written == (ssize_t)strlen(text) ? 0 : -1;
}

static void tmpfs_mount(void) {
  SHOW("mount tmpfs", mount("none", at(0, "a"), "tmpfs", 0, "size=1m,mode=0750"));
  struct stat st;
  SHOW("stat a", stat(at(0, "a"), &st));
  show_value("tmpfs root mode", st.st_mode & 07777);
  struct statfs fs;
  SHOW("statfs a", statfs(at(0, "a"), &fs));
  EXPECT("statfs type is tmpfs", fs.f_type == TMPFS_MAGIC);
  show_value("tmpfs size bytes", (long)(fs.f_blocks * fs.f_bsize));
  show_mount_entry("mounts entry a", "a", false);
  SHOW("write a/f", write_file(at(0, "a/f"), "data\n"));
  SHOW("stat a/f", stat(at(0, "a/f"), &st));
  SHOW("umount a", umount(at(0, "a")));
  SHOW("stat a/f after umount", stat(at(0, "a/f"), &st));
  show_mount_entry("mounts entry a after umount", "a", false);

  // Options the type rejects.
  SHOW("tmpfs size=1q", mount("none", at(0, "a"), "tmpfs", 0, "size=1q"));
  SHOW("tmpfs size= empty", mount("none", at(0, "a"), "tmpfs", 0, "size="));
  SHOW("tmpfs nr_blocks= empty", mount("none", at(0, "a"), "tmpfs", 0, "nr_blocks="));
  SHOW("tmpfs unknown option", mount("none", at(0, "a"), "tmpfs", 0, "bogus"));
  SHOW("tmpfs mode=9", mount("none", at(0, "a"), "tmpfs", 0, "mode=9"));
}

static void bind_mounts(void) {
  SHOW("write src/file", write_file(at(0, "src/file"), "source\n"));
  SHOW("bind src on b", mount(at(0, "src"), at(1, "b"), NULL, MS_BIND, NULL));
  struct stat st;
  SHOW("stat b/file", stat(at(0, "b/file"), &st));
  SHOW("write b/new", write_file(at(0, "b/new"), "through the bind\n"));
  SHOW("stat src/new", stat(at(0, "src/new"), &st));

  // MS_RDONLY with MS_BIND alone is ignored; a remount applies it.
  SHOW("remount b read-only",
       mount(NULL, at(0, "b"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
  SHOW("create on read-only bind", open(at(0, "b/other"), O_CREAT | O_WRONLY, 0644));
  SHOW("write src/other", write_file(at(0, "src/other"), "still writable\n"));
  struct statvfs vfs;
  SHOW("statvfs b", statvfs(at(0, "b"), &vfs));
  EXPECT("b is ST_RDONLY", (vfs.f_flag & ST_RDONLY) != 0);
  show_mount_entry("mounts entry b", "b", true);
  SHOW("remount b read-write", mount(NULL, at(0, "b"), NULL, MS_REMOUNT | MS_BIND, NULL));
  SHOW("write b/again", write_file(at(0, "b/again"), "writable again\n"));
  SHOW("umount b", umount(at(0, "b")));
  SHOW("stat b/file after umount", stat(at(0, "b/file"), &st));

  // A recursive bind carries the mounts below the source along.
  SHOW("mkdir src/sub", mkdir(at(0, "src/sub"), 0755));
  SHOW("mount tmpfs on src/sub", mount("none", at(0, "src/sub"), "tmpfs", 0, NULL));
  SHOW("write src/sub/inner", write_file(at(0, "src/sub/inner"), "inner\n"));
  SHOW("bind src on b", mount(at(0, "src"), at(1, "b"), NULL, MS_BIND, NULL));
  SHOW("stat b/sub/inner (plain bind)", stat(at(0, "b/sub/inner"), &st));
  SHOW("umount b", umount(at(0, "b")));
  SHOW("rbind src on b", mount(at(0, "src"), at(1, "b"), NULL, MS_BIND | MS_REC, NULL));
  SHOW("stat b/sub/inner (recursive bind)", stat(at(0, "b/sub/inner"), &st));
  SHOW("umount b with a mount below", umount(at(0, "b")));
  SHOW("umount b/sub", umount(at(0, "b/sub")));
  SHOW("umount b", umount(at(0, "b")));
  SHOW("umount src/sub", umount(at(0, "src/sub")));

  SHOW("bind missing source", mount(at(0, "missing"), at(1, "b"), NULL, MS_BIND, NULL));
  SHOW("bind null source", mount(NULL, at(0, "b"), NULL, MS_BIND, NULL));
  SHOW("bind a file on a directory", mount(at(0, "src/file"), at(1, "b"), NULL, MS_BIND, NULL));
}

static void remounts(void) {
  SHOW("mount tmpfs noexec", mount("none", at(0, "a"), "tmpfs", MS_NOEXEC | MS_NOSUID, NULL));
  SHOW("write a/script", write_file(at(0, "a/script"), "#!/bin/sh\nexit 0\n"));
  SHOW("access X_OK on noexec", access(at(0, "a/script"), X_OK));
  pid_t child = fork();
  if (child == 0) {
    char* argv[] = {"script", NULL};
    execve(at(0, "a/script"), argv, environ);
    printf("execve on noexec = -1 %s\n", errno_name(errno));
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  struct statvfs vfs;
  SHOW("statvfs a", statvfs(at(0, "a"), &vfs));
  EXPECT("a is ST_NOEXEC", (vfs.f_flag & ST_NOEXEC) != 0);
  EXPECT("a is ST_NOSUID", (vfs.f_flag & ST_NOSUID) != 0);

  SHOW("remount a read-only", mount(NULL, at(0, "a"), NULL, MS_REMOUNT | MS_RDONLY, NULL));
  SHOW("write on read-only tmpfs", open(at(0, "a/x"), O_CREAT | O_WRONLY, 0644));
  SHOW("mkdir on read-only tmpfs", mkdir(at(0, "a/d"), 0755));
  SHOW("remount a read-write", mount(NULL, at(0, "a"), NULL, MS_REMOUNT, NULL));
  SHOW("write after remount", write_file(at(0, "a/x"), "x\n"));
  SHOW("access X_OK after remount", access(at(0, "a/script"), X_OK));
  SHOW("remount a size=2m", mount(NULL, at(0, "a"), NULL, MS_REMOUNT, "size=2m"));
  struct statfs fs;
  statfs(at(0, "a"), &fs);
  show_value("tmpfs size bytes after remount", (long)(fs.f_blocks * fs.f_bsize));
  SHOW("remount a non-mount", mount(NULL, at(0, "src"), NULL, MS_REMOUNT, NULL));

  // Propagation changes need a mount root and exactly one type.
  SHOW("make a private", mount(NULL, at(0, "a"), NULL, MS_PRIVATE, NULL));
  SHOW("make a slave", mount(NULL, at(0, "a"), NULL, MS_SLAVE | MS_REC, NULL));
  SHOW("make a unbindable", mount(NULL, at(0, "a"), NULL, MS_UNBINDABLE, NULL));
  SHOW("bind unbindable a", mount(at(0, "a"), at(1, "b"), NULL, MS_BIND, NULL));
  SHOW("private and slave", mount(NULL, at(0, "a"), NULL, MS_PRIVATE | MS_SLAVE, NULL));
  SHOW("private with noexec", mount(NULL, at(0, "a"), NULL, MS_PRIVATE | MS_NOEXEC, NULL));
  SHOW("private on a non-mount", mount(NULL, at(0, "src"), NULL, MS_PRIVATE, NULL));
  SHOW("make a private again", mount(NULL, at(0, "a"), NULL, MS_PRIVATE, NULL));

  // MS_MOVE takes the mount, files and all, to another place.
  SHOW("move a to b", mount(at(0, "a"), at(1, "b"), NULL, MS_MOVE, NULL));
  struct stat st;
  SHOW("stat b/x after move", stat(at(0, "b/x"), &st));
  SHOW("stat a/x after move", stat(at(0, "a/x"), &st));
  SHOW("move a non-mount", mount(at(0, "src"), at(1, "a"), NULL, MS_MOVE, NULL));
  SHOW("umount b", umount(at(0, "b")));
}

static void busy_mounts(void) {
  SHOW("mount tmpfs", mount("none", at(0, "a"), "tmpfs", 0, NULL));
  int fd = open(at(0, "a/open"), O_CREAT | O_RDWR, 0644);
  SHOW("open a/open", fd >= 0 ? 0 : -1);
  SHOW("umount with an open file", umount(at(0, "a")));
  SHOW("umount MNT_FORCE with an open file", umount2(at(0, "a"), MNT_FORCE));
  SHOW("umount MNT_DETACH", umount2(at(0, "a"), MNT_DETACH));
  SHOW("write to the detached file", write(fd, "kept\n", 5));
  struct stat st;
  SHOW("fstat the detached file", fstat(fd, &st));
  SHOW("stat a/open after detach", stat(at(0, "a/open"), &st));
  close(fd);

  SHOW("mount tmpfs", mount("none", at(0, "a"), "tmpfs", 0, NULL));
  SHOW("chdir a", chdir(at(0, "a")));
  SHOW("umount the cwd", umount(at(0, "a")));
  SHOW("chdir /", chdir("/"));
  SHOW("umount after leaving", umount(at(0, "a")));

  // A directory on a detached mount takes no new mount: ENOENT, as the
  // mount is in no namespace any more.
  SHOW("mount tmpfs", mount("none", at(0, "a"), "tmpfs", 0, NULL));
  SHOW("mkdir a/sub", mkdir(at(0, "a/sub"), 0755));
  SHOW("chdir a/sub", chdir(at(0, "a/sub")));
  SHOW("umount MNT_DETACH the cwd", umount2(at(0, "a"), MNT_DETACH));
  SHOW("mount tmpfs on the detached cwd", mount("none", ".", "tmpfs", 0, NULL));
  SHOW("bind on the detached cwd", mount(at(0, "src"), ".", NULL, MS_BIND, NULL));
  SHOW("bind the detached cwd", mount(".", at(0, "b"), NULL, MS_BIND, NULL));
  SHOW("chdir /", chdir("/"));

  SHOW("mount tmpfs", mount("none", at(0, "a"), "tmpfs", 0, NULL));
  SHOW("mkdir a/sub", mkdir(at(0, "a/sub"), 0755));
  SHOW("mount tmpfs on a/sub", mount("none", at(0, "a/sub"), "tmpfs", 0, NULL));
  SHOW("umount with a child mount", umount(at(0, "a")));
  SHOW("umount a/sub", umount(at(0, "a/sub")));
  SHOW("umount MNT_FORCE", umount2(at(0, "a"), MNT_FORCE));

  // MNT_EXPIRE marks first and unmounts on the second call.
  SHOW("mount tmpfs", mount("none", at(0, "a"), "tmpfs", 0, NULL));
  SHOW("MNT_EXPIRE with MNT_DETACH", umount2(at(0, "a"), MNT_EXPIRE | MNT_DETACH));
  SHOW("MNT_EXPIRE first", umount2(at(0, "a"), MNT_EXPIRE));
  SHOW("MNT_EXPIRE second", umount2(at(0, "a"), MNT_EXPIRE));

  // A symlink to a mount point: followed unless UMOUNT_NOFOLLOW.
  SHOW("mount tmpfs", mount("none", at(0, "a"), "tmpfs", 0, NULL));
  SHOW("symlink to a", symlink(at(0, "a"), at(1, "link")));
  SHOW("umount link UMOUNT_NOFOLLOW", umount2(at(0, "link"), UMOUNT_NOFOLLOW));
  SHOW("umount link", umount2(at(0, "link"), 0));
  unlink(at(0, "link"));
}

// A child that unshares its mount namespace mounts in its own copy. That
// mount is absent from the parent's tree, and the parent's earlier mounts
// are present in the child's.
static void namespace_copies(void) {
  SHOW("mount tmpfs on a", mount("none", at(0, "a"), "tmpfs", 0, NULL));
  pid_t child = fork();
  if (child == 0) {
    SHOW("child unshare CLONE_NEWNS", unshare(CLONE_NEWNS));
    struct stat st;
    SHOW("child write on the parent's tmpfs", write_file(at(0, "a/shared"), "shared\n"));
    SHOW("child mount tmpfs on b", mount("none", at(0, "b"), "tmpfs", 0, NULL));
    SHOW("child write b/f", write_file(at(0, "b/f"), "child\n"));
    SHOW("child umount a", umount(at(0, "a")));
    SHOW("child stat a/shared", stat(at(0, "a/shared"), &st));
    show_mount_entry("child mounts entry b", "b", false);
    fflush(stdout);
    _exit(check_failures == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_value("child exit status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  struct stat st;
  SHOW("parent stat b/f", stat(at(0, "b/f"), &st));
  show_mount_entry("parent mounts entry b", "b", false);
  SHOW("parent stat a/shared", stat(at(0, "a/shared"), &st));
  SHOW("parent umount a", umount(at(0, "a")));
}

// clone(CLONE_NEWNS) gives the child a copy of the mount tree, as unshare
// does; with CLONE_FS it is EINVAL.
static void clone_namespace(void) {
  SHOW("clone CLONE_NEWNS|CLONE_FS",
       syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, NULL, NULL, NULL, 0));
  long child = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
  if (child == 0) {
    SHOW("clone child mount tmpfs on b", mount("none", at(0, "b"), "tmpfs", 0, NULL));
    show_mount_entry("clone child mounts entry b", "b", false);
    fflush(stdout);
    _exit(check_failures == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid((pid_t)child, &status, 0);
  show_value("clone child exit status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  show_mount_entry("parent mounts entry b after clone", "b", false);
}

// proc and sysfs mounted again elsewhere show the same files.
static void kernel_filesystems(void) {
  SHOW("mount proc on a", mount("proc", at(0, "a"), "proc", MS_NOSUID | MS_NODEV, NULL));
  struct stat st;
  SHOW("stat a/self/status", stat(at(0, "a/self/status"), &st));
  show_mount_entry("mounts entry a", "a", false);
  SHOW("umount a", umount(at(0, "a")));
  SHOW("mount proc with an unknown option", mount("proc", at(0, "a"), "proc", 0, "bogus"));
  SHOW("mount sysfs on a", mount("sysfs", at(0, "a"), "sysfs", 0, NULL));
  SHOW("stat a/devices/system/cpu", stat(at(0, "a/devices/system/cpu"), &st));
  // sysfs refuses to open a read-only attribute for writing, even for root.
  SHOW("open a read-only attribute O_WRONLY",
       open(at(0, "a/devices/system/cpu/online"), O_WRONLY));
  SHOW("open a read-only attribute O_RDWR", open(at(0, "a/devices/system/cpu/online"), O_RDWR));
  SHOW("umount a", umount(at(0, "a")));
}

// Each recursive bind of the test directory into itself doubles the mounts
// below it. Linux's fs.mount-max (100000 by default) stops the 17th with
// ENOSPC.
static void mount_limit(void) {
  SHOW("mkdir a/deep", mkdir(at(0, "a/deep"), 0755));
  int binds = 0;
  int result = 0;
  int error = 0;
  while (binds < 40) {
    errno = 0;
    result = mount(base, at(0, "a/deep"), NULL, MS_BIND | MS_REC, NULL);
    error = errno;
    if (result != 0) {
      break;
    }
    binds++;
  }
  show_value("recursive binds before the limit", binds);
  show_result("recursive bind past the limit", result, error);
  SHOW("umount MNT_DETACH the binds", umount2(at(0, "a/deep"), MNT_DETACH));
  rmdir(at(0, "a/deep"));
}

static void bad_calls(void) {
  SHOW("umount a non-mount", umount(at(0, "src")));
  SHOW("umount missing", umount(at(0, "missing")));
  SHOW("umount2 unknown flag", umount2(at(0, "a"), 0x100));
  SHOW("umount2 bad pointer", umount2((const char*)1, 0));
  SHOW("unknown fs type", mount("none", at(0, "a"), "nosuchfs", 0, NULL));
  SHOW("empty fs type", mount("none", at(0, "a"), "", 0, NULL));
  SHOW("null fs type", mount("none", at(0, "a"), NULL, 0, NULL));
  SHOW("mount on missing", mount("none", at(0, "missing"), "tmpfs", 0, NULL));
  SHOW("mount tmpfs on a file", mount("none", at(0, "src/file"), "tmpfs", 0, NULL));
  SHOW("MS_NOUSER", mount("none", at(0, "a"), "tmpfs", MS_NOUSER, NULL));
  SHOW("bad source pointer", mount((const char*)1, at(0, "a"), "tmpfs", 0, NULL));
  SHOW("bad target pointer", mount("none", (const char*)1, "tmpfs", 0, NULL));
  SHOW("bad type pointer", mount("none", at(0, "a"), (const char*)1, 0, NULL));
  SHOW("bad data pointer", mount("none", at(0, "a"), "tmpfs", 0, (const void*)1));
}

static void as_nobody(void) {
  SHOW("mount tmpfs", mount("none", at(0, "a"), "tmpfs", 0, NULL));
  pid_t child = fork();
  if (child == 0) {
    SHOW("setuid nobody", setuid(65534));
    SHOW("mount as nobody", mount("none", at(0, "b"), "tmpfs", 0, NULL));
    SHOW("mount on missing as nobody", mount("none", at(0, "missing"), "tmpfs", 0, NULL));
    SHOW("umount as nobody", umount(at(0, "a")));
    SHOW("unshare CLONE_NEWNS as nobody", unshare(CLONE_NEWNS));
    fflush(stdout);
    _exit(check_failures == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_value("child exit status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  SHOW("umount a", umount(at(0, "a")));
}

int main(void) {
  SHOW("unshare bad flag", unshare(0x1));
  if (unshare(CLONE_NEWNS) != 0) {
    printf("unshare CLONE_NEWNS = -1 %s\n", errno_name(errno));
    return 1;
  }
  SHOW("make every mount private", mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));

  strcpy(base, "/tmp/ward-mount-XXXXXX");
  if (mkdtemp(base) == NULL) {
    printf("mkdtemp failed\n");
    return 1;
  }
  // The child that changes to uid 65534 must be able to search it.
  chmod(base, 0755);
  mkdir(at(0, "a"), 0755);
  mkdir(at(0, "b"), 0755);
  mkdir(at(0, "src"), 0755);

  tmpfs_mount();
  bind_mounts();
  remounts();
  busy_mounts();
  namespace_copies();
  clone_namespace();
  kernel_filesystems();
  mount_limit();
  bad_calls();
  as_nobody();

  // Leave nothing behind: detach whatever a failed step left mounted.
  umount2(at(0, "src/sub"), MNT_DETACH);
  umount2(at(0, "a"), MNT_DETACH);
  umount2(at(0, "b"), MNT_DETACH);
  const char* files[] = {"src/file", "src/new", "src/other", "src/again", "a/f", "a/script",
                         "a/x",      "a/open",  "link"};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    unlink(at(0, files[i]));
  }
  rmdir(at(0, "src/sub"));
  rmdir(at(0, "src"));
  rmdir(at(0, "a"));
  rmdir(at(0, "b"));
  SHOW("remove the test directory", rmdir(base));
  return check_failures == 0 ? 0 : 1;
}
