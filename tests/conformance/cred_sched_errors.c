// Bad inputs to the identity, capability and scheduling calls, each with
// its exact errno. The native run must be root.
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define BAD_POINTER ((void*)16)
#define MISSING_PID 0x3fffffff

// struct sched_attr as Linux 6.18 defines it (SCHED_ATTR_SIZE_VER1).
struct sched_attr_v1 {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

static void identity_errors(void) {
  SHOW("setuid -1", syscall(SYS_setuid, -1));
  SHOW("setgid -1", syscall(SYS_setgid, -1));
  SHOW("setgroups 65537", syscall(SYS_setgroups, 65537, NULL));
  SHOW("setgroups -1", syscall(SYS_setgroups, -1, NULL));
  SHOW("setgroups from a bad pointer", syscall(SYS_setgroups, 1, BAD_POINTER));
  gid_t invalid[1] = {(gid_t)-1};
  SHOW("setgroups with gid -1", syscall(SYS_setgroups, 1, invalid));
  SHOW("getgroups -1", syscall(SYS_getgroups, -1, NULL));
  SHOW("getresuid to a bad pointer", syscall(SYS_getresuid, BAD_POINTER, BAD_POINTER, BAD_POINTER));
  SHOW("setresuid -1 -1 -1", setresuid(-1, -1, -1));
  SHOW("setfsuid -1 returns the fsuid", syscall(SYS_setfsuid, -1));
  SHOW("setfsgid -1 returns the fsgid", syscall(SYS_setfsgid, -1));
}

static void capability_errors(void) {
  struct __user_cap_data_struct data[2] = {0};
  SHOW("capget from a bad header", syscall(SYS_capget, BAD_POINTER, data));
  struct __user_cap_header_struct header = {.version = 0x12345, .pid = 0};
  SHOW("capget with a bad version", syscall(SYS_capget, &header, data));
  show_hex("  version written back", header.version);
  header.version = 0x12345;
  SHOW("capget with a bad version and no data", syscall(SYS_capget, &header, NULL));
  show_hex("  version written back", header.version);
  header.version = 0x12345;
  SHOW("capset with a bad version", syscall(SYS_capset, &header, data));
  show_hex("  version written back", header.version);
  header = (struct __user_cap_header_struct){.version = _LINUX_CAPABILITY_VERSION_3, .pid = -1};
  SHOW("capget pid -1", syscall(SYS_capget, &header, data));
  header.pid = MISSING_PID;
  SHOW("capget a missing pid", syscall(SYS_capget, &header, data));
  SHOW("capset another pid", syscall(SYS_capset, &header, data));
  header.pid = 0;
  SHOW("capget to a bad pointer", syscall(SYS_capget, &header, BAD_POINTER));
  SHOW("capset from a bad pointer", syscall(SYS_capset, &header, BAD_POINTER));
  header.version = _LINUX_CAPABILITY_VERSION_1;
  SHOW("capget version 1", syscall(SYS_capget, &header, data));
  syscall(SYS_capget, &header, data);
  header.version = _LINUX_CAPABILITY_VERSION_3;
  syscall(SYS_capget, &header, data);
  data[0].permitted = 0;
  SHOW("capset an effective set beyond the permitted one", syscall(SYS_capset, &header, data));
}

static void affinity_errors(void) {
  cpu_set_t set;
  SHOW("sched_getaffinity size 4", syscall(SYS_sched_getaffinity, 0, 4, &set));
  SHOW("sched_getaffinity size 0", syscall(SYS_sched_getaffinity, 0, 0, &set));
  SHOW("sched_getaffinity size 12", syscall(SYS_sched_getaffinity, 0, 12, &set));
  SHOW("sched_getaffinity to a bad pointer", syscall(SYS_sched_getaffinity, 0, sizeof(set), BAD_POINTER));
  SHOW("sched_getaffinity of a missing pid", syscall(SYS_sched_getaffinity, MISSING_PID, sizeof(set), &set));
  SHOW_OK("sched_getaffinity", syscall(SYS_sched_getaffinity, 0, sizeof(set), &set));
  SHOW("sched_setaffinity from a bad pointer", syscall(SYS_sched_setaffinity, 0, sizeof(set), BAD_POINTER));
  SHOW("sched_setaffinity of a missing pid", syscall(SYS_sched_setaffinity, MISSING_PID, sizeof(set), &set));
  SHOW("sched_setaffinity size 0", syscall(SYS_sched_setaffinity, 0, 0, &set));
  cpu_set_t far;
  CPU_ZERO(&far);
  CPU_SET(1000, &far);
  SHOW("sched_setaffinity to a CPU the host lacks", sched_setaffinity(0, sizeof(far), &far));
  cpu_set_t first;
  CPU_ZERO(&first);
  CPU_SET(0, &first);
  CPU_SET(1000, &first);
  SHOW("sched_setaffinity to CPU 0 and a missing one", sched_setaffinity(0, sizeof(first), &first));
  cpu_set_t now;
  CPU_ZERO(&now);
  sched_getaffinity(0, sizeof(now), &now);
  show_value("  CPUs now", CPU_COUNT(&now));
  show_bool("  CPU 0 set", CPU_ISSET(0, &now));
  SHOW("sched_setaffinity back", sched_setaffinity(0, sizeof(set), &set));
  unsigned cpu = 99;
  SHOW("getcpu", syscall(SYS_getcpu, &cpu, NULL, NULL));
  show_bool("  cpu within the mask", CPU_ISSET(cpu, &set));
  SHOW("getcpu to a bad pointer", syscall(SYS_getcpu, BAD_POINTER, NULL, NULL));
}

static void policy_errors(void) {
  struct sched_param param = {.sched_priority = 0};
  SHOW("sched_getparam NULL", syscall(SYS_sched_getparam, 0, NULL));
  SHOW("sched_getparam pid -1", syscall(SYS_sched_getparam, -1, &param));
  SHOW("sched_getparam a missing pid", syscall(SYS_sched_getparam, MISSING_PID, &param));
  SHOW("sched_getparam to a bad pointer", syscall(SYS_sched_getparam, 0, BAD_POINTER));
  SHOW("sched_setparam NULL", syscall(SYS_sched_setparam, 0, NULL));
  SHOW("sched_setparam priority 1 for SCHED_OTHER", sched_setparam(0, &(struct sched_param){1}));
  SHOW("sched_setscheduler policy -1", sched_setscheduler(0, -1, &param));
  SHOW("sched_setscheduler policy 4", sched_setscheduler(0, 4, &param));
  SHOW("sched_setscheduler from a bad pointer", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, BAD_POINTER));
  SHOW("sched_setscheduler a missing pid", sched_setscheduler(MISSING_PID, SCHED_OTHER, &param));
  SHOW("sched_setscheduler SCHED_FIFO priority 0", sched_setscheduler(0, SCHED_FIFO, &param));
  param.sched_priority = 100;
  SHOW("sched_setscheduler SCHED_FIFO priority 100", sched_setscheduler(0, SCHED_FIFO, &param));
  param.sched_priority = -1;
  SHOW("sched_setscheduler SCHED_RR priority -1", sched_setscheduler(0, SCHED_RR, &param));
  param.sched_priority = 0;
  SHOW("sched_setscheduler SCHED_BATCH", sched_setscheduler(0, SCHED_BATCH, &param));
  SHOW("sched_getscheduler", sched_getscheduler(0));
  SHOW("sched_setscheduler SCHED_IDLE with reset-on-fork",
       sched_setscheduler(0, SCHED_IDLE | SCHED_RESET_ON_FORK, &param));
  SHOW("sched_getscheduler", sched_getscheduler(0));
  param.sched_priority = 10;
  SHOW("sched_setscheduler SCHED_RR 10 as root", sched_setscheduler(0, SCHED_RR, &param));
  SHOW("sched_getscheduler", sched_getscheduler(0));
  param.sched_priority = 0;
  SHOW("sched_getparam", sched_getparam(0, &param));
  show_value("  priority", param.sched_priority);
  param.sched_priority = 20;
  SHOW("sched_setparam 20", sched_setparam(0, &param));
  sched_getparam(0, &param);
  show_value("  priority", param.sched_priority);
  struct timespec interval = {0};
  SHOW("sched_rr_get_interval", sched_rr_get_interval(0, &interval));
  show_value("  nanoseconds", interval.tv_sec * 1000000000L + interval.tv_nsec);
  param.sched_priority = 0;
  SHOW("sched_setscheduler SCHED_OTHER", sched_setscheduler(0, SCHED_OTHER, &param));

