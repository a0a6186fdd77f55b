// The scheduling, prctl and personality state of a task: what setpriority,
// sched_setattr, sched_setaffinity, ioprio_set, prctl and personality
// store, what clone and execve do to it, and the parent-death signal.
//
// NOTE: the nice value, scheduling policy and priority, I/O priority, timer
// slack and THP setting are the guest's own record, which its queries
// return. They do not change how the host schedules the stub threads or
// backs their memory: a sandbox may not raise its priority on the host, and
// lowering it would be irreversible there. CPU affinity is the exception:
// it is applied to the guest thread's host thread (see set_cpu_affinity).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "sentry/kernel/credentials.h"
#include "ward/result.h"

namespace ward::kernel {

class Task;

// A set of CPUs in the layout of Linux's cpumask: bit n of 64-bit word n / 64.
class CpuMask {
 public:
  CpuMask() = default;

  // Reads a guest's mask of `bytes.size()` bytes; missing bytes are zero.
  static CpuMask from_bytes(std::span<const std::byte> bytes);
  // The first `size_bytes` bytes of the mask, zero-padded.
  std::vector<std::byte> to_bytes(size_t size_bytes) const;

  bool empty() const;
  bool has(size_t cpu) const;
  void add(size_t cpu);
  CpuMask operator&(const CpuMask& other) const;
  bool operator==(const CpuMask& other) const;

 private:
  std::vector<uint64_t> words_;
};

// The host CPUs the sandbox may use, read once from ward's own affinity,
// which every stub thread inherits.
struct HostCpus {
  CpuMask allowed;
  // What the host's sched_getaffinity writes at most (cpumask_size()).
  size_t mask_bytes = 8;
  // The smallest buffer the host's sched_getaffinity accepts: it fails with
  // EINVAL below nr_cpu_ids bits.
  size_t min_request_bytes = 8;
};
const HostCpus& host_cpus();

// Linux's SCHED_EXT and SCHED_DEADLINE, which glibc's <sched.h> may lack.
inline constexpr int kSchedDeadline = 6;
inline constexpr int kSchedExt = 7;

// Linux's nice range and its RT priority bound (MAX_RT_PRIO - 1).
inline constexpr int kMinNice = -20;
inline constexpr int kMaxNice = 19;
inline constexpr uint32_t kMaxRtPriority = 99;

// The scheduling attributes of one thread, as sched_setattr(2) sets them.
struct SchedAttributes {
  int policy = 0;  // SCHED_OTHER
  bool reset_on_fork = false;
  int nice = 0;
  uint32_t rt_priority = 0;
  // A fair policy's requested slice (sched_attr.sched_runtime), or 0 for the
  // host's base slice.
  uint64_t custom_slice_ns = 0;
  // SCHED_DEADLINE parameters and its SCHED_FLAG_RECLAIM and
  // SCHED_FLAG_DL_OVERRUN flags.
  uint64_t dl_runtime_ns = 0;
  uint64_t dl_deadline_ns = 0;
  uint64_t dl_period_ns = 0;
  uint64_t dl_flags = 0;

