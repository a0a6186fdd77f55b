#include "sentry/fs/devfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sentry/fs/synthetic.h"
#include "ward/unique_fd.h"

namespace ward::vfs {
namespace {

enum class Device { kNull, kZero, kFull, kRandom, kUrandom };

// The host's /dev/zero, opened by the sentry itself, backs mmap of the
// sandbox's /dev/zero: the host then makes the private or shared anonymous
// memory Linux gives such a mapping.
int host_dev_zero() {
  static const UniqueFd fd(::open("/dev/zero", O_RDWR | O_CLOEXEC));
  return fd.get();
}

class DeviceFile final : public FileDescription {
 public:
  DeviceFile(VirtualDentry location, uint32_t flags, Device device)
      : FileDescription(std::move(location), flags), device_(device) {}

  // None of these devices moves the file offset, as on Linux.
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t>) override {
    switch (device_) {
      case Device::kNull:
        return size_t{0};
      case Device::kZero:
      case Device::kFull:
        std::fill(buffer.begin(), buffer.end(), std::byte{0});
        return buffer.size();
      case Device::kRandom:
      case Device::kUrandom:
        return read_random(buffer);
    }
    return Errno{EINVAL};
  }

  // Linux's /dev/random reports only readable once its pool is ready,
  // as the host's always is here. The others have no poll of their own.
  uint32_t readiness(uint32_t mask) override {
    if (device_ == Device::kRandom) {
      return mask & (POLLIN | POLLRDNORM);
    }
    return FileDescription::readiness(mask);
  }

  bool can_poll() override { return device_ == Device::kRandom; }

  Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t>) override {
    switch (device_) {
      case Device::kFull:
        return Errno{ENOSPC};
      case Device::kRandom:
      case Device::kUrandom:
        // NOTE: written bytes are not mixed into the host's pool. Linux mixes
        // them in without crediting entropy, so readers cannot tell.
      case Device::kNull:
      case Device::kZero:
        return buffer.size();
    }
    return Errno{EINVAL};
  }

  // lseek on these devices succeeds and leaves the offset at 0.
  Result<int64_t> seek(int64_t, int) override { return int64_t{0}; }

  std::optional<int> host_fd_for_mapping() override {
    if (device_ != Device::kZero || host_dev_zero() < 0) {
      return std::nullopt;  // Linux cannot map the others either (ENODEV)
    }
    return host_dev_zero();
  }

 private:
  static Result<size_t> read_random(std::span<std::byte> buffer) {
    size_t done = 0;
    while (done < buffer.size()) {
      const ssize_t got = getrandom(buffer.data() + done, buffer.size() - done, 0);
      if (got < 0) {
        if (errno == EINTR) {
          continue;
        }
        return done > 0 ? Result<size_t>(done) : Result<size_t>(Errno{errno});
      }
      done += static_cast<size_t>(got);
    }
    return done;
  }

  Device device_;
};

class DeviceInode final : public SyntheticInode {
 public:
  DeviceInode(std::shared_ptr<Filesystem> filesystem, Device device, unsigned minor)
      : SyntheticInode(std::move(filesystem), S_IFCHR | 0666, 0, makedev(1, minor)),
        device_(device) {}

  Result<FileRef> open(const Caller&, const VirtualDentry& location, uint32_t flags) override {
    return FileRef(std::make_shared<DeviceFile>(location, flags, device_));
  }

 private:
  Device device_;
};

std::shared_ptr<Inode> make_link(const std::shared_ptr<Filesystem>& filesystem, std::string text) {
  return std::make_shared<SyntheticSymlink>(
      filesystem,
      [text = std::move(text)](const Caller&) -> Result<LinkTarget> { return LinkTarget{text}; });
}

}  // namespace

std::shared_ptr<Dentry> make_devfs_root() {
  auto filesystem = std::make_shared<Filesystem>(kDevfsType, TMPFS_MAGIC);
  auto root = std::make_shared<StaticDirectory>(filesystem, 0755);

  // The minor numbers are Linux's for the memory devices of major 1.
  root->add("null", std::make_shared<DeviceInode>(filesystem, Device::kNull, 3));
  root->add("zero", std::make_shared<DeviceInode>(filesystem, Device::kZero, 5));
  root->add("full", std::make_shared<DeviceInode>(filesystem, Device::kFull, 7));
  root->add("random", std::make_shared<DeviceInode>(filesystem, Device::kRandom, 8));
  root->add("urandom", std::make_shared<DeviceInode>(filesystem, Device::kUrandom, 9));
  root->add("fd", make_link(filesystem, "/proc/self/fd"));
  root->add("stdin", make_link(filesystem, "/proc/self/fd/0"));
  root->add("stdout", make_link(filesystem, "/proc/self/fd/1"));
  root->add("stderr", make_link(filesystem, "/proc/self/fd/2"));
  root->add("shm", std::make_shared<StaticDirectory>(filesystem, 01777));
  return Dentry::make_root(std::move(root));
}

}  // namespace ward::vfs
