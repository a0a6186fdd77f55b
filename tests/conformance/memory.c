// Memory mappings: mmap, munmap, mprotect, mremap, brk, madvise, msync and
// mincore, with their error cases. Addresses are printed only as relations.
// memory_faults.c checks the faults that protections cause.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096L

static const char kFile[] = "/usr/include/linux/stat.h";

// Prints the permissions /proc/self/maps lists for the mapping containing `address`.
static void show_maps_permissions(const char* label, void* address) {
  FILE* maps = fopen("/proc/self/maps", "r");
  if (maps == NULL) {
    printf("%s: cannot open /proc/self/maps: %s\n", label, errno_name(errno));
    return;
  }
  char line[512];
  char permissions[8] = "none";
  unsigned long target = (unsigned long)address;
  for (int lines = 0; lines < 10000 && fgets(line, sizeof(line), maps) != NULL; lines++) {
    unsigned long start;
    unsigned long end;
    char found[8];
    if (sscanf(line, "%lx-%lx %7s", &start, &end, found) == 3 && start <= target && target < end) {
      strcpy(permissions, found);
      break;
    }
  }
  fclose(maps);
  printf("%s: maps permissions %s\n", label, permissions);
}

static void show_residency(const char* label, void* address, long pages) {
  unsigned char vector[16] = {0};
  long result = SHOW(label, mincore(address, (size_t)(pages * PAGE), vector));
  if (result == 0) {
    printf("  resident:");
    for (long i = 0; i < pages; i++) {
      printf(" %d", vector[i] & 1);
    }
    printf("\n");
  }
}

