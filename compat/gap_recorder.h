// GapRecorder: every compatibility gap a guest hit, that is, a syscall, flag,
// ioctl request, socket option or file ward lacks, with how often, when,
// from which program and process, the errno the guest got, and the guest
// call stacks of its first few hits.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "compat/symbolizer.h"

namespace ward::compat {

// The kind of thing that is missing. The JSON report spells each one as
// gap_kind_name() returns it.
enum class GapKind : uint8_t {
  kSyscall,   // a syscall ward does not implement at all
  kArgument,  // a flag, mode or command of an implemented syscall
  kIoctl,     // an ioctl request a file does not serve
  kSocket,    // a socket family, type, protocol or option
  kProcFile,  // a /proc or /sys file
  kFileType,  // an operation on a file of some type (opening a host FIFO)
  kByDesign,  // left out on purpose; programs fall back (rseq, io_uring)
};

std::string_view gap_kind_name(GapKind kind);
std::optional<GapKind> parse_gap_kind(std::string_view name);

// Wall-clock time of a hit, for first and last seen.
using GapClock = std::chrono::system_clock;

// One guest call stack, innermost frame first.
struct GuestStack {
  pid_t pid = 0;  // virtual pid of the process that hit the gap
  pid_t tid = 0;  // virtual tid
  // "libunwind" (DWARF CFI through libunwind-ptrace) or "frame pointers"
  // (the rbp chain, when libunwind could not unwind).
  std::string method = {};
  std::vector<StackFrame> frames = {};
};

struct GapRecord {
  GapKind kind = GapKind::kArgument;
  std::string syscall = {};  // "rseq", "ioctl"
  std::string detail = {};   // what exactly is missing ("TIOCSTI"), empty for a whole syscall
  std::string program = {};  // the executable that hit it, as a sandbox path
  std::string note = {};     // what the program can do, or falls back to
  // The errno the call returned: 0 when it succeeded anyway, unset while
  // the call that hit the gap has not finished.
  std::optional<int> error = {};
  uint64_t count = 0;
  GapClock::time_point first_seen = {};
  GapClock::time_point last_seen = {};
  std::vector<pid_t> pids = {};         // virtual pids that hit it, the first kMaxPids
  std::vector<GuestStack> stacks = {};  // the stacks of its first kMaxStacks hits
};

// One hit, as a call site describes it.
struct GapHit {
  GapKind kind = GapKind::kArgument;
  std::string_view syscall = {};
  std::string_view detail = {};
  std::string_view program = {};
  pid_t pid = 0;
  pid_t tid = 0;
  // The errno the guest gets. Unset: the result of the call that hit the
  // gap, as finish_call() learns it.
  std::optional<int> error = {};
  std::string_view note = {};
};

class GapRecorder {
 public:
  // Hits per gap whose call stack is kept.
  static constexpr size_t kMaxStacks = 3;
  // Distinct pids kept per gap.
  static constexpr size_t kMaxPids = 16;

  // Counts one hit. Returns true on the first hit of this syscall, detail
  // and program, so that the caller logs each gap once. A hit among the
  // first kMaxStacks of its gap waits, keyed by its tid, for finish_call()
  // to receive its stack and errno.
  bool record(const GapHit& hit);

  // Whether some call is waiting for finish_call(). Checked on every
  // syscall, so it costs one comparison when no gap was hit.
  bool has_unfinished_calls() const { return !unfinished_.empty(); }

  // Whether the call running on `tid` hit a gap that still needs a stack.
  bool wants_stack(pid_t tid) const;

  // Ends the call running on `tid`: every gap it hit without an errno gets
  // `error` (0 for success, unset for a call that returns none), and every
  // gap that wants a stack gets `stack` when it is given.
  void finish_call(pid_t tid, std::optional<int> error, const std::optional<GuestStack>& stack);

  // Every gap, ordered by syscall, detail and program.
  std::vector<GapRecord> records() const;

  bool empty() const { return records_.empty(); }

  // Describes guest code addresses; shared by every stack of the sandbox so
  // that each object's symbols are read once.
  Symbolizer& symbolizer() { return symbolizer_; }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;

  struct Unfinished {
    size_t index;      // into records_
    bool wants_stack;  // this hit is among the first kMaxStacks
  };

  std::vector<GapRecord> records_;
  std::map<Key, size_t> index_;
  // Hits whose call has not finished, by the virtual tid making the call.
  std::unordered_map<pid_t, std::vector<Unfinished>> unfinished_;
  // Stacks promised to each gap: kept hits plus hits waiting for one.
  std::vector<size_t> stacks_promised_;
  Symbolizer symbolizer_;
};

}  // namespace ward::compat
