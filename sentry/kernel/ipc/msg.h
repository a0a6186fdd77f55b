// System V message queues (Linux's ipc/msg.c): typed messages, with
// senders that wait for room under msg_qbytes and receivers that wait for
// a message of the type they select.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sentry/kernel/ipc/ipc_namespace.h"
#include "sentry/kernel/wait_queue.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::kernel::ipc {

// Linux's defaults: MSGMAX bytes per message, MSGMNB bytes per queue,
// MSGMNI queues; MSGSSZ and MSGSEG are IPC_INFO's fixed values.
inline constexpr uint64_t kMsgMaxBytes = 8192;
inline constexpr uint64_t kMsgQueueBytes = 16384;
inline constexpr int kMsgMaxQueues = 32000;
inline constexpr int kMsgSegmentBytes = 16;
inline constexpr int kMsgSegments = 0xffff;

struct Message {
  int64_t type = 0;
  std::vector<std::byte> text;
};

// The message selection of msgrcv (Linux's SEARCH_* modes).
enum class MessageSearch {
  kAny,        // msgtyp 0: the first message
  kEqual,      // msgtyp > 0: the first of that type
  kNotEqual,   // msgtyp > 0 with MSG_EXCEPT: the first of another type
  kLessEqual,  // msgtyp < 0: the first of the lowest type <= |msgtyp|
  kNumber,     // MSG_COPY: the message at position msgtyp
};

class MsgQueue final : public IpcObject {
 public:
  explicit MsgQueue(IpcPermission perm);

  // Whether a message of `size_bytes` fits under msg_qbytes, which also
  // bounds the number of messages (Linux's msg_fits_inqueue).
  bool fits(uint64_t size_bytes) const;

  void push(Message message, pid_t sender, IpcNamespace& ipc);

  // The message `search` selects, or end().
  std::list<Message>::iterator find(MessageSearch search, int64_t type);
  std::list<Message>::iterator end() { return messages_.end(); }

  Message take(std::list<Message>::iterator position, pid_t receiver, IpcNamespace& ipc);

  // IPC_RMID: the waiting senders and receivers end with EIDRM.
  void remove(IpcNamespace& ipc);

  uint64_t bytes() const { return bytes_; }
  uint64_t count() const { return messages_.size(); }

  uint64_t max_bytes = kMsgQueueBytes;  // msg_qbytes
  int64_t send_time = 0;
  int64_t receive_time = 0;
  int64_t change_time = 0;
  pid_t last_sender = 0;
  pid_t last_receiver = 0;

  // Notified when room frees up, msg_qbytes changes or the queue goes.
  WaitQueue senders;
  // Notified when a message arrives or the queue goes.
  WaitQueue receivers;

 private:
  std::list<Message> messages_;
  uint64_t bytes_ = 0;
};

// msgget(2).
Result<int> msg_get(Task& task, int32_t key, int flags);

// IPC_RMID of a queue.
void msg_remove(IpcNamespace& ipc, const std::shared_ptr<MsgQueue>& queue);

// /proc/sysvipc/msg, in Linux's columns.
std::string render_proc_sysvipc_msg(IpcNamespace& ipc);

}  // namespace ward::kernel::ipc
