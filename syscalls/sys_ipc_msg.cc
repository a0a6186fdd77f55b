// msgget, msgsnd, msgrcv and msgctl: System V message queues.
#include <linux/capability.h>
#include <sys/msg.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "sentry/kernel/ipc/msg.h"
#include "sentry/kernel/scheduler.h"
#include "sentry/kernel/task.h"
#include "syscalls/args.h"
#include "syscalls/handlers_ipc.h"

namespace ward::syscalls {
namespace {

using kernel::ipc::IpcNamespace;
using kernel::ipc::MessageSearch;
using kernel::ipc::MsgQueue;

// Linux's struct msqid64_ds on x86-64.
struct GuestMsqidDs {
  kernel::ipc::GuestIpcPerm perm;
  int64_t send_time;
  int64_t receive_time;
  int64_t change_time;
  uint64_t bytes;
  uint64_t count;
  uint64_t max_bytes;
  int32_t last_sender;
  int32_t last_receiver;
  uint64_t unused4;
  uint64_t unused5;
};
static_assert(sizeof(GuestMsqidDs) == 120);

// Linux's struct msginfo (IPC_INFO and MSG_INFO).
struct GuestMsgInfo {
  int32_t msgpool;
  int32_t msgmap;
  int32_t msgmax;
  int32_t msgmnb;
  int32_t msgmni;
  int32_t msgssz;
  int32_t msgtql;
  uint16_t msgseg;
};
static_assert(sizeof(GuestMsgInfo) == 32);

constexpr int kReadAccess = S_IRUSR | S_IRGRP | S_IROTH;
constexpr int kWriteAccess = S_IWUSR | S_IWGRP | S_IWOTH;

// The offset of mtext in struct msgbuf, after the long mtype.
constexpr uint64_t kMessageTextOffset = sizeof(int64_t);

Result<int64_t> msg_info(kernel::Task& task, IpcNamespace& ipc, int command, GuestAddr buffer) {
  GuestMsgInfo info{.msgpool = 0,
                    .msgmap = 0,
                    .msgmax = static_cast<int32_t>(kernel::ipc::kMsgMaxBytes),
                    .msgmnb = static_cast<int32_t>(kernel::ipc::kMsgQueueBytes),
                    .msgmni = kernel::ipc::kMsgMaxQueues,
                    .msgssz = kernel::ipc::kMsgSegmentBytes,
                    .msgtql = 0,
                    .msgseg = kernel::ipc::kMsgSegments};
  if (command == MSG_INFO) {
    // MSG_INFO reuses three fields for the queues, messages and bytes in
    // use.
    info.msgpool = ipc.msg().in_use();
    info.msgmap = static_cast<int32_t>(std::min<uint64_t>(ipc.queued_messages, INT_MAX));
    info.msgtql = static_cast<int32_t>(std::min<uint64_t>(ipc.queued_bytes, INT_MAX));
  } else {
    // Linux's MSGPOOL (in KiB), MSGMAP and MSGTQL.
    info.msgpool =
        static_cast<int32_t>(kernel::ipc::kMsgMaxQueues * kernel::ipc::kMsgQueueBytes / 1024);
    info.msgmap = static_cast<int32_t>(kernel::ipc::kMsgQueueBytes);
    info.msgtql = static_cast<int32_t>(kernel::ipc::kMsgQueueBytes);
  }
  const int64_t result = std::max(ipc.msg().max_index(), 0);
  TRY(task.copy_out(buffer, info));
  return result;
}

Result<int64_t> msg_stat(kernel::Task& task, IpcNamespace& ipc, int msqid, int command,
                         GuestAddr buffer) {
  const bool by_index = command == MSG_STAT || command == MSG_STAT_ANY;
  std::shared_ptr<MsgQueue> queue =
      by_index ? TRY(ipc.msg().find_index(msqid)) : TRY(ipc.msg().find_id(msqid));
  if (command != MSG_STAT_ANY &&
      !kernel::ipc::ipc_permitted(queue->perm, task.creds(), kReadAccess)) {
    return Errno{EACCES};
  }
  GuestMsqidDs status{.perm = queue->perm.to_guest(),
                      .send_time = queue->send_time,
                      .receive_time = queue->receive_time,
                      .change_time = queue->change_time,
                      .bytes = queue->bytes(),
                      .count = queue->count(),
                      .max_bytes = queue->max_bytes,
                      .last_sender = queue->last_sender,
                      .last_receiver = queue->last_receiver,
                      .unused4 = 0,
                      .unused5 = 0};
  TRY(task.copy_out(buffer, status));
  return by_index ? queue->perm.id : 0;
}

// IPC_SET and IPC_RMID (Linux's msgctl_down).
Result<int64_t> msg_change(kernel::Task& task, IpcNamespace& ipc, int msqid, int command,
                           const GuestMsqidDs& requested) {
  std::shared_ptr<MsgQueue> queue = TRY(ipc.msg().find_id(msqid));
  TRY(kernel::ipc::check_ipc_owner(queue->perm, task.creds()));
  if (command == IPC_RMID) {
    kernel::ipc::msg_remove(ipc, queue);
    return 0;
  }
  // Linux (5.4 on) passes msg_qbytes on as an int, so only its low 32
  // bits count and 2^40 sets 0. Raising it past MSGMNB (compared
  // unsigned) takes CAP_SYS_RESOURCE.
  const auto max_bytes = static_cast<int32_t>(requested.max_bytes);
  if (static_cast<uint32_t>(max_bytes) > kernel::ipc::kMsgQueueBytes &&
      !task.creds().has_capability(CAP_SYS_RESOURCE)) {
    return Errno{EPERM};
  }
  TRY(kernel::ipc::update_ipc_permission(queue->perm, requested.perm));
  // A negative int widens with its sign into the unsigned long field.
  queue->max_bytes = static_cast<uint64_t>(static_cast<int64_t>(max_bytes));
  queue->change_time = kernel::ipc::ipc_now_seconds();
  // Waiting senders and receivers look again: the room or their access
  // may have changed.
  queue->senders.notify();
  queue->receivers.notify();
  return 0;
}

// Parks the task on `wait_queue`: true when woken, false when a signal or
// an exit request came first.
bool wait_on(kernel::Task& task, kernel::WaitQueue& wait_queue) {
  kernel::Waiter waiter(task.scheduler());
  waiter.watch(wait_queue);
  return task.block(waiter) != kernel::WakeReason::kInterrupted;
}

// Linux's convert_mode: how msgtyp and msgflg select a message, with
// msgtyp turned into the bound for a negative type.
MessageSearch search_mode(int64_t& type, int flags) {
  if ((flags & MSG_COPY) != 0) {
    return MessageSearch::kNumber;
  }
  if (type == 0) {
    return MessageSearch::kAny;
  }
  if (type < 0) {
    type = type == INT64_MIN ? INT64_MAX : -type;
    return MessageSearch::kLessEqual;
  }
  return (flags & MSG_EXCEPT) != 0 ? MessageSearch::kNotEqual : MessageSearch::kEqual;
}

}  // namespace

// msgget(key, msgflg)
Result<int64_t> sys_msgget(kernel::Task& task, const SyscallArgs& args) {
  const int32_t key = args.i32(0);
  const int flags = args.i32(1);
  return TRY(kernel::ipc::msg_get(task, key, flags));
}

// msgsnd(msqid, msgp, msgsz, msgflg)
Result<int64_t> sys_msgsnd(kernel::Task& task, const SyscallArgs& args) {
  const int msqid = args.i32(0);
  const GuestAddr message_addr = args.addr(1);
  const uint64_t size_bytes = args.u64(2);
  const int flags = args.i32(3);

  // Linux reads mtype before any other check.
  const auto type = TRY(task.copy_in<int64_t>(message_addr));
  if (size_bytes > kernel::ipc::kMsgMaxBytes || msqid < 0) {
    return Errno{EINVAL};
  }
  if (type < 1) {
    return Errno{EINVAL};
  }
  kernel::ipc::Message message{.type = type, .text = std::vector<std::byte>(size_bytes)};
  TRY(task.copy_in(message_addr + kMessageTextOffset, std::span(message.text)));

  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());
  std::shared_ptr<MsgQueue> queue = TRY(ipc->msg().find_id(msqid));
  for (;;) {
    if (!kernel::ipc::ipc_permitted(queue->perm, task.creds(), kWriteAccess)) {
      return Errno{EACCES};
    }
    if (queue->perm.removed) {
      return Errno{EIDRM};
    }
    if (queue->fits(size_bytes)) {
      break;
    }
    if ((flags & IPC_NOWAIT) != 0) {
      return Errno{EAGAIN};
    }
    const bool woken = wait_on(task, queue->senders);
    if (queue->perm.removed) {
      return Errno{EIDRM};
    }
    if (!woken) {
      return Errno{ERESTARTNOHAND};
    }
  }
  queue->push(std::move(message), task.pid(), *ipc);
  return 0;
}

