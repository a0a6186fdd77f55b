#include "sentry/kernel/mqueue/mqueue_namespace.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/resource.h>

#include <algorithm>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/permission.h"

namespace ward::kernel {
namespace {

// Linux's MQUEUE_MAGIC: the statfs type of the mqueue filesystem.
constexpr uint64_t kMqueueFsMagic = 0x19800202;

// The bytes Linux charges against RLIMIT_MSGQUEUE besides the messages:
// sizeof(struct msg_msg) for each message slot and sizeof(struct
// posix_msg_tree_node) for each priority a queue can contain. Both are 48
// bytes on x86_64 in Linux 6.18, which the conformance test measures.
constexpr uint64_t kMessageHeaderBytes = 48;
constexpr uint64_t kPriorityNodeBytes = 48;

// Linux's lookup_one_len rules for a queue name, then simple_lookup's
// length limit.
Result<void> check_name(const std::string& name) {
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    return Errno{EACCES};
  }
  if (name.size() > vfs::kNameMax) {
    return Errno{ENAMETOOLONG};
  }
  return ok();
}

// The MAY_* access an open of an existing queue needs.
int access_for(uint32_t flags) {
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      return vfs::kMayRead;
    case O_WRONLY:
      return vfs::kMayWrite;
    default:
      return vfs::kMayRead | vfs::kMayWrite;
  }
}

}  // namespace

MqueueAccounting::MqueueAccounting()
    : filesystem_(std::make_shared<vfs::Filesystem>("mqueue", kMqueueFsMagic)) {}

uint64_t MqueueAccounting::charged_bytes(uid_t uid) const {
  auto found = charged_bytes_by_uid_.find(uid);
  return found == charged_bytes_by_uid_.end() ? 0 : found->second;
}

void MqueueAccounting::charge(uid_t uid, uint64_t bytes) {
  charged_bytes_by_uid_[uid] += bytes;
  ++queue_count_;
}

void MqueueAccounting::release(uid_t uid, uint64_t bytes) {
  uint64_t& charged = charged_bytes_by_uid_[uid];
  charged -= std::min(charged, bytes);
  if (charged == 0) {
    charged_bytes_by_uid_.erase(uid);
  }
  --queue_count_;
}

MqueueNamespace::MqueueNamespace() : accounting_(std::make_shared<MqueueAccounting>()) {}

Result<std::shared_ptr<MessageQueue>> MqueueNamespace::create(
    Task& task, const std::string& name, mode_t mode, const std::optional<GuestMqAttr>& attr) {
  const Credentials& creds = task.creds();
  const bool privileged = creds.has_capability(CAP_SYS_RESOURCE);
  if (accounting_->queue_count() >= limits_.queues_max && !privileged) {
    return Errno{ENOSPC};
  }

  int64_t max_messages = std::min(limits_.msg_max, limits_.msg_default);
  int64_t max_message_bytes = std::min(limits_.msgsize_max, limits_.msgsize_default);
  if (attr) {
    max_messages = attr->mq_maxmsg;
    max_message_bytes = attr->mq_msgsize;
  }
  if (max_messages <= 0 || max_message_bytes <= 0) {
    return Errno{EINVAL};
  }
  const int64_t message_limit = privileged ? kHardMsgMax : limits_.msg_max;
  const int64_t size_limit = privileged ? kHardMsgsizeMax : limits_.msgsize_max;
  if (max_messages > message_limit || max_message_bytes > size_limit) {
    return Errno{EINVAL};
  }

  // Both factors are below 2^25, so the products cannot overflow.
  const auto slots = static_cast<uint64_t>(max_messages);
  const uint64_t charged_bytes = slots * static_cast<uint64_t>(max_message_bytes) +
                                 slots * kMessageHeaderBytes +
                                 std::min<uint64_t>(slots, kMqPriorityMax) * kPriorityNodeBytes;
  const rlim_t limit_bytes = task.thread_group().limit(RLIMIT_MSGQUEUE).rlim_cur;
  const uint64_t total_bytes = accounting_->charged_bytes(creds.real_uid) + charged_bytes;
  if (limit_bytes != RLIM_INFINITY && total_bytes > limit_bytes) {
    return Errno{EMFILE};
  }

  accounting_->charge(creds.real_uid, charged_bytes);
  auto queue = std::make_shared<MessageQueue>(name, mode, creds.fs_uid, creds.fs_gid, max_messages,
                                              max_message_bytes, accounting_, charged_bytes,
                                              creds.real_uid);
  queues_[name] = queue;
  return queue;
}

Result<vfs::FileRef> MqueueNamespace::open(Task& task, const std::string& name, uint32_t flags,
                                           mode_t mode, const std::optional<GuestMqAttr>& attr) {
  TRY(check_name(name));

  std::shared_ptr<MessageQueue> queue;
  auto found = queues_.find(name);
  if (found == queues_.end()) {
    if ((flags & O_CREAT) == 0) {
      return Errno{ENOENT};
    }
    queue = TRY(create(task, name, mode, attr));
  } else {
    if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
      return Errno{EEXIST};
    }
    if ((flags & O_ACCMODE) == O_ACCMODE) {
      return Errno{EINVAL};
    }
    const struct stat st = TRY(found->second->stat());
    TRY(vfs::check_access(task.creds(), st, access_for(flags)));
    queue = found->second;
  }

  vfs::VirtualDentry location = vfs::make_anonymous_location(queue);
  return vfs::FileRef(std::make_shared<MqueueFile>(std::move(location), flags, std::move(queue)));
}

Result<void> MqueueNamespace::unlink(Task& task, const std::string& name) {
  TRY(check_name(name));
  auto found = queues_.find(name);
  if (found == queues_.end()) {
    return Errno{ENOENT};
  }

  // The mqueue root directory is root's, mode 1777: only the queue's
  // owner, root's fsuid or CAP_FOWNER may remove a name from it.
  const Credentials& creds = task.creds();
  const struct stat st = TRY(found->second->stat());
  if (creds.fs_uid != st.st_uid && creds.fs_uid != 0 && !creds.has_capability(CAP_FOWNER)) {
    return Errno{EPERM};
  }

  found->second->mark_unlinked();
  queues_.erase(found);
  return ok();
}

MqueueNamespace& mqueue_namespace_of(Kernel& kernel) {
  auto& names = kernel.mqueue_namespace();
  if (!names) {
    names = std::make_shared<MqueueNamespace>();
  }
  return *names;
}

}  // namespace ward::kernel
