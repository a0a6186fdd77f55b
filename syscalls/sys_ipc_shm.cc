// shmget, shmat, shmdt and shmctl: System V shared memory.
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include <algorithm>

#include "sentry/kernel/ipc/shm.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/args.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_ipc.h"

namespace ward::syscalls {
namespace {

using kernel::ipc::IpcNamespace;
using kernel::ipc::ShmSegment;

// Linux's struct shmid64_ds on x86-64.
struct GuestShmidDs {
  kernel::ipc::GuestIpcPerm perm;
  uint64_t segment_bytes;
  int64_t attach_time;
  int64_t detach_time;
  int64_t change_time;
  int32_t creator_pid;
  int32_t last_pid;
  uint64_t attach_count;
  uint64_t unused4;
  uint64_t unused5;
};
static_assert(sizeof(GuestShmidDs) == 112);

// Linux's struct shminfo64 (IPC_INFO).
struct GuestShmInfo64 {
  uint64_t shmmax;
  uint64_t shmmin;
  uint64_t shmmni;
  uint64_t shmseg;
  uint64_t shmall;
  uint64_t unused[4];
};
static_assert(sizeof(GuestShmInfo64) == 72);

// Linux's struct shm_info (SHM_INFO).
struct GuestShmInfo {
  int32_t used_ids;
  uint64_t total_pages;
  uint64_t resident_pages;
  uint64_t swapped_pages;
  uint64_t swap_attempts;
  uint64_t swap_successes;
};
static_assert(sizeof(GuestShmInfo) == 48);

constexpr int kReadAccess = S_IRUSR | S_IRGRP | S_IROTH;

// IPC_INFO and SHM_INFO, which return the highest index in use, or 0.
Result<int64_t> shm_info(kernel::Task& task, IpcNamespace& ipc, int command, GuestAddr buffer) {
  const int64_t result = std::max(ipc.shm().max_index(), 0);
  if (command == IPC_INFO) {
    GuestShmInfo64 info{.shmmax = kernel::ipc::kShmMaxBytes,
                        .shmmin = kernel::ipc::kShmMinBytes,
                        .shmmni = kernel::ipc::kShmMaxSegments,
                        .shmseg = kernel::ipc::kShmMaxSegments,
                        .shmall = kernel::ipc::kShmAllPages,
                        .unused = {}};
    TRY(task.copy_out(buffer, info));
    return result;
  }
  GuestShmInfo info{};
  info.used_ids = ipc.shm().in_use();
  for (const auto& segment : ipc.shm().objects()) {
    info.resident_pages += segment->resident_bytes() / kPageSize;
  }
  info.total_pages = ipc.shm_total_pages;
  TRY(task.copy_out(buffer, info));
  return result;
}

Result<int64_t> shm_stat(kernel::Task& task, IpcNamespace& ipc, int shmid, int command,
                         GuestAddr buffer) {
  const bool by_index = command == SHM_STAT || command == SHM_STAT_ANY;
  std::shared_ptr<ShmSegment> segment =
      by_index ? TRY(ipc.shm().find_index(shmid)) : TRY(ipc.shm().find_id(shmid));
  if (command != SHM_STAT_ANY &&
      !kernel::ipc::ipc_permitted(segment->perm, task.creds(), kReadAccess)) {
    return Errno{EACCES};
  }
  GuestShmidDs status{.perm = segment->perm.to_guest(),
                      .segment_bytes = segment->size_bytes(),
                      .attach_time = segment->attach_time,
                      .detach_time = segment->detach_time,
                      .change_time = segment->change_time,
                      .creator_pid = segment->creator_pid,
                      .last_pid = segment->last_pid,
                      .attach_count = segment->attach_count(),
                      .unused4 = 0,
                      .unused5 = 0};
  TRY(task.copy_out(buffer, status));
  // SHM_STAT returns the full id of the segment at the index.
  return by_index ? segment->perm.id : 0;
}

// IPC_SET and IPC_RMID, which only the owner, the creator or
// CAP_SYS_ADMIN may use.
Result<int64_t> shm_change(kernel::Task& task, IpcNamespace& ipc, int shmid, int command,
                           const GuestShmidDs& requested) {
  std::shared_ptr<ShmSegment> segment = TRY(ipc.shm().find_id(shmid));
  TRY(kernel::ipc::check_ipc_owner(segment->perm, task.creds()));
  if (command == IPC_RMID) {
    kernel::ipc::shm_remove(ipc, segment);
    return 0;
  }
  TRY(kernel::ipc::update_ipc_permission(segment->perm, requested.perm));
  segment->change_time = kernel::ipc::ipc_now_seconds();
  return 0;
}

// SHM_LOCK and SHM_UNLOCK.
Result<int64_t> shm_lock(kernel::Task& task, IpcNamespace& ipc, int shmid, int command) {
  std::shared_ptr<ShmSegment> segment = TRY(ipc.shm().find_id(shmid));
  const kernel::Credentials& creds = task.creds();
  if (!creds.has_capability(CAP_IPC_LOCK)) {
    if (creds.effective_uid != segment->perm.uid && creds.effective_uid != segment->perm.cuid) {
      return Errno{EPERM};
    }
    if (command == SHM_LOCK && task.thread_group().limit(RLIMIT_MEMLOCK).rlim_cur == 0) {
      return Errno{EPERM};
    }
  }
  // NOTE: the flag is kept and shown, but the memfd's pages are not pinned
  // on the host, and the RLIMIT_MEMLOCK total of a user without
  // CAP_IPC_LOCK is not counted.
  if (command == SHM_LOCK) {
    segment->perm.mode |= kernel::ipc::kShmLocked;
  } else {
    segment->perm.mode &= ~kernel::ipc::kShmLocked;
  }
  return 0;
}

}  // namespace

// shmget(key, size, shmflg)
Result<int64_t> sys_shmget(kernel::Task& task, const SyscallArgs& args) {
  const int32_t key = args.i32(0);
  const uint64_t size_bytes = args.u64(1);
  const int flags = args.i32(2);
  Result<int> id = kernel::ipc::shm_get(task, key, size_bytes, flags);
  if (!id.ok() && id.error().value == ENOMEM && (flags & SHM_HUGETLB) != 0) {
    record_gap(task, "SHM_HUGETLB");
  }
  return TRY(std::move(id));
}

// shmat(shmid, shmaddr, shmflg)
Result<int64_t> sys_shmat(kernel::Task& task, const SyscallArgs& args) {
  const int shmid = args.i32(0);
  const GuestAddr addr = args.addr(1);
  const int flags = args.i32(2);
  GuestAddr attached = TRY(kernel::ipc::shm_attach(task, shmid, addr, flags));
  return static_cast<int64_t>(attached.value());
}

// shmdt(shmaddr)
Result<int64_t> sys_shmdt(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr addr = args.addr(0);
  TRY(kernel::ipc::shm_detach(task, addr));
  return 0;
}

// shmctl(shmid, cmd, buf)
Result<int64_t> sys_shmctl(kernel::Task& task, const SyscallArgs& args) {
  const int shmid = args.i32(0);
  const int command = args.i32(1);
  const GuestAddr buffer = args.addr(2);

  if (command < 0 || shmid < 0) {
    return Errno{EINVAL};
  }
  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());
  switch (command) {
    case IPC_INFO:
    case SHM_INFO:
      return shm_info(task, *ipc, command, buffer);
    case IPC_STAT:
    case SHM_STAT:
    case SHM_STAT_ANY:
      return shm_stat(task, *ipc, shmid, command, buffer);
    case IPC_SET: {
      const auto requested = TRY(task.copy_in<GuestShmidDs>(buffer));
      return shm_change(task, *ipc, shmid, command, requested);
    }
    case IPC_RMID:
      return shm_change(task, *ipc, shmid, command, GuestShmidDs{});
    case SHM_LOCK:
    case SHM_UNLOCK:
      return shm_lock(task, *ipc, shmid, command);
    default:
      return Errno{EINVAL};
  }
}

}  // namespace ward::syscalls
