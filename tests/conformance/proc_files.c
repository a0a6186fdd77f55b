// The /proc and /sys files that runtimes and tools read: which exist, and
// the parts of their formats that do not change between runs (field
// counts, key order, ids that must equal the caller's). Values that vary
// (times, sizes, host counters) are checked for form only.
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

// Reads a whole small file into `buffer`, NUL-terminated; returns the
// length or -1.
static long read_text(const char* path, char* buffer, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  size_t length = 0;
  for (;;) {
    ssize_t got = read(fd, buffer + length, size - 1 - length);
    if (got <= 0) {
      break;
    }
    length += (size_t)got;
  }
  close(fd);
  buffer[length] = '\0';
  return (long)length;
}

// The number of space-separated fields after the ')' that ends comm, plus
// the two before it.
static int stat_field_count(const char* text) {
  const char* name_end = strrchr(text, ')');
  if (name_end == NULL) {
    return -1;
  }
  int count = 2;
  for (const char* p = name_end + 1; *p != '\0' && *p != '\n';) {
    while (*p == ' ') {
      p++;
    }
    if (*p == '\0' || *p == '\n') {
      break;
    }
    count++;
    while (*p != ' ' && *p != '\0' && *p != '\n') {
      p++;
    }
  }
  return count;
}

// Prints each "Key:" of a status-like text, one per line.
static void show_keys(const char* label, const char* text) {
  printf("%s:\n", label);
  for (const char* line = text; *line != '\0';) {
    const char* colon = strchr(line, ':');
    const char* end = strchr(line, '\n');
    if (end == NULL) {
      end = line + strlen(line);
    }
    if (colon != NULL && colon < end) {
      printf("  %.*s\n", (int)(colon - line), line);
    }
    line = *end == '\n' ? end + 1 : end;
  }
}

// The value after "Key:\t" in a status text, or NULL.
static const char* status_value(const char* text, const char* key, char* value, size_t size) {
  char pattern[64];
  snprintf(pattern, sizeof(pattern), "\n%s:\t", key);
  const char* at = strstr(text, pattern);
  if (at == NULL) {
    return NULL;
  }
  at += strlen(pattern);
  size_t length = strcspn(at, "\n");
  if (length >= size) {
    length = size - 1;
  }
  memcpy(value, at, length);
  value[length] = '\0';
  return value;
}

static bool is_uuid(const char* text) {
  static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n";
  if (strlen(text) != strlen(form)) {
    return false;
  }
  for (size_t i = 0; form[i] != '\0'; i++) {
    if (form[i] == 'x' ? !isxdigit((unsigned char)text[i]) : text[i] != form[i]) {
      return false;
    }
  }
  return true;
}

static int count_lines(const char* text) {
  int lines = 0;
  for (const char* p = text; *p != '\0'; p++) {
    lines += *p == '\n';
  }
  return lines;
}

static const char* const kFiles[] = {
    "/proc/self/stat",
    "/proc/self/status",
    "/proc/self/statm",
    "/proc/self/cmdline",
    "/proc/self/environ",
    "/proc/self/comm",
    "/proc/self/maps",
    "/proc/self/smaps",
    "/proc/self/limits",
    "/proc/self/mounts",
    "/proc/self/mountinfo",
    "/proc/self/cgroup",
    "/proc/self/oom_score",
    "/proc/self/oom_score_adj",
    "/proc/self/auxv",
    "/proc/self/loginuid",
    "/proc/self/sessionid",
    "/proc/self/fd",
    "/proc/self/fdinfo",
    "/proc/self/task",
    "/proc/thread-self/stat",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/version",
    "/proc/filesystems",
    "/proc/mounts",
    "/proc/sys/kernel/hostname",
    "/proc/sys/kernel/domainname",
    "/proc/sys/kernel/osrelease",
    "/proc/sys/kernel/ostype",
    "/proc/sys/kernel/version",
    "/proc/sys/kernel/pid_max",
    "/proc/sys/kernel/ngroups_max",
    "/proc/sys/kernel/cap_last_cap",
    "/proc/sys/kernel/random/boot_id",
    "/proc/sys/kernel/random/uuid",
    "/proc/sys/kernel/overflowuid",
    "/proc/sys/kernel/overflowgid",
    "/proc/sys/vm/overcommit_memory",
    "/proc/sys/vm/max_map_count",
    "/proc/sys/vm/mmap_min_addr",
    "/proc/sys/fs/file-max",
    "/proc/sys/fs/nr_open",
    "/proc/sys/fs/pipe-max-size",
    "/sys/devices/system/cpu/online",
    "/sys/devices/system/cpu/possible",
    "/sys/devices/system/cpu/present",
    "/sys/devices/system/cpu/cpu0/topology/core_id",
    "/sys/devices/system/cpu/cpu0/topology/physical_package_id",
    "/sys/devices/system/cpu/cpu0/topology/thread_siblings_list",
    "/sys/devices/system/cpu/cpu0/topology/core_siblings_list",
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/sys/devices/system/node/online",
    "/sys/devices/system/node/node0/cpulist",
};

