#include "sentry/kernel/credentials.h"

#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace ward::kernel {
namespace {

// The id that means "unchanged" in the set*id calls, and that is never a
// valid id in Linux's initial user namespace.
constexpr uid_t kNoChange = static_cast<uid_t>(-1);

bool has_root_id(const Credentials& creds) {
  return creds.real_uid == 0 || creds.effective_uid == 0 || creds.saved_uid == 0;
}

// cap_emulate_setxuid: leaving every root uid drops the permitted and
// effective sets (unless SECBIT_KEEP_CAPS) and always the ambient one. The
// effective set also follows the euid to and from 0.
void fix_capabilities_for_uid_change(const Credentials& old, Credentials& now) {
  if (old.has_securebit(kSecureNoSetuidFixup)) {
    return;
  }
  if (has_root_id(old) && !has_root_id(now)) {
    if (!old.has_securebit(kSecureKeepCaps)) {
      now.cap_permitted = {};
      now.cap_effective = {};
    }
    now.cap_ambient = {};
  }
  if (old.effective_uid == 0 && now.effective_uid != 0) {
    now.cap_effective = {};
  }
  if (old.effective_uid != 0 && now.effective_uid == 0) {
    now.cap_effective = now.cap_permitted;
  }
}

// cap_task_fix_setuid for LSM_SETID_FS: the filesystem capabilities follow
// the fsuid to and from 0.
void fix_capabilities_for_fsuid_change(const Credentials& old, Credentials& now) {
  if (old.has_securebit(kSecureNoSetuidFixup)) {
    return;
  }
  if (old.fs_uid == 0 && now.fs_uid != 0) {
    now.cap_effective = now.cap_effective.without(filesystem_capabilities());
  }
  if (old.fs_uid != 0 && now.fs_uid == 0) {
    now.cap_effective = now.cap_effective | (now.cap_permitted & filesystem_capabilities());
  }
}

bool is_one_of(uid_t id, uid_t first, uid_t second, uid_t third) {
  return id == first || id == second || id == third;
}

}  // namespace

CapabilitySet filesystem_capabilities() {
  CapabilitySet set;
  for (int cap : {CAP_CHOWN, CAP_MKNOD, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
                  CAP_FSETID, CAP_MAC_OVERRIDE, CAP_LINUX_IMMUTABLE}) {
    set.add(cap);
  }
  return set;
}

Result<Credentials> set_uid(const Credentials& old, uid_t uid) {
  if (uid == kNoChange) {
    return Errno{EINVAL};
  }
  Credentials now = old;
  if (old.has_capability(CAP_SETUID)) {
    now.real_uid = uid;
    now.saved_uid = uid;
  } else if (uid != old.real_uid && uid != old.saved_uid) {
    return Errno{EPERM};
  }
  now.effective_uid = uid;
  now.fs_uid = uid;
  fix_capabilities_for_uid_change(old, now);
  return now;
}

Result<Credentials> set_reuid(const Credentials& old, uid_t real, uid_t effective) {
  Credentials now = old;
  bool privileged = old.has_capability(CAP_SETUID);
  if (real != kNoChange) {
    if (real != old.real_uid && real != old.effective_uid && !privileged) {
      return Errno{EPERM};
    }
    now.real_uid = real;
  }
  if (effective != kNoChange) {
    if (!is_one_of(effective, old.real_uid, old.effective_uid, old.saved_uid) && !privileged) {
      return Errno{EPERM};
    }
    now.effective_uid = effective;
  }
  // The saved uid takes the new euid when the real uid is set, or when the
  // euid moves to something other than the old real uid.
  if (real != kNoChange || (effective != kNoChange && effective != old.real_uid)) {
    now.saved_uid = now.effective_uid;
  }
  now.fs_uid = now.effective_uid;
  fix_capabilities_for_uid_change(old, now);
  return now;
}

