#include "sentry/kernel/ipc/ipc_namespace.h"

#include <linux/capability.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>

#include "sentry/kernel/ipc/msg.h"
#include "sentry/kernel/ipc/sem.h"
#include "sentry/kernel/ipc/shm.h"
#include "sentry/kernel/kernel.h"

namespace ward::kernel::ipc {
namespace {

// Linux's in_group_p: the fsgid or a supplementary group.
bool in_group(const Credentials& creds, gid_t gid) {
  return creds.fs_gid == gid || std::binary_search(creds.supplementary_groups.begin(),
                                                   creds.supplementary_groups.end(), gid);
}

}  // namespace

GuestIpcPerm IpcPermission::to_guest() const {
  return GuestIpcPerm{.key = key,
                      .uid = uid,
                      .gid = gid,
                      .cuid = cuid,
                      .cgid = cgid,
                      .mode = mode,
                      .seq = seq,
                      .pad = 0,
                      .unused1 = 0,
                      .unused2 = 0};
}

bool ipc_permitted(const IpcPermission& perm, const Credentials& creds, int flag) {
  const int requested = (flag >> 6) | (flag >> 3) | flag;
  uint32_t granted = perm.mode;
  if (creds.effective_uid == perm.cuid || creds.effective_uid == perm.uid) {
    granted >>= 6;
  } else if (in_group(creds, perm.cgid) || in_group(creds, perm.gid)) {
    granted >>= 3;
  }
  if ((requested & ~static_cast<int>(granted) & 0007) == 0) {
    return true;
  }
  return creds.has_capability(CAP_IPC_OWNER);
}

Result<void> check_ipc_owner(const IpcPermission& perm, const Credentials& creds) {
  if (creds.effective_uid == perm.cuid || creds.effective_uid == perm.uid ||
      creds.has_capability(CAP_SYS_ADMIN)) {
    return ok();
  }
  return Errno{EPERM};
}

Result<void> update_ipc_permission(IpcPermission& perm, const GuestIpcPerm& requested) {
  if (requested.uid == static_cast<uint32_t>(-1) || requested.gid == static_cast<uint32_t>(-1)) {
    return Errno{EINVAL};
  }
  perm.uid = requested.uid;
  perm.gid = requested.gid;
  perm.mode = (perm.mode & ~0777u) | (requested.mode & 0777u);
  return ok();
}

IpcPermission new_ipc_permission(int32_t key, int flags, const Credentials& creds) {
  return IpcPermission{.key = key,
                       .uid = creds.effective_uid,
                       .gid = creds.effective_gid,
                       .cuid = creds.effective_uid,
                       .cgid = creds.effective_gid,
                       .mode = static_cast<uint32_t>(flags) & 0777u};
}

int64_t ipc_now_seconds() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return now.tv_sec;
}

std::shared_ptr<IpcNamespace> IpcNamespace::of(Kernel& kernel) {
  auto& ipc = kernel.ipc_namespace();
  if (!ipc) {
    ipc = std::make_shared<IpcNamespace>();
  }
  return ipc;
}

}  // namespace ward::kernel::ipc
