// System V shared memory. The checks cover a segment shared by a parent
// and the child that inherits its attachment by fork, and shm_nattch
// across fork, exit and shmdt. They also cover IPC_RMID while attached
// (SHM_DEST, the key freed, the memory kept until the last detach), attach
// addresses and flags, IPC_STAT, /proc/self/maps, /proc/sysvipc/shm and
// the errno of each bad input.
// Segments are IPC_PRIVATE or keyed by ftok on a temporary file, and every
// segment made is removed at exit.
#include <signal.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int made[16];
static int made_count;
static char key_dir[] = "/tmp/sysv_shm_XXXXXX";
static char key_file[64];

static void remove_all(void);

// A run killed by its time limit or by SIGALRM still removes its objects.
static void remove_and_exit(int signal) {
  remove_all();
  _exit(128 + signal);
}

static void remove_all(void) {
  for (int i = 0; i < made_count; ++i) {
    shmctl(made[i], IPC_RMID, NULL);
  }
  if (key_file[0] != '\0') {
    unlink(key_file);
    rmdir(key_dir);
  }
}

static int make_segment(key_t key, size_t size, int flags) {
  int id = shmget(key, size, flags);
  if (id >= 0 && made_count < 16) {
    made[made_count++] = id;
  }
  return id;
}

static long attach_count(int id) {
  struct shmid_ds status;
  if (shmctl(id, IPC_STAT, &status) != 0) {
    return -1;
  }
  return (long)status.shm_nattch;
}

// Stores the permissions and name columns of the /proc/self/maps line
// that starts at `addr` in `found`, or "(none)".
static void find_maps_line(void* addr, char* found, size_t size) {
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[512];
  snprintf(found, size, "(none)");
  while (maps != NULL && fgets(line, sizeof(line), maps) != NULL) {
    unsigned long start = 0;
    char permissions[8];
    int name_at = 0;
    if (sscanf(line, "%lx-%*x %7s %*s %*s %*s %n", &start, permissions, &name_at) >= 2 &&
        start == (unsigned long)addr) {
      line[strcspn(line, "\n")] = '\0';
      snprintf(found, size, "%s %s", permissions, line + name_at);
    }
  }
  if (maps != NULL) {
    fclose(maps);
  }
}

static void show_maps_name(const char* label, void* addr) {
  char found[256];
  find_maps_line(addr, found, sizeof(found));
  printf("%s: %s\n", label, found);
}

// Prints the perms, size and nattch columns of the segment's line in
// /proc/sysvipc/shm.
static void show_sysvipc_line(const char* label, int id) {
  FILE* table = fopen("/proc/sysvipc/shm", "r");
  char line[512];
  bool header = false;
  bool found = false;
  while (table != NULL && fgets(line, sizeof(line), table) != NULL) {
    if (!header) {
      header = strstr(line, "shmid perms") != NULL;
      continue;
    }
    int key = 0;
    int shmid = 0;
    unsigned perms = 0;
    unsigned long size = 0;
    int cpid = 0;
    int lpid = 0;
    unsigned long nattch = 0;
    unsigned uid = 0;
    if (sscanf(line, "%d %d %o %lu %d %d %lu %u", &key, &shmid, &perms, &size, &cpid, &lpid,
               &nattch, &uid) == 8 &&
        shmid == id) {
      printf("%s: perms %o size %lu nattch %lu cpid is me %d uid is me %d\n", label, perms, size,
             nattch, cpid == getpid(), uid == geteuid());
      found = true;
    }
  }
  if (table != NULL) {
    fclose(table);
  }
  printf("%s: header %s, found %s\n", label, header ? "yes" : "no", found ? "yes" : "no");
}

