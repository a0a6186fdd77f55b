#include "sentry/vfs/fdtable.h"

#include <algorithm>

#include "sentry/vfs/locks.h"

namespace ward::vfs {
namespace {

// Linux's filp_close for one descriptor of `table`: the file's flush, then
// the release of the process's POSIX locks on it.
void close_descriptor(FileDescription& file, FdTable& table) {
  file.flush(table);
  release_posix_locks(file, table);
}

}  // namespace

FdTable::~FdTable() {
  for (const Entry& entry : entries_) {
    if (entry.file != nullptr) {
      close_descriptor(*entry.file, *this);
    }
  }
}

bool FdTable::is_open(int fd) const {
  return fd >= 0 && static_cast<size_t>(fd) < entries_.size() && entries_[fd].file != nullptr;
}

Result<FileRef> FdTable::get(int fd) const {
  if (!is_open(fd)) {
    return Errno{EBADF};
  }
  return entries_[fd].file;
}

Result<int> FdTable::install(FileRef file, bool close_on_exec, int lowest_fd) {
  int fd = std::max(lowest_fd, 0);
  while (is_open(fd)) {
    ++fd;
  }
  if (fd >= max_fds_) {
    return Errno{EMFILE};
  }
  TRY(install_at(fd, std::move(file), close_on_exec));
  return fd;
}

Result<void> FdTable::check_free_slot() const {
  int fd = 0;
  while (is_open(fd)) {
    ++fd;
  }
  if (fd >= max_fds_) {
    return Errno{EMFILE};
  }
  return ok();
}

Result<void> FdTable::install_at(int fd, FileRef file, bool close_on_exec) {
  if (fd < 0 || fd >= max_fds_) {
    return Errno{EBADF};
  }
  if (static_cast<size_t>(fd) >= entries_.size()) {
    entries_.resize(static_cast<size_t>(fd) + 1);
  }
  // The old file is released after the slot holds the new one, so that a
  // destructor which looks at the table finds it consistent.
  FileRef old = std::exchange(entries_[fd].file, std::move(file));
  entries_[fd].close_on_exec = close_on_exec;
  if (old != nullptr) {
    close_descriptor(*old, *this);
  }
  return ok();
}

Result<FileRef> FdTable::remove(int fd) {
  if (!is_open(fd)) {
    return Errno{EBADF};
  }
  FileRef file = std::move(entries_[fd].file);
  entries_[fd] = Entry{};
  close_descriptor(*file, *this);
  while (!entries_.empty() && entries_.back().file == nullptr) {
    entries_.pop_back();
  }
  return file;
}

Result<bool> FdTable::close_on_exec_flag(int fd) const {
  if (!is_open(fd)) {
    return Errno{EBADF};
  }
  return entries_[fd].close_on_exec;
}

Result<void> FdTable::set_close_on_exec_flag(int fd, bool close_on_exec) {
  if (!is_open(fd)) {
    return Errno{EBADF};
  }
  entries_[fd].close_on_exec = close_on_exec;
  return ok();
}

void FdTable::close_range(unsigned first, unsigned last, bool set_cloexec_only) {
  std::vector<FileRef> closed;
  for (size_t fd = first; fd < entries_.size() && fd <= last; ++fd) {
    if (entries_[fd].file == nullptr) {
      continue;
    }
    if (set_cloexec_only) {
      entries_[fd].close_on_exec = true;
    } else {
      close_descriptor(*entries_[fd].file, *this);
      closed.push_back(std::move(entries_[fd].file));
      entries_[fd] = Entry{};
    }
  }
  while (!entries_.empty() && entries_.back().file == nullptr) {
    entries_.pop_back();
  }
}

std::shared_ptr<FdTable> FdTable::clone() const {
  auto copy = std::make_shared<FdTable>();
  copy->entries_ = entries_;
  copy->max_fds_ = max_fds_;
  return copy;
}

void FdTable::close_on_exec() {
  std::vector<FileRef> closed;
  for (auto& entry : entries_) {
    if (entry.file != nullptr && entry.close_on_exec) {
      close_descriptor(*entry.file, *this);
      closed.push_back(std::move(entry.file));
      entry = Entry{};
    }
  }
  while (!entries_.empty() && entries_.back().file == nullptr) {
    entries_.pop_back();
  }
}

std::vector<int> FdTable::open_fds() const {
  std::vector<int> fds;
  for (size_t fd = 0; fd < entries_.size(); ++fd) {
    if (entries_[fd].file != nullptr) {
      fds.push_back(static_cast<int>(fd));
    }
  }
  return fds;
}

}  // namespace ward::vfs
