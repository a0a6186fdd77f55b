#include "sentry/kernel/ipc/msg.h"

#include <fmt/format.h>

#include "sentry/kernel/task.h"

namespace ward::kernel::ipc {

MsgQueue::MsgQueue(IpcPermission perm_in) {
  perm = perm_in;
  change_time = ipc_now_seconds();
}

bool MsgQueue::fits(uint64_t size_bytes) const {
  return size_bytes + bytes_ <= max_bytes && 1 + messages_.size() <= max_bytes;
}

// NOTE: a message for a waiting receiver is queued and the receiver takes
// it when it runs, where Linux hands it over at once (pipelined_send), so
// another receiver may take it first.
void MsgQueue::push(Message message, pid_t sender, IpcNamespace& ipc) {
  last_sender = sender;
  send_time = ipc_now_seconds();
  bytes_ += message.text.size();
  ipc.queued_bytes += message.text.size();
  ipc.queued_messages += 1;
  messages_.push_back(std::move(message));
  receivers.notify();
}

std::list<Message>::iterator MsgQueue::find(MessageSearch search, int64_t type) {
  if (search == MessageSearch::kLessEqual) {
    auto lowest = messages_.end();
    for (auto it = messages_.begin(); it != messages_.end(); ++it) {
      if (it->type <= type && (lowest == messages_.end() || it->type < lowest->type)) {
        lowest = it;
      }
    }
    return lowest;
  }
  int64_t position = 0;
  for (auto it = messages_.begin(); it != messages_.end(); ++it, ++position) {
    switch (search) {
      case MessageSearch::kAny:
        return it;
      case MessageSearch::kEqual:
        if (it->type == type) {
          return it;
        }
        break;
      case MessageSearch::kNotEqual:
        if (it->type != type) {
          return it;
        }
        break;
      case MessageSearch::kNumber:
        if (position == type) {
          return it;
        }
        break;
      case MessageSearch::kLessEqual:
        break;
    }
  }
  return messages_.end();
}

Message MsgQueue::take(std::list<Message>::iterator position, pid_t receiver, IpcNamespace& ipc) {
  Message message = std::move(*position);
  messages_.erase(position);
  bytes_ -= message.text.size();
  ipc.queued_bytes -= message.text.size();
  ipc.queued_messages -= 1;
  last_receiver = receiver;
  receive_time = ipc_now_seconds();
  senders.notify();
  return message;
}

void MsgQueue::remove(IpcNamespace& ipc) {
  perm.removed = true;
  ipc.queued_bytes -= bytes_;
  ipc.queued_messages -= messages_.size();
  messages_.clear();
  bytes_ = 0;
  senders.notify();
  receivers.notify();
}

Result<int> msg_get(Task& task, int32_t key, int flags) {
  std::shared_ptr<IpcNamespace> ipc = IpcNamespace::of(task.kernel());
  auto create = [&]() -> Result<int> {
    auto queue = std::make_shared<MsgQueue>(new_ipc_permission(key, flags, task.creds()));
    return ipc->msg().add(queue, kMsgMaxQueues);
  };
  auto no_checks = [](const MsgQueue&) -> Result<void> { return ok(); };
  return ipc_get<MsgQueue>(ipc->msg(), key, flags, task.creds(), create, no_checks);
}

void msg_remove(IpcNamespace& ipc, const std::shared_ptr<MsgQueue>& queue) {
  queue->remove(ipc);
  ipc.msg().remove(*queue);
}

std::string render_proc_sysvipc_msg(IpcNamespace& ipc) {
  std::string text =
      "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      "
      "stime      rtime      ctime\n";
  for (const std::shared_ptr<MsgQueue>& queue : ipc.msg().objects()) {
    const IpcPermission& perm = queue->perm;
    text += fmt::format(
        "{:>10} {:>10}  {:>4o}  {:>10} {:>10} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>10} {:>10} "
        "{:>10}\n",
        perm.key, perm.id, perm.mode, queue->bytes(), queue->count(), queue->last_sender,
        queue->last_receiver, perm.uid, perm.gid, perm.cuid, perm.cgid, queue->send_time,
        queue->receive_time, queue->change_time);
  }
  return text;
}

}  // namespace ward::kernel::ipc
