// The set*id family, setgroups, setfsuid and setfsgid, capget and capset.
// The rules themselves live in sentry/kernel/credentials.cc; these
// handlers decode the arguments and commit the result.
#include <linux/capability.h>

#include <algorithm>
#include <array>
#include <vector>

#include "sentry/kernel/credentials.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_attributes.h"
#include "syscalls/handlers_cred.h"

namespace ward::syscalls {
namespace {

// Linux's NGROUPS_MAX: the most supplementary groups setgroups accepts.
constexpr uint32_t kMaxGroups = 65536;

// The id arguments are 32-bit in the x86_64 ABI: (uid_t)-1 arrives as
// 0xffffffff whatever the upper half of the register holds.
uid_t id_argument(const SyscallArgs& args, size_t index) { return args.u32(index); }

Result<int64_t> commit(kernel::Task& task, Result<kernel::Credentials> creds) {
  kernel::commit_credentials(task, TRY(std::move(creds)));
  return 0;
}

// The number of 32-bit words per capability set that a header version
// carries: 1 for version 1, 2 for versions 2 and 3. For any other version
// Linux writes the version it prefers into the header and fails with
// EINVAL, so that a caller can probe for it.
Result<size_t> capability_words(kernel::Task& task, GuestAddr header) {
  uint32_t version = TRY(task.copy_in<uint32_t>(header));
  switch (version) {
    case _LINUX_CAPABILITY_VERSION_1:
      return size_t{1};
    case _LINUX_CAPABILITY_VERSION_2:
    case _LINUX_CAPABILITY_VERSION_3:
      return size_t{2};
    default:
      TRY(task.copy_out<uint32_t>(header, _LINUX_CAPABILITY_VERSION_3));
      return Errno{EINVAL};
  }
}

}  // namespace

// setuid(uid)
Result<int64_t> sys_setuid(kernel::Task& task, const SyscallArgs& args) {
  uid_t uid = id_argument(args, 0);
  return commit(task, kernel::set_uid(task.creds(), uid));
}

// setgid(gid)
Result<int64_t> sys_setgid(kernel::Task& task, const SyscallArgs& args) {
  gid_t gid = id_argument(args, 0);
  return commit(task, kernel::set_gid(task.creds(), gid));
}

// setreuid(ruid, euid)
Result<int64_t> sys_setreuid(kernel::Task& task, const SyscallArgs& args) {
  uid_t real = id_argument(args, 0);
  uid_t effective = id_argument(args, 1);
  return commit(task, kernel::set_reuid(task.creds(), real, effective));
}

// setregid(rgid, egid)
Result<int64_t> sys_setregid(kernel::Task& task, const SyscallArgs& args) {
  gid_t real = id_argument(args, 0);
  gid_t effective = id_argument(args, 1);
  return commit(task, kernel::set_regid(task.creds(), real, effective));
}

// setresuid(ruid, euid, suid)
Result<int64_t> sys_setresuid(kernel::Task& task, const SyscallArgs& args) {
  uid_t real = id_argument(args, 0);
  uid_t effective = id_argument(args, 1);
  uid_t saved = id_argument(args, 2);
  return commit(task, kernel::set_resuid(task.creds(), real, effective, saved));
}

// setresgid(rgid, egid, sgid)
Result<int64_t> sys_setresgid(kernel::Task& task, const SyscallArgs& args) {
  gid_t real = id_argument(args, 0);
  gid_t effective = id_argument(args, 1);
  gid_t saved = id_argument(args, 2);
  return commit(task, kernel::set_resgid(task.creds(), real, effective, saved));
}

// setfsuid(fsuid): returns the previous fsuid, also when the change is
// not permitted, which Linux reports in no other way.
Result<int64_t> sys_setfsuid(kernel::Task& task, const SyscallArgs& args) {
  uid_t uid = id_argument(args, 0);
  uid_t previous = task.creds().fs_uid;
  kernel::commit_credentials(task, kernel::set_fsuid(task.creds(), uid));
  return previous;
}

// setfsgid(fsgid): returns the previous fsgid, also when the change is
// not permitted.
Result<int64_t> sys_setfsgid(kernel::Task& task, const SyscallArgs& args) {
  gid_t gid = id_argument(args, 0);
  gid_t previous = task.creds().fs_gid;
  kernel::commit_credentials(task, kernel::set_fsgid(task.creds(), gid));
  return previous;
}

// setgroups(size, list): needs CAP_SETGID, which Linux checks before the
// size.
Result<int64_t> sys_setgroups(kernel::Task& task, const SyscallArgs& args) {
  uint32_t size = args.u32(0);
  GuestAddr list = args.addr(1);

  if (!task.creds().has_capability(CAP_SETGID)) {
    return Errno{EPERM};
  }
  if (size > kMaxGroups) {
    return Errno{EINVAL};
  }
  std::vector<gid_t> groups(size);
  TRY(task.copy_in(list, std::as_writable_bytes(std::span(groups))));
  if (std::find(groups.begin(), groups.end(), static_cast<gid_t>(-1)) != groups.end()) {
    return Errno{EINVAL};
  }
  std::sort(groups.begin(), groups.end());

  // A new group list alone changes no id or capability, so
  // commit_credentials would reset nothing.
  task.creds().supplementary_groups = std::move(groups);
  return 0;
}

// capget(header, data): a null data pointer only probes the version, and
// then even an unknown version succeeds once the preferred one is written
// back.
Result<int64_t> sys_capget(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr header = args.addr(0);
  GuestAddr data = args.addr(1);

  Result<size_t> words = capability_words(task, header);
  if (data.is_null()) {
    return !words.ok() && words.error().value != EINVAL ? Result<int64_t>(words.error())
                                                        : Result<int64_t>(0);
  }
  TRY(words);
  int32_t pid = TRY(task.copy_in<int32_t>(header + offsetof(__user_cap_header_struct, pid)));
  if (pid < 0) {
    return Errno{EINVAL};
  }
  kernel::Task* target = pid == 0 ? &task : task.kernel().find_task(pid);
  if (target == nullptr) {
    return Errno{ESRCH};
  }

  const kernel::Credentials& creds = target->creds();
  std::array<__user_cap_data_struct, 2> sets{};
  for (size_t i = 0; i < sets.size(); ++i) {
    auto word = [i](kernel::CapabilitySet set) {
      return static_cast<uint32_t>(set.bits() >> (32 * i));
    };
    sets[i] = {.effective = word(creds.cap_effective),
               .permitted = word(creds.cap_permitted),
               .inheritable = word(creds.cap_inheritable)};
  }
  TRY(task.copy_out(data, std::as_bytes(std::span(sets.data(), *words))));
  return 0;
}

// capset(header, data): only the caller's own sets; version 1 carries the
// low 32 capabilities and clears the others.
Result<int64_t> sys_capset(kernel::Task& task, const SyscallArgs& args) {
  GuestAddr header = args.addr(0);
  GuestAddr data = args.addr(1);

  size_t words = TRY(capability_words(task, header));
  int32_t pid = TRY(task.copy_in<int32_t>(header + offsetof(__user_cap_header_struct, pid)));
  if (pid != 0 && pid != task.tid()) {
    return Errno{EPERM};
  }
  std::array<__user_cap_data_struct, 2> sets{};
  TRY(task.copy_in(data, std::as_writable_bytes(std::span(sets.data(), words))));

  auto join = [&sets](uint32_t __user_cap_data_struct::*field) {
    return kernel::CapabilitySet(uint64_t{sets[0].*field} | (uint64_t{sets[1].*field} << 32));
  };
  return commit(task, kernel::set_capabilities(task.creds(),
                                               join(&__user_cap_data_struct::effective),
                                               join(&__user_cap_data_struct::permitted),
                                               join(&__user_cap_data_struct::inheritable)));
}

}  // namespace ward::syscalls
