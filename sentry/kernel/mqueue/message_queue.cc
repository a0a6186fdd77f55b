#include "sentry/kernel/mqueue/message_queue.h"

#include <poll.h>
#include <time.h>

#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/mqueue/mqueue_namespace.h"
#include "sentry/kernel/signal_send.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace ward::kernel {
namespace {

// Linux's FILENT_SIZE: the st_size of every queue, the room its status
// line has.
constexpr int64_t kStatusLineBytes = 80;

// Linux gives the mqueue filesystem PAGE_SIZE blocks.
constexpr int64_t kMqueueBlockBytes = 4096;

timespec realtime_now() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return now;
}

// Ends a wait that no sender or receiver completed: the deadline passed or
// a signal came.
Errno unfinished_wait_error(WakeReason reason) {
  return reason == WakeReason::kTimedOut ? Errno{ETIMEDOUT} : Errno{ERESTARTSYS};
}

}  // namespace

MessageQueue::MessageQueue(std::string name, mode_t mode, uid_t uid, gid_t gid,
                           int64_t max_messages, int64_t max_message_bytes,
                           std::shared_ptr<MqueueAccounting> accounting, uint64_t charged_bytes,
                           uid_t charged_uid)
    : Inode(accounting->filesystem(), S_IFREG),
      name_(std::move(name)),
      mode_(mode & 07777),
      uid_(uid),
      gid_(gid),
      max_messages_(max_messages),
      max_message_bytes_(max_message_bytes),
      accounting_(std::move(accounting)),
      charged_bytes_(charged_bytes),
      charged_uid_(charged_uid),
      ino_(filesystem().allocate_ino()) {
  touch_all_times();
}

MessageQueue::~MessageQueue() { accounting_->release(charged_uid_, charged_bytes_); }

void MessageQueue::mark_unlinked() {
  unlinked_ = true;
  ctime_ = realtime_now();
}

void MessageQueue::touch_all_times() {
  atime_ = realtime_now();
  mtime_ = atime_;
  ctime_ = atime_;
}

void MessageQueue::touch_attributes() {
  atime_ = realtime_now();
  ctime_ = atime_;
}

void MessageQueue::insert(MqueueMessage message) {
  queued_bytes_ += message.data.size();
  ++message_count_;
  const uint32_t priority = message.priority;
  messages_[priority].push_back(std::move(message));
}

MqueueMessage MessageQueue::take_first() {
  auto highest = messages_.begin();
  MqueueMessage message = std::move(highest->second.front());
  highest->second.pop_front();
  if (highest->second.empty()) {
    messages_.erase(highest);
  }
  queued_bytes_ -= message.data.size();
  --message_count_;
  return message;
}

Result<void> MessageQueue::send(Task& sender, MqueueMessage message, bool nonblocking,
                                std::optional<TimePoint> deadline) {
  if (message_count_ < max_messages_) {
    touch_all_times();
    // A blocked receiver takes the message straight away, so the queue
    // stays empty and no notification fires, as in Linux's pipelined_send.
    if (!blocked_receivers_.empty()) {
      BlockedReceiver* receiver = blocked_receivers_.front();
      blocked_receivers_.pop_front();
      receiver->message = std::move(message);
      receiver->wakeup.notify();
      return ok();
    }
    insert(std::move(message));
    notify_owner(sender);
    poll_queue_.notify(POLLIN | POLLRDNORM);
    return ok();
  }

  if (nonblocking) {
    return Errno{EAGAIN};
  }
  BlockedSender blocked;
  blocked.message = std::move(message);
  auto position = blocked_senders_.insert(blocked_senders_.end(), &blocked);
  Waiter waiter(sender.scheduler());
  waiter.watch(blocked.wakeup);
  if (deadline) {
    waiter.set_deadline(*deadline);
  }
  const WakeReason reason = sender.block(waiter);
  // A receiver may have taken the message in the same round that a signal
  // or the deadline came: the send has then happened.
  if (blocked.delivered) {
    return ok();
  }
  blocked_senders_.erase(position);
  return unfinished_wait_error(reason);
}

Result<MqueueMessage> MessageQueue::receive(Task& receiver, bool nonblocking,
                                            std::optional<TimePoint> deadline) {
  if (message_count_ > 0) {
    touch_all_times();
    MqueueMessage message = take_first();
    // The longest-blocked sender fills the room at once, as Linux's
    // pipelined_receive does. Otherwise pollers learn of the room.
    if (!blocked_senders_.empty()) {
      BlockedSender* sender = blocked_senders_.front();
      blocked_senders_.pop_front();
      insert(std::move(sender->message));
      sender->delivered = true;
      sender->wakeup.notify();
    } else {
      poll_queue_.notify(POLLOUT | POLLWRNORM);
    }
    return message;
  }

  if (nonblocking) {
    return Errno{EAGAIN};
  }
  BlockedReceiver blocked;
  auto position = blocked_receivers_.insert(blocked_receivers_.end(), &blocked);
  Waiter waiter(receiver.scheduler());
  waiter.watch(blocked.wakeup);
  if (deadline) {
    waiter.set_deadline(*deadline);
  }
  const WakeReason reason = receiver.block(waiter);
  if (blocked.message) {
    return std::move(*blocked.message);
  }
  blocked_receivers_.erase(position);
  return unfinished_wait_error(reason);
}

