// mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify and
// mq_getsetattr. The queues live in sentry/kernel/mqueue, and these
// handlers decode the arguments and check them in Linux's order, after
// Linux's ipc/mqueue.c.
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <vector>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/mqueue/mqueue_namespace.h"
#include "sentry/kernel/signals.h"
#include "sentry/kernel/task.h"
#include "sentry/net/socket.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"
#include "syscalls/args.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_mqueue.h"

namespace ward::syscalls {
namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;
// Far enough to mean "never" and near enough not to overflow a TimePoint.
constexpr int64_t kLongestTimeoutSeconds = int64_t{1} << 32;

// Linux's NOTIFY_COOKIE_LEN: the bytes SIGEV_THREAD reads from the address
// in sigev_value.
constexpr size_t kNotifyCookieBytes = 32;

// The kernel's struct sigevent on x86_64: sigev_value, sigev_signo,
// sigev_notify, then a union of 48 bytes.
struct GuestSigevent {
  uint64_t value;
  int32_t signal;
  int32_t notify;
  int32_t padding[12];
};
static_assert(sizeof(GuestSigevent) == 64);

// The queue open at `fd`: EBADF when none is open there or the file is no
// queue.
Result<std::shared_ptr<kernel::MqueueFile>> queue_file(kernel::Task& task, int fd) {
  vfs::FileRef file = TRY(task.fdtable().get(fd));
  auto queue = std::dynamic_pointer_cast<kernel::MqueueFile>(file);
  if (!queue) {
    return Errno{EBADF};
  }
  return queue;
}

// The monotonic deadline of the absolute CLOCK_REALTIME timeout at
// `timeout_addr`, or nullopt for NULL (wait forever). Linux checks the
// timespec before anything else, even for a call that would not wait:
// EFAULT, then EINVAL for a negative or unnormalised time.
// NOTE: the deadline is fixed on the monotonic clock when the call starts,
// so a later change of the host's CLOCK_REALTIME is not followed.
Result<std::optional<kernel::TimePoint>> read_timeout(kernel::Task& task, GuestAddr timeout_addr) {
  if (timeout_addr.is_null()) {
    return std::optional<kernel::TimePoint>();
  }
  const timespec timeout = TRY(task.copy_in<timespec>(timeout_addr));
  if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= kNanosecondsPerSecond) {
    return Errno{EINVAL};
  }
  const int64_t seconds = std::min<int64_t>(timeout.tv_sec, kLongestTimeoutSeconds);
  const int64_t timeout_ns = seconds * kNanosecondsPerSecond + timeout.tv_nsec;
  timespec realtime_now{};
  clock_gettime(CLOCK_REALTIME, &realtime_now);
  const int64_t now_ns = realtime_now.tv_sec * kNanosecondsPerSecond + realtime_now.tv_nsec;
  return std::optional(kernel::monotonic_now() +
                       kernel::Duration(std::max<int64_t>(0, timeout_ns - now_ns)));
}

// SIGEV_THREAD's checks of Linux's do_mq_notify: the cookie must be
// readable, and sigev_signo must be an AF_NETLINK socket (EBADF, ENOTSOCK,
// or EINVAL for another family).
Result<void> check_thread_notification(kernel::Task& task, const GuestSigevent& event) {
  std::array<std::byte, kNotifyCookieBytes> cookie{};
  TRY(task.copy_in(GuestAddr(event.value), cookie));
  vfs::FileRef file = TRY(task.fdtable().get(event.signal));
  net::Socket* socket = net::as_socket(*file);
  if (socket == nullptr) {
    return Errno{ENOTSOCK};
  }
  if (socket->family() != AF_NETLINK) {
    return Errno{EINVAL};
  }
  // NOTE: the sentry has no AF_NETLINK sockets, so this is not reached
  // today. glibc's mq_notify fails with ENOSYS when it cannot make one.
  record_gap(task, "mq_notify SIGEV_THREAD");
  return Errno{ENOSYS};
}

}  // namespace

// mq_open(name, oflag, mode, attr): `name` without glibc's leading slash.
// The descriptor is always close-on-exec, as in Linux.
Result<int64_t> sys_mq_open(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr name_addr = args.addr(0);
  const uint32_t flags = args.u32(1);
  const auto mode = static_cast<mode_t>(args.u32(2));
  const GuestAddr attr_addr = args.addr(3);

  // Linux reads `attr` first, even without O_CREAT.
  std::optional<kernel::GuestMqAttr> attr;
  if (!attr_addr.is_null()) {
    attr = TRY(task.copy_in<kernel::GuestMqAttr>(attr_addr));
  }
  const std::string name = TRY(task.copy_in_path(name_addr));
  TRY(task.fdtable().check_free_slot());

  const mode_t created_mode = mode & ~task.fs().umask() & 07777;
  kernel::MqueueNamespace& queues = kernel::mqueue_namespace_of(task.kernel());
  vfs::FileRef file = TRY(queues.open(task, name, flags, created_mode, attr));
  return TRY(task.fdtable().install(std::move(file), true));
}

