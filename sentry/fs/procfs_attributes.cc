#include "sentry/fs/procfs_attributes.h"

#include <fmt/format.h>
#include <sys/sysinfo.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>

#include "sentry/fs/procfs_status.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// Linux's TASK_COMM_LEN - 1 and PROC_NUMBUF - 1: the bytes comm and
// oom_score_adj take from one write.
constexpr size_t kCommWriteBytes = 15;
constexpr size_t kNumberWriteBytes = 12;

constexpr int kCapSysResource = 24;

// The open file of a ProcWritableFile: the text read at open, if opened
// for reading, and the writer.
class ProcWritableDescription final : public FileDescription {
 public:
  ProcWritableDescription(VirtualDentry location, uint32_t flags, std::string text,
                          ProcWriter writer, ProcWritableFile::Writer write, ProcFileKind kind)
      : FileDescription(std::move(location), flags),
        text_(std::move(text)),
        writer_(std::move(writer)),
        write_(std::move(write)),
        kind_(kind) {}

  Result<size_t> read(std::span<std::byte> buffer, std::optional<int64_t> offset) override {
    return at_position(offset, [&](int64_t position) -> Result<size_t> {
      if (static_cast<uint64_t>(position) >= text_.size()) {
        return size_t{0};
      }
      const size_t count = std::min(buffer.size(), text_.size() - static_cast<size_t>(position));
      std::memcpy(buffer.data(), text_.data() + position, count);
      return count;
    });
  }

  // Each write is applied whole, wherever the offset is, as Linux's comm
  // and oom_score_adj writes do.
  Result<size_t> write(std::span<const std::byte> buffer, std::optional<int64_t>) override {
    return write_(writer_, buffer);
  }
  Result<size_t> write_empty(std::optional<int64_t>) override { return write_(writer_, {}); }

  bool pwrite_allowed() const override { return kind_ != ProcFileKind::kSeqFile; }

  // Linux's proc_setattr accepts a size change and ignores it, so O_TRUNC
  // (as in `echo name > /proc/self/comm`) and ftruncate succeed.
  Result<void> truncate(int64_t) override { return ok(); }

  // seq_lseek takes SEEK_SET and SEEK_CUR only. default_llseek also takes
  // SEEK_END from the size 0 and fails SEEK_DATA and SEEK_HOLE with ENXIO.
  Result<int64_t> seek(int64_t offset, int whence) override {
    const bool plain = kind_ == ProcFileKind::kPlain;
    if (plain && (whence == SEEK_DATA || whence == SEEK_HOLE)) {
      return Errno{ENXIO};
    }
    if (whence != SEEK_SET && whence != SEEK_CUR && !(plain && whence == SEEK_END)) {
      return Errno{EINVAL};
    }
    const int64_t target = TRY(compute_seek(this->offset(), 0, offset, whence));
    set_offset(target);
    return target;
  }

 private:
  std::string text_;
  ProcWriter writer_;
  ProcWritableFile::Writer write_;
  ProcFileKind kind_;
};

std::string_view as_text(std::span<const std::byte> data) {
  return std::string_view(reinterpret_cast<const char*>(data.data()), data.size());
}

// Strips what Linux's isspace calls white space from both ends.
std::string_view strip_spaces(std::string_view text) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// Linux's _kstrtoull with base 0 on the digits after any sign.
Result<uint64_t> parse_kernel_unsigned(std::string_view text) {
  int base = 10;
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  } else if (!text.empty() && text[0] == '0') {
    base = 8;
  }
  if (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return Errno{EINVAL};
  }
  uint64_t value = 0;
  for (char c : text) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return Errno{EINVAL};
    }
    if (digit >= base) {
      return Errno{EINVAL};
    }
    if (value > (UINT64_MAX - static_cast<uint64_t>(digit)) / static_cast<uint64_t>(base)) {
      return Errno{ERANGE};
    }
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
  }
  return value;
}

}  // namespace

ProcWritableFile::ProcWritableFile(std::shared_ptr<Filesystem> filesystem, Reader read,
                                   Writer write, ProcFileKind kind, mode_t permissions,
                                   uint64_t ino, uid_t uid, gid_t gid)
    : SyntheticInode(std::move(filesystem), S_IFREG | permissions, ino),
      read_(std::move(read)),
      write_(std::move(write)),
      kind_(kind),
      uid_(uid),
      gid_(gid) {}

Result<FileRef> ProcWritableFile::open(const Caller& caller, const VirtualDentry& location,
                                       uint32_t flags) {
  std::string text;
  if ((flags & O_ACCMODE) != O_WRONLY) {
    text = TRY(read_(caller));
  }
  ProcWriter writer{.creds = caller.creds};
  if (caller.task != nullptr) {
    writer.kernel = &caller.task->kernel();
    writer.pid = caller.task->pid();
  }
  return FileRef(std::make_shared<ProcWritableDescription>(location, flags, std::move(text),
                                                           std::move(writer), write_, kind_));
}

