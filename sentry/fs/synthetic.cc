#include "sentry/fs/synthetic.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sentry/fs/file_gaps.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/directory_file.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/mount.h"
#include "ward/unique_fd.h"

namespace ward::vfs {
namespace {

// The open file of a synthetic directory. Its offset is an entry index:
// 0 is ".", 1 is "..", then the entries in order.
class SyntheticDirectoryFile final : public DirectoryFile {
 public:
  using DirectoryFile::DirectoryFile;

  Result<void> iterate_dir(const Caller& caller, DirentSink& sink) override {
    auto& directory = static_cast<SyntheticDirectory&>(inode());
    const std::vector<SyntheticDirectory::Entry> entries = TRY(directory.entries(caller));

    int64_t index = offset();
    if (index == 0) {
      if (!sink.add(
              Dirent{.ino = directory.ino(), .next_offset = 1, .type = DT_DIR, .name = "."})) {
        return ok();
      }
      index = 1;
      set_offset(index);
    }
    if (index == 1) {
      const auto& parent = location().dentry->parent();
      const uint64_t parent_ino =
          parent != nullptr ? TRY(parent->inode().stat()).st_ino : directory.ino();
      if (!sink.add(Dirent{.ino = parent_ino, .next_offset = 2, .type = DT_DIR, .name = ".."})) {
        return ok();
      }
      index = 2;
      set_offset(index);
    }
    for (auto i = static_cast<size_t>(index - 2); i < entries.size(); ++i) {
      const struct stat st = TRY(entries[i].inode->stat());
      const Dirent entry{.ino = st.st_ino,
                         .next_offset = static_cast<int64_t>(i) + 3,
                         .type = dirent_type(st.st_mode),
                         .name = entries[i].name};
      if (!sink.add(entry)) {
        return ok();
      }
      set_offset(static_cast<int64_t>(i) + 3);
    }
    return ok();
  }
};

// The open file of a GeneratedFile: a snapshot of its text.
class SnapshotFile final : public FileDescription {
 public:
  SnapshotFile(VirtualDentry location, uint32_t flags, std::string text, uint32_t poll_events,
               uint32_t unread_poll_events, bool has_poll, int write_error)
      : FileDescription(std::move(location), flags),
        text_(std::move(text)),
        poll_events_(poll_events | unread_poll_events),
        read_poll_events_(poll_events),
        has_poll_(has_poll),
        write_error_(write_error) {}

  Result<size_t> write(std::span<const std::byte>, std::optional<int64_t>) override {
    return Errno{write_error_};
  }
  Result<size_t> write_empty(std::optional<int64_t>) override { return Errno{write_error_}; }

  // Linux's proc_setattr accepts a size change and ignores it, so O_TRUNC
  // and truncate(2) succeed. The VFS has checked the mount is writable.
  Result<void> truncate(int64_t) override { return ok(); }

  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override {
    poll_events_ = read_poll_events_;
    return at_position(offset, [&](int64_t position) -> Result<size_t> {
      if (static_cast<uint64_t>(position) >= text_.size()) {
        return size_t{0};
      }
      const size_t count = std::min(buffer.size(), text_.size() - static_cast<size_t>(position));
      std::memcpy(buffer.data(), text_.data() + position, count);
      return count;
    });
  }

  // Linux's seq_lseek: SEEK_SET and SEEK_CUR only.
  Result<int64_t> seek(int64_t offset, int whence) override {
    if (whence != SEEK_SET && whence != SEEK_CUR) {
      return Errno{EINVAL};
    }
    const int64_t target = TRY(compute_seek(this->offset(), 0, offset, whence));
    set_offset(target);
    return target;
  }

  uint32_t readiness(uint32_t mask) override { return poll_events_ & (mask | POLLERR | POLLHUP); }

  bool can_poll() override { return has_poll_; }

