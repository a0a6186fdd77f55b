// chroot: the errors of chroot(2), then a forked child that changes its
// root to a directory of the working directory and looks around with
// plain syscalls only, since no library of the host is reachable there.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void run_child(void) {
  struct stat outer_root;
  stat("/", &outer_root);
  SHOW("chroot root", chroot("root"));

  struct stat new_root, dot_dot, inner;
  stat("/", &new_root);
  EXPECT("root changed", new_root.st_ino != outer_root.st_ino);
  SHOW("stat /inner", stat("/inner", &inner));
  SHOW("stat /..", stat("/..", &dot_dot));
  EXPECT("/.. is the new root", dot_dot.st_ino == new_root.st_ino);
  SHOW("stat /../../inner", stat("/../../inner", &inner));
  SHOW("open /marker", open("/marker", O_RDONLY) >= 0 ? 0 : -1);
  SHOW("open /root/marker", open("/root/marker", O_RDONLY));
  SHOW("readlink /link", readlink("/link", (char[64]){0}, 64));
  SHOW("stat through an absolute symlink", stat("/link/x", &inner));
  SHOW("chdir /", chdir("/"));
  char cwd[64] = {0};
  SHOW("getcwd", getcwd(cwd, sizeof(cwd)) != NULL ? 0 : -1);
  show_string("cwd", cwd);
  SHOW("chdir ..", chdir(".."));
  getcwd(cwd, sizeof(cwd));
  show_string("cwd after ..", cwd);

  // A chroot inside the chroot is relative to the new root.
  SHOW("chroot /inner", chroot("/inner"));
  SHOW("stat /x", stat("/x", &inner));

  // Without CAP_SYS_CHROOT: EACCES comes first, then EPERM.
  SHOW("setuid nobody", setuid(65534));
  SHOW("chroot as nobody", chroot("/"));
  SHOW("chroot private as nobody", chroot("/private"));
}

int main(void) {
  mkdir("root", 0755);
  mkdir("root/inner", 0755);
  mkdir("root/inner/x", 0755);
  mkdir("root/inner/private", 0700);
  close(open("root/marker", O_CREAT | O_WRONLY, 0644));
  symlink("/inner", "root/link");
  close(open("file", O_CREAT | O_WRONLY, 0644));

  SHOW("chroot missing", chroot("missing"));
  SHOW("chroot file", chroot("file"));
  SHOW("chroot file/", chroot("file/"));
  SHOW("chroot empty", chroot(""));
  SHOW("chroot bad pointer", chroot((const char*)1));

  pid_t child = fork();
  if (child == 0) {
    run_child();
    fflush(stdout);
    _exit(check_failures == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_value("child exit status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  // The parent's root did not change.
  struct stat st;
  SHOW("parent stat root/marker", stat("root/marker", &st));
  return check_failures == 0 && status == 0 ? 0 : 1;
}