static void check_fork_sharing(void) {
  printf("-- fork\n");
  int id = make_segment(IPC_PRIVATE, 10000, 0600);
  EXPECT("shmget", id >= 0);
  SHOW("nattch before shmat", attach_count(id));
  char* memory = shmat(id, NULL, 0);
  EXPECT("shmat", memory != (void*)-1);
  SHOW("nattch after shmat", attach_count(id));
  SHOW("fresh memory is zero", memory[0] + memory[9999]);
  strcpy(memory, "from the parent");

  int to_child[2];
  int to_parent[2];
  pipe(to_child);
  pipe(to_parent);
  pid_t child = fork();
  if (child == 0) {
    char byte;
    printf("child reads \"%s\"\n", memory);
    strcpy(memory + 5000, "from the child");
    write(to_parent[1], "x", 1);
    read(to_child[0], &byte, 1);
    // The parent removed the segment: still attached here.
    printf("child after IPC_RMID reads \"%s\"\n", memory);
    fflush(stdout);
    _exit(0);
  }
  char byte;
  read(to_parent[0], &byte, 1);
  printf("parent reads \"%s\"\n", memory + 5000);
  SHOW("nattch with the child attached", attach_count(id));

  // IPC_RMID while attached: the segment stays, marked SHM_DEST.
  SHOW("IPC_RMID while attached", shmctl(id, IPC_RMID, NULL));
  struct shmid_ds status;
  SHOW("IPC_STAT after IPC_RMID", shmctl(id, IPC_STAT, &status));
  printf("mode %o key %d nattch %lu\n", status.shm_perm.mode, status.shm_perm.__key,
         (unsigned long)status.shm_nattch);
  write(to_child[1], "x", 1);
  int wait_status;
  waitpid(child, &wait_status, 0);
  SHOW("nattch after the child exited", attach_count(id));
  SHOW("shmat of a removed segment still attached", shmat(id, NULL, SHM_RDONLY) != (void*)-1);
  SHOW("nattch", attach_count(id));
  SHOW("shmdt", shmdt(memory));
  SHOW("IPC_STAT with one attachment left", attach_count(id));
  // The read-only attachment is the last one: detaching it frees the id.
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[512];
  void* last = NULL;
  while (maps != NULL && fgets(line, sizeof(line), maps) != NULL) {
    unsigned long start = 0;
    if (strstr(line, "/SYSV") != NULL && sscanf(line, "%lx-", &start) == 1) {
      last = (void*)start;
    }
  }
  if (maps != NULL) {
    fclose(maps);
  }
  SHOW("shmdt of the last attachment", shmdt(last));
  SHOW("IPC_STAT after the last detach", shmctl(id, IPC_STAT, &status));
  close(to_child[0]);
  close(to_child[1]);
  close(to_parent[0]);
  close(to_parent[1]);
}

static void check_attach_flags(void) {
  printf("-- shmat and shmdt\n");
  int id = make_segment(IPC_PRIVATE, 3 * 4096, 0600);
  char* memory = shmat(id, NULL, 0);
  show_maps_name("maps", memory);
  show_sysvipc_line("sysvipc", id);
  SHOW("shmdt", shmdt(memory));
  SHOW("shmdt again", shmdt(memory));
  SHOW("shmdt unaligned", shmdt(memory + 1));

  // The address is free again: attach there, then at an unaligned address
  // rounded down by SHM_RND.
  SHOW("shmat at a chosen address", shmat(id, memory, 0) == memory);
  SHOW("shmat over it without SHM_REMAP", (long)shmat(id, memory, 0));
  SHOW("shmat over it with SHM_REMAP", shmat(id, memory, SHM_REMAP) == memory);
  SHOW("shmat unaligned without SHM_RND", (long)shmat(id, memory + 4096 + 1, SHM_REMAP));
  SHOW("shmat unaligned with SHM_RND", shmat(id, memory + 1, SHM_RND | SHM_REMAP) == memory);
  SHOW("SHM_REMAP without an address", (long)shmat(id, NULL, SHM_REMAP));
  SHOW("nattch", attach_count(id));
  shmdt(memory);

  char* readonly = shmat(id, NULL, SHM_RDONLY);
  show_maps_name("SHM_RDONLY maps", readonly);
  SHOW("mprotect of SHM_RDONLY to PROT_WRITE", mprotect(readonly, 4096, PROT_READ | PROT_WRITE));
  SHOW("mprotect of SHM_RDONLY to PROT_NONE", mprotect(readonly, 4096, PROT_NONE));
  shmdt(readonly);
  char* executable = shmat(id, NULL, SHM_EXEC);
  show_maps_name("SHM_EXEC maps", executable);

  // munmap of part of an attachment splits it, and shmdt removes both
  // pieces.
  SHOW("munmap the middle page", munmap(executable + 4096, 4096));
  SHOW("nattch after the split", attach_count(id));
  SHOW("shmdt of the split attachment", shmdt(executable));
  SHOW("nattch after shmdt", attach_count(id));
  show_maps_name("maps of the second piece", executable + 8192);
}

