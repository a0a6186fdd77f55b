// The credentials of a task, in the sandbox's own user namespace view: user
// and group ids, supplementary groups, capability sets and securebits. The
// functions below apply the rules by which the set*id calls, capset and
// execve change them, after kernel/sys.c, kernel/capability.c and
// security/commoncap.c in Linux.
//
// The sandbox's uids map one to one onto themselves, as in Linux's initial
// user namespace, so every id but (uid_t)-1 is valid. Capabilities count
// over the sandbox only: CAP_SETUID lets a guest change its sandbox uids,
// never a host resource.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "ward/result.h"

namespace ward::kernel {

// CAP_CHECKPOINT_RESTORE, the highest capability number from Linux 5.9 to
// 6.18.
inline constexpr int kCapLastCap = 40;

// Whether `cap` names a capability (Linux's cap_valid). Takes the raw
// argument, since prctl passes capability numbers as unsigned longs.
constexpr bool is_valid_capability(uint64_t cap) { return cap <= kCapLastCap; }

// A set of capabilities, one bit per CAP_* number (Linux's kernel_cap_t).
class CapabilitySet {
 public:
  static constexpr uint64_t kValidMask = (uint64_t{1} << (kCapLastCap + 1)) - 1;

  constexpr CapabilitySet() = default;
  // Bits above kCapLastCap are dropped, as Linux's mk_kernel_cap does.
  constexpr explicit CapabilitySet(uint64_t bits) : bits_(bits & kValidMask) {}
  static constexpr CapabilitySet all() { return CapabilitySet(kValidMask); }

  constexpr uint64_t bits() const { return bits_; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool has(int cap) const { return ((bits_ >> cap) & 1) != 0; }
  constexpr void add(int cap) { bits_ |= uint64_t{1} << cap; }
  constexpr void remove(int cap) { bits_ &= ~(uint64_t{1} << cap); }
  constexpr bool is_subset_of(CapabilitySet other) const { return (bits_ & ~other.bits_) == 0; }

  constexpr CapabilitySet operator|(CapabilitySet other) const {
    return CapabilitySet(bits_ | other.bits_);
  }
  constexpr CapabilitySet operator&(CapabilitySet other) const {
    return CapabilitySet(bits_ & other.bits_);
  }
  constexpr CapabilitySet without(CapabilitySet other) const {
    return CapabilitySet(bits_ & ~other.bits_);
  }
  constexpr bool operator==(const CapabilitySet&) const = default;

 private:
  uint64_t bits_ = 0;
};

// The capabilities that follow the fsuid (Linux's CAP_FS_MASK): a change of
// the fsuid away from 0 drops them from the effective set, and a change back
// to 0 raises the permitted ones again.
CapabilitySet filesystem_capabilities();

// Securebits (prctl PR_SET_SECUREBITS): SECBIT_* flags and their locks.
inline constexpr uint32_t kSecureNoRoot = 1u << 0;
inline constexpr uint32_t kSecureNoSetuidFixup = 1u << 2;
inline constexpr uint32_t kSecureKeepCaps = 1u << 4;
inline constexpr uint32_t kSecureKeepCapsLocked = 1u << 5;
inline constexpr uint32_t kSecureNoCapAmbientRaise = 1u << 6;
inline constexpr uint32_t kSecureExecRestrictFile = 1u << 8;
inline constexpr uint32_t kSecureExecDenyInteractive = 1u << 10;
// Every flag Linux 6.18 defines; each lock is its flag shifted left by one.
inline constexpr uint32_t kSecureAllBits = kSecureNoRoot | kSecureNoSetuidFixup | kSecureKeepCaps |
                                           kSecureNoCapAmbientRaise | kSecureExecRestrictFile |
                                           kSecureExecDenyInteractive;
inline constexpr uint32_t kSecureAllLocks = kSecureAllBits << 1;
// The flags a process may change without CAP_SETPCAP (Linux 6.14 and later).
inline constexpr uint32_t kSecureAllUnprivileged =
    kSecureExecRestrictFile | kSecureExecDenyInteractive;

struct Credentials {
  uid_t real_uid = 0;
  uid_t effective_uid = 0;
  uid_t saved_uid = 0;
  uid_t fs_uid = 0;
  gid_t real_gid = 0;
  gid_t effective_gid = 0;
  gid_t saved_gid = 0;
  gid_t fs_gid = 0;
  // Sorted, as setgroups(2) leaves them.
  std::vector<gid_t> supplementary_groups;

