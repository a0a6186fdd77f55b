// Tries the common kinds of write in the directory named by argv[1] and prints
// each result. Under `ward do --overlay none` the host root is read-only, so
// each call must fail with EROFS; on the default overlay root each succeeds. Natively each call succeeds, so the native run only
// proves that the program works. On Linux 6.18 each call fails with EROFS
// in a directory bind-mounted read-only (mount -o remount,bind,ro).
//
// The directory must contain a file "existing", a file "to_unlink" and an
// empty directory "subdir". The calls that change names come last, so that
// natively every call finds what it needs.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

// Returns DIRECTORY/NAME in a new allocation, never freed.
static const char* in_directory(const char* directory, const char* name) {
  char* path = malloc(strlen(directory) + strlen(name) + 2);
  sprintf(path, "%s/%s", directory, name);
  return path;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: erofs_writes DIRECTORY\n");
    return 2;
  }
  const char* directory = argv[1];
  const char* existing = in_directory(directory, "existing");

  SHOW_OK("open O_CREAT new file",
          open(in_directory(directory, "created"), O_CREAT | O_WRONLY, 0644));
  SHOW_OK("open O_CREAT|O_EXCL new file",
          open(in_directory(directory, "created_excl"), O_CREAT | O_EXCL | O_WRONLY, 0644));
  SHOW_OK("creat new file", creat(in_directory(directory, "created_by_creat"), 0644));
  SHOW_OK("open existing O_WRONLY", open(existing, O_WRONLY));
  SHOW_OK("open existing O_RDWR", open(existing, O_RDWR));
  SHOW_OK("open existing O_RDONLY|O_TRUNC", open(existing, O_RDONLY | O_TRUNC));
  SHOW_OK("open existing O_WRONLY|O_APPEND", open(existing, O_WRONLY | O_APPEND));
  SHOW_OK("open O_TMPFILE in the directory", open(directory, O_TMPFILE | O_WRONLY, 0600));
  SHOW_OK("access existing W_OK", access(existing, W_OK));
  SHOW_OK("truncate existing", truncate(existing, 0));
  SHOW_OK("chmod existing", chmod(existing, 0600));
  SHOW_OK("chown existing", chown(existing, getuid(), getgid()));
  SHOW_OK("utimensat existing", utimensat(AT_FDCWD, existing, NULL, 0));
  SHOW_OK("link existing", link(existing, in_directory(directory, "hard_link")));
  SHOW_OK("symlink in the directory",
          symlink("existing", in_directory(directory, "symbolic_link")));
  SHOW_OK("mknod a FIFO", mknod(in_directory(directory, "fifo"), S_IFIFO | 0644, 0));
  SHOW_OK("mkdir", mkdir(in_directory(directory, "new_directory"), 0755));
  SHOW_OK("rmdir subdir", rmdir(in_directory(directory, "subdir")));
  SHOW_OK("rename existing", rename(existing, in_directory(directory, "renamed")));
  SHOW_OK("unlink to_unlink", unlink(in_directory(directory, "to_unlink")));
  return finish_checks();
}
