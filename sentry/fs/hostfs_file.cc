#include "sentry/fs/hostfs_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "sentry/vfs/mutate.h"

namespace ward::vfs {
namespace {

// The fixed part of a linux_dirent64 record, before its name.
struct HostDirentHeader {
  uint64_t ino;
  int64_t next_offset;
  uint16_t record_bytes;
  uint8_t type;
};

constexpr size_t kNameOffset = 19;  // offsetof(linux_dirent64, d_name)
constexpr size_t kHostDirentBufferBytes = 32 * 1024;

// fsync, or fdatasync when `data_only`, of a host fd.
Result<void> host_sync(int fd, bool data_only) {
  const int result = data_only ? fdatasync(fd) : fsync(fd);
  if (result != 0) {
    return Errno{errno};
  }
  return ok();
}

}  // namespace

Result<void> drop_host_set_id_bits(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return Errno{errno};
  }
  mode_t cleared = st.st_mode & 07777 & ~S_ISUID;
  if ((st.st_mode & S_IXGRP) != 0) {
    cleared &= ~S_ISGID;
  }
  if (cleared == (st.st_mode & 07777)) {
    return ok();
  }
  if (fchmod(fd, cleared) != 0) {
    return Errno{errno};
  }
  return ok();
}

// ---------------------------------------------------------------------------
// HostRegularFile

HostRegularFile::HostRegularFile(VirtualDentry location, uint32_t flags, UniqueFd fd,
                                 bool host_writable)
    : FileDescription(std::move(location), flags),
      fd_(std::move(fd)),
      host_writable_(host_writable) {}

Result<size_t> HostRegularFile::read(std::span<std::byte> buffer, std::optional<int64_t> offset) {
  return at_position(offset, [&](int64_t position) -> Result<size_t> {
    for (;;) {
      const ssize_t got = pread(fd_.get(), buffer.data(), buffer.size(), position);
      if (got >= 0) {
        return static_cast<size_t>(got);
      }
      if (errno != EINTR) {
        return Errno{errno};
      }
    }
  });
}

Result<size_t> HostRegularFile::write(std::span<const std::byte> buffer,
                                      std::optional<int64_t> offset) {
  TRY(drop_host_set_id_bits(fd_.get()));
  if ((flags() & O_APPEND) != 0) {
    // RWF_APPEND appends atomically, as a host O_APPEND fd would. An offset
    // of -1 moves the host fd's own position to the end of the data, which
    // is the guest's new offset when it gave none.
    iovec chunk{.iov_base = const_cast<std::byte*>(buffer.data()), .iov_len = buffer.size()};
    for (;;) {
      const ssize_t wrote = pwritev2(fd_.get(), &chunk, 1, -1, RWF_APPEND);
      if (wrote < 0 && errno == EINTR) {
        continue;
      }
      if (wrote < 0) {
        return Errno{errno};
      }
      if (!offset) {
        const off_t end = lseek(fd_.get(), 0, SEEK_CUR);
        if (end < 0) {
          return Errno{errno};
        }
        set_offset(end);
      }
      return static_cast<size_t>(wrote);
    }
  }
  return at_position(offset, [&](int64_t position) -> Result<size_t> {
    for (;;) {
      const ssize_t wrote = pwrite(fd_.get(), buffer.data(), buffer.size(), position);
      if (wrote >= 0) {
        return static_cast<size_t>(wrote);
      }
      if (errno != EINTR) {
        return Errno{errno};
      }
    }
  });
}

Result<void> HostRegularFile::truncate(int64_t length) {
  TRY(mount_write_access(*location().mount));
  TRY(drop_host_set_id_bits(fd_.get()));
  if (ftruncate(fd_.get(), length) != 0) {
    return Errno{errno};
  }
  return ok();
}

Result<int64_t> HostRegularFile::seek(int64_t offset, int whence) {
  if (whence != SEEK_DATA && whence != SEEK_HOLE) {
    return FileDescription::seek(offset, whence);
  }
  // The host fd is read and written at explicit offsets, so its own
  // position is free for SEEK_DATA and SEEK_HOLE. (Appends move it, but
  // read it back at once.)
  const off_t target = lseek(fd_.get(), offset, whence);
  if (target < 0) {
    return Errno{errno};
  }
  set_offset(target);
  return static_cast<int64_t>(target);
}