Result<int> parse_kernel_int(std::string_view text) {
  text = strip_spaces(text);
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  } else if (!text.empty() && text[0] == '+') {
    text.remove_prefix(1);
  }
  const uint64_t magnitude = TRY(parse_kernel_unsigned(text));
  if (negative) {
    if (magnitude > static_cast<uint64_t>(INT_MAX) + 1) {
      return Errno{ERANGE};
    }
    return static_cast<int>(-static_cast<int64_t>(magnitude));
  }
  if (magnitude > static_cast<uint64_t>(INT_MAX)) {
    return Errno{ERANGE};
  }
  return static_cast<int>(magnitude);
}

Result<size_t> write_comm(const ProcWriter& writer, kernel::Task& target,
                          std::span<const std::byte> data) {
  std::string_view name = as_text(data.first(std::min(data.size(), kCommWriteBytes)));
  name = name.substr(0, name.find('\0'));
  if (writer.pid != target.pid()) {
    return Errno{EINVAL};
  }
  target.set_comm(name);
  return data.size();
}

Result<size_t> write_oom_score_adj(const ProcWriter& writer, kernel::ThreadGroup& target,
                                   std::span<const std::byte> data) {
  // Linux copies at most 12 bytes into a NUL-terminated buffer and parses
  // that C string.
  const size_t count = std::min(data.size(), kNumberWriteBytes);
  std::string_view text = as_text(data.first(count));
  text = text.substr(0, text.find('\0'));
  const int adj = TRY(parse_kernel_int(text));
  if (adj < kOomScoreAdjMin || adj > kOomScoreAdjMax) {
    return Errno{EINVAL};
  }
  const bool privileged = writer.creds.has_capability(kCapSysResource);
  if (adj < target.oom_score_adj_min() && !privileged) {
    return Errno{EACCES};
  }
  target.set_oom_score_adj(adj, privileged ? adj : target.oom_score_adj_min());
  return count;
}

uint64_t oom_score(const OomUsage& usage) {
  if (usage.oom_score_adj == kOomScoreAdjMin || usage.total_pages == 0) {
    return 0;
  }
  const auto total = static_cast<int64_t>(usage.total_pages);
  int64_t badness =
      static_cast<int64_t>(usage.rss_pages + usage.swap_pages + usage.page_table_pages);
  badness += static_cast<int64_t>(usage.oom_score_adj) * (total / 1000);
  const int64_t points = (1000 + badness * 1000 / total) * 2 / 3;
  return points > 0 ? static_cast<uint64_t>(points) : 0;
}

std::string format_fdinfo(const FdInfo& info) {
  return fmt::format("pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}\n", info.pos, info.flags,
                     info.mnt_id, info.ino);
}

Result<std::string> oom_score_text(kernel::Task& task) {
  // The stub process's memory is the guest's; the host counts it.
  const pid_t host_pid = task.mm().address_space().host_pid();
  const std::string path = "/proc/" + std::to_string(host_pid) + "/status";
  const std::vector<StatusLine> host = parse_status_lines(TRY(read_host_file(path.c_str())));
  auto pages_of = [&host](std::string_view key) -> uint64_t {
    for (const StatusLine& line : host) {
      if (line.key == key) {
        return std::strtoull(line.value.c_str(), nullptr, 10) * 1024 / kPageSize;
      }
    }
    return 0;
  };

  struct sysinfo system {};
  if (sysinfo(&system) != 0) {
    return Errno{errno};
  }
  const uint64_t unit = system.mem_unit != 0 ? system.mem_unit : 1;
  const OomUsage usage{
      .rss_pages = pages_of("VmRSS"),
      .swap_pages = pages_of("VmSwap"),
      .page_table_pages = pages_of("VmPTE"),
      .total_pages = (system.totalram + system.totalswap) * unit / kPageSize,
      .oom_score_adj = task.thread_group().oom_score_adj(),
  };
  return fmt::format("{}\n", oom_score(usage));
}

Result<std::string> fdinfo_text(kernel::Task& task, int fd) {
  FileRef file = TRY(task.fdtable().get(fd));
  const bool close_on_exec = TRY(task.fdtable().close_on_exec_flag(fd));
  const struct stat st = TRY(file->stat());
  const VirtualDentry& location = file->location();
  return format_fdinfo(FdInfo{
      .pos = file->offset(),
      .flags = file->flags() | (close_on_exec ? static_cast<uint32_t>(O_CLOEXEC) : 0u),
      .mnt_id = location.mount != nullptr ? location.mount->id() : 0,
      .ino = st.st_ino,
  });
}

}  // namespace ward::vfs
