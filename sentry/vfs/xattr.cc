#include "sentry/vfs/xattr.h"

#include <sys/stat.h>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/mutate.h"
#include "sentry/vfs/permission.h"

namespace ward::vfs {
namespace {

constexpr std::string_view kSecurityPrefix = "security.";
constexpr std::string_view kSystemPrefix = "system.";
constexpr std::string_view kTrustedPrefix = "trusted.";
constexpr std::string_view kUserPrefix = "user.";

// Linux's xattr_permission, for read (`may` = kMayRead) or write access to
// attribute `name`.
//
// NOTE: Linux first rejects writes to immutable and append-only inodes with
// EPERM. No inode of ward has those flags; the /proc/<pid> directories,
// which Linux marks immutable, are on a read-only mount, so EROFS comes first.
Result<void> check_xattr_permission(const Caller& caller, const VirtualDentry& location,
                                    std::string_view name, int may) {
  const bool write = (may & kMayWrite) != 0;

  // The VFS leaves security.* and system.* to the filesystem and the
  // security module.
  if (name.starts_with(kSecurityPrefix) || name.starts_with(kSystemPrefix)) {
    return ok();
  }

  // trusted.* needs CAP_SYS_ADMIN, which the sandbox grants to euid 0 as it
  // grants root's other capabilities.
  if (name.starts_with(kTrustedPrefix)) {
    if (!caller.creds.is_root()) {
      return Errno{write ? EPERM : ENODATA};
    }
    return ok();
  }

  Inode& inode = location.dentry->inode();
  if (name.starts_with(kUserPrefix)) {
    // Only regular files and directories carry user.* attributes.
    if (!inode.is_regular() && !inode.is_dir()) {
      return Errno{write ? EPERM : ENODATA};
    }
    // In a sticky directory, only the owner (or CAP_FOWNER, root's while
    // its fsuid is 0) may change them.
    if (write && inode.is_dir()) {
      const struct stat st = TRY(inode.stat());
      const bool owner_or_capable = caller.creds.fs_uid == st.st_uid || caller.creds.fs_uid == 0;
      if ((st.st_mode & S_ISVTX) != 0 && !owner_or_capable) {
        return Errno{EPERM};
      }
    }
  }
  return check_permission(caller.creds, location, may);
}

}  // namespace

Result<size_t> get_xattr_at(const Caller& caller, const VirtualDentry& location,
                            std::string_view name, std::span<std::byte> value) {
  TRY(check_xattr_permission(caller, location, name, kMayRead));
  return location.dentry->inode().get_xattr(caller, name, value);
}

Result<size_t> list_xattr_at(const Caller& caller, const VirtualDentry& location,
                             std::span<char> list) {
  return location.dentry->inode().list_xattr(caller, list);
}

Result<void> set_xattr_at(const Caller& caller, const VirtualDentry& location,
                          std::string_view name, std::span<const std::byte> value, int flags) {
  TRY(mount_write_access(*location.mount));
  TRY(check_xattr_permission(caller, location, name, kMayWrite));
  return location.dentry->inode().set_xattr(caller, name, value, flags);
}

Result<void> remove_xattr_at(const Caller& caller, const VirtualDentry& location,
                             std::string_view name) {
  TRY(mount_write_access(*location.mount));
  TRY(check_xattr_permission(caller, location, name, kMayWrite));
  return location.dentry->inode().remove_xattr(caller, name);
}

}  // namespace ward::vfs
