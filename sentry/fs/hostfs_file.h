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

class HostRegularFile final : public FileDescription {
 public:
  HostRegularFile(VirtualDentry location, uint32_t flags, UniqueFd fd);

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

 private:
  UniqueFd fd_;
};

class HostDirectoryFile final : public FileDescription {
 public:
  HostDirectoryFile(VirtualDentry location, uint32_t flags, UniqueFd fd);

  // A directory reads as EISDIR, as Linux's generic_read_dir.
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override;
  // The position is the host directory's own cookie.
  Result<int64_t> seek(int64_t offset, int whence) override;
  Result<void> iterate_dir(const Caller& caller, DirentSink& sink) override;

 private:
  UniqueFd fd_;
};

}  // namespace ward::vfs
