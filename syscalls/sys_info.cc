// uname, sysinfo, getrandom and resource limits.
#include <sched.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/timers.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_core.h"

namespace ward::syscalls {
namespace {

// getrandom fills at most this much per call; the interface allows a short
// count, and the bound keeps one call from occupying the sentry.
constexpr size_t kMaxRandomBytesPerCall = 32 * 1024 * 1024 - 1;
constexpr size_t kRandomChunkBytes = 64 * 1024;

// Linux's nr_open default: the ceiling for RLIMIT_NOFILE.
constexpr uint64_t kNrOpen = 1024 * 1024;

void copy_field(char (&field)[65], std::string_view value) {
  std::memset(field, 0, sizeof(field));
  std::memcpy(field, value.data(), std::min(value.size(), sizeof(field) - 1));
}

Result<kernel::ThreadGroup*> find_limit_target(kernel::Task& task, int pid) {
  if (pid == 0 || pid == task.pid()) {
    return &task.thread_group();
  }
  kernel::ThreadGroup* group = task.kernel().find_thread_group(pid);
  if (group == nullptr || group->finished()) {
    return Errno{ESRCH};
  }
  return group;
}

// Replaces `resource` of `group` as do_prlimit does; the caller has checked
// the resource number and that cur <= max.
Result<void> set_limit(kernel::ThreadGroup& group, int resource, const rlimit& limit) {
  if (resource == RLIMIT_NOFILE && limit.rlim_max > kNrOpen) {
    return Errno{EPERM};
  }
  // NOTE: raising a hard limit needs CAP_SYS_RESOURCE; every sandbox
  // process is treated as holding it for its own sandbox.
  group.limit(resource) = limit;
  if (resource == RLIMIT_AS) {
    for (kernel::Task* task : group.tasks()) {
      if (task->mm_ref()) {
        task->mm().set_address_space_limit(limit.rlim_cur);
      }
    }
  }
  if (resource == RLIMIT_CPU) {
    kernel::cpu_limit_changed(group);
  }
  if (resource == RLIMIT_NOFILE) {
    // New fds must stay below the soft limit; open ones above it stay open.
    for (kernel::Task* task : group.tasks()) {
      task->fdtable().set_max_fds(static_cast<int>(std::min<rlim_t>(limit.rlim_cur, kNrOpen)));
    }
  }
  return ok();
}

}  // namespace

// uname(buf): the host's kernel release and version, the sandbox's hostname.
Result<int64_t> sys_uname(kernel::Task& task, const SyscallArgs& args) {
  struct utsname host {};
  ::uname(&host);

  struct utsname guest {};
  copy_field(guest.sysname, "Linux");
  copy_field(guest.nodename, task.kernel().options().hostname);
  copy_field(guest.release, host.release);
  copy_field(guest.version, host.version);
  copy_field(guest.machine, "x86_64");
  copy_field(guest.domainname, "(none)");
  TRY(task.copy_out(args.addr(0), guest));
  return 0;
}

// sysinfo(info): memory figures are the host's, uptime is the sandbox's.
Result<int64_t> sys_sysinfo(kernel::Task& task, const SyscallArgs& args) {
  struct sysinfo host {};
  ::sysinfo(&host);

  struct sysinfo guest {};
  auto uptime = kernel::monotonic_now() - task.kernel().boot_time();
  guest.uptime = std::chrono::duration_cast<std::chrono::seconds>(uptime).count();
  // NOTE: the sentry keeps no run-queue statistics, so the load averages
  // read 0, as on gVisor.
  guest.totalram = host.totalram;
  guest.freeram = host.freeram;
  guest.sharedram = host.sharedram;
  guest.bufferram = host.bufferram;
  guest.totalswap = host.totalswap;
  guest.freeswap = host.freeswap;
  guest.procs = static_cast<uint16_t>(task.kernel().thread_groups().size());
  guest.totalhigh = host.totalhigh;
  guest.freehigh = host.freehigh;
  guest.mem_unit = host.mem_unit;
  TRY(task.copy_out(args.addr(0), guest));
  return 0;
}

// getrandom(buf, buflen, flags)
Result<int64_t> sys_getrandom(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr buffer = args.addr(0);
  uint64_t length = args.u64(1);
  unsigned flags = args.u32(2);

  constexpr unsigned kKnownFlags = GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE;
  if ((flags & ~kKnownFlags) != 0) {
    return Errno{EINVAL};
  }
  if ((flags & (GRND_INSECURE | GRND_RANDOM)) == (GRND_INSECURE | GRND_RANDOM)) {
    return Errno{EINVAL};
  }
  length = std::min<uint64_t>(length, kMaxRandomBytesPerCall);
  // Linux fills the buffer up to the first byte it cannot write.
  uint64_t writable = task.mm().accessible_bytes(buffer, length, PROT_WRITE);
  if (writable == 0 && length > 0) {
    return Errno{EFAULT};
  }
  length = writable;

  // The host pool is initialised long before ward runs, so the host call
  // never blocks; GRND_RANDOM draws from the same pool since Linux 5.6.
  std::vector<std::byte> chunk(std::min<uint64_t>(length, kRandomChunkBytes));
  uint64_t done = 0;
  while (done < length) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(length - done, chunk.size()));
    ssize_t produced = ::getrandom(chunk.data(), want, GRND_NONBLOCK);
    if (produced <= 0) {
      break;
    }
    auto copied = task.copy_out(buffer + done,
                                std::span<const std::byte>(chunk.data(), static_cast<size_t>(produced)));
    if (!copied.ok()) {
      if (done == 0) {
        return copied.error();
      }
      break;
    }
    done += static_cast<uint64_t>(produced);
  }
  if (done == 0 && length > 0) {
    return Errno{EAGAIN};
  }
  return static_cast<int64_t>(done);
}

