// signalfd: a file from which a process reads the pending signals of a
// mask as struct signalfd_siginfo records, in place of having them
// delivered, as Linux's fs/signalfd.c has it.
//
// The file holds only the mask. Like Linux, which looks at `current`, a
// read or poll takes the signals of whichever task reads or polls, so a
// signalfd inherited across fork reads the child's own signals. The queue
// such a task waits on is its process's signalfd queue, which every
// signal queued for the process or one of its threads notifies.
#pragma once

#include <sys/signalfd.h>

#include <cstdint>

#include "sentry/kernel/credentials.h"
#include "sentry/kernel/signals.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/file.h"

namespace ward::kernel {
class Kernel;
}

namespace ward::vfs {

static_assert(sizeof(signalfd_siginfo) == 128);

class SignalfdFile final : public FileDescription {
 public:
  SignalfdFile(VirtualDentry location, uint32_t flags, kernel::Kernel& kernel,
               kernel::SignalSet mask);

  kernel::SignalSet mask() const { return mask_; }
  // Replaces the mask. SIGKILL and SIGSTOP are dropped from it silently.
  void set_mask(kernel::SignalSet mask);

  // Dequeues pending signals of the mask of the calling task, its own
  // before its process's, one signalfd_siginfo record each, as many as
  // `buffer` holds. EINVAL for a buffer shorter than one record, EAGAIN
  // when no signal of the mask is pending.
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override;

  // NOTE: Linux's signalfd has noop_llseek, so lseek returns 0 there, but
  // a stream here fails lseek with ESPIPE.
  bool stream() const override { return true; }

  // POLLIN while a signal of the mask is pending for the calling task.
  uint32_t readiness(uint32_t mask) override;

  // The signalfd queue of the calling task's process.
  kernel::WaitQueue* wait_queue() override;
  bool can_poll() override { return true; }

 private:
  kernel::Kernel& kernel_;
  kernel::SignalSet mask_;
  // The fallback queue of wait_queue() when no task is running. No signal
  // notifies it.
  kernel::WaitQueue idle_queue_;
};

// The signalfd behind `file`, or nullptr when it is another kind of file.
SignalfdFile* as_signalfd(FileDescription& file);

// The signalfd record of a dequeued signal: the fields that the layout of
// its siginfo (by signal number and si_code) carries, the others zero, as
// Linux's signalfd_copyinfo fills them.
signalfd_siginfo signalfd_record(const siginfo_t& info);

// A new signalfd for the signals of `mask`, open O_RDWR plus `status_flags`
// (O_NONBLOCK). Its inode belongs to `creds`' fsuid and fsgid.
FileRef make_signalfd(kernel::Kernel& kernel, kernel::SignalSet mask,
                      const kernel::Credentials& creds, uint32_t status_flags);

}  // namespace ward::vfs
