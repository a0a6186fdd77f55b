#include "compat/gap_recorder.h"

namespace ward::compat {

bool GapRecorder::record(std::string_view syscall, std::string_view detail,
                         std::string_view program) {
  auto [it, inserted] =
      counts_.try_emplace(Key(std::string(syscall), std::string(detail), std::string(program)), 0);
  ++it->second;
  return inserted;
}

std::vector<GapRecord> GapRecorder::records() const {
  std::vector<GapRecord> list;
  list.reserve(counts_.size());
  for (const auto& [key, count] : counts_) {
    const auto& [syscall, detail, program] = key;
    list.push_back(GapRecord{syscall, detail, program, count});
  }
  return list;
}

}  // namespace ward::compat