  SHOW("sched_rr_get_interval pid -1", sched_rr_get_interval(-1, &interval));
  SHOW("sched_rr_get_interval a missing pid", sched_rr_get_interval(MISSING_PID, &interval));
  SHOW("sched_rr_get_interval to a bad pointer", syscall(SYS_sched_rr_get_interval, 0, BAD_POINTER));
  SHOW("sched_get_priority_min -1", sched_get_priority_min(-1));
  SHOW("sched_get_priority_min SCHED_RR", sched_get_priority_min(SCHED_RR));
  SHOW("sched_get_priority_max SCHED_IDLE", sched_get_priority_max(SCHED_IDLE));
}

static void attr_errors(void) {
  struct sched_attr_v1 attr = {0};
  SHOW("sched_getattr size 10", syscall(SYS_sched_getattr, 0, &attr, 10, 0));
  SHOW("sched_getattr size 8192", syscall(SYS_sched_getattr, 0, &attr, 8192, 0));
  SHOW("sched_getattr flags 1", syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 1));
  SHOW("sched_getattr NULL", syscall(SYS_sched_getattr, 0, NULL, sizeof(attr), 0));
  SHOW("sched_getattr a missing pid", syscall(SYS_sched_getattr, MISSING_PID, &attr, sizeof(attr), 0));
  SHOW("sched_getattr", syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0));
  show_value("  size", attr.size);
  show_value("  policy", attr.sched_policy);
  show_value("  nice", attr.sched_nice);
  SHOW("sched_getattr size 48", syscall(SYS_sched_getattr, 0, &attr, 48, 0));
  show_value("  size", attr.size);

  struct sched_attr_v1 request = {.size = 20};
  SHOW("sched_setattr size 20", syscall(SYS_sched_setattr, 0, &request, 0));
  show_value("  size written back", request.size);
  unsigned char big[128] = {0};
  big[0] = sizeof(big);
  big[100] = 1;
  SHOW("sched_setattr with nonzero bytes past the structure", syscall(SYS_sched_setattr, 0, big, 0));
  show_value("  size written back", big[0]);
  big[100] = 0;
  big[0] = sizeof(big);
  SHOW("sched_setattr with zero bytes past the structure", syscall(SYS_sched_setattr, 0, big, 0));
  SHOW("sched_setattr flags 1", syscall(SYS_sched_setattr, 0, &request, 1));
  SHOW("sched_setattr NULL", syscall(SYS_sched_setattr, 0, NULL, 0));
  request = (struct sched_attr_v1){.size = 48, .sched_policy = SCHED_OTHER, .sched_nice = 5};
  SHOW("sched_setattr nice 5", syscall(SYS_sched_setattr, 0, &request, 0));
  SHOW("getpriority after sched_setattr", getpriority(PRIO_PROCESS, 0));
  request.sched_flags = 0x100;
  SHOW("sched_setattr an unknown flag", syscall(SYS_sched_setattr, 0, &request, 0));
  request = (struct sched_attr_v1){.size = 48, .sched_policy = (uint32_t)-1};
  SHOW("sched_setattr policy -1", syscall(SYS_sched_setattr, 0, &request, 0));
  request = (struct sched_attr_v1){.size = 48, .sched_policy = SCHED_OTHER, .sched_nice = 0};
  syscall(SYS_sched_setattr, 0, &request, 0);
}