static void check_stat_and_control(void) {
  printf("-- shmctl\n");
  int id = make_segment(IPC_PRIVATE, 5000, 0640);
  struct shmid_ds status;
  SHOW("IPC_STAT", shmctl(id, IPC_STAT, &status));
  printf("mode %o size %lu nattch %lu\n", status.shm_perm.mode, (unsigned long)status.shm_segsz,
         (unsigned long)status.shm_nattch);
  EXPECT("cuid is the uid", status.shm_perm.cuid == getuid());
  EXPECT("cpid is the caller", status.shm_cpid == getpid());
  EXPECT("atime is 0 before shmat", status.shm_atime == 0);

  status.shm_perm.mode = 0604;
  SHOW("IPC_SET", shmctl(id, IPC_SET, &status));
  shmctl(id, IPC_STAT, &status);
  printf("mode after IPC_SET %o\n", status.shm_perm.mode);
  if (geteuid() == 0) {
    SHOW("SHM_LOCK", shmctl(id, SHM_LOCK, NULL));
    shmctl(id, IPC_STAT, &status);
    printf("mode after SHM_LOCK %o\n", status.shm_perm.mode);
    SHOW("SHM_UNLOCK", shmctl(id, SHM_UNLOCK, NULL));
    shmctl(id, IPC_STAT, &status);
    printf("mode after SHM_UNLOCK %o\n", status.shm_perm.mode);
  }

  struct shminfo info;
  long max_index = shmctl(id, IPC_INFO, (struct shmid_ds*)&info);
  EXPECT("IPC_INFO returns an index", max_index >= 0);
  printf("shmmin %lu\n", info.shmmin);
  EXPECT("shmmax is at least 4 GiB", info.shmmax >= (1ul << 32));
  struct shm_info usage;
  EXPECT("SHM_INFO returns an index", shmctl(id, SHM_INFO, (struct shmid_ds*)&usage) >= 0);
  EXPECT("SHM_INFO counts this segment", usage.used_ids >= 1);
  long found = -1;
  for (long index = 0; index <= max_index; ++index) {
    if (shmctl((int)index, SHM_STAT, &status) == id) {
      found = index;
    }
  }
  EXPECT("SHM_STAT finds the segment", found >= 0);
  EXPECT("SHM_STAT_ANY finds the segment", shmctl((int)found, SHM_STAT_ANY, &status) == id);
}

