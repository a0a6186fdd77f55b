// Scheduling settings: sched_setaffinity to the current mask and to an empty
// one, and the scheduling policy and priority calls.
#include <sched.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  SHOW("sched_setaffinity to the same mask", sched_setaffinity(0, sizeof(set), &set));
  cpu_set_t empty;
  CPU_ZERO(&empty);
  SHOW("sched_setaffinity to an empty mask", sched_setaffinity(0, sizeof(empty), &empty));

  SHOW("sched_getscheduler", sched_getscheduler(0));
  SHOW("sched_getscheduler of a missing process", sched_getscheduler(0x3fffffff));
  SHOW("sched_getscheduler -1", sched_getscheduler(-1));
  struct sched_param parameter = {0};
  SHOW("sched_getparam", sched_getparam(0, &parameter));
  show_value("  sched_priority", parameter.sched_priority);
  SHOW("sched_get_priority_max SCHED_FIFO", sched_get_priority_max(SCHED_FIFO));
  SHOW("sched_get_priority_min SCHED_FIFO", sched_get_priority_min(SCHED_FIFO));
  SHOW("sched_get_priority_max SCHED_OTHER", sched_get_priority_max(SCHED_OTHER));
  SHOW("sched_get_priority_max policy 99", sched_get_priority_max(99));
  struct timespec interval = {0};
  SHOW("sched_rr_get_interval", sched_rr_get_interval(0, &interval));
  parameter.sched_priority = 5;
  SHOW("sched_setscheduler SCHED_OTHER with priority 5",
       sched_setscheduler(0, SCHED_OTHER, &parameter));
  SHOW("sched_setscheduler policy 99", sched_setscheduler(0, 99, &parameter));
  return finish_checks();
}
