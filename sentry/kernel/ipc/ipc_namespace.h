// The sandbox's System V IPC namespace: the id tables of shared memory
// segments, semaphore sets and message queues, and what the three share
// with Linux's ipc/util.c: keys, ids, the owner and permission record and
// the ipcperms check.
#pragma once

#include <sys/ipc.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "sentry/kernel/credentials.h"
#include "ward/result.h"

namespace ward::kernel {
class Kernel;
}

namespace ward::kernel::ipc {

class MsgQueue;
class SemSet;
class ShmSegment;

// Linux's IPC_PRIVATE key.
inline constexpr int32_t kIpcPrivate = 0;

// Linux's IPCMNI: an id is its table index plus the sequence number
// shifted left by kIpcIndexBits.
inline constexpr int kIpcIndexBits = 15;
inline constexpr int kIpcMaxObjects = 1 << kIpcIndexBits;
// Linux's IPCID_SEQ_MAX: INT_MAX >> kIpcIndexBits.
inline constexpr int kIpcMaxSequence = 0x7fffffff >> kIpcIndexBits;

// Linux's struct ipc64_perm on x86-64, as IPC_STAT writes it and IPC_SET
// reads it.
struct GuestIpcPerm {
  int32_t key;
  uint32_t uid;
  uint32_t gid;
  uint32_t cuid;
  uint32_t cgid;
  uint32_t mode;
  uint16_t seq;
  uint16_t pad;
  uint64_t unused1;
  uint64_t unused2;
};
static_assert(sizeof(GuestIpcPerm) == 48);

// The owner and permission record of one IPC object (Linux's
// kern_ipc_perm).
struct IpcPermission {
  int32_t key = kIpcPrivate;
  int id = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  uid_t cuid = 0;
  gid_t cgid = 0;
  // The permission bits, plus SHM_DEST and SHM_LOCKED for a segment.
  uint32_t mode = 0;
  uint16_t seq = 0;
  // Set by IPC_RMID: the object is gone for new lookups, and a task still
  // waiting on it gets EIDRM.
  bool removed = false;

  GuestIpcPerm to_guest() const;
};

// The base of the objects in the three tables.
class IpcObject {
 public:
  virtual ~IpcObject() = default;
  IpcPermission perm;
};

// Linux's ipcperms: whether `creds` may use `perm` for the access bits in
// `flag` (S_IRUGO, S_IWUGO or the mode bits a *get call passes). The
// owner or creator is checked against the owner bits, a member of the
// owner or creator group against the group bits, anyone else against the
// other bits; CAP_IPC_OWNER overrides all of them.
bool ipc_permitted(const IpcPermission& perm, const Credentials& creds, int flag);

// Linux's ipcctl_obtain_check for IPC_SET and IPC_RMID: EPERM unless the
// caller's euid is the owner or the creator, or it has CAP_SYS_ADMIN.
Result<void> check_ipc_owner(const IpcPermission& perm, const Credentials& creds);

// IPC_SET's update: the new owner ids and the permission bits, EINVAL for
// an id of -1.
Result<void> update_ipc_permission(IpcPermission& perm, const GuestIpcPerm& requested);

// The credentials of a new object: owner and creator are the caller's
// euid and egid, the mode is the low nine bits of the *get flags.
IpcPermission new_ipc_permission(int32_t key, int flags, const Credentials& creds);

// The current time in seconds since the epoch, as the *_time fields hold it.
int64_t ipc_now_seconds();

// One id table (Linux's struct ipc_ids).
template <typename T>
class IpcIds {
 public:
  // The object with `id`: EINVAL when its index is free or its sequence
  // number differs, as for an id that was removed.
  Result<std::shared_ptr<T>> find_id(int id) const {
    if (id < 0) {
      return Errno{EINVAL};
    }
    auto it = objects_.find(id & (kIpcMaxObjects - 1));
    if (it == objects_.end() || it->second->perm.id != id) {
      return Errno{EINVAL};
    }
    return it->second;
  }

  // The object at table index `index` (the *_STAT commands), whatever its
  // sequence number: EINVAL when the index is free.
  Result<std::shared_ptr<T>> find_index(int index) const {
    auto it = objects_.find(index & (kIpcMaxObjects - 1));
    if (it == objects_.end()) {
      return Errno{EINVAL};
    }
    return it->second;
  }

