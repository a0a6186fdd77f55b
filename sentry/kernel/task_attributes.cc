#include "sentry/kernel/task_attributes.h"

#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace ward::kernel {
namespace {

// The largest CPU mask the sentry requests from the host: 8192 CPUs, Linux's
// highest NR_CPUS on x86_64.
constexpr size_t kMaxCpuMaskBytes = 1024;

// personality(2) flags that execve clears when it grants capabilities
// (PER_CLEAR_ON_SETID), and READ_IMPLIES_EXEC, which a 64-bit image clears.
constexpr uint32_t kReadImpliesExec = 0x0400000;
constexpr uint32_t kPerClearOnSetid = kReadImpliesExec | kAddrNoRandomize | 0x0200000 | 0x0100000;

// The first fields of Linux's struct sched_attr (SCHED_ATTR_SIZE_VER0).
struct HostSchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

// Linux's SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM and
// SCHED_FLAG_DL_OVERRUN.
constexpr uint64_t kSchedFlagResetOnFork = 0x01;
constexpr uint64_t kSchedFlagDeadlineMask = 0x02 | 0x04;

// ioprio_valid: a class other than IOPRIO_CLASS_NONE and below
// IOPRIO_CLASS_INVALID.
bool is_valid_ioprio(uint16_t ioprio) {
  int io_class = (ioprio >> 13) & 0x7;
  return io_class > 0 && io_class <= 3;
}

HostCpus read_host_cpus() {
  HostCpus cpus;
  std::vector<std::byte> buffer(kMaxCpuMaskBytes);
  for (size_t size = sizeof(uint64_t); size <= kMaxCpuMaskBytes; size += sizeof(uint64_t)) {
    if (syscall(SYS_sched_getaffinity, 0, size, buffer.data()) > 0) {
      cpus.min_request_bytes = size;
      // The host writes at most cpumask_size() bytes, which can exceed the
      // smallest size it accepts.
      long written = syscall(SYS_sched_getaffinity, 0, buffer.size(), buffer.data());
      cpus.mask_bytes = written > 0 ? static_cast<size_t>(written) : size;
      cpus.allowed = CpuMask::from_bytes(std::span(buffer.data(), cpus.mask_bytes));
      return cpus;
    }
    if (errno != EINVAL) {
      break;
    }
  }
  // Every size failed, which happens only on a host with more CPUs than
  // kMaxCpuMaskBytes covers. CPU 0 is then the fallback, since every
  // machine has it.
  cpus.allowed.add(0);
  return cpus;
}

// The sentry's own scheduling attributes, zeroed when the host call fails.
HostSchedAttr read_host_sched_attr() {
  HostSchedAttr attr{};
  if (syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0) {
    attr = HostSchedAttr{};
  }
  return attr;
}

// ward's own attributes, read once: what a child ward forked would inherit.
struct HostTaskState {
  HostSchedAttr sched;
  uint16_t ioprio = 0;
  uint64_t timer_slack_ns = kDefaultTimerSlackNs;
  bool no_new_privs = false;
  int thp_disable = 0;
  uint32_t personality = 0;
};

HostTaskState read_host_task_state() {
  HostTaskState state;
  state.sched = read_host_sched_attr();
  constexpr int kIoprioWhoProcess = 1;
  long ioprio = syscall(SYS_ioprio_get, kIoprioWhoProcess, 0);
  state.ioprio = ioprio > 0 ? static_cast<uint16_t>(ioprio) : 0;
  int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  state.timer_slack_ns = slack >= 0 ? static_cast<uint64_t>(slack) : kDefaultTimerSlackNs;
  state.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
  int thp = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
  state.thp_disable = thp > 0 ? thp : 0;
  long persona = syscall(SYS_personality, 0xffffffffUL);
  state.personality = persona > 0 ? static_cast<uint32_t>(persona) : 0;
  return state;
}

const HostTaskState& host_task_state() {
  static const HostTaskState state = read_host_task_state();
  return state;
}

// Makes the guest thread's host thread run on `mask` only. A host thread
// that is already gone belongs to a task that is exiting, so ESRCH is no
// failure.
Result<void> apply_host_affinity(Task& task, const CpuMask& mask) {
  if (!task.has_context()) {
    return ok();
  }
  std::vector<std::byte> bytes = mask.to_bytes(host_cpus().mask_bytes);
  if (syscall(SYS_sched_setaffinity, task.context().host_tid(), bytes.size(), bytes.data()) != 0 &&
      errno != ESRCH) {
    int error = errno;
    task.log(spdlog::level::debug, "host sched_setaffinity failed: {}", errno_name(error));
    return Errno{error};
  }
  return ok();
}

// Applies the task's stored affinity to a new host thread, which starts
// with ward's own: clone and execve make one.
void refresh_host_affinity(Task& task) {
  const CpuMask& mask = task.attributes().cpu_affinity;
  if (mask == host_cpus().allowed) {
    return;
  }
  if (!apply_host_affinity(task, mask).ok()) {
    task.log(spdlog::level::warn, "could not apply the CPU affinity to a new host thread");
  }
}

}  // namespace

