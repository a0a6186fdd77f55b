#include "sentry/vfs/path_ops.h"

#include <unistd.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/permission.h"

namespace ward::vfs {

Result<void> check_access_at(const Caller& caller, const VirtualDentry& location, int mode,
                             bool use_effective_ids) {
  // access(2) checks with the real ids, as Linux's access_override_creds.
  kernel::Credentials creds = caller.creds;
  if (!use_effective_ids) {
    creds.fs_uid = creds.real_uid;
    creds.fs_gid = creds.real_gid;
  }

  Inode& inode = location.dentry->inode();
  if ((mode & X_OK) != 0 && inode.is_regular() && location.mount->options().noexec) {
    return Errno{EACCES};
  }
  if (mode == F_OK) {
    return ok();
  }
  return check_permission(creds, location, mode);
}

Result<std::string> read_link_at(const Caller& caller, const VirtualDentry& location,
                                 bool empty_path) {
  Inode& inode = location.dentry->inode();
  if (!inode.is_symlink()) {
    return Errno{empty_path ? ENOENT : EINVAL};
  }
  return inode.readlink(caller);
}

Result<std::string> working_directory_name(const Caller& caller) {
  const VirtualDentry& cwd = caller.fs.cwd();
  if (cwd.dentry->inode().unlinked()) {
    return Errno{ENOENT};
  }
  const PathName name = name_from_root(caller.fs.root(), cwd);
  std::string text = name.reachable ? name.path : "(unreachable)" + name.path;
  if (text.size() + 1 > kernel::kPathMax) {
    return Errno{ENAMETOOLONG};
  }
  return text;
}

Result<void> check_new_working_directory(const Caller& caller, const VirtualDentry& location) {
  if (!location.dentry->inode().is_dir()) {
    return Errno{ENOTDIR};
  }
  return check_permission(caller.creds, location, kMayExec);
}

}  // namespace ward::vfs
