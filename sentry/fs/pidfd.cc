#include "sentry/fs/pidfd.h"

#include <poll.h>
#include <time.h>

#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// Linux's PID_FS_MAGIC: the statfs type of pidfs.
constexpr uint64_t kPidfsMagic = 0x50494446;

std::shared_ptr<Filesystem> pidfs() {
  static const auto filesystem = std::make_shared<Filesystem>("pidfs", kPidfsMagic);
  return filesystem;
}

// The inode behind a pidfd. Linux's pidfs gives it permission bits 0700
// and no file type bits at all, which fstat shows as they are.
class PidfdInode final : public Inode {
 public:
  explicit PidfdInode(const kernel::Credentials& creds)
      : Inode(pidfs(), 0), ino_(filesystem().allocate_ino()), uid_(creds.fs_uid), gid_(creds.fs_gid) {
    clock_gettime(CLOCK_REALTIME, &created_);
  }

  Result<struct stat> stat() override {
    struct stat st {};
    st.st_dev = filesystem().dev();
    st.st_ino = ino_;
    st.st_mode = S_IRWXU;
    st.st_nlink = 1;
    st.st_uid = uid_;
    st.st_gid = gid_;
    st.st_blksize = 4096;
    st.st_atim = created_;
    st.st_mtim = created_;
    st.st_ctim = created_;
    return st;
  }

  std::string anonymous_name() const override { return "anon_inode:[pidfd]"; }

 private:
  uint64_t ino_;
  uid_t uid_;
  gid_t gid_;
  struct timespec created_ {};
};

class PidfdFile final : public FileDescription {
 public:
  PidfdFile(VirtualDentry location, uint32_t flags,
            std::shared_ptr<kernel::ProcessHandle> process)
      : FileDescription(std::move(location), flags), process_(std::move(process)) {}

  // Linux's pidfs has no llseek; read, pread and write stay EINVAL, the
  // default.
  Result<int64_t> seek(int64_t, int) override { return Errno{ESPIPE}; }

  uint32_t readiness(uint32_t mask) override {
    return process_->readiness() & (mask | POLLERR | POLLHUP);
  }

  kernel::WaitQueue* wait_queue() override { return &process_->queue(); }

  const std::shared_ptr<kernel::ProcessHandle>& process() const { return process_; }

 private:
  std::shared_ptr<kernel::ProcessHandle> process_;
};

}  // namespace

FileRef make_pidfd(std::shared_ptr<kernel::ProcessHandle> process,
                   const kernel::Credentials& creds, uint32_t status_flags) {
  VirtualDentry location = make_anonymous_location(std::make_shared<PidfdInode>(creds));
  return std::make_shared<PidfdFile>(std::move(location), O_RDWR | status_flags,
                                     std::move(process));
}

std::shared_ptr<kernel::ProcessHandle> pidfd_process(const FileDescription& file) {
  const auto* pidfd = dynamic_cast<const PidfdFile*>(&file);
  return pidfd == nullptr ? nullptr : pidfd->process();
}

}  // namespace ward::vfs