Result<struct stat> HostRegularFile::stat() {
  struct stat st {};
  if (fstat(fd_.get(), &st) != 0) {
    return Errno{errno};
  }
  return st;
}

Result<void> HostRegularFile::sync(bool data_only) {
  if (!host_writable_) {
    return ok();
  }
  return host_sync(fd_.get(), data_only);
}

Result<void> HostRegularFile::sync_range(int64_t offset, int64_t count_bytes, uint32_t flags) {
  if (!host_writable_) {
    return ok();
  }
  if (sync_file_range(fd_.get(), offset, count_bytes, flags) != 0) {
    return Errno{errno};
  }
  return ok();
}

Result<void> HostRegularFile::allocate(int mode, int64_t offset, int64_t length,
                                       uint64_t size_limit_bytes) {
  TRY(mount_write_access(*location().mount));

  // Linux's inode_newsize_ok, which ext4 and xfs apply to the new size of
  // a mode without FALLOC_FL_KEEP_SIZE.
  if ((mode & FALLOC_FL_KEEP_SIZE) == 0) {
    const int64_t old_size = TRY(stat()).st_size;
    int64_t new_size = offset + length;
    if ((mode & FALLOC_FL_INSERT_RANGE) != 0 &&
        __builtin_add_overflow(old_size, length, &new_size)) {
      return Errno{EFBIG};
    }
    if (new_size > old_size && static_cast<uint64_t>(new_size) > size_limit_bytes) {
      return Errno{EFBIG};
    }
  }

  if (::fallocate(fd_.get(), mode, offset, length) != 0) {
    return Errno{errno};
  }
  return ok();
}

// ---------------------------------------------------------------------------
// HostDirectoryFile

HostDirectoryFile::HostDirectoryFile(VirtualDentry location, uint32_t flags, UniqueFd fd,
                                     bool host_writable)
    : FileDescription(std::move(location), flags),
      fd_(std::move(fd)),
      host_writable_(host_writable) {}

Result<size_t> HostDirectoryFile::read(std::span<std::byte>, std::optional<int64_t>) {
  return Errno{EISDIR};
}

Result<int64_t> HostDirectoryFile::seek(int64_t offset, int whence) {
  const off_t target = lseek(fd_.get(), offset, whence);
  if (target < 0) {
    return Errno{errno};
  }
  return static_cast<int64_t>(target);
}

Result<void> HostDirectoryFile::sync(bool data_only) {
  if (!host_writable_) {
    return ok();
  }
  return host_sync(fd_.get(), data_only);
}

Result<void> HostDirectoryFile::iterate_dir(const Caller&, DirentSink& sink) {
  std::vector<std::byte> buffer(kHostDirentBufferBytes);
  for (;;) {
    const off_t batch_start = lseek(fd_.get(), 0, SEEK_CUR);
    if (batch_start < 0) {
      return Errno{errno};
    }
    const long got = syscall(SYS_getdents64, fd_.get(), buffer.data(), buffer.size());
    if (got < 0) {
      return Errno{errno};
    }
    if (got == 0) {
      return ok();
    }

    // When the sink is full, the host directory is sought back to where the
    // first refused entry starts: the d_off of the entry before it.
    int64_t resume_offset = batch_start;
    for (size_t position = 0; position < static_cast<size_t>(got);) {
      HostDirentHeader header{};
      std::memcpy(&header.ino, buffer.data() + position, sizeof(header.ino));
      std::memcpy(&header.next_offset, buffer.data() + position + 8, sizeof(header.next_offset));
      std::memcpy(&header.record_bytes, buffer.data() + position + 16, sizeof(header.record_bytes));
      std::memcpy(&header.type, buffer.data() + position + 18, sizeof(header.type));
      const char* name = reinterpret_cast<const char*>(buffer.data() + position + kNameOffset);
      const size_t name_bytes = strnlen(name, header.record_bytes - kNameOffset);

      const Dirent entry{.ino = header.ino,
                         .next_offset = header.next_offset,
                         .type = header.type,
                         .name = std::string_view(name, name_bytes)};
      if (!sink.add(entry)) {
        if (lseek(fd_.get(), resume_offset, SEEK_SET) < 0) {
          return Errno{errno};
        }
        return ok();
      }
      resume_offset = header.next_offset;
      position += header.record_bytes;
    }
  }
}

}  // namespace ward::vfs