CpuMask CpuMask::from_bytes(std::span<const std::byte> bytes) {
  CpuMask mask;
  mask.words_.assign((bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t), 0);
  std::memcpy(mask.words_.data(), bytes.data(), bytes.size());
  return mask;
}

std::vector<std::byte> CpuMask::to_bytes(size_t size_bytes) const {
  std::vector<std::byte> bytes(size_bytes);
  std::memcpy(bytes.data(), words_.data(), std::min(size_bytes, words_.size() * sizeof(uint64_t)));
  return bytes;
}

bool CpuMask::empty() const {
  return std::all_of(words_.begin(), words_.end(), [](uint64_t word) { return word == 0; });
}

bool CpuMask::has(size_t cpu) const {
  size_t index = cpu / 64;
  return index < words_.size() && ((words_[index] >> (cpu % 64)) & 1) != 0;
}

void CpuMask::add(size_t cpu) {
  size_t index = cpu / 64;
  if (index >= words_.size()) {
    words_.resize(index + 1, 0);
  }
  words_[index] |= uint64_t{1} << (cpu % 64);
}

CpuMask CpuMask::operator&(const CpuMask& other) const {
  CpuMask result;
  result.words_.resize(std::min(words_.size(), other.words_.size()));
  for (size_t i = 0; i < result.words_.size(); ++i) {
    result.words_[i] = words_[i] & other.words_[i];
  }
  return result;
}

bool CpuMask::operator==(const CpuMask& other) const {
  size_t common = std::max(words_.size(), other.words_.size());
  for (size_t i = 0; i < common; ++i) {
    uint64_t mine = i < words_.size() ? words_[i] : 0;
    uint64_t theirs = i < other.words_.size() ? other.words_[i] : 0;
    if (mine != theirs) {
      return false;
    }
  }
  return true;
}

const HostCpus& host_cpus() {
  static const HostCpus cpus = read_host_cpus();
  return cpus;
}

bool SchedAttributes::is_realtime() const { return policy == SCHED_FIFO || policy == SCHED_RR; }

bool SchedAttributes::is_fair() const { return policy == SCHED_OTHER || policy == SCHED_BATCH; }

