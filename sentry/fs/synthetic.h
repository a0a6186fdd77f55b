// Building blocks for the filesystems whose contents the sentry makes up
// (devfs, procfs, sysfs): directories with fixed or per-caller entries,
// symlinks, and read-only files whose text is produced when they are
// opened.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sentry/vfs/file.h"
#include "sentry/vfs/inode.h"
#include "ward/result.h"

namespace ward::vfs {

// An inode with attributes kept in the sentry: owned by root, stamped with
// its creation time.
class SyntheticInode : public Inode {
 public:
  // `mode` contains the file type and permission bits. An `ino` of 0 takes the
  // filesystem's next number.
  SyntheticInode(std::shared_ptr<Filesystem> filesystem, mode_t mode, uint64_t ino = 0,
                 dev_t rdev = 0);

  Result<struct stat> stat() override;

  // Linux's proc_setattr, reached only on /proc, the one synthetic mount
  // that is read-write: EPERM for a mode change. A size change is ignored,
  // so truncation succeeds. An owner change is ignored too, because the
  // owner is computed on each lookup, as Linux's pid_revalidate does.
  // New times are kept while the inode lives.
  // NOTE: Linux's top-level /proc files keep a chmod or chown (stored in
  // their proc_dir_entry). ward rejects the chmod and ignores the chown.
  Result<void> set_attributes(const Caller& caller, const AttributeChange& change) override;

  uint64_t ino() const { return ino_; }
  mode_t mode() const { return mode_; }

 protected:
  // st_size; 0 by default, as procfs reports.
  virtual off_t size_bytes() const { return 0; }

  // The owner stat reports, root by default.
  virtual Result<std::pair<uid_t, gid_t>> owner() const { return std::pair<uid_t, gid_t>{0, 0}; }

 private:
  mode_t mode_;
  uint64_t ino_;
  dev_t rdev_;
  struct timespec atime_ {};
  struct timespec mtime_ {};
  struct timespec ctime_ {};
};

// A directory whose entries are listed per caller.
class SyntheticDirectory : public SyntheticInode {
 public:
  struct Entry {
    std::string name;
    std::shared_ptr<Inode> inode;
  };

  SyntheticDirectory(std::shared_ptr<Filesystem> filesystem, mode_t permissions, uint64_t ino = 0);

  // The entries visible to the caller, without "." and "..".
  virtual Result<std::vector<Entry>> entries(const Caller& caller) = 0;

  // Searches entries(); subclasses may look a name up directly.
  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override;
  Result<FileRef> open(const Caller& caller, const VirtualDentry& location,
                       uint32_t flags) override;

  // Making a name fails with ENOENT, as in Linux's procfs, whose lookup of
  // a missing name fails instead of leaving a negative dentry to create.
  // /proc is the only synthetic filesystem mounted read-write, so only its
  // directories get here. Removing a name stays EPERM, the default.
  Result<std::shared_ptr<Inode>> create(const Caller& caller, std::string_view name,
                                        const NewNode& node) override;
  Result<void> link(const Caller& caller, std::string_view name,
                    const std::shared_ptr<Inode>& target) override;
  Result<void> rename(const Caller& caller, std::string_view old_name, Inode& new_parent,
                      std::string_view new_name, unsigned flags) override;
};

// A directory with a fixed set of entries.
class StaticDirectory final : public SyntheticDirectory {
 public:
  StaticDirectory(std::shared_ptr<Filesystem> filesystem, mode_t permissions);

  void add(std::string name, std::shared_ptr<Inode> inode);

  Result<std::vector<Entry>> entries(const Caller& caller) override;

 private:
  std::vector<Entry> entries_;
};

// A symlink whose target is computed per caller.
class SyntheticSymlink : public SyntheticInode {
 public:
  using Target = std::function<Result<LinkTarget>(const Caller&)>;

  SyntheticSymlink(std::shared_ptr<Filesystem> filesystem, Target target, uint64_t ino = 0,
                   mode_t permissions = 0777);

  Result<LinkTarget> follow_link(const Caller& caller) override;
  // A magic link reads as the path of its target from the caller's root.
  Result<std::string> readlink(const Caller& caller) override;

 private:
  Target target_;
};

// A read-only file whose text `generate` produces at open; reads then see
// that snapshot. A generator's error fails the open. Where the mount and
// the mode let a caller open it for writing (root on /proc), each write
// fails and truncation does nothing, as procfs's setattr ignores sizes.
class GeneratedFile final : public SyntheticInode {
 public:
  using Generator = std::function<Result<std::string>(const Caller&)>;

  // `reported_size` is st_size: 0 as procfs shows, 4096 as sysfs shows.
  GeneratedFile(std::shared_ptr<Filesystem> filesystem, Generator generate,
                mode_t permissions = 0444, off_t reported_size = 0, uint64_t ino = 0);

  Result<FileRef> open(const Caller& caller, const VirtualDentry& location,
                       uint32_t flags) override;

  // Makes stat report `uid` and `gid` as the owner instead of root.
  void set_owner(uid_t uid, gid_t gid) { owner_ = {uid, gid}; }

  // Sets the errno of a write: EINVAL by default, Linux's vfs_write errno
  // for a file without a write method, or EIO, which procfs's top-level
  // files give (pde_write).
  void set_write_error(int error) { write_error_ = error; }

  // Makes an open for writing fail with EACCES, even for root, when the
  // mode has no write bit, as sysfs does (kernfs_fop_open).
  void set_write_needs_mode_bit() { write_needs_mode_bit_ = true; }

  // Marks the file as the sysctl at `path` (/proc/sys/...). An open for
  // writing then fails with EACCES, which Linux gives even root when the
  // mode has no write bit (proc_sys_permission). ward changes no sysctl,
  // so an open that the mode allows records a compatibility gap as well.
  // NOTE: access(2) and faccessat(2) check the mode alone, so W_OK on a
  // sysctl returns 0 for root where Linux gives EACCES for a 0444 one.
  void set_sysctl_path(std::string path) { sysctl_path_ = std::move(path); }

  // Sets the poll(2) events an open of the file reports, for the files
  // whose Linux counterpart has a poll method (/proc/pid/mounts, sysfs).
  // `unread_events` are reported too until the first read, as sysfs
  // reports POLLERR and POLLPRI for an attribute not read since it changed.
  void set_poll_events(uint32_t events, uint32_t unread_events = 0) {
    poll_events_ = events;
    unread_poll_events_ = unread_events;
    has_poll_ = true;
  }

 protected:
  off_t size_bytes() const override { return reported_size_; }
  Result<std::pair<uid_t, gid_t>> owner() const override { return owner_; }

 private:
  Generator generate_;
  off_t reported_size_;
  std::pair<uid_t, gid_t> owner_{0, 0};
  uint32_t poll_events_ = kDefaultPollEvents;
  uint32_t unread_poll_events_ = 0;
  bool has_poll_ = false;  // whether set_poll_events gave it a poll method
  int write_error_ = EINVAL;
  std::string sysctl_path_;  // empty unless the file is a sysctl
  bool write_needs_mode_bit_ = false;
};

// Reads a whole host file the sentry itself needs (/proc/cpuinfo and the
// like). Not for guest paths.
Result<std::string> read_host_file(const char* path);

}  // namespace ward::vfs
