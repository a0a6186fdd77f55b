#include "compat/gap_recorder.h"

#include <algorithm>
#include <array>

namespace ward::compat {
namespace {

constexpr std::array<std::pair<GapKind, std::string_view>, 7> kKindNames = {{
    {GapKind::kSyscall, "syscall"},
    {GapKind::kArgument, "argument"},
    {GapKind::kIoctl, "ioctl"},
    {GapKind::kSocket, "socket"},
    {GapKind::kProcFile, "proc_file"},
    {GapKind::kFileType, "file_type"},
    {GapKind::kByDesign, "by_design"},
}};

}  // namespace

std::string_view gap_kind_name(GapKind kind) {
  for (const auto& [value, name] : kKindNames) {
    if (value == kind) {
      return name;
    }
  }
  return "unknown";
}

std::optional<GapKind> parse_gap_kind(std::string_view name) {
  for (const auto& [value, kind_name] : kKindNames) {
    if (kind_name == name) {
      return value;
    }
  }
  return std::nullopt;
}

bool GapRecorder::record(const GapHit& hit) {
  const GapClock::time_point now = GapClock::now();
  auto [it, inserted] = index_.try_emplace(
      Key(std::string(hit.syscall), std::string(hit.detail), std::string(hit.program)),
      records_.size());
  if (inserted) {
    records_.push_back(GapRecord{
        .kind = hit.kind,
        .syscall = std::string(hit.syscall),
        .detail = std::string(hit.detail),
        .program = std::string(hit.program),
        .note = std::string(hit.note),
        .error = hit.error,
        .first_seen = now,
    });
    stacks_promised_.push_back(0);
  }
  const size_t index = it->second;
  GapRecord& gap = records_[index];
  ++gap.count;
  gap.last_seen = now;
  if (gap.pids.size() < kMaxPids && std::find(gap.pids.begin(), gap.pids.end(), hit.pid) == gap.pids.end()) {
    gap.pids.push_back(hit.pid);
  }

  const bool wants_stack = stacks_promised_[index] < kMaxStacks;
  if (wants_stack) {
    ++stacks_promised_[index];
  }
  if (wants_stack || !gap.error.has_value()) {
    unfinished_[hit.tid].push_back(Unfinished{.index = index, .wants_stack = wants_stack});
  }
  return inserted;
}

bool GapRecorder::wants_stack(pid_t tid) const {
  auto it = unfinished_.find(tid);
  if (it == unfinished_.end()) {
    return false;
  }
  return std::any_of(it->second.begin(), it->second.end(),
                     [](const Unfinished& hit) { return hit.wants_stack; });
}

void GapRecorder::finish_call(pid_t tid, std::optional<int> error,
                              const std::optional<GuestStack>& stack) {
  auto it = unfinished_.find(tid);
  if (it == unfinished_.end()) {
    return;
  }
  for (const Unfinished& hit : it->second) {
    GapRecord& gap = records_[hit.index];
    if (!gap.error.has_value()) {
      gap.error = error;
    }
    if (!hit.wants_stack) {
      continue;
    }
    if (stack.has_value()) {
      gap.stacks.push_back(*stack);
    } else {
      // No stack this time: a later hit may supply one.
      --stacks_promised_[hit.index];
    }
  }
  unfinished_.erase(it);
}

std::vector<GapRecord> GapRecorder::records() const {
  std::vector<GapRecord> list;
  list.reserve(index_.size());
  for (const auto& [key, index] : index_) {
    list.push_back(records_[index]);
  }
  return list;
}

}  // namespace ward::compat
