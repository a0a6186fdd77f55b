// GapRecorder: every compatibility gap a guest hit, that is, a syscall, flag,
// command or file ward lacks, with how often and from which program.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace ward::compat {

struct GapRecord {
  std::string syscall;  // "rseq", "ioctl"
  std::string detail;   // what exactly is missing ("TIOCSTI"), empty for the whole syscall
  std::string program;  // the executable that hit it
  uint64_t count = 0;
};

class GapRecorder {
 public:
  // Counts one hit. Returns true on the first hit of this syscall, detail
  // and program, so that the caller logs each gap once.
  bool record(std::string_view syscall, std::string_view detail, std::string_view program);

  // Every gap, ordered by syscall, detail and program.
  std::vector<GapRecord> records() const;

  bool empty() const { return counts_.empty(); }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, uint64_t> counts_;
};

}  // namespace ward::compat