  bool is_realtime() const;  // SCHED_FIFO or SCHED_RR
  bool is_deadline() const { return policy == kSchedDeadline; }
  bool is_fair() const;  // SCHED_OTHER or SCHED_BATCH
};

// The host's fair-policy base slice, which sched_getattr reports as the
// sched_runtime of a fair thread without its own slice.
uint64_t host_base_slice_ns();

// An I/O context, shared by the threads made with CLONE_IO.
struct IoContext {
  // The raw value ioprio_set stored: class in bits 13-15, hints in bits
  // 3-12, level in bits 0-2. Class IOPRIO_CLASS_NONE means "follow the nice
  // value".
  uint16_t ioprio = 0;
};

// Linux's SUID_DUMP_* values of the dumpable flag.
inline constexpr int kSuidDumpDisable = 0;
inline constexpr int kSuidDumpUser = 1;

// State that Linux keeps in the mm_struct, so threads and vfork children
// sharing the memory share it, and execve starts a new one.
struct MmAttributes {
  int dumpable = kSuidDumpUser;
  // PR_GET_THP_DISABLE's value: 0, 1, or 1 | PR_THP_DISABLE_EXCEPT_ADVISED.
  int thp_disable = 0;
};

// The thread of the parent process that has a process as its child.
// Linux sends the parent-death signal when that thread exits, and moves the
// children to a sibling thread that is still alive. A pid that is not the
// current parent's means the process was reparented since: its new holder
// is the parent's first thread. A tid of 0 means the children were handed
// to a reaper and no thread of this parent holds them.
struct ParentThread {
  pid_t pid = 0;
  pid_t tid = 0;
};

// personality(2)'s ADDR_NO_RANDOMIZE flag.
inline constexpr uint32_t kAddrNoRandomize = 0x0040000;

// Linux's default timer slack, 50 microseconds.
inline constexpr uint64_t kDefaultTimerSlackNs = 50'000;

struct TaskAttributes {
  SchedAttributes sched;
  CpuMask cpu_affinity;
  std::shared_ptr<IoContext> io_context = std::make_shared<IoContext>();
  std::shared_ptr<MmAttributes> mm = std::make_shared<MmAttributes>();
  // Shared by the threads of one process.
  std::shared_ptr<ParentThread> parent_thread = std::make_shared<ParentThread>();

  // PR_SET_PDEATHSIG's signal, or 0.
  int pdeath_signal = 0;
  // PR_SET_TIMERSLACK. A real-time or deadline thread has no slack (0);
  // the default is what PR_SET_TIMERSLACK 0 restores.
  uint64_t timer_slack_ns = kDefaultTimerSlackNs;
  uint64_t default_timer_slack_ns = kDefaultTimerSlackNs;
  bool no_new_privs = false;
  // PR_SET_IO_FLUSHER.
  bool io_flusher = false;
  // personality(2): a PER_* persona in the low byte and flags above it.
  uint32_t personality = 0;
};

// The attributes of the sandbox's first process: ward's own, as a child
// that ward forked would inherit them (nice and policy, CPU affinity, I/O
// priority, timer slack, no_new_privs, THP setting, personality).
TaskAttributes initial_task_attributes();

// Gives a new task the attributes clone(2) passes on: `child` shares the
// I/O context with CLONE_IO, the mm state with CLONE_VM and the parent link
// with CLONE_THREAD, and copies the rest. SCHED_RESET_ON_FORK is applied,
// the parent-death signal starts cleared, and the CPU affinity is applied
// to the child's host thread.
void inherit_task_attributes(Task& child, const Task& parent, uint64_t clone_flags);

// What execve will do to the task's credentials (credentials_for_exec),
// computed before the point of no return so that the auxiliary vector can
// carry the new ids and AT_SECURE.
ExecCredentials prepare_exec_credentials(const Task& task);

// Applies a successful execve to the task's credentials and attributes, as
// Linux's begin_new_exec does: commits `exec`, resets the dumpable flag in
// a fresh mm state that keeps the THP setting, clears READ_IMPLIES_EXEC (a
// 64-bit image) and, when capabilities were gained, the
// PER_CLEAR_ON_SETID flags, and applies the CPU affinity to the new host
// thread. Call it once the new image is in place.
void apply_exec_attributes(Task& task, const ExecCredentials& exec);

// Replaces the task's credentials as Linux's commit_creds does: a change of
// the euid, egid, fsuid or fsgid, or newly permitted capabilities, reset
// the dumpable flag to fs.suid_dumpable and clear the parent-death signal.
void commit_credentials(Task& task, Credentials creds);

// The host's fs.suid_dumpable, which commit_credentials applies.
int host_suid_dumpable();

// Sets `target`'s CPU affinity to `requested` intersected with the host's
// CPUs, and applies it to the target's host thread so that the guest thread
// runs only there. EINVAL when the intersection is empty or the host
// rejects it.
Result<void> set_cpu_affinity(Task& target, const CpuMask& requested);

// Sends the parent-death signals (PR_SET_PDEATHSIG) that the exit of
// `exiting` causes: to each child process that `exiting` holds, one signal
// per thread of it that asked for one. The children pass to a sibling
// thread that is still alive. Call it while `exiting` is still in its
// thread group, before the group's children are reparented.
void send_parent_death_signals(Task& exiting);

}  // namespace ward::kernel
