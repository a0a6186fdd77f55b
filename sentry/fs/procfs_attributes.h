// The /proc/<pid> files of small per-process attributes: comm and
// oom_score_adj, which the process may write, oom_score, and the fdinfo
// of each open descriptor. Rules and formats follow Linux's
// fs/proc/base.c and fs/proc/fd.c.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "sentry/fs/synthetic.h"
#include "sentry/kernel/credentials.h"
#include "sentry/vfs/caller.h"
#include "ward/result.h"

namespace ward::kernel {
class Kernel;
class Task;
class ThreadGroup;
}  // namespace ward::kernel

namespace ward::vfs {

// Linux's OOM_SCORE_ADJ_MIN and OOM_SCORE_ADJ_MAX.
inline constexpr int kOomScoreAdjMin = -1000;
inline constexpr int kOomScoreAdjMax = 1000;

// The task that opened a writable procfs file, which its writes check.
//
// NOTE: Linux checks the task that calls write(2). The sentry's file
// operations do not receive the calling task, so the opener stands in.
// The two differ only when the descriptor is passed to another process.
struct ProcWriter {
  kernel::Kernel* kernel = nullptr;
  pid_t pid = 0;  // the opener's process
  kernel::Credentials creds;
};

// A procfs file a process may write. `read` makes the text that reads
// return, once per open for reading. `write` applies one write(2) and
// returns the byte count it reports.
// The file operations Linux gives a writable procfs file, which decide how
// its opens seek and whether pwrite works.
enum class ProcFileKind {
  // A seq_file (comm): lseek takes SEEK_SET and SEEK_CUR only, and pwrite
  // fails with ESPIPE.
  kSeqFile,
  // Plain read and write methods with default_llseek (oom_score_adj):
  // SEEK_END counts from size 0, and pwrite works, its offset ignored.
  kPlain,
};

class ProcWritableFile final : public SyntheticInode {
 public:
  using Reader = std::function<Result<std::string>(const Caller&)>;
  using Writer =
      std::function<Result<size_t>(const ProcWriter& writer, std::span<const std::byte> data)>;

  ProcWritableFile(std::shared_ptr<Filesystem> filesystem, Reader read, Writer write,
                   ProcFileKind kind, mode_t permissions, uint64_t ino, uid_t uid, gid_t gid);

  Result<FileRef> open(const Caller& caller, const VirtualDentry& location,
                       uint32_t flags) override;

 protected:
  Result<std::pair<uid_t, gid_t>> owner() const override {
    return std::pair<uid_t, gid_t>{uid_, gid_};
  }

 private:
  Reader read_;
  Writer write_;
  ProcFileKind kind_;
  uid_t uid_;
  gid_t gid_;
};

// Parses a number as Linux's kstrtoint does after strstrip: surrounding
// white space is ignored, one sign, base 0 (0x for hex, a leading 0 for
// octal). EINVAL for anything else, ERANGE beyond int.
Result<int> parse_kernel_int(std::string_view text);

// A write to /proc/<pid>/comm of `target` by `writer`: the bytes up to
// the first NUL, at most 15, become the name. EINVAL when the writer is
// another process. Returns the whole count, as Linux does.
Result<size_t> write_comm(const ProcWriter& writer, kernel::Task& target,
                          std::span<const std::byte> data);

// A write to /proc/<pid>/oom_score_adj of `target`: the first 12 bytes,
// up to a NUL, are parsed, EINVAL outside -1000..1000, EACCES below the
// process's minimum without CAP_SYS_RESOURCE. A writer with that
// capability also sets the minimum. Returns the count parsed, at most 12,
// as Linux does.
Result<size_t> write_oom_score_adj(const ProcWriter& writer, kernel::ThreadGroup& target,
                                   std::span<const std::byte> data);

// The inputs of Linux's oom_badness, in pages.
struct OomUsage {
  uint64_t rss_pages = 0;
  uint64_t swap_pages = 0;
  uint64_t page_table_pages = 0;
  uint64_t total_pages = 0;  // RAM and swap of the system
  int oom_score_adj = 0;
};

// /proc/<pid>/oom_score's value: the badness scaled into 0..1333 as
// Linux's proc_oom_score does, 0 for an adj of -1000.
uint64_t oom_score(const OomUsage& usage);

// One /proc/<pid>/fdinfo/<n> file's common lines.
struct FdInfo {
  int64_t pos = 0;
  uint32_t flags = 0;  // the status flags, with O_CLOEXEC for a close-on-exec descriptor
  int mnt_id = 0;
  uint64_t ino = 0;
};
std::string format_fdinfo(const FdInfo& info);

// The texts of oom_score and fdinfo/<fd> for `task`.
Result<std::string> oom_score_text(kernel::Task& task);
Result<std::string> fdinfo_text(kernel::Task& task, int fd);

}  // namespace ward::vfs