// getrlimit(resource, rlim)
Result<int64_t> sys_getrlimit(kernel::Task& task, const SyscallArgs& args) {
  unsigned resource = args.u32(0);
  if (resource >= RLIM_NLIMITS) {
    return Errno{EINVAL};
  }
  TRY(task.copy_out(args.addr(1), task.thread_group().limit(static_cast<int>(resource))));
  return 0;
}

// setrlimit(resource, rlim)
Result<int64_t> sys_setrlimit(kernel::Task& task, const SyscallArgs& args) {
  unsigned resource = args.u32(0);
  rlimit limit = TRY(task.copy_in<rlimit>(args.addr(1)));
  if (resource >= RLIM_NLIMITS || limit.rlim_cur > limit.rlim_max) {
    return Errno{EINVAL};
  }
  TRY(set_limit(task.thread_group(), static_cast<int>(resource), limit));
  return 0;
}

// prlimit64(pid, resource, new_limit, old_limit)
Result<int64_t> sys_prlimit64(kernel::Task& task, const SyscallArgs& args) {
  int pid = args.i32(0);
  unsigned resource = args.u32(1);
  GuestAddr new_addr = args.addr(2);
  GuestAddr old_addr = args.addr(3);

  std::optional<rlimit> new_limit;
  if (!new_addr.is_null()) {
    new_limit = TRY(task.copy_in<rlimit>(new_addr));
    if (new_limit->rlim_cur > new_limit->rlim_max) {
      return Errno{EINVAL};
    }
  }
  kernel::ThreadGroup* group = TRY(find_limit_target(task, pid));
  if (resource >= RLIM_NLIMITS) {
    return Errno{EINVAL};
  }
  rlimit old_limit = group->limit(static_cast<int>(resource));
  if (new_limit) {
    TRY(set_limit(*group, static_cast<int>(resource), *new_limit));
  }
  if (!old_addr.is_null()) {
    TRY(task.copy_out(old_addr, old_limit));
  }
  return 0;
}

}  // namespace ward::syscalls
