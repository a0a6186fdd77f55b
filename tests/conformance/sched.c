// CPU affinity and scheduling queries: sched_getaffinity, getcpu,
// sched_yield, and the CPU counts glibc derives from /sys and /proc.
// sched_policy.c checks sched_setaffinity and the scheduling policy calls.
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "check.h"

static long raw_getaffinity(pid_t pid, size_t size, void* mask) {
  return syscall(SYS_sched_getaffinity, pid, size, mask);
}

int main(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  // The raw call returns the size of the kernel's CPU mask in bytes.
  SHOW("raw sched_getaffinity", raw_getaffinity(0, sizeof(set), &set));
  show_value("CPU_COUNT of the affinity mask", CPU_COUNT(&set));
  int first_cpu = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE && first_cpu < 0; cpu++) {
    if (CPU_ISSET(cpu, &set)) {
      first_cpu = cpu;
    }
  }
  show_value("first CPU in the mask", first_cpu);
  SHOW("raw sched_getaffinity of itself by pid", raw_getaffinity(getpid(), sizeof(set), &set));
  SHOW("raw sched_getaffinity with size 4", raw_getaffinity(0, 4, &set));
  SHOW("raw sched_getaffinity with size 7", raw_getaffinity(0, 7, &set));
  SHOW("raw sched_getaffinity with size 0", raw_getaffinity(0, 0, &set));
  SHOW("raw sched_getaffinity into a bad pointer", raw_getaffinity(0, sizeof(set), (void*)1));
  SHOW("raw sched_getaffinity of a missing process",
       raw_getaffinity(0x3fffffff, sizeof(set), &set));

  unsigned int cpu = 0;
  unsigned int node = 0;
  SHOW("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
  EXPECT("getcpu's CPU is in the affinity mask", CPU_ISSET(cpu, &set));
  show_value("getcpu node", node);

  show_value("sysconf _SC_NPROCESSORS_ONLN", sysconf(_SC_NPROCESSORS_ONLN));
  show_value("sysconf _SC_NPROCESSORS_CONF", sysconf(_SC_NPROCESSORS_CONF));
  show_value("get_nprocs", get_nprocs());
  show_value("get_nprocs_conf", get_nprocs_conf());

  SHOW("sched_yield", sched_yield());
  return finish_checks();
}