Result<Credentials> set_resuid(const Credentials& old, uid_t real, uid_t effective,
                               uid_t saved) {
  // Linux returns early from a call that changes nothing, so such a call
  // leaves an fsuid set by setfsuid alone.
  bool no_op = (real == kNoChange || real == old.real_uid) &&
               (effective == kNoChange ||
                (effective == old.effective_uid && effective == old.fs_uid)) &&
               (saved == kNoChange || saved == old.saved_uid);
  if (no_op) {
    return old;
  }
  auto is_new = [&old](uid_t id) {
    return id != kNoChange && !is_one_of(id, old.real_uid, old.effective_uid, old.saved_uid);
  };
  if ((is_new(real) || is_new(effective) || is_new(saved)) && !old.has_capability(CAP_SETUID)) {
    return Errno{EPERM};
  }

  Credentials now = old;
  if (real != kNoChange) {
    now.real_uid = real;
  }
  if (effective != kNoChange) {
    now.effective_uid = effective;
  }
  if (saved != kNoChange) {
    now.saved_uid = saved;
  }
  now.fs_uid = now.effective_uid;
  fix_capabilities_for_uid_change(old, now);
  return now;
}

Result<Credentials> set_gid(const Credentials& old, gid_t gid) {
  if (gid == kNoChange) {
    return Errno{EINVAL};
  }
  Credentials now = old;
  if (old.has_capability(CAP_SETGID)) {
    now.real_gid = gid;
    now.saved_gid = gid;
  } else if (gid != old.real_gid && gid != old.saved_gid) {
    return Errno{EPERM};
  }
  now.effective_gid = gid;
  now.fs_gid = gid;
  return now;
}

Result<Credentials> set_regid(const Credentials& old, gid_t real, gid_t effective) {
  Credentials now = old;
  bool privileged = old.has_capability(CAP_SETGID);
  if (real != kNoChange) {
    if (real != old.real_gid && real != old.effective_gid && !privileged) {
      return Errno{EPERM};
    }
    now.real_gid = real;
  }
  if (effective != kNoChange) {
    if (!is_one_of(effective, old.real_gid, old.effective_gid, old.saved_gid) && !privileged) {
      return Errno{EPERM};
    }
    now.effective_gid = effective;
  }
  if (real != kNoChange || (effective != kNoChange && effective != old.real_gid)) {
    now.saved_gid = now.effective_gid;
  }
  now.fs_gid = now.effective_gid;
  return now;
}

Result<Credentials> set_resgid(const Credentials& old, gid_t real, gid_t effective,
                               gid_t saved) {
  bool no_op = (real == kNoChange || real == old.real_gid) &&
               (effective == kNoChange ||
                (effective == old.effective_gid && effective == old.fs_gid)) &&
               (saved == kNoChange || saved == old.saved_gid);
  if (no_op) {
    return old;
  }
  auto is_new = [&old](gid_t id) {
    return id != kNoChange && !is_one_of(id, old.real_gid, old.effective_gid, old.saved_gid);
  };
  if ((is_new(real) || is_new(effective) || is_new(saved)) && !old.has_capability(CAP_SETGID)) {
    return Errno{EPERM};
  }

  Credentials now = old;
  if (real != kNoChange) {
    now.real_gid = real;
  }
  if (effective != kNoChange) {
    now.effective_gid = effective;
  }
  if (saved != kNoChange) {
    now.saved_gid = saved;
  }
  now.fs_gid = now.effective_gid;
  return now;
}

Credentials set_fsuid(const Credentials& old, uid_t uid) {
  if (uid == kNoChange || uid == old.fs_uid) {
    return old;
  }
  bool allowed = is_one_of(uid, old.real_uid, old.effective_uid, old.saved_uid) ||
                 old.has_capability(CAP_SETUID);
  if (!allowed) {
    return old;
  }
  Credentials now = old;
  now.fs_uid = uid;
  fix_capabilities_for_fsuid_change(old, now);
  return now;
}

Credentials set_fsgid(const Credentials& old, gid_t gid) {
  if (gid == kNoChange || gid == old.fs_gid) {
    return old;
  }
  bool allowed = is_one_of(gid, old.real_gid, old.effective_gid, old.saved_gid) ||
                 old.has_capability(CAP_SETGID);
  if (!allowed) {
    return old;
  }
  Credentials now = old;
  now.fs_gid = gid;
  return now;
}