 private:
  std::string text_;
  uint32_t poll_events_;       // what poll reports now
  uint32_t read_poll_events_;  // what it reports after a read
  bool has_poll_;
  int write_error_;
};

}  // namespace

// ---------------------------------------------------------------------------
// SyntheticInode

SyntheticInode::SyntheticInode(std::shared_ptr<Filesystem> filesystem, mode_t mode, uint64_t ino,
                               dev_t rdev)
    : Inode(std::move(filesystem), mode), mode_(mode), ino_(ino), rdev_(rdev) {
  if (ino_ == 0) {
    ino_ = this->filesystem().allocate_ino();
  }
  clock_gettime(CLOCK_REALTIME, &ctime_);
  atime_ = ctime_;
  mtime_ = ctime_;
}

Result<void> SyntheticInode::set_attributes(const Caller&, const AttributeChange& change) {
  if (change.mode) {
    return Errno{EPERM};
  }
  if (change.atime) {
    atime_ = *change.atime;
  }
  if (change.mtime) {
    mtime_ = *change.mtime;
  }
  clock_gettime(CLOCK_REALTIME, &ctime_);
  return ok();
}

Result<struct stat> SyntheticInode::stat() {
  const auto [uid, gid] = TRY(owner());
  struct stat st {};
  st.st_dev = filesystem().dev();
  st.st_ino = ino_;
  st.st_mode = mode_;
  st.st_nlink = is_dir() ? 2 : 1;
  st.st_uid = uid;
  st.st_gid = gid;
  st.st_rdev = rdev_;
  st.st_size = size_bytes();
  st.st_blksize = 4096;
  st.st_atim = atime_;
  st.st_mtim = mtime_;
  st.st_ctim = ctime_;
  return st;
}

// ---------------------------------------------------------------------------
// Directories

SyntheticDirectory::SyntheticDirectory(std::shared_ptr<Filesystem> filesystem, mode_t permissions,
                                       uint64_t ino)
    : SyntheticInode(std::move(filesystem), S_IFDIR | permissions, ino) {}

Result<std::shared_ptr<Inode>> SyntheticDirectory::lookup(const Caller& caller,
                                                          std::string_view name) {
  const std::vector<Entry> list = TRY(entries(caller));
  for (const Entry& entry : list) {
    if (entry.name == name) {
      return entry.inode;
    }
  }
  return Errno{ENOENT};
}

Result<FileRef> SyntheticDirectory::open(const Caller&, const VirtualDentry& location,
                                         uint32_t flags) {
  return FileRef(std::make_shared<SyntheticDirectoryFile>(location, flags));
}

Result<std::shared_ptr<Inode>> SyntheticDirectory::create(const Caller&, std::string_view,
                                                          const NewNode&) {
  return Errno{ENOENT};
}

Result<void> SyntheticDirectory::link(const Caller&, std::string_view,
                                      const std::shared_ptr<Inode>&) {
  return Errno{ENOENT};
}

Result<void> SyntheticDirectory::rename(const Caller&, std::string_view, Inode&, std::string_view,
                                        unsigned) {
  return Errno{ENOENT};
}

StaticDirectory::StaticDirectory(std::shared_ptr<Filesystem> filesystem, mode_t permissions)
    : SyntheticDirectory(std::move(filesystem), permissions) {}

void StaticDirectory::add(std::string name, std::shared_ptr<Inode> inode) {
  entries_.push_back(Entry{.name = std::move(name), .inode = std::move(inode)});
}

Result<std::vector<SyntheticDirectory::Entry>> StaticDirectory::entries(const Caller&) {
  return entries_;
}

// ---------------------------------------------------------------------------
// Symlinks and files

SyntheticSymlink::SyntheticSymlink(std::shared_ptr<Filesystem> filesystem, Target target,
                                   uint64_t ino, mode_t permissions)
    : SyntheticInode(std::move(filesystem), S_IFLNK | permissions, ino),
      target_(std::move(target)) {}

Result<LinkTarget> SyntheticSymlink::follow_link(const Caller& caller) { return target_(caller); }

Result<std::string> SyntheticSymlink::readlink(const Caller& caller) {
  LinkTarget target = TRY(target_(caller));
  if (auto* text = std::get_if<std::string>(&target)) {
    return std::move(*text);
  }
  const auto& location = std::get<VirtualDentry>(target);
  return name_from_root(caller.fs.root(), location).path;
}

GeneratedFile::GeneratedFile(std::shared_ptr<Filesystem> filesystem, Generator generate,
                             mode_t permissions, off_t reported_size, uint64_t ino)
    : SyntheticInode(std::move(filesystem), S_IFREG | permissions, ino),
      generate_(std::move(generate)),
      reported_size_(reported_size) {}

Result<FileRef> GeneratedFile::open(const Caller& caller, const VirtualDentry& location,
                                    uint32_t flags) {
  // may_open has checked the mount and the mode. A sysctl adds Linux's
  // own rule for write access, which binds root too.
  if (!sysctl_path_.empty() && (flags & O_ACCMODE) != O_RDONLY) {
    const bool mode_allows_write =
        (caller.creds.effective_uid == 0 ? (mode() & S_IWUSR) : (mode() & S_IWOTH)) != 0;
    if (mode_allows_write) {
      record_unsupported_write(caller, sysctl_path_);
    }
    return Errno{EACCES};
  }
  if (write_needs_mode_bit_ && (flags & O_ACCMODE) != O_RDONLY && (mode() & 0222) == 0) {
    return Errno{EACCES};
  }
  std::string text = TRY(generate_(caller));
  return FileRef(std::make_shared<SnapshotFile>(location, flags, std::move(text), poll_events_,
                                                unread_poll_events_, has_poll_, write_error_));
}

Result<std::string> read_host_file(const char* path) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Errno{errno};
  }
  std::string text;
  char chunk[4096];
  for (;;) {
    const ssize_t got = ::read(fd.get(), chunk, sizeof(chunk));
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Errno{errno};
    }
    if (got == 0) {
      return text;
    }
    text.append(chunk, static_cast<size_t>(got));
  }
}

}  // namespace ward::vfs