bool MessageQueue::notification_owner_alive(Task& task) const {
  if (!notification_) {
    return false;
  }
  ThreadGroup* owner = task.kernel().find_thread_group(notification_->owner);
  return owner != nullptr && !owner->finished();
}

// Linux's __do_notify: a message arrived in an empty queue while no
// receiver was blocked, so the registration fires once and is removed.
void MessageQueue::notify_owner(Task& sender) {
  if (!notification_ || message_count_ != 1) {
    return;
  }
  const MqueueNotification notification = *notification_;
  notification_.reset();

  // sigev_signo 0 is accepted by mq_notify and sends nothing.
  if (notification.notify != SIGEV_SIGNAL || notification.signal == 0) {
    return;
  }
  ThreadGroup* owner = sender.kernel().find_thread_group(notification.owner);
  if (owner == nullptr || owner->finished()) {
    return;
  }
  // Linux skips the kill(2) permission check here, because the signal comes
  // from the kernel on the sender's behalf.
  // NOTE: Linux also sends nothing when the owner has run execve since it
  // registered, but the sentry does not count execs, so the new image gets
  // the signal.
  siginfo_t info{};
  info.si_signo = notification.signal;
  info.si_code = SI_MESGQ;
  info.si_pid = sender.pid();
  info.si_uid = sender.creds().real_uid;
  std::memcpy(&info.si_value, &notification.value, sizeof(notification.value));
  send_signal_to_group(*owner, info);
}

Result<void> MessageQueue::register_notification(Task& task,
                                                 const MqueueNotification& notification) {
  if (notification_owner_alive(task)) {
    return Errno{EBUSY};
  }
  notification_ = notification;
  notification_->owner = task.pid();
  notification_->owner_fdtable = &task.fdtable();
  touch_attributes();
  return ok();
}

void MessageQueue::unregister_notification(Task& task) {
  if (notification_ && notification_->owner == task.pid()) {
    notification_.reset();
    touch_attributes();
  }
}

void MessageQueue::drop_notification_of(const vfs::FdTable& fdtable) {
  if (notification_ && notification_->owner_fdtable == &fdtable) {
    notification_.reset();
    touch_attributes();
  }
}

GuestMqAttr MessageQueue::attributes() const {
  return GuestMqAttr{.mq_flags = 0,
                     .mq_maxmsg = max_messages_,
                     .mq_msgsize = max_message_bytes_,
                     .mq_curmsgs = message_count_,
                     .reserved = {}};
}

std::string MessageQueue::status_line() const {
  const int notify = notification_ ? notification_->notify : 0;
  const int signal = notification_ && notification_->notify == SIGEV_SIGNAL ? notification_->signal
                                                                             : 0;
  const pid_t owner = notification_ ? notification_->owner : 0;
  return fmt::format("QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n", queued_bytes_,
                     notify, signal, owner);
}

uint32_t MessageQueue::readiness() const {
  uint32_t events = 0;
  if (message_count_ > 0) {
    events |= POLLIN | POLLRDNORM;
  }
  if (message_count_ < max_messages_) {
    events |= POLLOUT | POLLWRNORM;
  }
  return events;
}

Result<struct stat> MessageQueue::stat() {
  struct stat st {};
  st.st_dev = filesystem().dev();
  st.st_ino = ino_;
  st.st_mode = S_IFREG | mode_;
  st.st_nlink = unlinked_ ? 0 : 1;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_size = truncated_size_.value_or(kStatusLineBytes);
  st.st_blksize = kMqueueBlockBytes;
  st.st_atim = atime_;
  st.st_mtim = mtime_;
  st.st_ctim = ctime_;
  return st;
}

void MessageQueue::truncate(int64_t length) {
  truncated_size_ = length;
  mtime_ = ctime_ = realtime_now();
}

Result<void> MessageQueue::set_attributes(const vfs::Caller&, const vfs::AttributeChange& change) {
  if (change.mode) {
    mode_ = *change.mode & 07777;
  }
  if (change.uid) {
    uid_ = *change.uid;
  }
  if (change.gid) {
    gid_ = *change.gid;
  }
  if (change.atime) {
    atime_ = *change.atime;
  }
  if (change.mtime) {
    mtime_ = *change.mtime;
  }
  ctime_ = realtime_now();
  return ok();
}

std::string MessageQueue::anonymous_name() const {
  // Linux names the descriptor by its path on the internal mqueue mount.
  return unlinked_ ? "/" + name_ + " (deleted)" : "/" + name_;
}

Result<size_t> MqueueFile::read(std::span<std::byte> buffer, std::optional<int64_t> offset) {
  return at_position(offset, [&](int64_t position) -> Result<size_t> {
    const std::string line = queue_->status_line();
    if (position < 0) {
      return Errno{EINVAL};
    }
    if (static_cast<uint64_t>(position) >= line.size()) {
      return size_t{0};
    }
    const size_t count = std::min(buffer.size(), line.size() - static_cast<size_t>(position));
    std::memcpy(buffer.data(), line.data() + position, count);
    queue_->touch_attributes();
    return count;
  });
}

uint32_t MqueueFile::readiness(uint32_t mask) {
  return queue_->readiness() & (mask | POLLERR | POLLHUP);
}

}  // namespace ward::kernel
