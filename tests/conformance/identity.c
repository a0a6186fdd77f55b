// Process identity: user and group ids, supplementary groups, pid and tid
// relations, uname, hostname, umask, comm. Raw pids differ under ward, whose
// first process is pid 1, so only relations between them are printed.
// identity_setters.c, process_groups.c, kill.c and process_attributes.c
// check the set*id calls, sessions and process groups, kill, and the other
// prctl options, getpriority and personality.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"

static void check_credentials(void) {
  show_value("getuid", getuid());
  show_value("geteuid", geteuid());
  show_value("getgid", getgid());
  show_value("getegid", getegid());
  uid_t real = 0;
  uid_t effective = 0;
  uid_t saved = 0;
  SHOW("getresuid", getresuid(&real, &effective, &saved));
  printf("  real %u effective %u saved %u\n", real, effective, saved);
  gid_t real_group = 0;
  gid_t effective_group = 0;
  gid_t saved_group = 0;
  SHOW("getresgid", getresgid(&real_group, &effective_group, &saved_group));
  printf("  real %u effective %u saved %u\n", real_group, effective_group, saved_group);
  SHOW("getresuid into a bad pointer", syscall(SYS_getresuid, (uid_t*)1, &effective, &saved));

  int count = SHOW("getgroups count", getgroups(0, NULL));
  gid_t groups[256];
  if (count > 0 && count <= 256) {
    SHOW("getgroups", getgroups(count, groups));
    for (int i = 0; i < count; i++) {
      printf("  group %u\n", groups[i]);
    }
    if (count > 1) {
      SHOW("getgroups with a too small list", getgroups(count - 1, groups));
    }
  }
  SHOW("getgroups with size -1", syscall(SYS_getgroups, -1, groups));
  SHOW("getgroups into a bad pointer", syscall(SYS_getgroups, count > 0 ? count : 1, (gid_t*)1));
}

static void check_process_ids(void) {
  pid_t pid = getpid();
  EXPECT("getpid is positive", pid > 0);
  EXPECT("getpid equals gettid in the main thread", pid == gettid());
  EXPECT("raw getpid equals getpid", syscall(SYS_getpid) == pid);
  EXPECT("getppid is not negative", getppid() >= 0);
}

static void check_uname(void) {
  struct utsname names = {0};
  SHOW("uname", uname(&names));
  show_string("sysname", names.sysname);
  show_string("nodename", names.nodename);
  show_string("release", names.release);
  show_string("version", names.version);
  show_string("machine", names.machine);
  show_string("domainname", names.domainname);
  SHOW("uname into a bad pointer", syscall(SYS_uname, (void*)1));

  char hostname[256] = {0};
  SHOW("gethostname", gethostname(hostname, sizeof(hostname)));
  EXPECT("gethostname equals uname's nodename", strcmp(hostname, names.nodename) == 0);
  SHOW("gethostname with a 1-byte buffer", gethostname(hostname, 1));

  // /proc/sys/kernel/{hostname,ostype,osrelease} repeat uname's fields.
  char buffer[256] = {0};
  int fd = open("/proc/sys/kernel/osrelease", O_RDONLY);
  long got = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  if (got > 0 && buffer[got - 1] == '\n') {
    buffer[got - 1] = '\0';
  }
  EXPECT("/proc/sys/kernel/osrelease equals uname's release", strcmp(buffer, names.release) == 0);
}

static void check_process_attributes(void) {
  show_octal("umask (the runner sets 022)", umask(027));
  show_octal("umask after setting 027", umask(022));

  char name[17] = {0};
  SHOW("prctl PR_GET_NAME", prctl(PR_GET_NAME, name));
  show_string("comm", name);
  SHOW("prctl PR_SET_NAME", prctl(PR_SET_NAME, "renamed-task"));
  prctl(PR_GET_NAME, name);
  show_string("comm after PR_SET_NAME", name);
  char comm[32] = {0};
  int fd = open("/proc/self/comm", O_RDONLY);
  long length = SHOW("read /proc/self/comm", read(fd, comm, sizeof(comm) - 1));
  close(fd);
  if (length > 0 && comm[length - 1] == '\n') {
    comm[length - 1] = '\0';
  }
  show_string("/proc/self/comm", comm);
  SHOW("prctl with a bad option", prctl(0x7fff0000, 0, 0, 0, 0));
}

int main(void) {
  check_credentials();
  check_process_ids();
  check_uname();
  check_process_attributes();
  return finish_checks();
}
