// hostfs: a host directory (or, for a bind, a single host file) served as a
// filesystem of the sentry: read-only for the sandbox root, writable for a
// read-write bind.
//
// Every host file is reached one component at a time, relative to a host
// directory fd the sentry holds, with openat(O_PATH | O_NOFOLLOW): no guest
// path, host symlink or `..` is ever resolved by the host, so nothing
// outside the root can be reached, whatever the guest requests or a host
// process renames meanwhile. A file is opened for I/O by reopening that
// O_PATH fd through /proc/self/fd, which names exactly the inode already
// found and cannot be swapped. Device nodes are never opened. Directories
// of the host's kernel filesystems (procfs, sysfs, devpts, cgroup...) are
// never served either, wherever they are mounted.
//
// A writable hostfs keeps the same rule for every change: each host call
// names one component relative to a directory fd the sentry holds, or the
// inode of an O_PATH fd itself, and never follows a host symlink. Files the
// guest creates belong to ward's host uid and gid. stat reports the host's
// owner, so a guest chown shows what the host made of it (or fails with
// the host's EPERM).
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/inode.h"
#include "ward/result.h"
#include "ward/unique_fd.h"

namespace ward::vfs {

// The filesystem type name hostfs reports in /proc/mounts.
inline constexpr const char* kHostfsType = "hostfs";

class HostFilesystem final : public Filesystem {
 public:
  // Opens `host_root_path` (which must be a directory; ENOTDIR otherwise)
  // and returns the root dentry of a hostfs on it. Needs the host's
  // /proc/self/fd for reopening files.
  static Result<std::shared_ptr<Dentry>> create_root(const std::string& host_root_path);

  // Opens `host_path`, a directory or any other file, following host
  // symlinks in the path the user gave, and returns the root dentry of a
  // hostfs on it for a bind mount. Only a `writable` one changes the host.
  static Result<std::shared_ptr<Dentry>> create_bind_root(const std::string& host_path,
                                                          bool writable);

  // Whether the guest may change the host files of this filesystem: only
  // those of a read-write bind. The others fail every change with EROFS,
  // whatever the mount's options are.
  bool writable() const { return writable_; }

  // The host's /proc/self/fd directory, through which O_PATH fds are
  // reopened for I/O.
  int proc_self_fd() const { return proc_self_fd_.get(); }

  // Reopens the O_PATH fd `path_fd` with `flags` (an access mode, plus
  // O_NONBLOCK or O_DIRECTORY), always with O_CLOEXEC and O_NOCTTY.
  Result<UniqueFd> reopen(int path_fd, int flags) const;

  // A host path that names exactly the inode of the O_PATH fd `path_fd`,
  // for host calls that take only a path (getxattr, listxattr). Past the
  // sentry's own /proc, it consists of magic links to fds the sentry holds.
  std::string inode_path(int path_fd) const;

 private:
  HostFilesystem(UniqueFd proc_self_fd, bool writable);

  // The root dentry of a hostfs on the O_PATH fd `root_fd`.
  static Result<std::shared_ptr<Dentry>> make_root(UniqueFd root_fd, bool writable);

  UniqueFd proc_self_fd_;
  bool writable_;
};

class HostInode final : public Inode {
 public:
  HostInode(std::shared_ptr<HostFilesystem> filesystem, UniqueFd path_fd,
            const struct stat& host_stat);

  // The O_PATH fd of this inode.
  int path_fd() const { return path_fd_.get(); }
  dev_t host_dev() const { return host_dev_; }
  ino_t host_ino() const { return host_ino_; }

  Result<struct stat> stat() override;
  Result<struct statx> statx(uint32_t mask) override;
  Result<struct statfs> statfs() override;
  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override;
  bool revalidate(const Caller& caller, std::string_view name, const Inode& child) override;
  Result<LinkTarget> follow_link(const Caller& caller) override;
  Result<FileRef> open(const Caller& caller, const VirtualDentry& location,
                       uint32_t flags) override;
  bool unlinked() override;

  // The host's extended attributes of the inode, read-only. trusted.* ones
  // are withheld: they belong to the host's administrators.
  Result<size_t> get_xattr(const Caller& caller, std::string_view name,
                           std::span<std::byte> value) override;
  Result<size_t> list_xattr(const Caller& caller, std::span<char> list) override;
  Result<void> set_xattr(const Caller& caller, std::string_view name,
                         std::span<const std::byte> value, int flags) override;
  Result<void> remove_xattr(const Caller& caller, std::string_view name) override;

  // The changes of a writable hostfs (hostfs_write.cc). Each fails with
  // EROFS on a hostfs that is not writable. Device nodes cannot be
  // created (EPERM), since the sandbox never opens host devices.
  Result<std::shared_ptr<Inode>> create(const Caller& caller, std::string_view name,
                                        const NewNode& node) override;
  Result<void> link(const Caller& caller, std::string_view name,
                    const std::shared_ptr<Inode>& target) override;
  Result<void> unlink(const Caller& caller, std::string_view name, Inode& child) override;
  Result<void> rmdir(const Caller& caller, std::string_view name, Inode& child) override;
  Result<void> rename(const Caller& caller, std::string_view old_name, Inode& new_parent,
                      std::string_view new_name, unsigned flags) override;
  Result<void> set_attributes(const Caller& caller, const AttributeChange& change) override;

  // syncfs(2) on the host filesystem of a read-write bind, through this
  // inode when it is a directory or a regular file. 0 for the read-only
  // root, where the sandbox wrote nothing.
  Result<void> sync_filesystem() override;

 private:
  HostFilesystem& host_filesystem() const;

  // EROFS unless the filesystem is writable; ENOTDIR unless this inode is
  // a directory.
  Result<void> check_writable_directory() const;

  // Opens the child `name` of this directory as a new inode.
  Result<std::shared_ptr<Inode>> open_child(const std::string& name) const;

  // ENOENT unless the host's `name` in this directory is still `child`,
  // the inode the VFS found, so that a host process's rename meanwhile
  // does not make the sentry remove another file.
  Result<void> check_still_named(const std::string& name, const Inode& child) const;

  UniqueFd path_fd_;
  dev_t host_dev_;
  ino_t host_ino_;
};

}  // namespace ward::vfs
