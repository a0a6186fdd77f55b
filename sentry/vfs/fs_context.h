// FsContext: a task's root directory, working directory and umask, what
// Linux keeps in `struct fs_struct`. Threads made with CLONE_FS share one.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string_view>

#include "sentry/kernel/credentials.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/result.h"

namespace ward::vfs {

class MountNamespace;

class FsContext {
 public:
  FsContext(VirtualDentry root, VirtualDentry cwd, mode_t umask = 022);

  const VirtualDentry& root() const { return root_; }
  const VirtualDentry& cwd() const { return cwd_; }
  mode_t umask() const { return umask_; }

  // The mount namespace the task lives in. Linux keeps it beside the
  // fs_struct (in the nsproxy), but tasks that share an FsContext always
  // share the namespace, because clone and unshare reject CLONE_NEWNS
  // together with a shared CLONE_FS. Null when nothing set it; the task's
  // kernel's namespace applies then.
  const std::shared_ptr<MountNamespace>& mount_namespace() const { return mount_namespace_; }
  void set_mount_namespace(std::shared_ptr<MountNamespace> mounts) {
    mount_namespace_ = std::move(mounts);
  }

  void set_root(VirtualDentry root) { root_ = std::move(root); }
  void set_cwd(VirtualDentry cwd) { cwd_ = std::move(cwd); }
  // Stores the permission bits of `umask` and returns the previous mask.
  mode_t set_umask(mode_t umask);

  // A copy for fork or clone without CLONE_FS.
  std::shared_ptr<FsContext> clone() const;

  // Moves this context into a copy of `mounts`, with its root and working
  // directory on the copies of their mounts, as Linux's copy_mnt_ns does
  // for unshare and clone with CLONE_NEWNS.
  void enter_copy_of(const MountNamespace& mounts);

 private:
  VirtualDentry root_;
  VirtualDentry cwd_;
  mode_t umask_;
  std::shared_ptr<MountNamespace> mount_namespace_;
};

// The FsContext of a sandbox's first process: the namespace's root as root,
// and `cwd`, a path walked from it with `creds`, as working directory.
// ENOENT, ENOTDIR, EACCES and the other walk errors when `cwd` does not name
// a directory the process may search.
Result<std::shared_ptr<FsContext>> make_fs_context(MountNamespace& mounts,
                                                   const kernel::Credentials& creds,
                                                   std::string_view cwd);

}  // namespace ward::vfs
