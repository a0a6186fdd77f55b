#include "sentry/vfs/permission.h"

#include <linux/capability.h>

#include <algorithm>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {

bool in_group(const kernel::Credentials& creds, gid_t gid) {
  if (creds.fs_gid == gid) {
    return true;
  }
  const auto& groups = creds.supplementary_groups;
  return std::find(groups.begin(), groups.end(), gid) != groups.end();
}

Result<void> check_access(const kernel::Credentials& creds, const struct stat& st, int may) {
  const int wanted = may & (kMayRead | kMayWrite | kMayExec);
  mode_t mode = st.st_mode;

  // The owner class applies to the owner even when the group or other bits
  // would grant more.
  if (creds.fs_uid == st.st_uid) {
    mode >>= 6;
  } else if (in_group(creds, st.st_gid)) {
    mode >>= 3;
  }
  if ((wanted & ~static_cast<int>(mode) & 7) == 0) {
    return ok();
  }

  // Root's capabilities: CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE. The
  // sandbox gives them to fsuid 0.
  if (creds.fs_uid != 0) {
    return Errno{EACCES};
  }
  if (S_ISDIR(st.st_mode)) {
    return ok();
  }
  if ((wanted & kMayExec) == 0 || (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0) {
    return ok();
  }
  return Errno{EACCES};
}

Result<void> check_permission(const kernel::Credentials& creds, const VirtualDentry& location,
                              int may) {
  Inode& inode = location.dentry->inode();
  if ((may & kMayWrite) != 0 && location.mount->read_only()) {
    const mode_t type = inode.type();
    if (S_ISREG(type) || S_ISDIR(type) || S_ISLNK(type)) {
      return Errno{EROFS};
    }
  }
  const struct stat st = TRY(inode.stat());
  return check_access(creds, st, may);
}

bool owner_or_capable(const kernel::Credentials& creds, const struct stat& st) {
  return creds.fs_uid == st.st_uid || creds.has_capability(CAP_FOWNER);
}

bool in_group_or_capable(const kernel::Credentials& creds, gid_t gid) {
  return in_group(creds, gid) || creds.has_capability(CAP_FSETID);
}

Result<void> may_create(const kernel::Credentials& creds, const VirtualDentry& directory) {
  const struct stat st = TRY(directory.dentry->inode().stat());
  if (st.st_nlink == 0) {
    return Errno{ENOENT};
  }
  return check_permission(creds, directory, kMayWrite | kMayExec);
}

Result<void> may_delete(const kernel::Credentials& creds, const VirtualDentry& directory,
                        const Dentry& victim, bool want_directory) {
  TRY(check_permission(creds, directory, kMayWrite | kMayExec));

  const struct stat directory_st = TRY(directory.dentry->inode().stat());
  const struct stat victim_st = TRY(victim.inode().stat());
  // The sticky bit keeps others' entries: only the entry's owner, the
  // directory's owner or CAP_FOWNER may remove one.
  if ((directory_st.st_mode & S_ISVTX) != 0 && creds.fs_uid != victim_st.st_uid &&
      creds.fs_uid != directory_st.st_uid && !creds.has_capability(CAP_FOWNER)) {
    return Errno{EPERM};
  }
  if (want_directory) {
    if (!victim.inode().is_dir()) {
      return Errno{ENOTDIR};
    }
    if (victim.is_root()) {
      return Errno{EBUSY};
    }
  } else if (victim.inode().is_dir()) {
    return Errno{EISDIR};
  }
  if (directory_st.st_nlink == 0) {
    return Errno{ENOENT};
  }
  return ok();
}

}  // namespace ward::vfs
