// FileDescription: an open file description, shared by every fd that dup,
// fork or SCM_RIGHTS made from one open. It contains the file offset and the
// status flags; each filesystem derives its own kind.
//
// Every operation here is non-blocking: when a pipe is empty or a terminal
// has no input, read returns EAGAIN and the caller waits on wait_queue()
// (see blocking.h), unless the file is O_NONBLOCK.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "sentry/vfs/inode.h"
#include "sentry/vfs/virtual_dentry.h"
#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
class WaitQueue;
}  // namespace ward::kernel

namespace ward::vfs {

class FdTable;

// The poll(2) events of a file without a poll method of its own, which
// never blocks: Linux's DEFAULT_POLLMASK.
inline constexpr uint32_t kDefaultPollEvents = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

// The status flags F_SETFL may change; the others it ignores, as Linux does.
inline constexpr uint32_t kSettableStatusFlags =
    O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

class FileDescription : public std::enable_shared_from_this<FileDescription> {
 public:
  // `flags` are the open(2) flags that F_GETFL reports: the access mode and
  // the status flags. Creation flags (O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC)
  // and O_CLOEXEC are dropped.
  FileDescription(VirtualDentry location, uint32_t flags);
  virtual ~FileDescription();
  FileDescription(const FileDescription&) = delete;
  FileDescription& operator=(const FileDescription&) = delete;

  const VirtualDentry& location() const { return location_; }
  Inode& inode() const;

  uint32_t flags() const { return flags_; }
  // Replaces the F_SETFL-settable flags; the rest stay.
  void set_status_flags(uint32_t flags);

  bool path_only() const { return (flags_ & O_PATH) != 0; }
  bool readable() const;
  bool writable() const;
  bool nonblocking() const { return (flags_ & O_NONBLOCK) != 0; }

  // The file offset, for read/write without an explicit offset.
  virtual int64_t offset() const { return offset_; }
  virtual void set_offset(int64_t offset) { offset_ = offset; }

  // True for files without a position, where pread/pwrite fail with ESPIPE
  // and lseek fails with ESPIPE (pipes, sockets, terminals).
  virtual bool stream() const { return false; }

  // False where pwrite fails with ESPIPE although the file has a position:
  // Linux's seq_file clears FMODE_PWRITE.
  virtual bool pwrite_allowed() const { return true; }

  // Reads at `offset` without moving the file offset, or when nullopt at
  // the file offset and advances it. Streams ignore offsets (the caller
  // checks ESPIPE first). EINVAL by default: the file cannot be read.
  virtual Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset);

  // Writes at `offset`, or when nullopt at the file offset (at the end for
  // O_APPEND) and advances the offset. EINVAL by default.
  virtual Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t> offset);

  // A write(2) or pwrite(2) of zero bytes. Linux calls the file's write
  // method even then, and most return 0, which is the default here. A
  // procfs file parses the empty text instead.
  virtual Result<size_t> write_empty(std::optional<int64_t>) { return size_t{0}; }

  // lseek(2). The default serves files with a size (SEEK_END from stat).
  virtual Result<int64_t> seek(int64_t offset, int whence);

  // ftruncate(2) of a regular file open for writing (the caller checks
  // that). The default requests from the mount write access: EROFS on a
  // read-only mount, else EPERM for a filesystem that cannot truncate.
  virtual Result<void> truncate(int64_t length);

  // fsync(2), or fdatasync(2) when `data_only`. EINVAL by default, as
  // Linux returns for a file without an fsync method (pipes, sockets,
  // devices, procfs). Memory filesystems have nothing to flush and return
  // 0; files of a writable host filesystem flush the host file.
  virtual Result<void> sync(bool data_only);

  // sync_file_range(2) with its arguments checked and the file known to be
  // a regular file or a directory. 0 by default: nothing is cached between
  // the sentry and a memory filesystem.
  virtual Result<void> sync_range(int64_t offset, int64_t count_bytes, uint32_t flags);

  // fallocate(2) with the generic checks done (the mode combination, write
  // access, a regular file, the range within loff_t). `size_limit_bytes`
  // is RLIMIT_FSIZE, past which a growing allocation fails with EFBIG (the
  // caller sends SIGXFSZ). EOPNOTSUPP by default, as Linux returns for a
  // file without a fallocate method.
  virtual Result<void> allocate(int mode, int64_t offset, int64_t length,
                                uint64_t size_limit_bytes);

  virtual Result<struct stat> stat();
  virtual Result<struct statx> statx(uint32_t mask);
  virtual Result<struct statfs> statfs();

  // Lists directory entries from the current position, advancing it past
  // each entry the sink accepts. ENOTDIR by default.
  virtual Result<void> iterate_dir(const Caller& caller, DirentSink& sink);

  // The poll(2) events now true, restricted to `mask`. Files that never
  // block (regular files) are always readable and writable.
  virtual uint32_t readiness(uint32_t mask);

  // The queue notified when readiness() may have changed, or null for files
  // that never block.
  virtual kernel::WaitQueue* wait_queue() { return nullptr; }

  // Whether the file has a poll method of its own, which epoll_ctl requires
  // (Linux's file_can_poll): false for regular files and directories.
  virtual bool can_poll() { return wait_queue() != nullptr; }

  // Runs on every close of a descriptor of this file, dup copies included,
  // as Linux's flush operation does. `fdtable` is the table the descriptor
  // was in. Nothing by default.
  virtual void flush(const FdTable& fdtable) { (void)fdtable; }

  // A file-specific ioctl. ENOTTY by default, as Linux returns for a request a
  // file does not know. The generic ones (FIOCLEX, FIONBIO...) are handled
  // by the syscall before it gets here.
  virtual Result<int64_t> ioctl(kernel::Task& task, uint32_t request, GuestAddr arg);

  // The host fd whose pages back an mmap of this file, or nullopt: mmap then
  // fails with ENODEV.
  virtual std::optional<int> host_fd_for_mapping() { return std::nullopt; }

  // The file's name as /proc/pid/fd shows it, seen from `root`: a path, with
  // " (deleted)" when the inode is unlinked, or "pipe:[ino]" for files on no
  // mounted filesystem.
  std::string display_path(const VirtualDentry& root) const;
  // The same, seen from the root of the file's own mount namespace.
  std::string display_path() const;

 protected:
  // Runs `operation(position)` at `offset`, or at the file offset which it
  // then advances by the result: the offset rule of read and write for
  // files with a position.
  template <typename Operation>
  Result<size_t> at_position(std::optional<int64_t> offset, Operation operation) {
    const int64_t position = offset.value_or(this->offset());
    auto done = operation(position);
    if (done.ok() && !offset) {
      set_offset(position + static_cast<int64_t>(*done));
    }
    return done;
  }

 private:
  VirtualDentry location_;
  uint32_t flags_;
  int64_t offset_ = 0;
};

// Checks offset + count for overflow of loff_t, as rw_verify_area does:
// EINVAL for a negative offset or a range past INT64_MAX.
Result<void> verify_io_range(int64_t offset, size_t count);

// Computes the target of lseek on a file of `size_bytes` at `current`:
// SEEK_SET, SEEK_CUR and SEEK_END; EINVAL for another whence and for a
// result that is negative or past INT64_MAX.
Result<int64_t> compute_seek(int64_t current, int64_t size_bytes, int64_t offset, int whence);

}  // namespace ward::vfs
