// inotify: a file that reports events on watched inodes as a stream of
// struct inotify_event records, as Linux's fs/notify/inotify has it. The
// events come from the sentry's own VFS operations (fsnotify.h); changes
// that host processes make outside the sandbox are never reported.
//
// A watch belongs to one inotify file and keys on an Inode object. It pins
// the dentry that add_watch found, so that later lookups of the same name
// reach the same inode object, as Linux's inode cache does.
#pragma once

#include <sys/inotify.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sentry/kernel/wait_queue.h"
#include "sentry/vfs/file.h"

namespace ward::vfs {

class Dentry;
class InotifyFile;

// Linux's default /proc/sys/fs/inotify/max_queued_events: past this many
// queued events one IN_Q_OVERFLOW event replaces the rest.
inline constexpr size_t kInotifyMaxQueuedEvents = 16384;

// The flags of inotify_add_watch that are not events but are kept with the
// watch.
inline constexpr uint32_t kInotifyWatchFlags = IN_ONESHOT | IN_EXCL_UNLINK;

struct InotifyWatch {
  InotifyFile* owner;
  int wd;
  uint32_t mask;  // IN_ALL_EVENTS bits plus kInotifyWatchFlags
  std::shared_ptr<Dentry> dentry;
};

// The watches of one inode, from every inotify file.
class InodeWatches {
 public:
  std::vector<InotifyWatch*> watches;
};

class InotifyFile final : public FileDescription {
 public:
  InotifyFile(VirtualDentry location, uint32_t flags);
  ~InotifyFile() override;

  // Adds or updates the watch on the inode of `dentry` and returns its
  // descriptor, the same one for the same inode. `mask` is add_watch's
  // argument: IN_MASK_ADD adds to an existing mask, IN_MASK_CREATE fails
  // with EEXIST when a watch exists.
  Result<int> add_watch(const std::shared_ptr<Dentry>& dentry, uint32_t mask);

  // Removes watch `wd` and queues IN_IGNORED for it. EINVAL for an unknown
  // descriptor.
  Result<void> remove_watch(int wd);

  // Queues one event, unless it repeats the last queued one, or
  // IN_Q_OVERFLOW when the queue is full.
  void queue_event(int wd, uint32_t mask, uint32_t cookie, std::string_view name);

  // Copies whole events into `buffer`. EAGAIN when none is queued, EINVAL
  // when the next one does not fit.
  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override;

  // NOTE: Linux's inotify has noop_llseek, so lseek returns 0 there, but a
  // stream here fails lseek with ESPIPE.
  bool stream() const override { return true; }

  uint32_t readiness(uint32_t mask) override;
  kernel::WaitQueue* wait_queue() override { return &queue_; }
  bool can_poll() override { return true; }

  // FIONREAD: the bytes of the queued events.
  Result<int64_t> ioctl(kernel::Task& task, uint32_t request, GuestAddr arg) override;

 private:
  struct Event {
    int wd;
    uint32_t mask;
    uint32_t cookie;
    std::string name;
  };

  // The size of `event` as read(2) returns it: the header and the name,
  // NUL-padded to a multiple of the header size.
  static size_t record_size(const Event& event);

  // Drops watch `wd` from its inode and from this file, without an event.
  void detach_watch(int wd);

  std::map<int, std::unique_ptr<InotifyWatch>> watches_;
  int next_wd_ = 1;
  std::deque<Event> events_;
  size_t queued_bytes_ = 0;
  bool overflow_queued_ = false;
  kernel::WaitQueue queue_;
};

// The inotify file behind `file`, or nullptr when it is another kind.
InotifyFile* as_inotify(FileDescription& file);

}  // namespace ward::vfs