static void check_anonymous_and_fixed(void) {
  char* region = SHOW_PTR("mmap anonymous 4 pages", mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  EXPECT("mmap result is page aligned", ((unsigned long)region & (PAGE - 1)) == 0);
  EXPECT("anonymous memory starts zeroed", region[0] == 0 && region[4 * PAGE - 1] == 0);
  region[0] = 'a';
  region[3 * PAGE] = 'd';
  show_residency("mincore on touched page 0", region, 1);
  show_residency("mincore on touched page 3", region + 3 * PAGE, 1);

  // MAP_FIXED replaces part of a reservation. MAP_FIXED_NOREPLACE fails with
  // EEXIST over a mapping and succeeds on a free range.
  char* reserve = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* fixed = mmap(reserve + 2 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  EXPECT("MAP_FIXED returns the requested address", fixed == reserve + 2 * PAGE);
  fixed[0] = 1;
  SHOW_PTR("MAP_FIXED_NOREPLACE over a mapping",
           mmap(reserve + 3 * PAGE, PAGE, PROT_READ,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
  munmap(reserve + 6 * PAGE, 2 * PAGE);
  char* noreplace = mmap(reserve + 6 * PAGE, PAGE, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  EXPECT("MAP_FIXED_NOREPLACE on a free range returns it", noreplace == reserve + 6 * PAGE);
  SHOW_PTR("MAP_FIXED at an unaligned address",
           mmap(reserve + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));

  // Partial munmap leaves the neighbours mapped.
  SHOW("munmap the middle page", munmap(fixed + PAGE, PAGE));
  show_residency("mincore over the hole", fixed, 2);
  show_residency("mincore on the page before", fixed, 1);
  EXPECT("the page before keeps its contents", fixed[0] == 1);
  SHOW("munmap an unmapped range", munmap(fixed + PAGE, PAGE));
  SHOW("munmap unaligned", munmap(fixed + 1, PAGE));
  SHOW("munmap length 0", munmap(fixed, 0));
  munmap(reserve, 8 * PAGE);
  show_residency("mincore after munmap", reserve, 1);
  SHOW("mincore unaligned", mincore(region + 1, PAGE, (unsigned char[1]){0}));
  SHOW("mincore into a bad vector", mincore(region, PAGE, (unsigned char*)1));

  // mprotect, observed through /proc/self/maps.
  SHOW("mprotect read-only", mprotect(region, PAGE, PROT_READ));
  show_maps_permissions("after mprotect read-only", region);
  show_maps_permissions("the next page", region + PAGE);
  EXPECT("read-only page keeps its contents", region[0] == 'a');
  SHOW("mprotect none", mprotect(region + PAGE, PAGE, PROT_NONE));
  show_maps_permissions("after mprotect none", region + PAGE);
  SHOW("mprotect unaligned", mprotect(region + 1, PAGE, PROT_READ));
  SHOW("mprotect bad prot bits", mprotect(region, PAGE, 0x100));
  SHOW("mprotect unmapped", mprotect(reserve, PAGE, PROT_READ));
  munmap(region, 4 * PAGE);
}

static void check_file_mappings(void) {
  int fd = open(kFile, O_RDONLY);
  char contents[256];
  pread(fd, contents, sizeof(contents), 0);
  char* mapped =
      SHOW_PTR("mmap file private read-only", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
  EXPECT("the mapping shows the file", memcmp(mapped, contents, sizeof(contents)) == 0);
  munmap(mapped, PAGE);

  // A private writable mapping of a read-only fd is allowed; writes stay private.
  char* copy = SHOW_PTR("mmap file private writable",
                        mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  copy[0] ^= 0x55;
  char byte;
  pread(fd, &byte, 1, 0);
  EXPECT("private write does not reach the file", byte == contents[0]);
  SHOW("madvise MADV_DONTNEED on the private copy", madvise(copy, PAGE, MADV_DONTNEED));
  EXPECT("MADV_DONTNEED brings back the file contents", copy[0] == contents[0]);
  munmap(copy, PAGE);

  SHOW_PTR("mmap file shared writable on O_RDONLY fd",
           mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  char* shared =
      SHOW_PTR("mmap file shared read-only", mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0));
  EXPECT("the shared mapping shows the file", memcmp(shared, contents, sizeof(contents)) == 0);
  SHOW("msync MS_SYNC", msync(shared, PAGE, MS_SYNC));
  SHOW("msync MS_SYNC|MS_ASYNC", msync(shared, PAGE, MS_SYNC | MS_ASYNC));
  SHOW("msync unaligned", msync(shared + 1, PAGE, MS_SYNC));
  munmap(shared, PAGE);
  SHOW("msync unmapped", msync(shared, PAGE, MS_SYNC));

  SHOW_PTR("mmap offset unaligned", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 1));
  SHOW_PTR("mmap length 0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE, fd, 0));
  SHOW_PTR("mmap neither private nor shared", mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0));
  SHOW_PTR("mmap file with fd -1", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0));
  SHOW_PTR("mmap file with fd 999", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0));
  int directory = open("/usr/include", O_RDONLY | O_DIRECTORY);
  SHOW_PTR("mmap a directory", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, directory, 0));
  close(directory);
  int pipe_fds[2];
  pipe(pipe_fds);
  SHOW_PTR("mmap a pipe", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, pipe_fds[0], 0));
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  int path_fd = open(kFile, O_PATH);
  SHOW_PTR("mmap an O_PATH fd", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, path_fd, 0));
  close(path_fd);
  close(fd);
}

static void check_shared_anonymous_and_madvise(void) {
  char* shared = SHOW_PTR("mmap shared anonymous", mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                                                        MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  memset(shared, 'z', 2 * PAGE);
  EXPECT("shared anonymous keeps writes", shared[2 * PAGE - 1] == 'z');
  SHOW("msync shared anonymous", msync(shared, 2 * PAGE, MS_SYNC));
  munmap(shared, 2 * PAGE);

  char* private = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(private, 'p', 2 * PAGE);
  SHOW("madvise MADV_DONTNEED", madvise(private, PAGE, MADV_DONTNEED));
  EXPECT("MADV_DONTNEED zeroes private anonymous memory",
         private[0] == 0 && private[PAGE - 1] == 0);
  EXPECT("MADV_DONTNEED leaves the next page alone", private[PAGE] == 'p');
  SHOW("madvise MADV_NORMAL", madvise(private, PAGE, MADV_NORMAL));
  SHOW("madvise MADV_WILLNEED", madvise(private, PAGE, MADV_WILLNEED));
  SHOW("madvise bad advice", madvise(private, PAGE, 12345));
  SHOW("madvise unaligned", madvise(private + 1, PAGE, MADV_DONTNEED));
  munmap(private, 2 * PAGE);
  SHOW("madvise MADV_DONTNEED unmapped", madvise(private, PAGE, MADV_DONTNEED));
}

static void check_mremap(void) {
  char* old = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(old, 'm', 2 * PAGE);
  char* grown =
      SHOW_PTR("mremap grow with MREMAP_MAYMOVE", mremap(old, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE));
  EXPECT("grown mapping keeps contents", grown[0] == 'm' && grown[2 * PAGE - 1] == 'm');
  EXPECT("grown part is zeroed", grown[2 * PAGE] == 0 && grown[8 * PAGE - 1] == 0);
  char* shrunk = SHOW_PTR("mremap shrink", mremap(grown, 8 * PAGE, PAGE, 0));
  EXPECT("shrink stays in place", shrunk == grown);
  EXPECT("shrunk mapping keeps contents", shrunk[0] == 'm');
  show_residency("mincore past the shrunk end", grown + PAGE, 1);

  char* target = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* moved = SHOW_PTR("mremap MREMAP_FIXED move",
                         mremap(shrunk, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target + PAGE));
  EXPECT("moved to the requested address", moved == target + PAGE);
  EXPECT("moved mapping keeps contents", moved[0] == 'm');
  show_residency("mincore at the old address", shrunk, 1);

  // Growing in place fails when the next page is taken.
  SHOW_PTR("mremap grow in place into a mapping", mremap(moved, PAGE, 2 * PAGE, 0));
  SHOW_PTR("mremap unaligned", mremap(moved + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE));
  SHOW_PTR("mremap new size 0", mremap(moved, PAGE, 0, MREMAP_MAYMOVE));
  SHOW_PTR("mremap MREMAP_FIXED without MAYMOVE", mremap(moved, PAGE, PAGE, MREMAP_FIXED, target));
  SHOW_PTR("mremap old size 0 on a private mapping", mremap(moved, 0, PAGE, MREMAP_MAYMOVE));
  SHOW_PTR("mremap bad flags", mremap(moved, PAGE, PAGE, 0x80));
  SHOW_PTR("mremap unmapped", mremap(shrunk, PAGE, 2 * PAGE, MREMAP_MAYMOVE));
  munmap(target, 4 * PAGE);
}

static void check_brk(void) {
  char* start = (char*)syscall(SYS_brk, 0);
  char* grown = (char*)syscall(SYS_brk, start + 16 * PAGE);
  EXPECT("brk grows by 64 KiB", grown == start + 16 * PAGE);
  memset(start, 'b', 16 * PAGE);
  EXPECT("new brk memory is writable", start[16 * PAGE - 1] == 'b');
  char* shrunk = (char*)syscall(SYS_brk, start + PAGE);
  EXPECT("brk shrinks", shrunk == start + PAGE);
  show_residency("mincore above the shrunk break", start + 2 * PAGE, 1);
  char* regrown = (char*)syscall(SYS_brk, start + 4 * PAGE);
  EXPECT("brk grows again", regrown == start + 4 * PAGE);
  EXPECT("regrown brk memory is zeroed", start[2 * PAGE] == 0);
  char* below = (char*)syscall(SYS_brk, 4096);
  EXPECT("brk below the start is ignored", below == regrown);
  char* huge = (char*)syscall(SYS_brk, start + (1L << 47));
  EXPECT("brk past the address space is ignored", huge == regrown);
  syscall(SYS_brk, start);
}

// PROT_GROWSDOWN applies only to a MAP_GROWSDOWN mapping, down to its
// start; x86 has no upward-growing mappings.
static void check_mprotect_grows(void) {
  char* plain = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  SHOW("mprotect PROT_GROWSDOWN on a plain mapping",
       mprotect(plain + PAGE, PAGE, PROT_READ | PROT_GROWSDOWN));
  show_maps_permissions("the plain mapping after it", plain + PAGE);
  SHOW("mprotect PROT_GROWSUP", mprotect(plain, PAGE, PROT_READ | PROT_GROWSUP));
  munmap(plain, 2 * PAGE);

  char* stack = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
  SHOW("mprotect PROT_GROWSDOWN on a MAP_GROWSDOWN mapping",
       mprotect(stack + 2 * PAGE, PAGE, PROT_READ | PROT_GROWSDOWN));
  show_maps_permissions("its lowest page after it", stack);
  show_maps_permissions("its highest page after it", stack + 3 * PAGE);
  munmap(stack, 4 * PAGE);
}

int main(void) {
  check_anonymous_and_fixed();
  check_mprotect_grows();
  check_file_mappings();
  check_shared_anonymous_and_madvise();
  check_mremap();
  check_brk();
  return finish_checks();
}