static void priority_errors(void) {
  SHOW("getpriority bad which", getpriority(3, 0));
  SHOW("getpriority a missing pid", getpriority(PRIO_PROCESS, MISSING_PID));
  SHOW("setpriority bad which", setpriority(-1, 0, 0));
  SHOW("setpriority a missing pid", setpriority(PRIO_PROCESS, MISSING_PID, 0));
  SHOW("setpriority 100 clamps to 19", setpriority(PRIO_PROCESS, 0, 100));
  SHOW("getpriority raw", syscall(SYS_getpriority, PRIO_PROCESS, 0));
  SHOW("setpriority -100 clamps to -20 as root", setpriority(PRIO_PROCESS, 0, -100));
  SHOW("getpriority raw", syscall(SYS_getpriority, PRIO_PROCESS, 0));
  SHOW("setpriority back to 0", setpriority(PRIO_PROCESS, 0, 0));

  SHOW("ioprio_get bad which", syscall(SYS_ioprio_get, 0, 0));
  SHOW("ioprio_set bad which", syscall(SYS_ioprio_set, 4, 0, 2 << 13));
  SHOW("ioprio_set class 5", syscall(SYS_ioprio_set, 1, 0, 5 << 13));
  SHOW("ioprio_set class none level 3", syscall(SYS_ioprio_set, 1, 0, 3));
  SHOW("ioprio_set a missing pid", syscall(SYS_ioprio_set, 1, MISSING_PID, 2 << 13));
  SHOW("ioprio_set best-effort level 6", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 6));
  SHOW("ioprio_get", syscall(SYS_ioprio_get, 1, 0));
  SHOW("ioprio_set idle", syscall(SYS_ioprio_set, 1, 0, 3 << 13));
  SHOW("ioprio_get", syscall(SYS_ioprio_get, 1, 0));

  SHOW("personality query", personality(0xffffffff));
}

int main(void) {
  if (getuid() != 0) {
    printf("this test needs root\n");
    return 1;
  }
  identity_errors();
  capability_errors();
  affinity_errors();
  policy_errors();
  attr_errors();
  priority_errors();
  return finish_checks();
}
