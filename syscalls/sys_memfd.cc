// memfd_create(2), and fcntl's F_ADD_SEALS and F_GET_SEALS, which seal the
// files it makes.
#include <fcntl.h>

#include "sentry/fs/tmpfs.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fdtable.h"
#include "syscalls/args.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_file.h"

namespace ward::syscalls {
namespace {

// Linux's MFD_NAME_MAX_LEN: NAME_MAX less the "memfd:" prefix.
constexpr size_t kMemfdNameMaxBytes = 255 - 6;

constexpr unsigned kMemfdAllFlags = vfs::kMemfdCloexec | vfs::kMemfdAllowSealing |
                                    vfs::kMemfdHugetlb | vfs::kMemfdNoexecSeal | vfs::kMemfdExec;

// MFD_HUGE_MASK << MFD_HUGE_SHIFT: the huge page size bits MFD_HUGETLB
// allows.
constexpr unsigned kMemfdHugeSizeBits = 0x3fu << 26;

}  // namespace

// memfd_create(2): an anonymous tmpfs file, open for reading and writing.
Result<int64_t> sys_memfd_create(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr name_addr = args.addr(0);
  const unsigned flags = args.u32(1);

  const unsigned allowed =
      (flags & vfs::kMemfdHugetlb) != 0 ? kMemfdAllFlags | kMemfdHugeSizeBits : kMemfdAllFlags;
  if ((flags & ~allowed) != 0) {
    return Errno{EINVAL};
  }
  if ((flags & vfs::kMemfdExec) != 0 && (flags & vfs::kMemfdNoexecSeal) != 0) {
    return Errno{EINVAL};
  }

  // Linux reads at most MFD_NAME_MAX_LEN + 1 bytes: a longer name is EINVAL.
  auto name = task.copy_in_string(name_addr, kMemfdNameMaxBytes + 1);
  if (!name.ok()) {
    return Errno{name.error().value == ENAMETOOLONG ? EINVAL : name.error().value};
  }
  TRY(task.fdtable().check_free_slot());

  if ((flags & vfs::kMemfdHugetlb) != 0) {
    // NOTE: ward has no hugetlbfs; Linux without huge pages configured
    // makes the file and fails its first fault instead.
    record_gap(task, "MFD_HUGETLB");
    return Errno{EINVAL};
  }
  vfs::FileRef file = TRY(vfs::make_memfd(vfs::caller_of(task), *name, flags));
  return TRY(task.fdtable().install(std::move(file), (flags & vfs::kMemfdCloexec) != 0));
}

std::optional<Result<int64_t>> fcntl_seals(vfs::FileDescription& file, uint32_t command,
                                           uint64_t argument) {
  switch (command) {
    case F_ADD_SEALS: {
      Result<void> added = vfs::add_seals(file, static_cast<uint32_t>(argument));
      if (!added.ok()) {
        return Result<int64_t>(added.error());
      }
      return Result<int64_t>(int64_t{0});
    }
    case F_GET_SEALS: {
      Result<uint32_t> seals = vfs::get_seals(file);
      if (!seals.ok()) {
        return Result<int64_t>(seals.error());
      }
      return Result<int64_t>(static_cast<int64_t>(*seals));
    }
    default:
      return std::nullopt;
  }
}

}  // namespace ward::syscalls