static void check_errors(void) {
  printf("-- errors\n");
  int id = make_segment(IPC_PRIVATE, 4096, 0600);
  SHOW("shmget size 0", shmget(IPC_PRIVATE, 0, 0600));
  SHOW("shmget size past SHMMAX", shmget(IPC_PRIVATE, (size_t)-1, 0600));
  SHOW("shmat shmid -1", (long)shmat(-1, NULL, 0));
  SHOW("shmat unknown id", (long)shmat(id + 1000 * 32768, NULL, 0));
  SHOW("shmctl unknown command", shmctl(id, 99, NULL));
  SHOW("shmctl shmid -1", shmctl(-1, IPC_STAT, NULL));
  SHOW("IPC_STAT bad buffer", shmctl(id, IPC_STAT, (struct shmid_ds*)1));
  SHOW("IPC_SET bad buffer", shmctl(id, IPC_SET, (struct shmid_ds*)1));
  SHOW("IPC_INFO bad buffer", shmctl(id, IPC_INFO, (struct shmid_ds*)1));
  SHOW("SHM_STAT of a free index", shmctl(32767, SHM_STAT, NULL));

  key_t key = ftok(key_file, 'm');
  SHOW("shmget of an absent key", shmget(key, 4096, 0600));
  int keyed = make_segment(key, 8192, IPC_CREAT | IPC_EXCL | 0600);
  EXPECT("shmget with a new key", keyed >= 0);
  SHOW("shmget it again", shmget(key, 4096, 0600) == keyed);
  SHOW("shmget IPC_CREAT|IPC_EXCL on it", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600));
  SHOW("shmget larger than it is", shmget(key, 8193, 0600));
  char* memory = shmat(keyed, NULL, 0);
  char found[256];
  char expected[64];
  find_maps_line(memory, found, sizeof(found));
  snprintf(expected, sizeof(expected), "rw-s /SYSV%08x (deleted)", (unsigned)key);
  EXPECT("maps names the key", strcmp(found, expected) == 0);
  SHOW("IPC_RMID", shmctl(keyed, IPC_RMID, NULL));
  struct shmid_ds status;
  shmctl(keyed, IPC_STAT, &status);
  printf("key after IPC_RMID is private: %d\n", status.shm_perm.__key == IPC_PRIVATE);
  SHOW("shmget of the removed key", shmget(key, 4096, 0600));
  int again = make_segment(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
  SHOW("the key is free for a new segment", again >= 0 && again != keyed);
  shmdt(memory);
  SHOW("IPC_STAT after the last detach", shmctl(keyed, IPC_STAT, &status));
}

static void check_permissions(void) {
  printf("-- permissions\n");
  if (geteuid() != 0) {
    printf("skipped: not root\n");
    return;
  }
  int private_segment = make_segment(IPC_PRIVATE, 4096, 0600);
  int readable = make_segment(IPC_PRIVATE, 4096, 0604);
  pid_t child = fork();
  if (child == 0) {
    if (setresgid(2000, 2000, 2000) != 0 || setresuid(2000, 2000, 2000) != 0) {
      printf("setresuid failed\n");
      _exit(1);
    }
    SHOW("shmat of a 0600 segment", (long)shmat(private_segment, NULL, 0));
    struct shmid_ds status;
    SHOW("IPC_STAT of a 0600 segment", shmctl(private_segment, IPC_STAT, &status));
    SHOW("shmat of a 0604 segment", (long)shmat(readable, NULL, 0));
    SHOW("shmat SHM_RDONLY of a 0604 segment", shmat(readable, NULL, SHM_RDONLY) != (void*)-1);
    SHOW("IPC_RMID by another uid", shmctl(readable, IPC_RMID, NULL));
    SHOW("SHM_LOCK by another uid", shmctl(readable, SHM_LOCK, NULL));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  SHOW("child status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void) {
  atexit(remove_all);
  signal(SIGTERM, remove_and_exit);
  signal(SIGALRM, remove_and_exit);
  alarm(50);
  if (mkdtemp(key_dir) == NULL) {
    printf("mkdtemp failed\n");
    return 1;
  }
  snprintf(key_file, sizeof(key_file), "%s/key", key_dir);
  FILE* file = fopen(key_file, "w");
  if (file != NULL) {
    fclose(file);
  }

  check_fork_sharing();
  check_attach_flags();
  check_stat_and_control();
  check_errors();
  check_permissions();
  return check_failures == 0 ? 0 : 1;
}