  // Capability sets. The defaults are those of root in Linux's initial
  // user namespace: every capability but no inheritable or ambient one.
  CapabilitySet cap_inheritable;
  CapabilitySet cap_permitted = CapabilitySet::all();
  CapabilitySet cap_effective = CapabilitySet::all();
  CapabilitySet cap_bset = CapabilitySet::all();
  CapabilitySet cap_ambient;
  uint32_t securebits = 0;

  bool is_root() const { return effective_uid == 0; }

  // Whether the credentials carry `cap` in their effective set, which is
  // how Linux's capable() decides.
  bool has_capability(int cap) const { return cap_effective.has(cap); }

  bool has_securebit(uint32_t bit) const { return (securebits & bit) != 0; }
};

// The set*id rules of Linux's kernel/sys.c. Each returns the new
// credentials or the errno, and leaves `old` alone; the caller commits the
// result. An id of (uid_t)-1 means "unchanged" where the call allows it.
// The capability fixups of commoncap.c follow each change.
Result<Credentials> set_uid(const Credentials& old, uid_t uid);
Result<Credentials> set_reuid(const Credentials& old, uid_t real, uid_t effective);
Result<Credentials> set_resuid(const Credentials& old, uid_t real, uid_t effective,
                               uid_t saved);
Result<Credentials> set_gid(const Credentials& old, gid_t gid);
Result<Credentials> set_regid(const Credentials& old, gid_t real, gid_t effective);
Result<Credentials> set_resgid(const Credentials& old, gid_t real, gid_t effective,
                               gid_t saved);

// setfsuid and setfsgid never fail: an unpermitted or invalid id leaves the
// credentials as they are. The caller returns the old fsuid or fsgid.
Credentials set_fsuid(const Credentials& old, uid_t uid);
Credentials set_fsgid(const Credentials& old, gid_t gid);

// capset's rules (cap_capset): EPERM for an inheritable set beyond the
// permitted and bounding sets, a permitted set that grows, or an effective
// set beyond the new permitted one. The ambient set loses what is no longer
// both permitted and inheritable.
Result<Credentials> set_capabilities(const Credentials& old, CapabilitySet effective,
                                     CapabilitySet permitted, CapabilitySet inheritable);

// Computes the credentials execve gives for a file with no file
// capabilities and no set-user-ID or set-group-ID bit
// (cap_bprm_creds_from_file). Root,
// unless SECBIT_NOROOT, gets the bounding set plus the inheritable one, and
// anyone else keeps only the ambient set. An euid or egid other than the
// real one makes the exec set-ID, which drops the ambient set, and with
// `no_new_privs` the exec falls back to the real ids and gains nothing. The
// saved and filesystem ids follow the effective ones, and SECBIT_KEEP_CAPS
// is cleared.
struct ExecCredentials {
  Credentials creds;
  // Linux's bprm->secureexec: a set-ID exec, or one that gives capabilities
  // to a process whose real uid is not 0. It sets AT_SECURE and clears the
  // parent-death signal.
  bool secure = false;
};
ExecCredentials credentials_for_exec(const Credentials& old, bool no_new_privs);

// Whether moving from `old` to `now` must reset the dumpable flag and the
// parent-death signal, as Linux's commit_creds does: a changed euid, egid,
// fsuid or fsgid, or permitted capabilities `old` did not have.
bool credentials_change_resets_privileges(const Credentials& old, const Credentials& now);

// The credentials of the ward process itself: its user and group ids,
// supplementary groups, capability sets and securebits, for the sandbox's
// first process.
Credentials host_process_credentials();

}  // namespace ward::kernel
