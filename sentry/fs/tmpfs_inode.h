// The inodes of tmpfs, shared by tmpfs.cc (directories and attributes) and
// tmpfs_file.cc (regular files, their open files and seals). Callers outside
// sentry/fs use tmpfs.h.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sentry/fs/pipe.h"
#include "sentry/fs/tmpfs.h"
#include "ward/unique_fd.h"

namespace ward::vfs {

// The current CLOCK_REALTIME time, which every tmpfs timestamp takes.
timespec tmpfs_now();

// Makes an unnamed file open for reading and writing in the host directory
// `directory`, with O_TMPFILE, or with make_named_then_unlinked_file on a
// host filesystem without O_TMPFILE. Fails with the host's errno.
Result<UniqueFd> make_unnamed_host_file(int directory);

// Creates a file of a random name in `directory` with mode 0600 and unlinks
// it at once. EEXIST when every name tried was taken.
Result<UniqueFd> make_named_then_unlinked_file(int directory);

// Attributes common to every tmpfs inode: mode, owner, link count, the four
// timestamps and the extended attributes.
class TmpfsInode : public Inode {
 public:
  TmpfsInode(std::shared_ptr<TmpfsFilesystem> filesystem, mode_t mode, uid_t uid, gid_t gid,
             dev_t rdev = 0);
  ~TmpfsInode() override;

  TmpfsFilesystem& tmpfs() const { return static_cast<TmpfsFilesystem&>(filesystem()); }

  Result<struct stat> stat() override;
  Result<struct statx> statx(uint32_t mask) override;
  Result<void> set_attributes(const Caller& caller, const AttributeChange& change) override;
  bool unlinked() override { return nlink_ == 0; }

  Result<size_t> get_xattr(const Caller& caller, std::string_view name,
                           std::span<std::byte> value) override;
  Result<size_t> list_xattr(const Caller& caller, std::span<char> list) override;
  Result<void> set_xattr(const Caller& caller, std::string_view name,
                         std::span<const std::byte> value, int flags) override;
  Result<void> remove_xattr(const Caller& caller, std::string_view name) override;

  uint64_t ino() const { return ino_; }
  mode_t mode() const { return mode_; }
  uint32_t nlink() const { return nlink_; }
  void set_nlink(uint32_t nlink) { nlink_ = nlink; }

  // Whether link() may give the inode a name although its link count is
  // 0: an O_TMPFILE file made without O_EXCL (Linux's I_LINKABLE).
  bool linkable() const { return linkable_; }
  void set_linkable(bool linkable) { linkable_ = linkable; }

  // Moves mtime and ctime to now, after a change of the contents.
  void touch_modified();
  // Moves ctime to now, after a change of the attributes or link count.
  void touch_changed();
  // Moves atime to now under relatime's rule: when it is not newer than
  // mtime or ctime.
  void touch_accessed();

 protected:
  // st_size and st_blocks (512-byte units) of the inode.
  virtual int64_t size_bytes() { return 0; }
  virtual int64_t blocks() { return 0; }
  // Changes the size of a regular file (truncate). EINVAL for others.
  virtual Result<void> resize(int64_t size_bytes);
  // Refuses a mode change the file's seals forbid (F_SEAL_EXEC).
  virtual Result<void> check_mode_change(mode_t new_mode);

 private:
  uint64_t ino_;
  mode_t mode_;
  uid_t uid_;
  gid_t gid_;
  dev_t rdev_;
  uint32_t nlink_ = 1;
  bool linkable_ = false;
  timespec atime_{};
  timespec mtime_{};
  timespec ctime_{};
  timespec btime_{};
  std::map<std::string, std::vector<std::byte>, std::less<>> xattrs_;
};

class TmpfsDirectory final : public TmpfsInode {
 public:
  // One entry: the inode and the d_off cookie that finds it in a listing.
  struct Entry {
    std::shared_ptr<TmpfsInode> inode;
    uint64_t cookie;
  };

  // The cookie of the first entry; 0 and 1 are "." and "..".
  static constexpr uint64_t kFirstCookie = 2;

  TmpfsDirectory(std::shared_ptr<TmpfsFilesystem> filesystem, mode_t permissions, uid_t uid,
                 gid_t gid);

  Result<std::shared_ptr<Inode>> lookup(const Caller& caller, std::string_view name) override;
  Result<FileRef> open(const Caller& caller, const VirtualDentry& location,
                       uint32_t flags) override;

  Result<std::shared_ptr<Inode>> create(const Caller& caller, std::string_view name,
                                        const NewNode& node) override;
  Result<std::shared_ptr<Inode>> create_unnamed(const Caller& caller,
                                                const NewNode& node) override;
  Result<void> link(const Caller& caller, std::string_view name,
                    const std::shared_ptr<Inode>& target) override;
  Result<void> unlink(const Caller& caller, std::string_view name, Inode& child) override;
  Result<void> rmdir(const Caller& caller, std::string_view name, Inode& child) override;
  Result<void> rename(const Caller& caller, std::string_view old_name, Inode& new_parent,
                      std::string_view new_name, unsigned flags) override;

