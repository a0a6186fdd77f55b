// The compatibility report: a verdict on a run, the gaps of every process
// merged and ordered by count, each with its guest stacks and a hint, and
// the preflight findings. Rendered as text, JSON (the versioned schema of
// docs/compat-report.md) or Markdown.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "compat/gap_recorder.h"
#include "compat/preflight.h"

namespace ward::compat {

// The schema name and version written into every JSON report.
inline constexpr std::string_view kReportSchema = "ward-compat-report";
inline constexpr int kReportSchemaVersion = 1;

// Gaps the verdict of a failed run names: the last ones hit before it ended.
inline constexpr size_t kLastGapsNamed = 3;

enum class ReportFormat : uint8_t { kText, kJson, kMarkdown };

std::optional<ReportFormat> parse_report_format(std::string_view name);

// How the program's run ended.
struct RunOutcome {
  std::vector<std::string> command = {};  // the program and its arguments
  // The first process's wait(2) status; unset when the program never ran
  // (a preflight-only report, or an exec that failed).
  std::optional<int> wait_status = {};
  // The errno of the first process's exec, when that is why it ended.
  std::optional<int> start_error = {};
};

struct CompatReport {
  RunOutcome run = {};
  std::vector<GapRecord> gaps = {};
  std::optional<PreflightReport> preflight = {};
};

// Gaps of kind kByDesign (rseq, io_uring) are listed apart and never make a
// verdict worse than kNoGaps, since programs fall back from them.
enum class VerdictKind : uint8_t {
  kNoGaps,    // the program succeeded and hit no gap apart from by-design ones
  kSurvived,  // the program hit other gaps and still exited with status 0
  kFailed,    // the program failed; the gaps it hit last are the suspects
  kNotRun,    // only preflight ran
};

struct Verdict {
  VerdictKind kind = VerdictKind::kNoGaps;
  std::string summary = {};
  // Indexes into the ordered gaps: the last kLastGapsNamed hit before a
  // failure, latest first. By-design gaps are named only when the program
  // hit no other gap.
  std::vector<size_t> last_gaps = {};
  // Indexes into the ordered gaps of the by-design ones, in report order.
  std::vector<size_t> by_design_gaps = {};
};

std::string_view verdict_kind_name(VerdictKind kind);

// The gaps ordered by count, highest first, then by syscall and detail.
std::vector<GapRecord> order_gaps(std::vector<GapRecord> gaps);

// The verdict on a report whose gaps order_gaps() has ordered.
Verdict judge(const CompatReport& report);

// What a program that hit `gap` can do about it.
std::string gap_hint(const GapRecord& gap);

nlohmann::json report_json(const CompatReport& report);
std::string render_report(const CompatReport& report, ReportFormat format);

}  // namespace ward::compat
