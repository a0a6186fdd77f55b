// The extended-attribute calls: getxattr, listxattr, setxattr and
// removexattr, each on a path (following a final symlink), on a path with
// the l prefix (not following it) and on an fd with the f prefix.
//
// Linux 6.18 copies in every argument but the path (the name, and for
// setxattr the flags, the size and the value) before it looks at the path
// or the fd, so a bad name wins over a bad fd. The f calls reject O_PATH
// fds with EBADF.
#include <fcntl.h>
#include <sys/xattr.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/task_paths.h"
#include "sentry/vfs/xattr.h"
#include "syscalls/args.h"
#include "syscalls/handlers_file.h"

namespace ward::syscalls {
namespace {

using vfs::VirtualDentry;

constexpr uint32_t kSetxattrFlags = XATTR_CREATE | XATTR_REPLACE;

// Linux's import_xattr_name: ERANGE for an empty name or one longer than
// XATTR_NAME_MAX, EFAULT for an unreadable one.
Result<std::string> copy_in_xattr_name(kernel::Task& task, GuestAddr addr) {
  auto name = task.copy_in_string(addr, vfs::kXattrNameMax + 1);
  if (!name.ok()) {
    return name.error().value == ENAMETOOLONG ? Errno{ERANGE} : name.error();
  }
  if (name->empty()) {
    return Errno{ERANGE};
  }
  return name;
}

// The arguments setxattr copies in before it looks at the file, in Linux's
// order: the flags, the name, the size, then the value.
struct SetxattrRequest {
  std::string name;
  std::vector<std::byte> value;
  int flags;
};

Result<SetxattrRequest> copy_in_setxattr(kernel::Task& task, GuestAddr name_addr,
                                         GuestAddr value_addr, uint64_t size_bytes,
                                         uint32_t flags) {
  if ((flags & ~kSetxattrFlags) != 0) {
    return Errno{EINVAL};
  }
  std::string name = TRY(copy_in_xattr_name(task, name_addr));
  if (size_bytes > vfs::kXattrSizeMax) {
    return Errno{E2BIG};
  }
  std::vector<std::byte> value(size_bytes);
  if (!value.empty()) {
    TRY(task.copy_in(value_addr, std::span<std::byte>(value)));
  }
  return SetxattrRequest{
      .name = std::move(name), .value = std::move(value), .flags = static_cast<int>(flags)};
}

// The file a path argument names, following a final symlink or not.
Result<VirtualDentry> path_target(kernel::Task& task, GuestAddr path_addr, bool follow) {
  const std::string path = TRY(task.copy_in_path(path_addr));
  return vfs::lookup_at(task, AT_FDCWD, path, vfs::WalkOptions{.follow_final = follow});
}

// The file of an fd argument: EBADF when none is open there or it is an
// O_PATH file, as Linux's fdget.
Result<VirtualDentry> fd_target(kernel::Task& task, int fd) {
  vfs::FileRef file = TRY(vfs::io_file(task, fd));
  return file->location();
}

// do_getxattr: the buffer is clamped to XATTR_SIZE_MAX, since no value is
// longer, and the value reaches the guest only after the filesystem has
// produced it.
Result<int64_t> get_xattr(kernel::Task& task, const VirtualDentry& target, const std::string& name,
                          GuestAddr value_addr, uint64_t size_bytes) {
  std::vector<std::byte> buffer(std::min<uint64_t>(size_bytes, vfs::kXattrSizeMax));
  auto length = vfs::get_xattr_at(vfs::caller_of(task), target, name, buffer);
  if (!length.ok()) {
    // A value that does not fit even XATTR_SIZE_MAX bytes cannot be read.
    if (length.error().value == ERANGE && size_bytes >= vfs::kXattrSizeMax) {
      return Errno{E2BIG};
    }
    return length.error();
  }
  if (!buffer.empty() && *length > 0) {
    TRY(task.copy_out(value_addr, std::span<const std::byte>(buffer.data(), *length)));
  }
  return static_cast<int64_t>(*length);
}

// listxattr, with the buffer clamped to XATTR_LIST_MAX as get_xattr's.
Result<int64_t> list_xattr(kernel::Task& task, const VirtualDentry& target, GuestAddr list_addr,
                           uint64_t size_bytes) {
  std::vector<char> buffer(std::min<uint64_t>(size_bytes, vfs::kXattrListMax));
  auto length = vfs::list_xattr_at(vfs::caller_of(task), target, buffer);
  if (!length.ok()) {
    if (length.error().value == ERANGE && size_bytes >= vfs::kXattrListMax) {
      return Errno{E2BIG};
    }
    return length.error();
  }
  if (!buffer.empty() && *length > 0) {
    TRY(task.copy_out(list_addr, std::as_bytes(std::span<const char>(buffer.data(), *length))));
  }
  return static_cast<int64_t>(*length);
}

Result<int64_t> set_xattr(kernel::Task& task, const VirtualDentry& target,
                          const SetxattrRequest& request) {
  TRY(vfs::set_xattr_at(vfs::caller_of(task), target, request.name, request.value, request.flags));
  return 0;
}

Result<int64_t> remove_xattr(kernel::Task& task, const VirtualDentry& target,
                             const std::string& name) {
  TRY(vfs::remove_xattr_at(vfs::caller_of(task), target, name));
  return 0;
}

Result<int64_t> path_getxattr(kernel::Task& task, const SyscallArgs& args, bool follow) {
  const GuestAddr path_addr = args.addr(0);
  const GuestAddr name_addr = args.addr(1);
  const GuestAddr value_addr = args.addr(2);
  const uint64_t size_bytes = args.u64(3);

  const std::string name = TRY(copy_in_xattr_name(task, name_addr));
  const VirtualDentry target = TRY(path_target(task, path_addr, follow));
  return get_xattr(task, target, name, value_addr, size_bytes);
}

Result<int64_t> path_listxattr(kernel::Task& task, const SyscallArgs& args, bool follow) {
  const GuestAddr path_addr = args.addr(0);
  const GuestAddr list_addr = args.addr(1);
  const uint64_t size_bytes = args.u64(2);

  const VirtualDentry target = TRY(path_target(task, path_addr, follow));
  return list_xattr(task, target, list_addr, size_bytes);
}

Result<int64_t> path_setxattr(kernel::Task& task, const SyscallArgs& args, bool follow) {
  const GuestAddr path_addr = args.addr(0);
  const GuestAddr name_addr = args.addr(1);
  const GuestAddr value_addr = args.addr(2);
  const uint64_t size_bytes = args.u64(3);
  const uint32_t flags = args.u32(4);

  const SetxattrRequest request =
      TRY(copy_in_setxattr(task, name_addr, value_addr, size_bytes, flags));
  const VirtualDentry target = TRY(path_target(task, path_addr, follow));
  return set_xattr(task, target, request);
}

Result<int64_t> path_removexattr(kernel::Task& task, const SyscallArgs& args, bool follow) {
  const GuestAddr path_addr = args.addr(0);
  const GuestAddr name_addr = args.addr(1);

  const std::string name = TRY(copy_in_xattr_name(task, name_addr));
  const VirtualDentry target = TRY(path_target(task, path_addr, follow));
  return remove_xattr(task, target, name);
}

}  // namespace

// getxattr(2)
Result<int64_t> sys_getxattr(kernel::Task& task, const SyscallArgs& args) {
  return path_getxattr(task, args, /*follow=*/true);
}

// lgetxattr(2)
Result<int64_t> sys_lgetxattr(kernel::Task& task, const SyscallArgs& args) {
  return path_getxattr(task, args, /*follow=*/false);
}

// fgetxattr(2)
Result<int64_t> sys_fgetxattr(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr name_addr = args.addr(1);
  const GuestAddr value_addr = args.addr(2);
  const uint64_t size_bytes = args.u64(3);

  const std::string name = TRY(copy_in_xattr_name(task, name_addr));
  const VirtualDentry target = TRY(fd_target(task, fd));
  return get_xattr(task, target, name, value_addr, size_bytes);
}

// listxattr(2)
Result<int64_t> sys_listxattr(kernel::Task& task, const SyscallArgs& args) {
  return path_listxattr(task, args, /*follow=*/true);
}

// llistxattr(2)
Result<int64_t> sys_llistxattr(kernel::Task& task, const SyscallArgs& args) {
  return path_listxattr(task, args, /*follow=*/false);
}

// flistxattr(2)
Result<int64_t> sys_flistxattr(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr list_addr = args.addr(1);
  const uint64_t size_bytes = args.u64(2);

  const VirtualDentry target = TRY(fd_target(task, fd));
  return list_xattr(task, target, list_addr, size_bytes);
}

// setxattr(2)
Result<int64_t> sys_setxattr(kernel::Task& task, const SyscallArgs& args) {
  return path_setxattr(task, args, /*follow=*/true);
}

// lsetxattr(2)
Result<int64_t> sys_lsetxattr(kernel::Task& task, const SyscallArgs& args) {
  return path_setxattr(task, args, /*follow=*/false);
}

// fsetxattr(2)
Result<int64_t> sys_fsetxattr(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr name_addr = args.addr(1);
  const GuestAddr value_addr = args.addr(2);
  const uint64_t size_bytes = args.u64(3);
  const uint32_t flags = args.u32(4);

  const SetxattrRequest request =
      TRY(copy_in_setxattr(task, name_addr, value_addr, size_bytes, flags));
  const VirtualDentry target = TRY(fd_target(task, fd));
  return set_xattr(task, target, request);
}

// removexattr(2)
Result<int64_t> sys_removexattr(kernel::Task& task, const SyscallArgs& args) {
  return path_removexattr(task, args, /*follow=*/true);
}

// lremovexattr(2)
Result<int64_t> sys_lremovexattr(kernel::Task& task, const SyscallArgs& args) {
  return path_removexattr(task, args, /*follow=*/false);
}

// fremovexattr(2)
Result<int64_t> sys_fremovexattr(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr name_addr = args.addr(1);

  const std::string name = TRY(copy_in_xattr_name(task, name_addr));
  const VirtualDentry target = TRY(fd_target(task, fd));
  return remove_xattr(task, target, name);
}

}  // namespace ward::syscalls