  // The entries from `cookie` on, in cookie order, for a listing.
  const std::map<uint64_t, std::string>& names_by_cookie() const { return names_by_cookie_; }
  // The cookie the next entry made or renamed here will get.
  uint64_t next_cookie() const { return next_cookie_; }
  const Entry* find(std::string_view name) const;

  // The inode number ".." lists: the parent's, or this one's for a root.
  uint64_t parent_ino() const;

 protected:
  // Linux's tmpfs counts 20 bytes (BOGO_DIRENT_SIZE) for each entry,
  // "." and ".." included.
  int64_t size_bytes() override;

 private:
  // Makes the inode a NewNode describes, without naming it.
  Result<std::shared_ptr<TmpfsInode>> make_node(const NewNode& node);
  void insert(std::string_view name, std::shared_ptr<TmpfsInode> inode);
  std::shared_ptr<TmpfsInode> erase(std::string_view name);

  std::map<std::string, Entry, std::less<>> entries_;
  std::map<uint64_t, std::string> names_by_cookie_;
  uint64_t next_cookie_ = kFirstCookie;
  std::weak_ptr<TmpfsDirectory> parent_;
};

class TmpfsSymlink final : public TmpfsInode {
 public:
  TmpfsSymlink(std::shared_ptr<TmpfsFilesystem> filesystem, uid_t uid, gid_t gid,
               std::string target);

  Result<LinkTarget> follow_link(const Caller& caller) override;

 protected:
  int64_t size_bytes() override { return static_cast<int64_t>(target_.size()); }

 private:
  std::string target_;
};

// A FIFO, a socket or a device node. Opening a FIFO opens an end of the
// pipe the node keeps; a socket is ENXIO, as on Linux. A device node is
// ENXIO too, because the sandbox's devices are served by devfs alone.
class TmpfsSpecial final : public TmpfsInode {
 public:
  TmpfsSpecial(std::shared_ptr<TmpfsFilesystem> filesystem, mode_t mode, uid_t uid, gid_t gid,
               dev_t rdev);

  Result<FileRef> open(const Caller& caller, const VirtualDentry& location,
                       uint32_t flags) override;

 private:
  std::shared_ptr<Pipe> pipe_;  // for a FIFO, made on the first open
};

class TmpfsRegular final : public TmpfsInode {
 public:
  TmpfsRegular(std::shared_ptr<TmpfsFilesystem> filesystem, mode_t permissions, uid_t uid,
               gid_t gid);
  ~TmpfsRegular() override;

  Result<FileRef> open(const Caller& caller, const VirtualDentry& location,
                       uint32_t flags) override;

  // Reads and writes at `offset` through the data file. A write past the
  // size limit is cut short, and is ENOSPC when nothing fits.
  Result<size_t> read(std::span<std::byte> buffer, int64_t offset);
  Result<size_t> write(std::span<const std::byte> buffer, int64_t offset);

  // ftruncate(2): the new size, with mtime and ctime moved to now.
  Result<void> truncate(int64_t size_bytes);

  // fallocate(2) on the data file, with Linux's shmem_fallocate rules: only
  // FALLOC_FL_KEEP_SIZE and FALLOC_FL_PUNCH_HOLE (else EOPNOTSUPP), EFBIG
  // past `size_limit_bytes` even with FALLOC_FL_KEEP_SIZE, ENOSPC when the
  // new pages do not fit the filesystem's size limit, and EPERM from the
  // seals the memfd shares.
  Result<void> allocate(int mode, int64_t offset, int64_t length, uint64_t size_limit_bytes);

  // The host file holding the data (TmpfsFilesystem::make_data_file), made
  // on first use: ENOMEM or the host's errno when it cannot be made.
  Result<int> data_fd();

  // F_ADD_SEALS and F_GET_SEALS; see tmpfs.h. A file made by
  // memfd_create(MFD_ALLOW_SEALING) starts without seals, every other with
  // F_SEAL_SEAL.
  Result<void> add_seals(uint32_t seals);
  uint32_t seals() const { return seals_; }
  void set_seals(uint32_t seals) { seals_ = seals; }

  int64_t current_size();

 protected:
  int64_t size_bytes() override { return current_size(); }
  int64_t blocks() override;
  Result<void> resize(int64_t size_bytes) override;
  Result<void> check_mode_change(mode_t new_mode) override;

 private:
  // Sets the filesystem's count of this file's data to the data file's
  // allocated size.
  void recharge();

  // The bytes of the whole pages in [offset, end) that hold no data yet.
  Result<int64_t> unallocated_bytes(int fd, int64_t offset, int64_t end);

  UniqueFd data_file_;
  uint64_t charged_bytes_ = 0;
  uint32_t seals_;
};

}  // namespace ward::vfs
