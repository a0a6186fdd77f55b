// Reads host files and directories: open, openat, read, pread64, readv,
// lseek, fstat, newfstatat, statx and getdents64.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static const char kFile[] = "/usr/include/linux/stat.h";
static const char kDirectory[] = "/usr/include/linux/tc_act";

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static void check_stat_and_read(void) {
  int fd = SHOW("open file", open(kFile, O_RDONLY));
  struct stat by_fd = {0};
  struct stat by_path = {0};
  SHOW("fstat", fstat(fd, &by_fd));
  SHOW("stat", stat(kFile, &by_path));
  EXPECT("fstat and stat agree on st_ino", by_fd.st_ino == by_path.st_ino);
  EXPECT("fstat and stat agree on st_dev", by_fd.st_dev == by_path.st_dev);
  EXPECT("S_ISREG", S_ISREG(by_fd.st_mode));
  show_octal("st_mode", by_fd.st_mode);
  show_value("st_nlink", (long)by_fd.st_nlink);
  show_value("st_uid", by_fd.st_uid);
  show_value("st_gid", by_fd.st_gid);
  show_value("st_size", by_fd.st_size);
  show_value("st_blksize", by_fd.st_blksize);
  show_value("st_blocks", by_fd.st_blocks);
  EXPECT("st_mtim equals stat's", by_fd.st_mtim.tv_sec == by_path.st_mtim.tv_sec &&
                                      by_fd.st_mtim.tv_nsec == by_path.st_mtim.tv_nsec);

  size_t size = (size_t)by_fd.st_size;
  char* contents = malloc(size + 1);
  size_t total = 0;
  for (int reads = 0; reads < 1000 && total < size; reads++) {
    ssize_t got = read(fd, contents + total, size + 1 - total);
    if (got <= 0) {
      break;
    }
    total += (size_t)got;
  }
  EXPECT("read returns st_size bytes in all", total == size);
  show_hex("fnv1a of the contents", fnv1a(contents, total));
  char byte;
  SHOW("read at end of file", read(fd, &byte, 1));
  SHOW("read of 0 bytes", read(fd, &byte, 0));

  // lseek, including SEEK_DATA and SEEK_HOLE on a file without holes.
  long end = (long)size;
  SHOW("lseek SEEK_SET 10", lseek(fd, 10, SEEK_SET));
  SHOW("lseek SEEK_CUR 5", lseek(fd, 5, SEEK_CUR));
  EXPECT("lseek SEEK_END 0 is st_size", lseek(fd, 0, SEEK_END) == end);
  EXPECT("lseek SEEK_END -1 is st_size - 1", lseek(fd, -1, SEEK_END) == end - 1);
  SHOW("lseek SEEK_SET -1", lseek(fd, -1, SEEK_SET));
  SHOW("lseek SEEK_END to before 0", lseek(fd, -(end + 10), SEEK_END));
  SHOW("lseek whence 7", lseek(fd, 0, 7));
  SHOW("lseek SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
  EXPECT("lseek SEEK_HOLE 0 is st_size", lseek(fd, 0, SEEK_HOLE) == end);
  SHOW("lseek SEEK_DATA at st_size", lseek(fd, end, SEEK_DATA));
  SHOW("lseek SEEK_HOLE past st_size", lseek(fd, end + 10, SEEK_HOLE));
  SHOW("lseek SEEK_DATA -1", lseek(fd, -1, SEEK_DATA));
  SHOW("lseek past the end", lseek(fd, 1000000, SEEK_SET));
  SHOW("read past the end", read(fd, &byte, 1));
  SHOW("lseek on bad fd", lseek(999, 0, SEEK_SET));

  // pread64 leaves the offset alone.
  char head[16];
  SHOW("lseek SEEK_SET 3", lseek(fd, 3, SEEK_SET));
  SHOW("pread64 16 at 0", pread(fd, head, sizeof(head), 0));
  EXPECT("pread64 data equals read data", memcmp(head, contents, sizeof(head)) == 0);
  SHOW("offset after pread64", lseek(fd, 0, SEEK_CUR));
  SHOW("pread64 at -1", pread(fd, head, sizeof(head), -1));
  EXPECT("pread64 at st_size - 4 returns 4", pread(fd, head, sizeof(head), end - 4) == 4);
  SHOW("pread64 past the end", pread(fd, head, sizeof(head), end + 100));
  SHOW("pread64 into a bad pointer", pread(fd, (void*)1, 16, 0));

  // readv scatters in order and skips empty vectors.
  char first[1];
  char third[7];
  struct iovec vectors[3] = {{first, sizeof(first)}, {NULL, 0}, {third, sizeof(third)}};
  SHOW("lseek SEEK_SET 0", lseek(fd, 0, SEEK_SET));
  SHOW("readv 1+0+7", readv(fd, vectors, 3));
  EXPECT("readv first vector", first[0] == contents[0]);
  EXPECT("readv third vector", memcmp(third, contents + 1, sizeof(third)) == 0);
  SHOW("offset after readv", lseek(fd, 0, SEEK_CUR));
  SHOW("readv with count -1", readv(fd, vectors, -1));
  SHOW("readv with count 1025", readv(fd, vectors, 1025));
  SHOW("readv with count 0", readv(fd, vectors, 0));
  SHOW("readv with a bad vector array", readv(fd, (struct iovec*)1, 1));
  SHOW("preadv 1+0+7 at 2", preadv(fd, vectors, 3, 2));
  EXPECT("preadv first vector", first[0] == contents[2]);
  SHOW("close", close(fd));
  SHOW("read after close", read(fd, &byte, 1));
  free(contents);
}

static void check_open_variants(void) {
  int directory =
      SHOW("open directory O_DIRECTORY", open("/usr/include/linux", O_RDONLY | O_DIRECTORY));
  int fd = SHOW("openat relative to directory", openat(directory, "stat.h", O_RDONLY));
  struct stat by_openat = {0};
  struct stat by_path = {0};
  fstat(fd, &by_openat);
  stat(kFile, &by_path);
  EXPECT("openat opened the same file", by_openat.st_ino == by_path.st_ino);
  close(fd);

  int file = open(kFile, O_RDONLY);
  SHOW("openat relative to a file", openat(file, "stat.h", O_RDONLY));
  SHOW("openat relative to a bad fd", openat(999, "stat.h", O_RDONLY));
  fd = SHOW("openat absolute with a bad fd", openat(999, kFile, O_RDONLY));
  close(fd);
  SHOW("open file with O_DIRECTORY", open(kFile, O_RDONLY | O_DIRECTORY));
  char byte;
  SHOW("read on a directory", read(directory, &byte, 1));
  SHOW("open with trailing slash on a file", open("/usr/include/linux/stat.h/", O_RDONLY));

  int path_fd = SHOW("open O_PATH", open(kFile, O_PATH));
  SHOW("read on O_PATH fd", read(path_fd, &byte, 1));
  struct stat by_path_fd = {0};
  SHOW("fstat on O_PATH fd", fstat(path_fd, &by_path_fd));
  EXPECT("O_PATH fstat names the file", by_path_fd.st_ino == by_path.st_ino);
  close(path_fd);

  // newfstatat: relative, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, bad flags.
  struct stat result = {0};
  SHOW("newfstatat relative", fstatat(directory, "stat.h", &result, 0));
  EXPECT("newfstatat relative names the file", result.st_ino == by_path.st_ino);
  SHOW("newfstatat AT_EMPTY_PATH", fstatat(file, "", &result, AT_EMPTY_PATH));
  EXPECT("newfstatat AT_EMPTY_PATH names the file", result.st_ino == by_path.st_ino);
  SHOW("newfstatat empty path without AT_EMPTY_PATH", fstatat(file, "", &result, 0));
  SHOW("newfstatat /bin AT_SYMLINK_NOFOLLOW",
       fstatat(AT_FDCWD, "/bin", &result, AT_SYMLINK_NOFOLLOW));
  EXPECT("/bin is a symlink", S_ISLNK(result.st_mode));
  show_value("/bin symlink st_size", result.st_size);
  SHOW("newfstatat /bin", fstatat(AT_FDCWD, "/bin", &result, 0));
  EXPECT("/bin followed is a directory", S_ISDIR(result.st_mode));
  SHOW("newfstatat bad flags", fstatat(AT_FDCWD, "/bin", &result, 0x40000));
  SHOW("newfstatat into a bad pointer", fstatat(AT_FDCWD, kFile, (struct stat*)1, 0));

  // statx.
  struct statx extended = {0};
  SHOW("statx", statx(AT_FDCWD, kFile, 0, STATX_BASIC_STATS, &extended));
  show_hex("statx basic mask returned", extended.stx_mask & STATX_BASIC_STATS);
  EXPECT("statx stx_size equals st_size", (off_t)extended.stx_size == by_path.st_size);
  EXPECT("statx stx_mode equals st_mode", extended.stx_mode == by_path.st_mode);
  EXPECT("statx stx_ino equals st_ino", extended.stx_ino == by_path.st_ino);
  EXPECT("statx stx_mtime equals st_mtim",
         extended.stx_mtime.tv_sec == by_path.st_mtim.tv_sec &&
             extended.stx_mtime.tv_nsec == (uint32_t)by_path.st_mtim.tv_nsec);
  show_value("statx stx_blksize", extended.stx_blksize);
  SHOW("statx AT_EMPTY_PATH", statx(file, "", AT_EMPTY_PATH, STATX_SIZE, &extended));
  EXPECT("statx AT_EMPTY_PATH stx_size", (off_t)extended.stx_size == by_path.st_size);
  SHOW("statx /bin AT_SYMLINK_NOFOLLOW",
       statx(AT_FDCWD, "/bin", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &extended));
  EXPECT("statx /bin is a symlink", S_ISLNK(extended.stx_mode));
  SHOW("statx reserved mask bit", statx(AT_FDCWD, kFile, 0, STATX__RESERVED, &extended));
  SHOW("statx bad sync flags", statx(AT_FDCWD, kFile, AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
                                     STATX_BASIC_STATS, &extended));
  SHOW("statx missing file",
       statx(AT_FDCWD, "/usr/include/linux/no-such-file", 0, STATX_BASIC_STATS, &extended));
  close(file);
  close(directory);
}

static int compare_names(const void* left, const void* right) {
  return strcmp(*(char* const*)left, *(char* const*)right);
}

static void check_getdents64(void) {
  int directory = SHOW("open directory", open(kDirectory, O_RDONLY | O_DIRECTORY));
  char buffer[4096];
  char* names[256];
  int count = 0;
  bool saw_dot = false;
  bool saw_dot_dot = false;
  long calls_with_entries = 0;
  for (int calls = 0; calls < 100; calls++) {
    long got = syscall(SYS_getdents64, directory, buffer, 256);
    if (got <= 0) {
      show_result("getdents64 at the end", got, errno);
      break;
    }
    calls_with_entries++;
    for (long offset = 0; offset < got;) {
      struct linux_dirent64* entry = (struct linux_dirent64*)(buffer + offset);
      if (strcmp(entry->d_name, ".") == 0) {
        saw_dot = entry->d_type == DT_DIR;
      } else if (strcmp(entry->d_name, "..") == 0) {
        saw_dot_dot = entry->d_type == DT_DIR;
      } else if (count < 256) {
        names[count] = malloc(strlen(entry->d_name) + 8);
        sprintf(names[count], "%s type %d", entry->d_name, entry->d_type);
        count++;
      }
      offset += entry->d_reclen;
    }
  }
  EXPECT("getdents64 with 256-byte buffer needs several calls", calls_with_entries > 1);
  EXPECT("getdents64 lists . as a directory", saw_dot);
  EXPECT("getdents64 lists .. as a directory", saw_dot_dot);
  // Entry order is the file system's own, so compare the sorted names.
  qsort(names, (size_t)count, sizeof(names[0]), compare_names);
  show_value("entries other than . and ..", count);
  for (int i = 0; i < count; i++) {
    printf("  entry %s\n", names[i]);
    free(names[i]);
  }

  SHOW("lseek directory to 0", lseek(directory, 0, SEEK_SET));
  EXPECT("getdents64 after rewind returns entries",
         syscall(SYS_getdents64, directory, buffer, sizeof(buffer)) > 0);
  lseek(directory, 0, SEEK_SET);
  SHOW("getdents64 with a 1-byte buffer", syscall(SYS_getdents64, directory, buffer, 1));
  lseek(directory, 0, SEEK_SET);
  SHOW("getdents64 into a bad pointer",
       syscall(SYS_getdents64, directory, (void*)1, sizeof(buffer)));
  SHOW("getdents64 on bad fd", syscall(SYS_getdents64, 999, buffer, sizeof(buffer)));
  int file = open(kFile, O_RDONLY);
  SHOW("getdents64 on a file", syscall(SYS_getdents64, file, buffer, sizeof(buffer)));
  close(file);
  close(directory);
}

int main(void) {
  check_stat_and_read();
  check_open_variants();
  check_getdents64();
  return finish_checks();
}
