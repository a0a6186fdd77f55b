// The POSIX message queues of one sandbox, which has an IPC namespace of
// its own: the names, the /proc/sys/fs/mqueue limits and what each user's
// queues are charged against RLIMIT_MSGQUEUE.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "sentry/kernel/mqueue/message_queue.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/inode.h"
#include "ward/result.h"

namespace ward::kernel {

class Kernel;
class Task;

// The /proc/sys/fs/mqueue settings of a new IPC namespace in Linux.
struct MqueueLimits {
  int64_t queues_max = 256;
  int64_t msg_max = 10;
  int64_t msgsize_max = 8192;
  int64_t msg_default = 10;
  int64_t msgsize_default = 8192;
};

// Linux's HARD_MSGMAX and HARD_MSGSIZEMAX: what a creator with
// CAP_SYS_RESOURCE may ask for beyond msg_max and msgsize_max.
inline constexpr int64_t kHardMsgMax = 65536;
inline constexpr int64_t kHardMsgsizeMax = 16 * 1024 * 1024;

// The count of live queues and the bytes charged to each user, shared with
// the queues so that each gives its share back when its last descriptor
// closes, after mq_unlink.
class MqueueAccounting {
 public:
  MqueueAccounting();

  // The internal mqueue filesystem that queue inodes belong to.
  const std::shared_ptr<vfs::Filesystem>& filesystem() const { return filesystem_; }

  int64_t queue_count() const { return queue_count_; }
  uint64_t charged_bytes(uid_t uid) const;
  void charge(uid_t uid, uint64_t bytes);
  void release(uid_t uid, uint64_t bytes);

 private:
  std::shared_ptr<vfs::Filesystem> filesystem_;
  int64_t queue_count_ = 0;
  std::map<uid_t, uint64_t> charged_bytes_by_uid_;
};

class MqueueNamespace {
 public:
  MqueueNamespace();

  const MqueueLimits& limits() const { return limits_; }

  // Opens or creates the queue `name` (without glibc's leading slash) for
  // mq_open, with Linux's checks in Linux's order. Any name: EACCES when it
  // contains '/' or is "." or "..", then ENAMETOOLONG past NAME_MAX. A
  // missing queue: ENOENT without O_CREAT, else ENOSPC past queues_max,
  // EINVAL for `attr` outside the limits and EMFILE past RLIMIT_MSGQUEUE.
  // An existing queue: EEXIST with O_EXCL, EINVAL for access mode 3 and
  // EACCES from its mode bits. `mode` already has the umask applied.
  Result<vfs::FileRef> open(Task& task, const std::string& name, uint32_t flags, mode_t mode,
                            const std::optional<GuestMqAttr>& attr);

  // mq_unlink: the name checks of open(), ENOENT for a missing queue and
  // EPERM for a queue of another user, since the mqueue root directory is
  // sticky (glibc reports EPERM as EACCES).
  Result<void> unlink(Task& task, const std::string& name);

 private:
  Result<std::shared_ptr<MessageQueue>> create(Task& task, const std::string& name, mode_t mode,
                                               const std::optional<GuestMqAttr>& attr);

  MqueueLimits limits_;
  std::shared_ptr<MqueueAccounting> accounting_;
  std::map<std::string, std::shared_ptr<MessageQueue>> queues_;
};

// The sandbox's message queues, made on first use.
MqueueNamespace& mqueue_namespace_of(Kernel& kernel);

}  // namespace ward::kernel