// msgrcv(msqid, msgp, msgsz, msgtyp, msgflg)
Result<int64_t> sys_msgrcv(kernel::Task& task, const SyscallArgs& args) {
  const int msqid = args.i32(0);
  const GuestAddr message_addr = args.addr(1);
  const int64_t buffer_bytes = args.i64(2);
  int64_t type = args.i64(3);
  const int flags = args.i32(4);

  if (msqid < 0 || buffer_bytes < 0) {
    return Errno{EINVAL};
  }
  const bool copy = (flags & MSG_COPY) != 0;
  if (copy && ((flags & MSG_EXCEPT) != 0 || (flags & IPC_NOWAIT) == 0)) {
    return Errno{EINVAL};
  }
  const MessageSearch search = search_mode(type, flags);

  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());
  std::shared_ptr<MsgQueue> queue = TRY(ipc->msg().find_id(msqid));
  kernel::ipc::Message message;
  for (;;) {
    if (!kernel::ipc::ipc_permitted(queue->perm, task.creds(), kReadAccess)) {
      return Errno{EACCES};
    }
    if (queue->perm.removed) {
      return Errno{EIDRM};
    }
    auto found = queue->find(search, type);
    if (found != queue->end()) {
      const auto size_bytes = static_cast<int64_t>(found->text.size());
      if (buffer_bytes < size_bytes && (flags & MSG_NOERROR) == 0) {
        return Errno{E2BIG};
      }
      if (copy) {
        // MSG_COPY copies into a buffer of at most MSGMAX bytes, which
        // must hold the whole message.
        if (size_bytes > std::min<int64_t>(buffer_bytes, kernel::ipc::kMsgMaxBytes)) {
          return Errno{EINVAL};
        }
        message = *found;
      } else {
        message = queue->take(found, task.pid(), *ipc);
      }
      break;
    }
    if ((flags & IPC_NOWAIT) != 0) {
      return Errno{ENOMSG};
    }
    const bool woken = wait_on(task, queue->receivers);
    if (queue->perm.removed) {
      return Errno{EIDRM};
    }
    if (!woken) {
      return Errno{ERESTARTNOHAND};
    }
  }

  // The message is gone from the queue even when these copies fault, as
  // on Linux.
  TRY(task.copy_out(message_addr, message.type));
  const size_t copied = std::min<size_t>(message.text.size(), static_cast<size_t>(buffer_bytes));
  TRY(task.copy_out(message_addr + kMessageTextOffset,
                    std::span<const std::byte>(message.text.data(), copied)));
  return static_cast<int64_t>(copied);
}

// msgctl(msqid, cmd, buf)
Result<int64_t> sys_msgctl(kernel::Task& task, const SyscallArgs& args) {
  const int msqid = args.i32(0);
  const int command = args.i32(1);
  const GuestAddr buffer = args.addr(2);

  if (msqid < 0 || command < 0) {
    return Errno{EINVAL};
  }
  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());
  switch (command) {
    case IPC_INFO:
    case MSG_INFO:
      return msg_info(task, *ipc, command, buffer);
    case IPC_STAT:
    case MSG_STAT:
    case MSG_STAT_ANY:
      return msg_stat(task, *ipc, msqid, command, buffer);
    case IPC_SET: {
      const auto requested = TRY(task.copy_in<GuestMsqidDs>(buffer));
      return msg_change(task, *ipc, msqid, command, requested);
    }
    case IPC_RMID:
      return msg_change(task, *ipc, msqid, command, GuestMsqidDs{});
    default:
      return Errno{EINVAL};
  }
}

}  // namespace ward::syscalls