Result<Credentials> set_capabilities(const Credentials& old, CapabilitySet effective,
                                     CapabilitySet permitted, CapabilitySet inheritable) {
  // Without CAP_SETPCAP the inheritable set may only take what is already
  // inheritable or permitted.
  bool inheritable_capped = !old.has_capability(CAP_SETPCAP);
  if (inheritable_capped && !inheritable.is_subset_of(old.cap_inheritable | old.cap_permitted)) {
    return Errno{EPERM};
  }
  if (!inheritable.is_subset_of(old.cap_inheritable | old.cap_bset)) {
    return Errno{EPERM};
  }
  if (!permitted.is_subset_of(old.cap_permitted)) {
    return Errno{EPERM};
  }
  if (!effective.is_subset_of(permitted)) {
    return Errno{EPERM};
  }

  Credentials now = old;
  now.cap_effective = effective;
  now.cap_permitted = permitted;
  now.cap_inheritable = inheritable;
  now.cap_ambient = now.cap_ambient & permitted & inheritable;
  return now;
}

ExecCredentials credentials_for_exec(const Credentials& old, bool no_new_privs) {
  Credentials now = old;

  // A file without capabilities grants none of its own; root (unless
  // SECBIT_NOROOT) is treated as if the file granted every capability.
  now.cap_permitted = {};
  bool effective = false;
  if (!old.has_securebit(kSecureNoRoot)) {
    if (old.effective_uid == 0 || old.real_uid == 0) {
      now.cap_permitted = old.cap_bset | old.cap_inheritable;
    }
    effective = old.effective_uid == 0;
  }

  bool is_setid = now.effective_uid != old.real_uid || now.effective_gid != old.real_gid;
  bool gains_capabilities = !now.cap_permitted.is_subset_of(old.cap_permitted);
  if ((is_setid || gains_capabilities) && no_new_privs) {
    now.effective_uid = now.real_uid;
    now.effective_gid = now.real_gid;
    now.cap_permitted = now.cap_permitted & old.cap_permitted;
  }
  now.saved_uid = now.effective_uid;
  now.fs_uid = now.effective_uid;
  now.saved_gid = now.effective_gid;
  now.fs_gid = now.effective_gid;

  if (is_setid) {
    now.cap_ambient = {};
  }
  now.cap_permitted = now.cap_permitted | now.cap_ambient;
  now.cap_effective = effective ? now.cap_permitted : now.cap_ambient;
  now.securebits &= ~kSecureKeepCaps;

  bool secure = is_setid || (now.real_uid != 0 &&
                             (effective || !now.cap_permitted.is_subset_of(now.cap_ambient)));
  return ExecCredentials{std::move(now), secure};
}

bool credentials_change_resets_privileges(const Credentials& old, const Credentials& now) {
  return old.effective_uid != now.effective_uid || old.effective_gid != now.effective_gid ||
         old.fs_uid != now.fs_uid || old.fs_gid != now.fs_gid ||
         !now.cap_permitted.is_subset_of(old.cap_permitted);
}

Credentials host_process_credentials() {
  Credentials creds;
  getresuid(&creds.real_uid, &creds.effective_uid, &creds.saved_uid);
  getresgid(&creds.real_gid, &creds.effective_gid, &creds.saved_gid);
  // An invalid id changes nothing and returns the current one.
  creds.fs_uid = static_cast<uid_t>(setfsuid(kNoChange));
  creds.fs_gid = static_cast<gid_t>(setfsgid(kNoChange));

  int count = getgroups(0, nullptr);
  if (count > 0) {
    creds.supplementary_groups.resize(static_cast<size_t>(count));
    count = getgroups(count, creds.supplementary_groups.data());
    creds.supplementary_groups.resize(static_cast<size_t>(std::max(count, 0)));
    std::sort(creds.supplementary_groups.begin(), creds.supplementary_groups.end());
  }

  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) == 0) {
    auto join = [](uint32_t low, uint32_t high) {
      return CapabilitySet(uint64_t{low} | (uint64_t{high} << 32));
    };
    creds.cap_effective = join(data[0].effective, data[1].effective);
    creds.cap_permitted = join(data[0].permitted, data[1].permitted);
    creds.cap_inheritable = join(data[0].inheritable, data[1].inheritable);
  }
  creds.cap_bset = {};
  creds.cap_ambient = {};
  for (int cap = 0; cap <= kCapLastCap; ++cap) {
    // A host kernel older than the capability reads it as absent (EINVAL).
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) {
      creds.cap_bset.add(cap);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) {
      creds.cap_ambient.add(cap);
    }
  }
  int securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
  creds.securebits = securebits > 0 ? static_cast<uint32_t>(securebits) : 0;
  return creds;
}

}  // namespace ward::kernel
