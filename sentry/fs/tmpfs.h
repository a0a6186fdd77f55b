// tmpfs: a filesystem kept in the sentry's memory, as Linux's shmem. The
// names, modes, owners, times, links and extended attributes live in sentry
// objects. A regular file's data lives in a host data file the sentry makes
// on the file's first write, growth or mmap and reads and writes with pread
// and pwrite. The data file is a memfd, or an unnamed file in a host
// directory for a tmpfs made by make_host_backed_tmpfs_root_inode. It is
// what an mmap of the file maps, so MAP_SHARED works between guest
// processes. The filesystem counts the data it stores against a size limit
// and fails with ENOSPC past it.
//
// Every operation of the writable Inode interface is here, for the VFS and
// for filesystems built on tmpfs (the overlay's upper layer).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/inode.h"
#include "ward/result.h"
#include "ward/unique_fd.h"

namespace ward::vfs {

// The filesystem type tmpfs reports in /proc/mounts.
inline constexpr const char* kTmpfsType = "tmpfs";

// The default size limit of a tmpfs: half the host's RAM, Linux's default.
uint64_t default_tmpfs_size_bytes();

class TmpfsFilesystem final : public Filesystem {
 public:
  // A `size_limit_bytes` of 0 takes default_tmpfs_size_bytes(). With a
  // valid `data_directory` (a host directory fd), regular files keep their
  // data in unnamed files there instead of memfds.
  explicit TmpfsFilesystem(uint64_t size_limit_bytes, UniqueFd data_directory = UniqueFd());

  // f_blocks from the size limit, f_bfree from the data held, in 4 KiB
  // blocks, and the inode counts.
  Result<struct statfs> statfs() override;

  uint64_t size_limit_bytes() const { return size_limit_bytes_; }
  // A new limit, as a remount with size= sets it. The caller checks that
  // the data held fits.
  void set_size_limit_bytes(uint64_t size_limit_bytes) { size_limit_bytes_ = size_limit_bytes; }
  uint64_t used_bytes() const { return used_bytes_; }

  // Counts `bytes` more data against the limit: ENOSPC when they do not fit.
  Result<void> charge(uint64_t bytes);
  void uncharge(uint64_t bytes);
  // Replaces a file's `old_bytes` in the count with `new_bytes`, even past
  // the limit: pages a shared mapping touched are already allocated.
  void recount(uint64_t old_bytes, uint64_t new_bytes);
  // The bytes a write may still add.
  uint64_t free_bytes() const;

  void add_inode() { ++inode_count_; }
  void remove_inode() { --inode_count_; }

  // Makes the host file that stores one regular file's data: a memfd, or an
  // unnamed file in the data directory. Fails with the host's errno.
  Result<UniqueFd> make_data_file();

 private:
  UniqueFd data_directory_;
  uint64_t size_limit_bytes_;
  uint64_t used_bytes_ = 0;
  uint64_t inode_count_ = 0;
};

// A new tmpfs root directory with `permissions` (07777 bits) owned by
// `uid` and `gid`, on a new filesystem of `size_limit_bytes` (0: the
// default).
std::shared_ptr<Inode> make_tmpfs_root_inode(uint64_t size_limit_bytes, mode_t permissions,
                                             uid_t uid = 0, gid_t gid = 0);

// A new tmpfs root directory like make_tmpfs_root_inode's, whose regular
// files keep their data in unnamed files in the host directory
// `host_directory`, so that large files take disk space and not memory. A
// `size_limit_bytes` of 0 takes the size of the host filesystem holding the
// directory. Fails with the host's errno when the directory cannot be
// opened, ENOTDIR when it is not a directory.
Result<std::shared_ptr<Inode>> make_host_backed_tmpfs_root_inode(uint64_t size_limit_bytes,
                                                                 mode_t permissions,
                                                                 const std::string& host_directory);

// The same, as the root dentry of a new mount.
std::shared_ptr<Dentry> make_tmpfs_root(uint64_t size_limit_bytes, mode_t permissions = 01777);

// True when `inode` belongs to a tmpfs.
bool is_tmpfs_inode(const Inode& inode);

// The memfd_create(2) flags, with Linux's values.
inline constexpr unsigned kMemfdCloexec = 0x1;
inline constexpr unsigned kMemfdAllowSealing = 0x2;
inline constexpr unsigned kMemfdHugetlb = 0x4;
inline constexpr unsigned kMemfdNoexecSeal = 0x8;
inline constexpr unsigned kMemfdExec = 0x10;

// Makes the open file of memfd_create(2): an unnamed regular file on the
// sentry's internal tmpfs, owned by the caller, opened O_RDWR and shown as
// "/memfd:NAME (deleted)". `flags` are already checked.
Result<FileRef> make_memfd(const Caller& caller, std::string_view name, unsigned flags);

// fcntl(2)'s F_ADD_SEALS and F_GET_SEALS. EINVAL for a file that is not on
// a tmpfs; F_ADD_SEALS is EPERM on a file not open for writing or already
// sealed with F_SEAL_SEAL, and EBUSY for F_SEAL_WRITE while a writable
// shared mapping exists.
Result<void> add_seals(FileDescription& file, uint32_t seals);
Result<uint32_t> get_seals(FileDescription& file);

}  // namespace ward::vfs
