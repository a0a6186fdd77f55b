// The open files of hostfs: regular files read and written through pread and
// pwrite on a host fd the sentry keeps open (the same fd backs mmap), and
// directories listed with the host's getdents64.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "sentry/vfs/file.h"
#include "ward/unique_fd.h"

namespace ward::vfs {

// Clears the set-user-ID bit, and the set-group-ID bit of a group-executable
// file, of the host file open as `fd`, before a guest write or truncate.
// Linux clears them for a writer without CAP_FSETID; hostfs clears them for
// every guest, because no guest may choose the contents of a host set-id
// file (hostfs rejects setting those bits as well).
Result<void> drop_host_set_id_bits(int fd);

class HostRegularFile final : public FileDescription {
 public:
  // `host_writable`: whether the file is on a read-write bind, whose host
  // files the guest may change and so flushes.
  HostRegularFile(VirtualDentry location, uint32_t flags, UniqueFd fd, bool host_writable);

  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override;
  // Only files of a read-write bind are open for writing. With O_APPEND
  // every write goes to the end, even one at an explicit offset, as on
  // Linux.
  Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t> offset) override;
  Result<void> truncate(int64_t length) override;
  // SEEK_DATA and SEEK_HOLE ask the host; the others are computed here.
  Result<int64_t> seek(int64_t offset, int whence) override;
  Result<struct stat> stat() override;
  std::optional<int> host_fd_for_mapping() override { return fd_.get(); }

  // fsync, fdatasync and sync_file_range run on the host file of a
  // read-write bind. A file of the read-only root has nothing the sandbox
  // wrote, so they return 0 without a host call, as Linux's overlay skips
  // the fsync of a lower file.
  Result<void> sync(bool data_only) override;
  Result<void> sync_range(int64_t offset, int64_t count_bytes, uint32_t flags) override;
  // The host's fallocate, after the RLIMIT_FSIZE check of a mode that
  // grows the file. The host filesystem decides which modes it supports.
  Result<void> allocate(int mode, int64_t offset, int64_t length,
                        uint64_t size_limit_bytes) override;

 private:
  UniqueFd fd_;
  bool host_writable_;
};

class HostDirectoryFile final : public FileDescription {
 public:
  HostDirectoryFile(VirtualDentry location, uint32_t flags, UniqueFd fd, bool host_writable);

  // A directory reads as EISDIR, as Linux's generic_read_dir.
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override;
  // The position is the host directory's own cookie.
  Result<int64_t> seek(int64_t offset, int whence) override;
  Result<void> iterate_dir(const Caller& caller, DirentSink& sink) override;
  // fsync of the host directory of a read-write bind; 0 on the read-only
  // root.
  Result<void> sync(bool data_only) override;

 private:
  UniqueFd fd_;
  bool host_writable_;
};

}  // namespace ward::vfs
