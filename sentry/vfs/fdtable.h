// FdTable: a process's file descriptors, each an open file description plus
// the per-descriptor FD_CLOEXEC flag. Threads made with CLONE_FILES share
// one table; fork copies it.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "sentry/vfs/file.h"
#include "ward/result.h"

namespace ward::vfs {

class FdTable {
 public:
  // RLIMIT_NOFILE's default soft limit on Linux.
  static constexpr int kDefaultMaxFds = 1024;

  FdTable() = default;
  // Releases the POSIX locks of the process, as its exit does.
  ~FdTable();
  FdTable(const FdTable&) = delete;
  FdTable& operator=(const FdTable&) = delete;

  // The file at `fd`; EBADF when none is open there.
  Result<FileRef> get(int fd) const;

  // Installs `file` at the lowest free descriptor not below `lowest_fd`.
  // EMFILE when that would reach max_fds().
  Result<int> install(FileRef file, bool close_on_exec, int lowest_fd = 0);

  // EMFILE when no descriptor below max_fds() is free: what install()
  // would fail with, checked before work whose result needs a descriptor.
  Result<void> check_free_slot() const;

  // Installs `file` at `fd`, closing what was there (dup2). EBADF when fd
  // is negative or not below max_fds().
  Result<void> install_at(int fd, FileRef file, bool close_on_exec);

  // Removes `fd` and returns its file, which closes when the last reference
  // goes. Like every close, it releases the process's POSIX locks on the
  // file's inode. EBADF when none is open there.
  Result<FileRef> remove(int fd);

  Result<bool> close_on_exec_flag(int fd) const;
  Result<void> set_close_on_exec_flag(int fd, bool close_on_exec);

  // Closes every descriptor in [first, last], or with `set_cloexec_only`
  // marks them FD_CLOEXEC instead (close_range(2)).
  void close_range(unsigned first, unsigned last, bool set_cloexec_only);

  // A copy for fork: the same files, the same flags, independent slots.
  std::shared_ptr<FdTable> clone() const;

  // Closes every FD_CLOEXEC descriptor, as a successful execve does.
  void close_on_exec();

  // Every open descriptor, ascending (for /proc/pid/fd).
  std::vector<int> open_fds() const;

  // RLIMIT_NOFILE: descriptors must stay below it.
  // TODO: the limit belongs to the calling process (ThreadGroup::limit);
  // set it from there at process start and on setrlimit, or pass it in.
  int max_fds() const { return max_fds_; }
  void set_max_fds(int max_fds) { max_fds_ = max_fds; }

 private:
  struct Entry {
    FileRef file;
    bool close_on_exec = false;
  };

  bool is_open(int fd) const;

  std::vector<Entry> entries_;
  int max_fds_ = kDefaultMaxFds;
};

}  // namespace ward::vfs
