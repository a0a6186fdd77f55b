// System V shared memory segments (Linux's ipc/shm.c). A segment's pages
// live in a host memfd, which shmat maps MAP_SHARED into the guest, so
// that every process attached to it, and every child that inherits an
// attachment by fork, shares the same memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "sentry/kernel/ipc/ipc_namespace.h"
#include "sentry/mm/memory_manager.h"
#include "ward/guest_addr.h"
#include "ward/result.h"
#include "ward/unique_fd.h"

namespace ward::kernel {
class Task;
}

namespace ward::kernel::ipc {

// Linux's defaults on 64-bit machines: SHMMIN, SHMMAX (ULONG_MAX less
// 16 MiB), SHMALL in pages (the same number) and SHMMNI.
inline constexpr uint64_t kShmMinBytes = 1;
inline constexpr uint64_t kShmMaxBytes = UINT64_MAX - (uint64_t{1} << 24);
inline constexpr uint64_t kShmAllPages = UINT64_MAX - (uint64_t{1} << 24);
inline constexpr int kShmMaxSegments = 4096;

// Linux's SHM_DEST and SHM_LOCKED mode bits, which glibc hides without
// __USE_MISC; they show in shm_perm.mode and /proc/sysvipc/shm.
inline constexpr uint32_t kShmDest = 01000;
inline constexpr uint32_t kShmLocked = 02000;

class ShmSegment;

// The MappedFileInfo that every VMA of every attachment of one segment
// points to: the use count of this object is the segment's nattch,
// since each VMA holds one reference. A fork copies the VMAs and so counts
// the child's attachments too, and exit, exec, munmap and shmdt drop them.
// The last reference to go detaches the segment for good, which destroys
// one that IPC_RMID marked.
class ShmMapping final : public mm::MappedFileInfo {
 public:
  ShmMapping(std::shared_ptr<ShmSegment> segment, std::weak_ptr<IpcNamespace> ipc);
  ~ShmMapping();
  ShmMapping(const ShmMapping&) = delete;
  ShmMapping& operator=(const ShmMapping&) = delete;

  const std::shared_ptr<ShmSegment>& segment() const { return segment_; }

 private:
  std::shared_ptr<ShmSegment> segment_;
  std::weak_ptr<IpcNamespace> ipc_;
};

class ShmSegment final : public IpcObject {
 public:
  ShmSegment(IpcPermission perm, uint64_t size_bytes, UniqueFd memfd, pid_t creator_pid);

  uint64_t size_bytes() const { return size_bytes_; }
  uint64_t pages() const;
  int memfd() const { return memfd_.get(); }

  // The memfd reopened read-only, for SHM_RDONLY attachments: with it the
  // host refuses a later mprotect to PROT_WRITE with EACCES, as Linux does
  // for a mapping of a file opened read-only.
  Result<int> read_only_memfd();

  // Linux's shm_nattch: how many VMAs map the segment, in every process.
  uint64_t attach_count() const { return static_cast<uint64_t>(mapping_.use_count()); }

  // The mapping object every attachment shares, made on the first attach
  // after none was left.
  std::shared_ptr<ShmMapping> mapping(const std::shared_ptr<ShmSegment>& self,
                                      const std::weak_ptr<IpcNamespace>& ipc);

  // The mapping object while the segment is attached, else null; only to
  // compare with a VMA's file.
  const mm::MappedFileInfo* mapping_owner() const;

  // Bytes of the memfd the host has allocated, for the rss column.
  uint64_t resident_bytes() const;

  int64_t attach_time = 0;
  int64_t detach_time = 0;
  int64_t change_time = 0;
  pid_t creator_pid = 0;
  pid_t last_pid = 0;

 private:
  uint64_t size_bytes_;
  UniqueFd memfd_;
  UniqueFd read_only_memfd_;
  std::weak_ptr<ShmMapping> mapping_;
};

// shmget(2): the id of the segment of `key`, made with `size_bytes` when
// absent or IPC_PRIVATE.
Result<int> shm_get(Task& task, int32_t key, uint64_t size_bytes, int flags);

// shmat(2): maps the segment at `addr` (or where the kernel picks, for 0)
// and returns the address.
Result<GuestAddr> shm_attach(Task& task, int shmid, GuestAddr addr, int flags);

// shmdt(2): unmaps the attachment that starts at `addr`.
Result<void> shm_detach(Task& task, GuestAddr addr);

// IPC_RMID: removes the segment now, or once its last attachment goes;
// until then its key is IPC_PRIVATE and its mode shows SHM_DEST.
void shm_remove(IpcNamespace& ipc, const std::shared_ptr<ShmSegment>& segment);

// /proc/sysvipc/shm, in Linux's columns.
std::string render_proc_sysvipc_shm(IpcNamespace& ipc);

}  // namespace ward::kernel::ipc
