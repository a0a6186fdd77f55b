// Scheduling policy and priority, nice values, CPU affinity, I/O priority
// and personality. Apart from CPU affinity these are the guest's own record
// (see task_attributes.h); the checks and errors are Linux's.
#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <vector>

#include "sentry/kernel/credentials.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_attributes.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_cred.h"

namespace ward::syscalls {
namespace {

using kernel::SchedAttributes;
using kernel::Task;

// sched_setscheduler's flag in the policy argument, sched_setparam's
// "keep the policy" marker, and Linux's SCHED_FLAG_* bits.
constexpr int kSchedResetOnForkPolicy = 0x40000000;
constexpr int kKeepPolicy = -1;
constexpr uint64_t kSchedFlagResetOnFork = 0x01;
constexpr uint64_t kSchedFlagDeadline = 0x02 | 0x04;  // RECLAIM, DL_OVERRUN
constexpr uint64_t kSchedFlagKeepPolicy = 0x08;
constexpr uint64_t kSchedFlagKeepParams = 0x10;
constexpr uint64_t kSchedFlagUtilClamp = 0x20 | 0x40;
constexpr uint64_t kSchedFlagAll = 0x7f;
constexpr uint64_t kSchedFlagSugov = 0x10000000;

// struct sched_attr up to its utilisation clamps (SCHED_ATTR_SIZE_VER1);
// VER0 ends before them.
struct GuestSchedAttr {
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
constexpr uint32_t kSchedAttrSizeVer0 = 48;
constexpr uint32_t kPageSize = 4096;

// A fair thread's slice bounds in sched_setattr: 0.1 ms to 100 ms.
constexpr uint64_t kMinCustomSliceNs = 100'000;
constexpr uint64_t kMaxCustomSliceNs = 100'000'000;

// The SCHED_RR time slice, RR_TIMESLICE: 100 ms.
constexpr long kRoundRobinSliceNs = 100'000'000;

// ioprio_set's "which" values and classes.
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioWhoPgrp = 2;
constexpr int kIoprioWhoUser = 3;
constexpr int kIoprioClassNone = 0;
constexpr int kIoprioClassRt = 1;
constexpr int kIoprioClassBe = 2;
constexpr int kIoprioClassIdle = 3;

int ioprio_class(int ioprio) { return (ioprio >> 13) & 0x7; }
int ioprio_value(int io_class, int level) { return (io_class << 13) | level; }

// find_process_by_pid: 0 is the caller, anything else a thread id.
Result<Task*> find_target(Task& task, pid_t pid) {
  if (pid == 0) {
    return &task;
  }
  Task* target = task.kernel().find_task(pid);
  if (target == nullptr) {
    return Errno{ESRCH};
  }
  return target;
}

// Every live thread, for the PRIO_PGRP, PRIO_USER and IOPRIO_WHO_* scans.
std::vector<Task*> all_tasks(Task& task) {
  std::vector<Task*> tasks;
  for (kernel::ThreadGroup* group : task.kernel().thread_groups()) {
    tasks.insert(tasks.end(), group->tasks().begin(), group->tasks().end());
  }
  return tasks;
}

// check_same_owner: the caller's euid is the target's real or effective uid.
bool same_owner(const Task& caller, const Task& target) {
  uid_t euid = caller.creds().effective_uid;
  return euid == target.creds().effective_uid || euid == target.creds().real_uid;
}

bool has_sys_nice(const Task& caller) { return caller.creds().has_capability(CAP_SYS_NICE); }

// can_nice: lowering the nice value to `nice` needs RLIMIT_NICE of at
// least 20 - nice (of the target's process) or CAP_SYS_NICE.
bool can_nice(const Task& caller, const Task& target, int nice) {
  rlim_t limit = target.thread_group().limit(RLIMIT_NICE).rlim_cur;
  return static_cast<rlim_t>(20 - nice) <= limit || has_sys_nice(caller);
}

bool is_valid_policy(int policy) {
  return policy == SCHED_OTHER || policy == SCHED_FIFO || policy == SCHED_RR ||
         policy == SCHED_BATCH || policy == SCHED_IDLE || policy == kernel::kSchedDeadline;
}

bool is_realtime_policy(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }
bool is_fair_policy(int policy) { return policy == SCHED_OTHER || policy == SCHED_BATCH; }

// A request to change a thread's scheduling, in sched_attr's terms.
struct SchedRequest {
  int policy = kKeepPolicy;
  uint64_t flags = 0;
  int nice = 0;
  uint32_t priority = 0;
  uint64_t runtime_ns = 0;
};

// user_check_sched_setscheduler: EPERM unless the change is one an
// unprivileged owner may make, or the caller has CAP_SYS_NICE.
bool may_set_scheduler(const Task& caller, const Task& target, const SchedRequest& request,
                       bool reset_on_fork) {
  if (has_sys_nice(caller)) {
    return true;
  }
  const SchedAttributes& current = target.attributes().sched;
  int policy = request.policy;
  if (is_fair_policy(policy) && request.nice < current.nice &&
      !can_nice(caller, target, request.nice)) {
    return false;
  }
  if (is_realtime_policy(policy)) {
    rlim_t rtprio_limit = target.thread_group().limit(RLIMIT_RTPRIO).rlim_cur;
    if (policy != current.policy && rtprio_limit == 0) {
      return false;
    }
    if (request.priority > current.rt_priority && request.priority > rtprio_limit) {
      return false;
    }
  }
  if (policy == kernel::kSchedDeadline) {
    return false;
  }
  if (current.policy == SCHED_IDLE && policy != SCHED_IDLE &&
      !can_nice(caller, target, current.nice)) {
    return false;
  }
  if (!same_owner(caller, target)) {
    return false;
  }
  return !(current.reset_on_fork && !reset_on_fork);
}

// __sched_setscheduler's checks, in Linux's order, then the change.
Result<void> set_scheduler(Task& caller, Task& target, SchedRequest request) {
  SchedAttributes& current = target.attributes().sched;
  bool reset_on_fork = (request.flags & kSchedFlagResetOnFork) != 0;
  if (request.policy == kKeepPolicy) {
    request.policy = current.policy;
    reset_on_fork = current.reset_on_fork;
  } else if (!is_valid_policy(request.policy)) {
    return Errno{EINVAL};
  }
  if ((request.flags & ~(kSchedFlagAll | kSchedFlagSugov)) != 0) {
    return Errno{EINVAL};
  }
  if (request.priority > kernel::kMaxRtPriority) {
    return Errno{EINVAL};
  }
  if (is_realtime_policy(request.policy) != (request.priority != 0)) {
    return Errno{EINVAL};
  }
  if (!may_set_scheduler(caller, target, request, reset_on_fork)) {
    return Errno{EPERM};
  }
  if ((request.flags & kSchedFlagSugov) != 0) {
    return Errno{EINVAL};
  }
  if (request.policy == kernel::kSchedDeadline) {
    // NOTE: SCHED_DEADLINE needs bandwidth admission control, which ward
    // does not model.
    record_gap(caller, "SCHED_DEADLINE");
    return Errno{EINVAL};
  }
  if ((request.flags & kSchedFlagUtilClamp) != 0) {
    record_gap(caller, "SCHED_FLAG_UTIL_CLAMP");
    return Errno{EINVAL};
  }

  current.policy = request.policy;
  current.reset_on_fork = reset_on_fork;
  current.rt_priority = request.priority;
  if (is_fair_policy(request.policy)) {
    current.nice = request.nice;
    current.custom_slice_ns =
        request.runtime_ns == 0
            ? 0
            : std::clamp(request.runtime_ns, kMinCustomSliceNs, kMaxCustomSliceNs);
  }
  // A real-time thread has no timer slack; a fair one gets its default back.
  kernel::TaskAttributes& attributes = target.attributes();
  if (current.is_realtime()) {
    attributes.timer_slack_ns = 0;
  } else if (attributes.timer_slack_ns == 0) {
    attributes.timer_slack_ns = attributes.default_timer_slack_ns;
  }
  return ok();
}

// sched_setscheduler and sched_setparam share do_sched_setscheduler.
Result<int64_t> set_scheduler_from_param(Task& task, pid_t pid, int policy, GuestAddr param) {
  if (param.is_null() || pid < 0) {
    return Errno{EINVAL};
  }
  sched_param value = TRY(task.copy_in<sched_param>(param));
  Task* target = TRY(find_target(task, pid));

  SchedRequest request{.policy = policy,
                       .nice = target->attributes().sched.nice,
                       .priority = static_cast<uint32_t>(value.sched_priority)};
  if (policy != kKeepPolicy && (policy & kSchedResetOnForkPolicy) != 0) {
    request.flags |= kSchedFlagResetOnFork;
    request.policy = policy & ~kSchedResetOnForkPolicy;
  }
  TRY(set_scheduler(task, *target, request));
  return 0;
}

// get_params: what sched_getattr reports and SCHED_FLAG_KEEP_PARAMS keeps.
void read_params(const SchedAttributes& sched, GuestSchedAttr& attr) {
  if (sched.is_realtime()) {
    attr.sched_priority = sched.rt_priority;
  } else if (!sched.is_deadline()) {
    attr.sched_nice = sched.nice;
    attr.sched_runtime =
        sched.custom_slice_ns != 0 ? sched.custom_slice_ns : kernel::host_base_slice_ns();
  }
}

// The host's utilisation clamps of the sentry thread, which sched_getattr
// reports (0 and 1024 with CONFIG_UCLAMP_TASK, both 0 without it).
const GuestSchedAttr& host_sched_attr() {
  static const GuestSchedAttr attr = [] {
    GuestSchedAttr host{};
    if (::syscall(SYS_sched_getattr, 0, &host, sizeof(host), 0) != 0) {
      host = GuestSchedAttr{};
    }
    return host;
  }();
  return attr;
}

// set_one_prio: EPERM for another owner's thread without CAP_SYS_NICE,
// EACCES for a lower nice value than RLIMIT_NICE allows.
int set_one_priority(Task& caller, Task& target, int nice, int error) {
  const kernel::Credentials& creds = target.creds();
  uid_t euid = caller.creds().effective_uid;
  if (creds.real_uid != euid && creds.effective_uid != euid && !has_sys_nice(caller)) {
    return EPERM;
  }
  if (nice < target.attributes().sched.nice && !can_nice(caller, target, nice)) {
    return EACCES;
  }
  target.attributes().sched.nice = nice;
  return error == ESRCH ? 0 : error;
}

// The threads setpriority and getpriority act on, or EINVAL for a bad
// `which`.
Result<std::vector<Task*>> priority_targets(Task& task, int which, int who) {
  std::vector<Task*> targets;
  switch (which) {
    case PRIO_PROCESS: {
      Task* target = who == 0 ? &task : task.kernel().find_task(who);
      if (target != nullptr) {
        targets.push_back(target);
      }
      return targets;
    }
    case PRIO_PGRP: {
      pid_t pgid = who == 0 ? task.thread_group().pgid() : who;
      for (Task* candidate : all_tasks(task)) {
        if (candidate->thread_group().pgid() == pgid) {
          targets.push_back(candidate);
        }
      }
      return targets;
    }
    case PRIO_USER: {
      uid_t uid = who == 0 ? task.creds().real_uid : static_cast<uid_t>(who);
      for (Task* candidate : all_tasks(task)) {
        if (candidate->creds().real_uid == uid) {
          targets.push_back(candidate);
        }
      }
      return targets;
    }
    default:
      return Errno{EINVAL};
  }
}

// The I/O priority ioprio_get reports: the stored one, or for class NONE
// the one derived from the scheduling policy and nice value.
// NOTE: Linux reports 0 for a thread that has no I/O context yet (one that
// has done no block I/O); ward always reports the derived value.
int effective_ioprio(const Task& target) {
  int ioprio = target.attributes().io_context->ioprio;
  if (ioprio_class(ioprio) != kIoprioClassNone) {
    return ioprio;
  }
  const SchedAttributes& sched = target.attributes().sched;
  int io_class = sched.policy == SCHED_IDLE ? kIoprioClassIdle
                 : sched.is_realtime() || sched.is_deadline() ? kIoprioClassRt
                                                               : kIoprioClassBe;
  return ioprio_value(io_class, (sched.nice + 20) / 5);
}

// ioprio_check_cap: the class and level must be valid, and the real-time
// class needs CAP_SYS_ADMIN or CAP_SYS_NICE.
Result<void> check_ioprio(const Task& task, int ioprio) {
  int level = ioprio & 0x7;
  switch (ioprio_class(ioprio)) {
    case kIoprioClassRt:
      if (!task.creds().has_capability(CAP_SYS_ADMIN) && !has_sys_nice(task)) {
        return Errno{EPERM};
      }
      return ok();
    case kIoprioClassBe:
    case kIoprioClassIdle:
      return ok();
    case kIoprioClassNone:
      return level != 0 ? Result<void>(Errno{EINVAL}) : ok();
    default:
      return Errno{EINVAL};
  }
}

// The threads ioprio_get and ioprio_set act on, or EINVAL for a bad
// `which`.
Result<std::vector<Task*>> ioprio_targets(Task& task, int which, int who) {
  switch (which) {
    case kIoprioWhoProcess:
      return priority_targets(task, PRIO_PROCESS, who);
    case kIoprioWhoPgrp:
      return priority_targets(task, PRIO_PGRP, who);
    case kIoprioWhoUser:
      return priority_targets(task, PRIO_USER, who);
    default:
      return Errno{EINVAL};
  }
}

}  // namespace

// sched_yield: the guest thread is stopped while the sentry handles it, so
// the host has already had the chance to run something else.
Result<int64_t> sys_sched_yield(Task&, const SyscallArgs&) { return 0; }

// sched_getaffinity(pid, cpusetsize, mask): returns the bytes written.
Result<int64_t> sys_sched_getaffinity(Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  uint32_t size = args.u32(1);
  GuestAddr mask = args.addr(2);

  const kernel::HostCpus& host = kernel::host_cpus();
  if (size < host.min_request_bytes || (size & (sizeof(uint64_t) - 1)) != 0) {
    return Errno{EINVAL};
  }
  Task* target = TRY(find_target(task, pid));
  size_t written = std::min<size_t>(size, host.mask_bytes);
  std::vector<std::byte> bytes = target->attributes().cpu_affinity.to_bytes(written);
  TRY(task.copy_out(mask, std::span<const std::byte>(bytes)));
  return static_cast<int64_t>(written);
}

// sched_setaffinity(pid, cpusetsize, mask): CPUs the host lacks are
// dropped; EINVAL when none is left.
Result<int64_t> sys_sched_setaffinity(Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  uint32_t size = args.u32(1);
  GuestAddr mask = args.addr(2);

  std::vector<std::byte> bytes(std::min<size_t>(size, kernel::host_cpus().mask_bytes));
  TRY(task.copy_in(mask, std::span(bytes)));
  Task* target = TRY(find_target(task, pid));
  if (!same_owner(task, *target) && !has_sys_nice(task)) {
    return Errno{EPERM};
  }
  TRY(kernel::set_cpu_affinity(*target, kernel::CpuMask::from_bytes(bytes)));
  return 0;
}

// sched_getparam(pid, param)
Result<int64_t> sys_sched_getparam(Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  GuestAddr param = args.addr(1);
  if (param.is_null() || pid < 0) {
    return Errno{EINVAL};
  }
  Task* target = TRY(find_target(task, pid));
  const SchedAttributes& sched = target->attributes().sched;
  sched_param value{.sched_priority = sched.is_realtime() ? static_cast<int>(sched.rt_priority) : 0};
  TRY(task.copy_out(param, value));
  return 0;
}

// sched_setparam(pid, param): keeps the policy.
Result<int64_t> sys_sched_setparam(Task& task, const SyscallArgs& args) {
  return set_scheduler_from_param(task, args.i32(0), kKeepPolicy, args.addr(1));
}

// sched_getscheduler(pid): the policy, with SCHED_RESET_ON_FORK when set.
Result<int64_t> sys_sched_getscheduler(Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  if (pid < 0) {
    return Errno{EINVAL};
  }
  Task* target = TRY(find_target(task, pid));
  const SchedAttributes& sched = target->attributes().sched;
  return sched.policy | (sched.reset_on_fork ? kSchedResetOnForkPolicy : 0);
}

// sched_setscheduler(pid, policy, param)
Result<int64_t> sys_sched_setscheduler(Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  int policy = args.i32(1);
  if (policy < 0) {
    return Errno{EINVAL};
  }
  return set_scheduler_from_param(task, pid, policy, args.addr(2));
}

// sched_get_priority_max(policy)
Result<int64_t> sys_sched_get_priority_max(Task&, const SyscallArgs& args) {
  int policy = args.i32(0);
  if (is_realtime_policy(policy)) {
    return kernel::kMaxRtPriority;
  }
  return is_valid_policy(policy) ? Result<int64_t>(0) : Result<int64_t>(Errno{EINVAL});
}

// sched_get_priority_min(policy)
Result<int64_t> sys_sched_get_priority_min(Task&, const SyscallArgs& args) {
  int policy = args.i32(0);
  if (is_realtime_policy(policy)) {
    return 1;
  }
  return is_valid_policy(policy) ? Result<int64_t>(0) : Result<int64_t>(Errno{EINVAL});
}

// sched_rr_get_interval(pid, interval): 100 ms for SCHED_RR, 0 for
// SCHED_FIFO, and the host's slice for the fair policies.
// NOTE: a fair thread's custom slice (sched_setattr) is not reflected.
Result<int64_t> sys_sched_rr_get_interval(Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  GuestAddr interval = args.addr(1);
  if (pid < 0) {
    return Errno{EINVAL};
  }
  Task* target = TRY(find_target(task, pid));
  const SchedAttributes& sched = target->attributes().sched;

  timespec value{};
  if (sched.policy == SCHED_RR) {
    value.tv_nsec = kRoundRobinSliceNs;
  } else if (!sched.is_realtime() && !sched.is_deadline()) {
    if (::syscall(SYS_sched_rr_get_interval, 0, &value) != 0) {
      value = timespec{};
    }
  }
  TRY(task.copy_out(interval, value));
  return 0;
}

// sched_getattr(pid, attr, size, flags)
Result<int64_t> sys_sched_getattr(Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  GuestAddr attr_addr = args.addr(1);
  uint32_t size = args.u32(2);
  uint32_t flags = args.u32(3);
  if (attr_addr.is_null() || pid < 0 || size > kPageSize || size < kSchedAttrSizeVer0 ||
      flags != 0) {
    return Errno{EINVAL};
  }
  Task* target = TRY(find_target(task, pid));
  const SchedAttributes& sched = target->attributes().sched;

  GuestSchedAttr attr{};
  attr.sched_policy = static_cast<uint32_t>(sched.policy);
  attr.sched_flags = sched.reset_on_fork ? kSchedFlagResetOnFork : 0;
  read_params(sched, attr);
  attr.sched_util_min = host_sched_attr().sched_util_min;
  attr.sched_util_max = host_sched_attr().sched_util_max;
  attr.size = std::min<uint32_t>(size, sizeof(attr));
  TRY(task.copy_out(attr_addr, std::as_bytes(std::span(&attr, 1)).first(attr.size)));
  return 0;
}

// sched_setattr(pid, attr, flags). A size of 0 means the first version. A
// size the sentry does not know is E2BIG with the known size written back,
// unless the extra bytes are all zero.
Result<int64_t> sys_sched_setattr(Task& task, const SyscallArgs& args) {
  pid_t pid = args.i32(0);
  GuestAddr attr_addr = args.addr(1);
  uint32_t flags = args.u32(2);
  if (attr_addr.is_null() || pid < 0 || flags != 0) {
    return Errno{EINVAL};
  }

  uint32_t size = TRY(task.copy_in<uint32_t>(attr_addr));
  size = size == 0 ? kSchedAttrSizeVer0 : size;
  auto size_error = [&]() -> Result<int64_t> {
    TRY(task.copy_out<uint32_t>(attr_addr, sizeof(GuestSchedAttr)));
    return Errno{E2BIG};
  };
  if (size < kSchedAttrSizeVer0 || size > kPageSize) {
    return size_error();
  }
  std::vector<std::byte> bytes(size);
  TRY(task.copy_in(attr_addr, std::span(bytes)));
  if (std::any_of(bytes.begin() + std::min<size_t>(size, sizeof(GuestSchedAttr)), bytes.end(),
                  [](std::byte b) { return b != std::byte{0}; })) {
    return size_error();
  }
  GuestSchedAttr attr{};
  std::memcpy(&attr, bytes.data(), std::min<size_t>(size, sizeof(attr)));
  if ((attr.sched_flags & kSchedFlagUtilClamp) != 0 && size < sizeof(GuestSchedAttr)) {
    return Errno{EINVAL};
  }
  attr.sched_nice = std::clamp(attr.sched_nice, kernel::kMinNice, kernel::kMaxNice);
  if (static_cast<int32_t>(attr.sched_policy) < 0) {
    return Errno{EINVAL};
  }

  Task* target = TRY(find_target(task, pid));
  SchedRequest request{.policy = static_cast<int>(attr.sched_policy),
                       .flags = attr.sched_flags & ~kSchedFlagDeadline,
                       .nice = attr.sched_nice,
                       .priority = attr.sched_priority,
                       .runtime_ns = attr.sched_runtime};
  if ((attr.sched_flags & kSchedFlagKeepPolicy) != 0) {
    request.policy = kKeepPolicy;
  }
  if ((attr.sched_flags & kSchedFlagKeepParams) != 0) {
    GuestSchedAttr kept{};
    read_params(target->attributes().sched, kept);
    request.nice = kept.sched_nice;
    request.priority = kept.sched_priority;
    request.runtime_ns = target->attributes().sched.custom_slice_ns;
  }
  TRY(set_scheduler(task, *target, request));
  return 0;
}

// getpriority(which, who): the raw call returns 20 - nice, the highest of
// the matched threads.
Result<int64_t> sys_getpriority(Task& task, const SyscallArgs& args) {
  int which = args.i32(0);
  int who = args.i32(1);
  std::vector<Task*> targets = TRY(priority_targets(task, which, who));
  if (targets.empty()) {
    return Errno{ESRCH};
  }
  int best = 0;
  for (Task* target : targets) {
    best = std::max(best, 20 - target->attributes().sched.nice);
  }
  return best;
}

// setpriority(which, who, prio): the nice value is clamped to -20..19. The
// first failure is kept, but a later success still applies.
Result<int64_t> sys_setpriority(Task& task, const SyscallArgs& args) {
  int which = args.i32(0);
  int who = args.i32(1);
  int nice = std::clamp(args.i32(2), kernel::kMinNice, kernel::kMaxNice);
  std::vector<Task*> targets = TRY(priority_targets(task, which, who));
  int error = ESRCH;
  for (Task* target : targets) {
    error = set_one_priority(task, *target, nice, error);
  }
  return error == 0 ? Result<int64_t>(0) : Result<int64_t>(Errno{error});
}

// getcpu(cpu, node, cache): the CPU the sentry runs on when the guest
// thread may run there, else the first CPU of its affinity mask.
// NOTE: the guest thread's host thread may be on another CPU of its mask.
Result<int64_t> sys_getcpu(Task& task, const SyscallArgs& args) {
  unsigned cpu = 0;
  unsigned node = 0;
  if (::getcpu(&cpu, &node) != 0) {
    return Errno{errno};
  }
  const kernel::CpuMask& mask = task.attributes().cpu_affinity;
  if (!mask.has(cpu)) {
    for (unsigned candidate = 0; candidate < 8 * kernel::host_cpus().mask_bytes; ++candidate) {
      if (mask.has(candidate)) {
        cpu = candidate;
        break;
      }
    }
  }
  if (!args.addr(0).is_null()) {
    TRY(task.copy_out<uint32_t>(args.addr(0), cpu));
  }
  if (!args.addr(1).is_null()) {
    TRY(task.copy_out<uint32_t>(args.addr(1), node));
  }
  return 0;
}

// ioprio_get(which, who): the best (numerically lowest) priority of the
// matched threads.
Result<int64_t> sys_ioprio_get(Task& task, const SyscallArgs& args) {
  int which = args.i32(0);
  int who = args.i32(1);
  std::vector<Task*> targets = TRY(ioprio_targets(task, which, who));
  if (targets.empty()) {
    return Errno{ESRCH};
  }
  int best = effective_ioprio(*targets.front());
  for (Task* target : targets) {
    best = std::min(best, effective_ioprio(*target));
  }
  return best;
}

// ioprio_set(which, who, ioprio): another user's thread needs
// CAP_SYS_NICE; the scan stops at the first failure.
Result<int64_t> sys_ioprio_set(Task& task, const SyscallArgs& args) {
  int which = args.i32(0);
  int who = args.i32(1);
  int ioprio = args.i32(2);
  TRY(check_ioprio(task, ioprio));
  std::vector<Task*> targets = TRY(ioprio_targets(task, which, who));
  if (targets.empty()) {
    return Errno{ESRCH};
  }
  const kernel::Credentials& creds = task.creds();
  for (Task* target : targets) {
    uid_t target_uid = target->creds().real_uid;
    if (target_uid != creds.effective_uid && target_uid != creds.real_uid && !has_sys_nice(task)) {
      return Errno{EPERM};
    }
    target->attributes().io_context->ioprio = static_cast<uint16_t>(ioprio);
  }
  return 0;
}

// personality(persona): 0xffffffff only queries. Returns the previous
// persona.
// NOTE: ADDR_NO_RANDOMIZE and the other flags are stored and reported, but
// the loader does not act on them.
Result<int64_t> sys_personality(Task& task, const SyscallArgs& args) {
  uint32_t persona = args.u32(0);
  uint32_t previous = task.attributes().personality;
  if (persona != 0xffffffff) {
    task.attributes().personality = persona;
  }
  return previous;
}

}  // namespace ward::syscalls
