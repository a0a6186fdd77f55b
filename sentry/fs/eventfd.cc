#include "sentry/fs/eventfd.h"

#include <poll.h>
#include <time.h>

#include <cstring>
#include <limits>

#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// Linux's ANON_INODE_FS_MAGIC: the statfs type of anonymous inodes.
constexpr uint64_t kAnonInodeFsMagic = 0x09041934;

// The counter never reaches this value through write(2), which rejects it.
constexpr uint64_t kCounterLimit = std::numeric_limits<uint64_t>::max();

std::shared_ptr<Filesystem> anon_inodefs() {
  static const auto filesystem = std::make_shared<Filesystem>("anon_inodefs", kAnonInodeFsMagic);
  return filesystem;
}

// Linux gives anonymous inodes permission bits 0600 and no file type bits.
class AnonInode final : public Inode {
 public:
  AnonInode(std::string name, const kernel::Credentials& creds)
      : Inode(anon_inodefs(), 0),
        name_(std::move(name)),
        ino_(filesystem().allocate_ino()),
        uid_(creds.fs_uid),
        gid_(creds.fs_gid) {
    clock_gettime(CLOCK_REALTIME, &created_);
  }

  Result<struct stat> stat() override {
    struct stat st {};
    st.st_dev = filesystem().dev();
    st.st_ino = ino_;
    st.st_mode = S_IRUSR | S_IWUSR;
    st.st_nlink = 1;
    st.st_uid = uid_;
    st.st_gid = gid_;
    st.st_blksize = 4096;
    st.st_atim = created_;
    st.st_mtim = created_;
    st.st_ctim = created_;
    return st;
  }

  std::string anonymous_name() const override { return name_; }

 private:
  std::string name_;
  uint64_t ino_;
  uid_t uid_;
  gid_t gid_;
  struct timespec created_ {};
};

class EventfdFile final : public FileDescription {
 public:
  EventfdFile(VirtualDentry location, uint32_t flags, uint64_t count, bool semaphore)
      : FileDescription(std::move(location), flags), count_(count), semaphore_(semaphore) {}

  // Takes the whole counter, or 1 in semaphore mode, as 8 bytes in host
  // byte order. EINVAL for a buffer shorter than 8 bytes, EAGAIN while the
  // counter is 0.
  // NOTE: read(2) here fails with EFAULT for an unwritable buffer before
  // the counter is looked at, where Linux first waits for a count (or
  // fails with EAGAIN) and then loses the count it took.
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t>) override {
    if (buffer.size() < sizeof(uint64_t)) {
      return Errno{EINVAL};
    }
    if (count_ == 0) {
      return Errno{EAGAIN};
    }
    const uint64_t taken = semaphore_ ? 1 : count_;
    count_ -= taken;
    std::memcpy(buffer.data(), &taken, sizeof(taken));
    queue_.notify(POLLOUT | POLLWRNORM);
    return sizeof(taken);
  }

  // Adds the 8-byte value in `buffer`. EINVAL for a buffer of another size
  // (Linux 6.18 rejects longer ones too) or the value 2^64 - 1, EAGAIN
  // while the sum would reach 2^64 - 1.
  Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t>) override {
    if (buffer.size() != sizeof(uint64_t)) {
      return Errno{EINVAL};
    }
    uint64_t added = 0;
    std::memcpy(&added, buffer.data(), sizeof(added));
    if (added == kCounterLimit) {
      return Errno{EINVAL};
    }
    if (kCounterLimit - count_ <= added) {
      return Errno{EAGAIN};
    }
    count_ += added;
    // Linux wakes readers for every write, a write of 0 included.
    queue_.notify(POLLIN | POLLRDNORM);
    return sizeof(added);
  }

  // NOTE: Linux's eventfd has noop_llseek, so lseek returns 0 there, but a
  // stream here fails lseek with ESPIPE. pread and pwrite fail with ESPIPE
  // in both.
  bool stream() const override { return true; }

  uint32_t readiness(uint32_t mask) override {
    uint32_t events = 0;
    if (count_ > 0) {
      events |= POLLIN | POLLRDNORM;
    }
    if (count_ < kCounterLimit - 1) {
      events |= POLLOUT | POLLWRNORM;
    }
    return events & (mask | POLLERR | POLLHUP);
  }

  kernel::WaitQueue* wait_queue() override { return &queue_; }

 private:
  uint64_t count_;
  bool semaphore_;
  kernel::WaitQueue queue_;
};

}  // namespace

std::shared_ptr<Inode> make_anon_inode(std::string name, const kernel::Credentials& creds) {
  return std::make_shared<AnonInode>(std::move(name), creds);
}

FileRef make_eventfd(uint64_t initial_count, bool semaphore, const kernel::Credentials& creds,
                     uint32_t status_flags) {
  VirtualDentry location = make_anonymous_location(make_anon_inode("anon_inode:[eventfd]", creds));
  return std::make_shared<EventfdFile>(std::move(location), O_RDWR | status_flags, initial_count,
                                       semaphore);
}

}  // namespace ward::vfs