// mq_unlink(name)
Result<int64_t> sys_mq_unlink(kernel::Task& task, const SyscallArgs& args) {
  const GuestAddr name_addr = args.addr(0);

  const std::string name = TRY(task.copy_in_path(name_addr));
  TRY(kernel::mqueue_namespace_of(task.kernel()).unlink(task, name));
  return 0;
}

// mq_timedsend(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout)
Result<int64_t> sys_mq_timedsend(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr message_addr = args.addr(1);
  const uint64_t message_bytes = args.u64(2);
  const uint32_t priority = args.u32(3);
  const GuestAddr timeout_addr = args.addr(4);

  const auto deadline = TRY(read_timeout(task, timeout_addr));
  if (priority >= kernel::kMqPriorityMax) {
    return Errno{EINVAL};
  }
  auto file = TRY(queue_file(task, fd));
  if (!file->writable()) {
    return Errno{EBADF};
  }
  kernel::MessageQueue& queue = file->queue();
  if (message_bytes > static_cast<uint64_t>(queue.max_message_bytes())) {
    return Errno{EMSGSIZE};
  }

  kernel::MqueueMessage message{.data = std::vector<std::byte>(message_bytes),
                                .priority = priority};
  TRY(task.copy_in(message_addr, message.data));
  TRY(queue.send(task, std::move(message), file->nonblocking(), deadline));
  return 0;
}

// mq_timedreceive(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout)
Result<int64_t> sys_mq_timedreceive(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr buffer_addr = args.addr(1);
  const uint64_t buffer_bytes = args.u64(2);
  const GuestAddr priority_addr = args.addr(3);
  const GuestAddr timeout_addr = args.addr(4);

  const auto deadline = TRY(read_timeout(task, timeout_addr));
  auto file = TRY(queue_file(task, fd));
  if (!file->readable()) {
    return Errno{EBADF};
  }
  kernel::MessageQueue& queue = file->queue();
  if (buffer_bytes < static_cast<uint64_t>(queue.max_message_bytes())) {
    return Errno{EMSGSIZE};
  }

  // A fault after this point loses the message, as in Linux.
  const kernel::MqueueMessage message =
      TRY(queue.receive(task, file->nonblocking(), deadline));
  if (!priority_addr.is_null()) {
    TRY(task.copy_out(priority_addr, message.priority));
  }
  TRY(task.copy_out(buffer_addr, std::span<const std::byte>(message.data)));
  return static_cast<int64_t>(message.data.size());
}

// mq_notify(mqdes, sevp): SIGEV_SIGNAL and SIGEV_NONE. NULL removes the
// caller's registration.
Result<int64_t> sys_mq_notify(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr event_addr = args.addr(1);

  std::optional<GuestSigevent> event;
  if (!event_addr.is_null()) {
    event = TRY(task.copy_in<GuestSigevent>(event_addr));
    if (event->notify != SIGEV_NONE && event->notify != SIGEV_SIGNAL &&
        event->notify != SIGEV_THREAD) {
      return Errno{EINVAL};
    }
    // Linux's valid_signal accepts 0, which registers without a signal.
    if (event->notify == SIGEV_SIGNAL &&
        static_cast<uint32_t>(event->signal) > static_cast<uint32_t>(kernel::kSignalCount)) {
      return Errno{EINVAL};
    }
    if (event->notify == SIGEV_THREAD) {
      TRY(check_thread_notification(task, *event));
    }
  }

  auto file = TRY(queue_file(task, fd));
  kernel::MessageQueue& queue = file->queue();
  if (!event) {
    queue.unregister_notification(task);
    return 0;
  }
  const kernel::MqueueNotification notification{
      .notify = event->notify,
      .signal = event->signal,
      .value = event->value,
      .owner = 0,
      .owner_fdtable = nullptr};
  TRY(queue.register_notification(task, notification));
  return 0;
}

// mq_getsetattr(mqdes, newattr, oldattr): only O_NONBLOCK of mq_flags can
// change.
Result<int64_t> sys_mq_getsetattr(kernel::Task& task, const SyscallArgs& args) {
  const int fd = args.fd(0);
  const GuestAddr new_attr_addr = args.addr(1);
  const GuestAddr old_attr_addr = args.addr(2);

  std::optional<kernel::GuestMqAttr> new_attr;
  if (!new_attr_addr.is_null()) {
    new_attr = TRY(task.copy_in<kernel::GuestMqAttr>(new_attr_addr));
    if ((new_attr->mq_flags & ~int64_t{O_NONBLOCK}) != 0) {
      return Errno{EINVAL};
    }
  }
  auto file = TRY(queue_file(task, fd));
  kernel::MessageQueue& queue = file->queue();

  kernel::GuestMqAttr old_attr = queue.attributes();
  old_attr.mq_flags = file->flags() & O_NONBLOCK;
  if (new_attr) {
    const uint32_t other_flags =
        file->flags() & vfs::kSettableStatusFlags & ~uint32_t{O_NONBLOCK};
    file->set_status_flags(other_flags | static_cast<uint32_t>(new_attr->mq_flags & O_NONBLOCK));
    queue.touch_attributes();
  }
  if (!old_attr_addr.is_null()) {
    TRY(task.copy_out(old_attr_addr, old_attr));
  }
  return 0;
}

}  // namespace ward::syscalls