  // The object with `key`, or null. IPC_PRIVATE never matches.
  std::shared_ptr<T> find_key(int32_t key) const {
    if (key == kIpcPrivate) {
      return nullptr;
    }
    for (const auto& [index, object] : objects_) {
      if (object->perm.key == key) {
        return object;
      }
    }
    return nullptr;
  }

  // Gives `object` a free index and its id, as Linux's ipc_addid does:
  // indexes are taken cyclically, and the sequence number moves on each
  // time the search wraps. ENOSPC when `limit` objects already exist.
  Result<int> add(std::shared_ptr<T> object, int limit) {
    if (static_cast<int>(objects_.size()) >= std::min(limit, kIpcMaxObjects)) {
      return Errno{ENOSPC};
    }
    int index = (last_index_ + 1) % kIpcMaxObjects;
    while (objects_.contains(index)) {
      index = (index + 1) % kIpcMaxObjects;
    }
    if (index <= last_index_) {
      sequence_ = sequence_ + 1 >= kIpcMaxSequence ? 0 : sequence_ + 1;
    }
    last_index_ = index;
    object->perm.seq = static_cast<uint16_t>(sequence_);
    object->perm.id = (sequence_ << kIpcIndexBits) + index;
    objects_.emplace(index, std::move(object));
    return (sequence_ << kIpcIndexBits) + index;
  }

  void remove(const T& object) { objects_.erase(object.perm.id & (kIpcMaxObjects - 1)); }

  // Linux's ipc_get_maxidx: the highest index in use, or -1 when empty.
  int max_index() const { return objects_.empty() ? -1 : objects_.rbegin()->first; }
  int in_use() const { return static_cast<int>(objects_.size()); }

  // The objects in index order, as /proc/sysvipc lists them.
  std::vector<std::shared_ptr<T>> objects() const {
    std::vector<std::shared_ptr<T>> list;
    list.reserve(objects_.size());
    for (const auto& [index, object] : objects_) {
      list.push_back(object);
    }
    return list;
  }

 private:
  std::map<int, std::shared_ptr<T>> objects_;  // keyed by index
  int last_index_ = -1;
  int sequence_ = 0;
};

// Linux's ipcget: IPC_PRIVATE always creates; another key finds its
// object (EEXIST with IPC_CREAT | IPC_EXCL, then `more_checks`, then
// EACCES from ipcperms) or, with IPC_CREAT, creates one (else ENOENT).
template <typename T>
Result<int> ipc_get(const IpcIds<T>& ids, int32_t key, int flags, const Credentials& creds,
                    const std::function<Result<int>()>& create,
                    const std::function<Result<void>(const T&)>& more_checks) {
  if (key == kIpcPrivate) {
    return create();
  }
  std::shared_ptr<T> existing = ids.find_key(key);
  if (existing == nullptr) {
    if ((flags & IPC_CREAT) == 0) {
      return Errno{ENOENT};
    }
    return create();
  }
  if ((flags & IPC_CREAT) != 0 && (flags & IPC_EXCL) != 0) {
    return Errno{EEXIST};
  }
  TRY(more_checks(*existing));
  if (!ipc_permitted(existing->perm, creds, flags)) {
    return Errno{EACCES};
  }
  return existing->perm.id;
}

// The three tables of one sandbox, and the totals Linux keeps per
// namespace.
class IpcNamespace {
 public:
  // The sandbox's namespace, made on first use.
  static std::shared_ptr<IpcNamespace> of(Kernel& kernel);

  IpcIds<ShmSegment>& shm() { return shm_; }
  IpcIds<SemSet>& sem() { return sem_; }
  IpcIds<MsgQueue>& msg() { return msg_; }

  // Linux's shm_tot: pages of every segment, against SHMALL.
  uint64_t shm_total_pages = 0;
  // Linux's used_sems: semaphores of every set, against SEMMNS.
  uint64_t used_semaphores = 0;
  // Messages and their bytes in every queue, for MSG_INFO.
  uint64_t queued_messages = 0;
  uint64_t queued_bytes = 0;

 private:
  IpcIds<ShmSegment> shm_;
  IpcIds<SemSet> sem_;
  IpcIds<MsgQueue> msg_;
};

}  // namespace ward::kernel::ipc
