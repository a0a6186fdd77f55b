#include "sentry/vfs/fs_context.h"

#include <sys/stat.h>

#include <map>

#include "sentry/kernel/credentials.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/path_walk.h"

namespace ward::vfs {

FsContext::FsContext(VirtualDentry root, VirtualDentry cwd, mode_t umask)
    : root_(std::move(root)), cwd_(std::move(cwd)), umask_(umask & 0777) {}

mode_t FsContext::set_umask(mode_t umask) { return std::exchange(umask_, umask & 0777); }

std::shared_ptr<FsContext> FsContext::clone() const {
  auto copy = std::make_shared<FsContext>(root_, cwd_, umask_);
  copy->set_mount_namespace(mount_namespace_);
  return copy;
}

void FsContext::enter_copy_of(const MountNamespace& mounts) {
  std::map<const Mount*, std::shared_ptr<Mount>> copies;
  mount_namespace_ = mounts.copy(copies);

  auto moved = [&](const VirtualDentry& location) {
    auto copy = copies.find(location.mount.get());
    if (copy == copies.end()) {
      return location;
    }
    return VirtualDentry{.mount = copy->second, .dentry = location.dentry};
  };
  root_ = moved(root_);
  cwd_ = moved(cwd_);
}

Result<std::shared_ptr<FsContext>> make_fs_context(MountNamespace& mounts,
                                                   const kernel::Credentials& creds,
                                                   std::string_view cwd) {
  const VirtualDentry root = mounts.root();
  const FsContext at_root(root, root);
  const Caller caller{.creds = creds, .fs = at_root, .task = nullptr};
  const WalkOptions directory{.follow_final = true, .require_directory = true};
  VirtualDentry location = TRY(walk_path(caller, root, cwd, directory));
  auto context = std::make_shared<FsContext>(root, std::move(location));
  context->set_mount_namespace(mounts.weak_from_this().lock());
  return context;
}

}  // namespace ward::vfs