uint64_t host_base_slice_ns() {
  static const uint64_t slice_ns = [] {
    HostSchedAttr attr = read_host_sched_attr();
    bool fair = attr.sched_policy == SCHED_OTHER || attr.sched_policy == SCHED_BATCH ||
                attr.sched_policy == SCHED_IDLE;
    if (fair && attr.sched_runtime != 0) {
      return attr.sched_runtime;
    }
    // Linux's default: 0.7 ms times 1 + log2 of the CPU count (at most 8
    // CPUs), which is the bit width of the count.
    long cpu_count = std::clamp(sysconf(_SC_NPROCESSORS_ONLN), 1L, 8L);
    return uint64_t{700'000} * std::bit_width(static_cast<uint64_t>(cpu_count));
  }();
  return slice_ns;
}

int host_suid_dumpable() {
  static const int value = [] {
    std::ifstream file("/proc/sys/fs/suid_dumpable");
    int dumpable = kSuidDumpDisable;
    if (!(file >> dumpable) || dumpable < 0 || dumpable > 2) {
      dumpable = kSuidDumpDisable;  // Linux's default
    }
    return dumpable;
  }();
  return value;
}

TaskAttributes initial_task_attributes() {
  const HostTaskState& host = host_task_state();
  TaskAttributes attributes;
  SchedAttributes& sched = attributes.sched;
  sched.policy = static_cast<int>(host.sched.sched_policy);
  sched.reset_on_fork = (host.sched.sched_flags & kSchedFlagResetOnFork) != 0;
  sched.nice = std::clamp(host.sched.sched_nice, kMinNice, kMaxNice);
  if (sched.is_realtime()) {
    sched.rt_priority = host.sched.sched_priority;
  }
  if (sched.is_deadline()) {
    sched.dl_runtime_ns = host.sched.sched_runtime;
    sched.dl_deadline_ns = host.sched.sched_deadline;
    sched.dl_period_ns = host.sched.sched_period;
    sched.dl_flags = host.sched.sched_flags & kSchedFlagDeadlineMask;
  }
  attributes.cpu_affinity = host_cpus().allowed;
  attributes.io_context->ioprio = host.ioprio;
  attributes.mm->thp_disable = host.thp_disable;
  // A forked child's default slack is its parent's current one.
  attributes.timer_slack_ns = host.timer_slack_ns;
  attributes.default_timer_slack_ns = host.timer_slack_ns;
  attributes.no_new_privs = host.no_new_privs;
  attributes.personality = host.personality;
  return attributes;
}

void inherit_task_attributes(Task& child, const Task& parent, uint64_t clone_flags) {
  const TaskAttributes& from = parent.attributes();
  TaskAttributes& to = child.attributes();

  to.sched = from.sched;
  if (to.sched.reset_on_fork) {
    // sched_fork: a real-time or deadline parent's child starts as
    // SCHED_OTHER, and a negative nice goes back to 0.
    if (to.sched.is_realtime() || to.sched.is_deadline()) {
      to.sched = SchedAttributes{};
    } else {
      to.sched.nice = std::max(to.sched.nice, 0);
      to.sched.custom_slice_ns = 0;
    }
    to.sched.reset_on_fork = false;
  }
  to.cpu_affinity = from.cpu_affinity;

  // copy_io: without CLONE_IO the child gets its own context, which keeps
  // the priority only if the parent set a class.
  if ((clone_flags & CLONE_IO) != 0) {
    to.io_context = from.io_context;
  } else {
    uint16_t ioprio = from.io_context->ioprio;
    to.io_context = std::make_shared<IoContext>();
    to.io_context->ioprio = is_valid_ioprio(ioprio) ? ioprio : uint16_t{0};
  }
  to.mm = (clone_flags & CLONE_VM) != 0 ? from.mm : std::make_shared<MmAttributes>(*from.mm);

  if ((clone_flags & CLONE_THREAD) != 0) {
    to.parent_thread = from.parent_thread;
  } else if ((clone_flags & CLONE_PARENT) != 0) {
    to.parent_thread = std::make_shared<ParentThread>(*from.parent_thread);
  } else {
    to.parent_thread = std::make_shared<ParentThread>(ParentThread{parent.pid(), parent.tid()});
  }

  to.pdeath_signal = 0;
  to.timer_slack_ns = from.timer_slack_ns;
  to.default_timer_slack_ns = from.timer_slack_ns;
  to.no_new_privs = from.no_new_privs;
  to.io_flusher = from.io_flusher;
  to.personality = from.personality;

  refresh_host_affinity(child);
}

ExecCredentials prepare_exec_credentials(const Task& task) {
  return credentials_for_exec(task.creds(), task.attributes().no_new_privs);
}

void apply_exec_attributes(Task& task, const ExecCredentials& exec) {
  TaskAttributes& attributes = task.attributes();
  const Credentials& old = task.creds();

  // begin_new_exec judges dumpability by the caller's ids, before the new
  // credentials are committed.
  auto mm = std::make_shared<MmAttributes>(*attributes.mm);
  bool same_ids = old.effective_uid == old.real_uid && old.effective_gid == old.real_gid;
  mm->dumpable = same_ids ? kSuidDumpUser : host_suid_dumpable();
  attributes.mm = std::move(mm);

  if (!exec.creds.cap_permitted.is_subset_of(old.cap_permitted)) {
    attributes.personality &= ~kPerClearOnSetid;
  }
  // The loader maps only 64-bit images, whose SET_PERSONALITY clears it.
  attributes.personality &= ~kReadImpliesExec;

  commit_credentials(task, exec.creds);
  if (exec.secure) {
    attributes.pdeath_signal = 0;
  }
  refresh_host_affinity(task);
}

void commit_credentials(Task& task, Credentials creds) {
  if (credentials_change_resets_privileges(task.creds(), creds)) {
    task.attributes().mm->dumpable = host_suid_dumpable();
    task.attributes().pdeath_signal = 0;
  }
  task.creds() = std::move(creds);
}

Result<void> set_cpu_affinity(Task& target, const CpuMask& requested) {
  CpuMask mask = requested & host_cpus().allowed;
  if (mask.empty()) {
    return Errno{EINVAL};
  }
  TRY(apply_host_affinity(target, mask));
  target.attributes().cpu_affinity = std::move(mask);
  return ok();
}

void send_parent_death_signals(Task& exiting) {
  ThreadGroup& group = exiting.thread_group();
  if (group.tasks().empty()) {
    return;
  }

  // Linux's find_alive_thread: the children pass to the first sibling
  // thread that is not exiting, or to a reaper process when none is left.
  Task* successor = nullptr;
  for (Task* sibling : group.tasks()) {
    if (sibling != &exiting && !sibling->exit_requested()) {
      successor = sibling;
      break;
    }
  }

  for (ThreadGroup* child : group.children()) {
    if (child->tasks().empty()) {
      continue;  // a zombie takes no signals
    }
    ParentThread& holder = *child->tasks().front()->attributes().parent_thread;
    // A child reparented to this process since its link was last set is
    // held by the process's first thread.
    pid_t holder_tid = holder.pid == group.tgid() ? holder.tid : group.tasks().front()->tid();
    if (holder_tid != exiting.tid()) {
      continue;
    }
    holder = ParentThread{group.tgid(), successor != nullptr ? successor->tid() : 0};

    for (Task* thread : child->tasks()) {
      int signal = thread->attributes().pdeath_signal;
      if (signal != 0) {
        send_signal_to_group(*child, user_siginfo(signal, exiting));
      }
    }
  }
}

}  // namespace ward::kernel