static char text[1 << 20];
static char other[1 << 20];

int main(int argc, char** argv) {
  (void)argc;
  char value[256];
  char expected[256];

  for (size_t i = 0; i < sizeof(kFiles) / sizeof(kFiles[0]); i++) {
    SHOW(label_of("access %s", kFiles[i]), access(kFiles[i], R_OK));
  }

  // stat: 52 fields, the caller's ids, and comm as the program's name cut
  // to 15 bytes.
  read_text("/proc/self/stat", text, sizeof(text));
  show_value("fields in /proc/self/stat", stat_field_count(text));
  int pid = 0;
  char state = 0;
  int ppid = 0;
  char* name_end = strrchr(text, ')');
  EXPECT("stat parses", sscanf(text, "%d", &pid) == 1 && name_end != NULL &&
                            sscanf(name_end + 1, " %c %d", &state, &ppid) == 2);
  EXPECT("stat pid is getpid()", pid == getpid());
  EXPECT("stat ppid is getppid()", ppid == getppid());
  show_bool("stat state is R", state == 'R');
  const char* base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 : argv[0];
  snprintf(expected, sizeof(expected), "%d (%.15s) ", getpid(), base);
  EXPECT("stat begins with pid and comm", strncmp(text, expected, strlen(expected)) == 0);
  read_text("/proc/thread-self/stat", text, sizeof(text));
  show_value("fields in /proc/thread-self/stat", stat_field_count(text));

  // statm: seven page counts.
  read_text("/proc/self/statm", text, sizeof(text));
  unsigned long pages[7];
  show_value("fields in /proc/self/statm",
             sscanf(text, "%lu %lu %lu %lu %lu %lu %lu", &pages[0], &pages[1], &pages[2], &pages[3],
                    &pages[4], &pages[5], &pages[6]));

  // status: the keys in order, and the values that are the caller's.
  read_text("/proc/self/status", text + 1, sizeof(text) - 1);
  text[0] = '\n';
  show_keys("keys of /proc/self/status", text + 1);
  snprintf(expected, sizeof(expected), "%d", getpid());
  EXPECT("status Pid",
         status_value(text, "Pid", value, sizeof(value)) != NULL && strcmp(value, expected) == 0);
  EXPECT("status Tgid",
         status_value(text, "Tgid", value, sizeof(value)) != NULL && strcmp(value, expected) == 0);
  snprintf(expected, sizeof(expected), "%d", getppid());
  EXPECT("status PPid",
         status_value(text, "PPid", value, sizeof(value)) != NULL && strcmp(value, expected) == 0);
  snprintf(expected, sizeof(expected), "%u\t%u\t%u\t%u", getuid(), geteuid(), geteuid(), geteuid());
  EXPECT("status Uid",
         status_value(text, "Uid", value, sizeof(value)) != NULL && strcmp(value, expected) == 0);
  snprintf(expected, sizeof(expected), "%.15s", base);
  EXPECT("status Name",
         status_value(text, "Name", value, sizeof(value)) != NULL && strcmp(value, expected) == 0);
  show_string("status State", status_value(text, "State", value, sizeof(value)));
  show_string("status Threads", status_value(text, "Threads", value, sizeof(value)));
  show_string("status TracerPid", status_value(text, "TracerPid", value, sizeof(value)));
  show_string("status SigBlk", status_value(text, "SigBlk", value, sizeof(value)));
  show_string("status NoNewPrivs", status_value(text, "NoNewPrivs", value, sizeof(value)));

  // smaps: one block per maps line, with the keys of the host's kernel.
  read_text("/proc/self/maps", other, sizeof(other));
  const int maps_lines = count_lines(other);
  read_text("/proc/self/smaps", text, sizeof(text));
  int blocks = 0;
  for (const char* line = text; *line != '\0';) {
    blocks += strstr(line, "VmFlags:") == line;
    const char* end = strchr(line, '\n');
    line = end != NULL ? end + 1 : line + strlen(line);
  }
  EXPECT("smaps has a block per maps line", blocks == maps_lines);
  char* second_header = strchr(text, '\n');
  char* first_block_end = second_header != NULL ? strstr(second_header, "VmFlags:") : NULL;
  if (first_block_end != NULL) {
    first_block_end[strcspn(first_block_end, "\n") + 1] = '\0';
    show_keys("keys of the first smaps block", second_header + 1);
  }

  // fdinfo of a file this program opened.
  int file = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
  lseek(file, 7, SEEK_SET);
  snprintf(expected, sizeof(expected), "/proc/self/fdinfo/%d", file);
  read_text(expected, text, sizeof(text));
  show_keys("keys of fdinfo", text);
  long long position = -1;
  unsigned int flags = 0;
  unsigned long inode = 0;
  const char* flags_at = strstr(text, "flags:");
  const char* ino_at = strstr(text, "ino:");
  EXPECT("fdinfo parses", sscanf(text, "pos:\t%lld", &position) == 1 && flags_at != NULL &&
                              sscanf(flags_at, "flags:\t%o", &flags) == 1 && ino_at != NULL &&
                              sscanf(ino_at, "ino:\t%lu", &inode) == 1);
  show_value("fdinfo pos", (long)position);
  show_octal("fdinfo flags", flags);
  struct stat st = {0};
  fstat(file, &st);
  EXPECT("fdinfo ino is the file's", inode == st.st_ino);
  SHOW("open fdinfo of a closed fd", open("/proc/self/fdinfo/999", O_RDONLY));

  // Small attribute files.
  read_text("/proc/self/oom_score_adj", text, sizeof(text));
  int adj = atoi(text);
  EXPECT("oom_score_adj is in -1000..1000", adj >= -1000 && adj <= 1000);
  read_text("/proc/self/oom_score", text, sizeof(text));
  EXPECT("oom_score is in 0..2000", atoi(text) >= 0 && atoi(text) <= 2000);
  read_text("/proc/self/comm", text, sizeof(text));
  snprintf(expected, sizeof(expected), "%.15s\n", base);
  EXPECT("comm is the name and a newline", strcmp(text, expected) == 0);

  // System files.
  double uptime = -1;
  double idle = -1;
  read_text("/proc/uptime", text, sizeof(text));
  EXPECT("uptime has two numbers", sscanf(text, "%lf %lf", &uptime, &idle) == 2);
  EXPECT("uptime has two decimals", strchr(text, '.') != NULL &&
                                        isdigit((unsigned char)strchr(text, '.')[2]) &&
                                        strchr(text, '.')[3] == ' ');
  double load[3];
  int running = 0;
  int total = 0;
  int last = 0;
  read_text("/proc/loadavg", text, sizeof(text));
  EXPECT("loadavg has five fields", sscanf(text, "%lf %lf %lf %d/%d %d", &load[0], &load[1],
                                           &load[2], &running, &total, &last) == 6);
  EXPECT("loadavg counts this task", running >= 1 && total >= running && last >= getpid());
  read_text("/proc/stat", text, sizeof(text));
  show_bool("stat begins with the cpu line", strncmp(text, "cpu ", 4) == 0);
  show_bool("stat has btime", strstr(text, "\nbtime ") != NULL);
  show_bool("stat has processes", strstr(text, "\nprocesses ") != NULL);
  show_bool("stat has procs_running", strstr(text, "\nprocs_running ") != NULL);
  show_bool("stat has procs_blocked", strstr(text, "\nprocs_blocked ") != NULL);

  read_text("/proc/sys/kernel/random/boot_id", text, sizeof(text));
  read_text("/proc/sys/kernel/random/boot_id", other, sizeof(other));
  EXPECT("boot_id is a UUID", is_uuid(text));
  EXPECT("boot_id is the same on each read", strcmp(text, other) == 0);
  read_text("/proc/sys/kernel/random/uuid", text, sizeof(text));
  read_text("/proc/sys/kernel/random/uuid", other, sizeof(other));
  EXPECT("uuid is a UUID", is_uuid(text));
  EXPECT("uuid is new on each read", strcmp(text, other) != 0);
  read_text("/proc/sys/kernel/ostype", text, sizeof(text));
  show_string("ostype", text);
  read_text("/proc/sys/kernel/ngroups_max", text, sizeof(text));
  show_string("ngroups_max", text);
  read_text("/proc/sys/kernel/overflowuid", text, sizeof(text));
  show_string("overflowuid", text);
  // The sandbox's own value (ward's lowest mapping address) may differ
  // from the host's.
  read_text("/proc/sys/vm/mmap_min_addr", text, sizeof(text));
  EXPECT("mmap_min_addr is a positive number", atol(text) > 0);
  read_text("/proc/sys/fs/nr_open", text, sizeof(text));
  show_string("nr_open", text);

  // The CPU list agrees with sysconf.
  read_text("/sys/devices/system/cpu/online", text, sizeof(text));
  long cpus = 0;
  for (char* range = strtok(text, ",\n"); range != NULL; range = strtok(NULL, ",\n")) {
    int first = 0;
    int last_cpu = 0;
    int parsed = sscanf(range, "%d-%d", &first, &last_cpu);
    cpus += parsed == 2 ? last_cpu - first + 1 : 1;
  }
  EXPECT("online CPUs match sysconf", cpus == sysconf(_SC_NPROCESSORS_ONLN));

  // A file that exists on no kernel.
  SHOW("open /proc/self/no_such_file", open("/proc/self/no_such_file", O_RDONLY));
  SHOW("open /proc/no_such_file", open("/proc/no_such_file", O_RDONLY));
  SHOW("open /proc/sys/kernel/no_such_file", open("/proc/sys/kernel/no_such_file", O_RDONLY));
  return finish_checks();
}
