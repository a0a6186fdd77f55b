// POSIX message queues (mq_overview(7)), after Linux's ipc/mqueue.c: a
// queue is an inode of the internal mqueue filesystem, and an open queue
// descriptor is a file description on it.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sentry/kernel/clock.h"
#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/inode.h"
#include "ward/result.h"

namespace ward::kernel {

class Task;
class MqueueAccounting;

// Linux's MQ_PRIO_MAX: message priorities are 0 to 32767.
inline constexpr uint32_t kMqPriorityMax = 32768;

// The kernel's struct mq_attr on x86_64: four longs and four reserved ones.
struct GuestMqAttr {
  int64_t mq_flags;
  int64_t mq_maxmsg;
  int64_t mq_msgsize;
  int64_t mq_curmsgs;
  int64_t reserved[4];
};
static_assert(sizeof(GuestMqAttr) == 64);

// One message: its bytes and its priority.
struct MqueueMessage {
  std::vector<std::byte> data;
  uint32_t priority = 0;
};

// A registration made by mq_notify: SIGEV_SIGNAL or SIGEV_NONE, on behalf
// of the process `owner`, whose descriptor table is `owner_fdtable`.
struct MqueueNotification {
  int notify = SIGEV_NONE;
  int signal = 0;
  uint64_t value = 0;  // sigev_value, which si_value carries
  pid_t owner = 0;
  // Only compared, never dereferenced: a close through this table drops
  // the registration.
  const vfs::FdTable* owner_fdtable = nullptr;
};

// One queue: its messages ordered by priority, the tasks blocked sending
// to it or receiving from it, and its mq_notify registration.
class MessageQueue final : public vfs::Inode {
 public:
  // `mode` contains the permission bits (07777), and `uid` and `gid` are the
  // creator's fsuid and fsgid. The queue gives `charged_bytes` back to
  // `accounting` for `charged_uid` when it goes.
  MessageQueue(std::string name, mode_t mode, uid_t uid, gid_t gid, int64_t max_messages,
               int64_t max_message_bytes, std::shared_ptr<MqueueAccounting> accounting,
               uint64_t charged_bytes, uid_t charged_uid);
  ~MessageQueue() override;

  const std::string& name() const { return name_; }
  int64_t max_messages() const { return max_messages_; }
  int64_t max_message_bytes() const { return max_message_bytes_; }
  int64_t message_count() const { return message_count_; }

  // Marks the queue as having lost its name (mq_unlink). Open descriptors
  // keep working.
  void mark_unlinked();

  // Queues `message`, or hands it to the longest-blocked receiver. When
  // the queue is full: EAGAIN if `nonblocking`, else waits for room until
  // `deadline` (ETIMEDOUT) or a signal (ERESTARTSYS).
  Result<void> send(Task& sender, MqueueMessage message, bool nonblocking,
                    std::optional<TimePoint> deadline);

  // Takes the first message of the highest priority, waiting as send()
  // does while the queue is empty.
  Result<MqueueMessage> receive(Task& receiver, bool nonblocking,
                                std::optional<TimePoint> deadline);

  // Registers the notification of mq_notify with a sigevent. EBUSY while
  // the registration belongs to a live process.
  Result<void> register_notification(Task& task, const MqueueNotification& notification);

  // Removes the registration for mq_notify with NULL when it belongs to
  // `task`'s process, and does nothing otherwise.
  void unregister_notification(Task& task);

  // Removes the registration when a descriptor of the queue is closed
  // through its owner's descriptor table, as Linux's mqueue_flush_file
  // does for a close by the owner process.
  void drop_notification_of(const vfs::FdTable& fdtable);

  // The attributes mq_getsetattr reports, with mq_flags left 0.
  GuestMqAttr attributes() const;

  // Moves the access and change times to now, as mq_getsetattr does.
  void touch_attributes();

  // The line a read of the descriptor returns: the queued message bytes
  // and the notification with its owner's pid.
  std::string status_line() const;

  kernel::WaitQueue& poll_queue() { return poll_queue_; }
  uint32_t readiness() const;

  // ftruncate(2): sets st_size only, as Linux's simple_setattr does for
  // a queue; the messages and the status line stay as they are.
  void truncate(int64_t length);

  // vfs::Inode
  Result<struct stat> stat() override;
  Result<void> set_attributes(const vfs::Caller& caller,
                              const vfs::AttributeChange& change) override;
  bool unlinked() override { return unlinked_; }
  std::string anonymous_name() const override;

 private:
  // A receiver parked in receive(): a sender fills `message` and notifies
  // `wakeup`.
  struct BlockedReceiver {
    std::optional<MqueueMessage> message;
    kernel::WaitQueue wakeup;
  };

  // A sender parked in send(): a receiver that makes room moves `message`
  // into the queue, sets `delivered` and notifies `wakeup`.
  struct BlockedSender {
    MqueueMessage message;
    bool delivered = false;
    kernel::WaitQueue wakeup;
  };

  void insert(MqueueMessage message);
  MqueueMessage take_first();
  void notify_owner(Task& sender);
  bool notification_owner_alive(Task& task) const;
  void touch_all_times();

  std::string name_;
  mode_t mode_;
  uid_t uid_;
  gid_t gid_;
  int64_t max_messages_;
  int64_t max_message_bytes_;
  std::shared_ptr<MqueueAccounting> accounting_;
  uint64_t charged_bytes_;
  uid_t charged_uid_;
  uint64_t ino_;
  bool unlinked_ = false;
  // The st_size ftruncate(2) set; Linux's generic setattr changes the
  // inode's size and nothing else of the queue.
  std::optional<int64_t> truncated_size_;
  timespec atime_{};
  timespec mtime_{};
  timespec ctime_{};

  // Higher priorities first, and first in, first out within a priority.
  std::map<uint32_t, std::list<MqueueMessage>, std::greater<>> messages_;
  int64_t message_count_ = 0;
  uint64_t queued_bytes_ = 0;

  std::list<BlockedReceiver*> blocked_receivers_;
  std::list<BlockedSender*> blocked_senders_;
  std::optional<MqueueNotification> notification_;
  kernel::WaitQueue poll_queue_;
};

// An open queue descriptor. Reading it returns the status line.
class MqueueFile final : public vfs::FileDescription {
 public:
  MqueueFile(vfs::VirtualDentry location, uint32_t flags, std::shared_ptr<MessageQueue> queue)
      : FileDescription(std::move(location), flags), queue_(std::move(queue)) {}

  MessageQueue& queue() { return *queue_; }

  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override;
  uint32_t readiness(uint32_t mask) override;
  kernel::WaitQueue* wait_queue() override { return &queue_->poll_queue(); }
  void flush(const vfs::FdTable& fdtable) override { queue_->drop_notification_of(fdtable); }
  Result<void> truncate(int64_t length) override {
    queue_->truncate(length);
    return ok();
  }

 private:
  std::shared_ptr<MessageQueue> queue_;
};

}  // namespace ward::kernel
