// Host files the guest talks to directly: ward's own stdin, stdout and
// stderr, and FIFOs in the host root.
//
// The sentry thread must never block on them, and must never change the
// O_NONBLOCK flag of ward's own stdio, whose open file descriptions it
// shares with the user's shell (a terminal left non-blocking breaks the
// shell). So a pipe, FIFO or terminal is reopened through /proc/self/fd
// with O_NONBLOCK, which makes a new open file description of the same
// pipe or terminal; a socket is used with MSG_DONTWAIT; a regular file
// never blocks and keeps its shared offset.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "sentry/vfs/file.h"
#include "ward/result.h"
#include "ward/unique_fd.h"

namespace ward::kernel {
class HostFdWatch;
class Scheduler;
}  // namespace ward::kernel

namespace ward::vfs {

// A stream on a host fd (pipe, FIFO, terminal, socket, character device)
// that the sentry reads and writes without blocking. An operation that
// would block fails with EAGAIN, and wait_queue() reports when to retry.
class HostStreamFile final : public FileDescription {
 public:
  enum class Kind {
    kNonblockingFd,  // the fd is O_NONBLOCK and owned by the sentry alone
    kSocket,         // recv and send with MSG_DONTWAIT
    kPollGuarded,    // a shared blocking fd, used only when poll reports it ready
  };

  // `scheduler` may be null (no kernel running): the file then cannot wait.
  HostStreamFile(VirtualDentry location, uint32_t flags, UniqueFd fd, Kind kind,
                 kernel::Scheduler* scheduler);
  ~HostStreamFile() override;

  bool stream() const override { return true; }
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override;
  Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t> offset) override;
  Result<struct stat> stat() override;
  Result<struct statfs> statfs() override;
  uint32_t readiness(uint32_t mask) override;
  kernel::WaitQueue* wait_queue() override;
  // FIONREAD, and for a terminal TCGETS and TIOCGWINSZ, go to the host fd;
  // everything else is ENOTTY.
  Result<int64_t> ioctl(kernel::Task& task, uint32_t request, GuestAddr arg) override;

  int host_fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  Kind kind_;
  bool terminal_;
  std::unique_ptr<kernel::HostFdWatch> watch_;
};

// Wraps ward's own fd `host_fd` (0, 1 or 2) as a file for the guest. The
// guest gets the host fd's access mode, O_APPEND and O_NONBLOCK, and fstat
// reports the host fd's stat. `host_fd` itself stays open and unchanged.
Result<FileRef> make_host_stream(kernel::Scheduler& scheduler, int host_fd);

}  // namespace ward::vfs

// Also named ward::fs::make_host_stream, as the command line calls it.
namespace ward::fs {
using vfs::make_host_stream;
}  // namespace ward::fs
