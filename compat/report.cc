#include "compat/report.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ward/errno_name.h"

namespace ward::compat {
namespace {

std::string format_time(GapClock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto milliseconds =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char text[32];
  strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", text, milliseconds);
}

std::string signal_name(int signal_number) {
  const char* abbreviation = sigabbrev_np(signal_number);
  return abbreviation != nullptr ? fmt::format("SIG{}", abbreviation)
                                 : fmt::format("signal {}", signal_number);
}

// "ENOSYS", "success" for a call that succeeded anyway, or "unknown" for a
// call that never finished (its task was killed while it blocked).
std::string describe_error(const std::optional<int>& error) {
  if (!error.has_value()) {
    return "unknown";
  }
  if (*error == 0) {
    return "success";
  }
  return std::string(errno_name(*error));
}

// "ioctl TIOCSCTTY", or the syscall alone for a whole missing syscall.
std::string gap_title(const GapRecord& gap) {
  return gap.detail.empty() ? gap.syscall : fmt::format("{} {}", gap.syscall, gap.detail);
}

bool is_by_design(const GapRecord& gap) { return gap.kind == GapKind::kByDesign; }

// The titles of the gaps at `indexes`, comma-separated.
std::string join_titles(const CompatReport& report, const std::vector<size_t>& indexes) {
  std::vector<std::string> titles;
  for (size_t index : indexes) {
    titles.push_back(gap_title(report.gaps[index]));
  }
  return fmt::format("{}", fmt::join(titles, ", "));
}

bool program_failed(const RunOutcome& run) {
  if (run.start_error.has_value()) {
    return true;
  }
  return !run.wait_status.has_value() || !WIFEXITED(*run.wait_status) ||
         WEXITSTATUS(*run.wait_status) != 0;
}

std::string describe_ending(const RunOutcome& run) {
  if (run.start_error.has_value()) {
    return fmt::format("could not start ({})", errno_name(*run.start_error));
  }
  if (!run.wait_status.has_value()) {
    return "did not run";
  }
  if (WIFEXITED(*run.wait_status)) {
    return fmt::format("exit status {}", WEXITSTATUS(*run.wait_status));
  }
  return fmt::format("killed by {}", signal_name(WTERMSIG(*run.wait_status)));
}

nlohmann::json stack_json(const GuestStack& stack) {
  nlohmann::json frames = nlohmann::json::array();
  for (const StackFrame& frame : stack.frames) {
    nlohmann::json entry = {
        {"pc", fmt::format("{:#x}", frame.pc)},
        {"text", frame.text()},
        {"object", frame.object.empty() ? nlohmann::json(nullptr) : nlohmann::json(frame.object)},
        {"object_offset", frame.object.empty() ? nlohmann::json(nullptr)
                                               : nlohmann::json(fmt::format("{:#x}", frame.object_offset))},
        {"function", frame.function.empty() ? nlohmann::json(nullptr) : nlohmann::json(frame.function)},
        {"function_offset", frame.function.empty()
                                ? nlohmann::json(nullptr)
                                : nlohmann::json(fmt::format("{:#x}", frame.function_offset))},
    };
    frames.push_back(std::move(entry));
  }
  return {{"pid", stack.pid}, {"tid", stack.tid}, {"method", stack.method}, {"frames", frames}};
}

nlohmann::json gap_json(const GapRecord& gap) {
  nlohmann::json stacks = nlohmann::json::array();
  for (const GuestStack& stack : gap.stacks) {
    stacks.push_back(stack_json(stack));
  }
  return {
      {"kind", gap_kind_name(gap.kind)},
      {"syscall", gap.syscall},
      {"detail", gap.detail},
      {"program", gap.program},
      {"errno", gap.error.has_value() && *gap.error != 0 ? nlohmann::json(errno_name(*gap.error))
                                                         : nlohmann::json(nullptr)},
      {"errno_value", gap.error.has_value() ? nlohmann::json(*gap.error) : nlohmann::json(nullptr)},
      {"count", gap.count},
      {"first_seen", format_time(gap.first_seen)},
      {"last_seen", format_time(gap.last_seen)},
      {"pids", gap.pids},
      {"note", gap.note},
      {"hint", gap_hint(gap)},
      {"stacks", stacks},
  };
}

nlohmann::json preflight_json(const PreflightReport& preflight) {
  nlohmann::json findings = nlohmann::json::array();
  for (const PreflightFinding& finding : preflight.findings) {
    findings.push_back({{"severity", severity_name(finding.severity)},
                        {"subject", finding.subject},
                        {"message", finding.message},
                        {"action", finding.action}});
  }
  nlohmann::json libraries = nlohmann::json::array();
  for (const ResolvedLibrary& library : preflight.libraries) {
    libraries.push_back(
        {{"name", library.name}, {"path", library.path}, {"needed_by", library.needed_by}});
  }
  return {
      {"program", preflight.program},
      {"script_interpreter", preflight.script_interpreter.empty()
                                 ? nlohmann::json(nullptr)
                                 : nlohmann::json(preflight.script_interpreter)},
      {"kind", binary_kind_name(preflight.kind)},
      {"interpreter",
       preflight.interpreter.empty() ? nlohmann::json(nullptr) : nlohmann::json(preflight.interpreter)},
      {"ok", preflight.ok()},
      {"libraries", libraries},
      {"findings", findings},
  };
}

void append_text_preflight(std::string& out, const PreflightReport& preflight) {
  out += fmt::format("preflight of {}: {} binary{}\n", preflight.program,
                     binary_kind_name(preflight.kind),
                     preflight.interpreter.empty() ? "" : ", loader " + preflight.interpreter);
  for (const PreflightFinding& finding : preflight.findings) {
    out += fmt::format("  {}: {}: {}\n", severity_name(finding.severity), finding.subject,
                       finding.message);
    if (!finding.action.empty()) {
      out += fmt::format("    what to do: {}\n", finding.action);
    }
  }
}

// The indexes of the gaps that count against the verdict, in report order.
std::vector<size_t> counted_gaps(const CompatReport& report) {
  std::vector<size_t> counted;
  for (size_t i = 0; i < report.gaps.size(); ++i) {
    if (!is_by_design(report.gaps[i])) {
      counted.push_back(i);
    }
  }
  return counted;
}

void append_text_gaps(std::string& out, const CompatReport& report,
                      const std::vector<size_t>& indexes) {
  for (size_t n = 0; n < indexes.size(); ++n) {
    const GapRecord& gap = report.gaps[indexes[n]];
    out += fmt::format("{:>3}. {} [{}] x{}, errno {}, pid {}, {}\n", n + 1, gap_title(gap),
                       gap_kind_name(gap.kind), gap.count, describe_error(gap.error),
                       fmt::join(gap.pids, ","), gap.program);
    out += fmt::format("     hint: {}\n", gap_hint(gap));
    for (const GuestStack& stack : gap.stacks) {
      out += fmt::format("     stack of pid {} ({}):\n", stack.pid, stack.method);
      for (size_t f = 0; f < stack.frames.size(); ++f) {
        out += fmt::format("       #{:<2} {}\n", f, stack.frames[f].text());
      }
    }
  }
}

std::string render_text(const CompatReport& report) {
  const Verdict verdict = judge(report);
  const std::vector<size_t> counted = counted_gaps(report);
  std::string out;
  out += fmt::format("ward compat: {}\n", fmt::join(report.run.command, " "));
  out += fmt::format("verdict: {}\n", verdict.summary);
  if (!counted.empty()) {
    out += fmt::format("\ngaps ({}, most frequent first):\n", counted.size());
    append_text_gaps(out, report, counted);
  }
  if (!verdict.by_design_gaps.empty()) {
    out += fmt::format("\nleft out by design ({}, not counted in the verdict):\n",
                       verdict.by_design_gaps.size());
    append_text_gaps(out, report, verdict.by_design_gaps);
  }
  if (report.preflight.has_value()) {
    out += "\n";
    append_text_preflight(out, *report.preflight);
  }
  return out;
}

void append_markdown_gaps(std::string& out, const CompatReport& report,
                          const std::vector<size_t>& indexes) {
  out += "| # | gap | kind | count | errno | pids | program |\n";
  out += "|---|---|---|---|---|---|---|\n";
  for (size_t n = 0; n < indexes.size(); ++n) {
    const GapRecord& gap = report.gaps[indexes[n]];
    out += fmt::format("| {} | `{}` | {} | {} | {} | {} | `{}` |\n", n + 1, gap_title(gap),
                       gap_kind_name(gap.kind), gap.count, describe_error(gap.error),
                       fmt::join(gap.pids, ", "), gap.program);
  }
  for (size_t n = 0; n < indexes.size(); ++n) {
    const GapRecord& gap = report.gaps[indexes[n]];
    out += fmt::format("\n### {}. `{}`\n\n{}\n", n + 1, gap_title(gap), gap_hint(gap));
    for (const GuestStack& stack : gap.stacks) {
      out += fmt::format("\nStack of pid {} ({}):\n\n```\n", stack.pid, stack.method);
      for (size_t f = 0; f < stack.frames.size(); ++f) {
        out += fmt::format("#{:<2} {}\n", f, stack.frames[f].text());
      }
      out += "```\n";
    }
  }
}

std::string render_markdown(const CompatReport& report) {
  const Verdict verdict = judge(report);
  const std::vector<size_t> counted = counted_gaps(report);
  std::string out;
  out += fmt::format("# ward compat: `{}`\n\n", fmt::join(report.run.command, " "));
  out += fmt::format("**Verdict:** {}\n", verdict.summary);
  if (!counted.empty()) {
    out += "\n## Gaps\n\n";
    append_markdown_gaps(out, report, counted);
  }
  if (!verdict.by_design_gaps.empty()) {
    out += "\n## Left out by design\n\nNot counted in the verdict: programs fall back.\n\n";
    append_markdown_gaps(out, report, verdict.by_design_gaps);
  }
  if (report.preflight.has_value()) {
    const PreflightReport& preflight = *report.preflight;
    out += fmt::format("\n## Preflight of `{}`\n\n{} binary{}\n\n", preflight.program,
                       binary_kind_name(preflight.kind),
                       preflight.interpreter.empty() ? "" : ", loader `" + preflight.interpreter + "`");
    for (const PreflightFinding& finding : preflight.findings) {
      out += fmt::format("- **{}** `{}`: {}", severity_name(finding.severity), finding.subject,
                         finding.message);
      if (!finding.action.empty()) {
        out += fmt::format(" *What to do:* {}", finding.action);
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace

std::optional<ReportFormat> parse_report_format(std::string_view name) {
  if (name == "text") {
    return ReportFormat::kText;
  }
  if (name == "json") {
    return ReportFormat::kJson;
  }
  if (name == "markdown") {
    return ReportFormat::kMarkdown;
  }
  return std::nullopt;
}

std::string_view verdict_kind_name(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::kNoGaps: return "no_gaps";
    case VerdictKind::kSurvived: return "survived";
    case VerdictKind::kFailed: return "failed";
    case VerdictKind::kNotRun: return "not_run";
  }
  return "unknown";
}

std::vector<GapRecord> order_gaps(std::vector<GapRecord> gaps) {
  std::stable_sort(gaps.begin(), gaps.end(), [](const GapRecord& a, const GapRecord& b) {
    if (a.count != b.count) {
      return a.count > b.count;
    }
    return std::tie(a.syscall, a.detail, a.program) < std::tie(b.syscall, b.detail, b.program);
  });
  return gaps;
}

Verdict judge(const CompatReport& report) {
  Verdict verdict;
  std::vector<size_t> counted;
  for (size_t i = 0; i < report.gaps.size(); ++i) {
    (is_by_design(report.gaps[i]) ? verdict.by_design_gaps : counted).push_back(i);
  }

  const RunOutcome& run = report.run;
  if (!run.wait_status.has_value() && !run.start_error.has_value()) {
    verdict.kind = VerdictKind::kNotRun;
    verdict.summary = report.preflight.has_value() && !report.preflight->ok()
                          ? "not run; preflight found problems that stop the program from starting"
                          : "not run; preflight found nothing that stops the program from starting";
    return verdict;
  }

  if (!program_failed(run)) {
    const std::string by_design = join_titles(report, verdict.by_design_gaps);
    if (counted.empty()) {
      verdict.kind = VerdictKind::kNoGaps;
      verdict.summary =
          by_design.empty()
              ? "no gaps: ward served every call the program made, and it exited with status 0"
              : fmt::format("no gaps: ward served every call the program made apart from {}, "
                            "which it leaves out by design, and it exited with status 0",
                            by_design);
      return verdict;
    }
    verdict.kind = VerdictKind::kSurvived;
    verdict.summary = fmt::format("the program hit {} gap{} and survived them: it exited with status 0",
                                  counted.size(), counted.size() == 1 ? "" : "s");
    if (!by_design.empty()) {
      verdict.summary += fmt::format(" (not counted: {}, left out by design)", by_design);
    }
    return verdict;
  }

  verdict.kind = VerdictKind::kFailed;
  // A program falls back from a by-design gap, so one is a suspect only
  // when nothing else was hit.
  std::vector<size_t> by_last = counted.empty() ? verdict.by_design_gaps : counted;
  std::stable_sort(by_last.begin(), by_last.end(), [&report](size_t a, size_t b) {
    return report.gaps[a].last_seen > report.gaps[b].last_seen;
  });
  by_last.resize(std::min(by_last.size(), kLastGapsNamed));
  verdict.last_gaps = by_last;
  if (by_last.empty()) {
    verdict.summary = fmt::format(
        "the program failed ({}) without hitting a gap ward records; the failure is the "
        "program's own or a ward bug (try `ward do --strace`)",
        describe_ending(run));
    return verdict;
  }
  verdict.summary = fmt::format("the program failed ({}); the last gaps it hit before that: {}",
                                describe_ending(run), join_titles(report, by_last));
  return verdict;
}

std::string gap_hint(const GapRecord& gap) {
  const std::string error = describe_error(gap.error);
  std::string hint;
  switch (gap.kind) {
    case GapKind::kSyscall:
      hint = fmt::format("ward does not implement {}, so the call returned {}; a program that "
                         "checks for ENOSYS can fall back to an older call",
                         gap.syscall, error);
      break;
    case GapKind::kByDesign:
      hint = fmt::format("ward leaves {} out on purpose and returns {}; programs fall back",
                         gap.syscall, error);
      break;
    case GapKind::kArgument:
      hint = fmt::format("{} lacks {} in ward, so the call returned {}; avoid that flag or mode "
                         "under ward, or check for the error and fall back",
                         gap.syscall, gap.detail, error);
      break;
    case GapKind::kIoctl:
      hint = fmt::format("the file does not serve the ioctl request {} in ward, so the call "
                         "returned {}",
                         gap.detail, error);
      break;
    case GapKind::kSocket:
      hint = fmt::format("ward lacks the socket feature {}, so the call returned {}", gap.detail,
                         error);
      break;
    case GapKind::kProcFile:
      hint = fmt::format("ward's /proc or /sys lacks {}, so the call returned {}", gap.detail,
                         error);
      break;
    case GapKind::kFileType:
      hint = fmt::format("ward does not support {}, so the call returned {}", gap.detail, error);
      break;
  }
  if (!gap.note.empty()) {
    hint += fmt::format("; {}", gap.note);
  }
  return hint;
}

nlohmann::json report_json(const CompatReport& report) {
  const Verdict verdict = judge(report);
  const RunOutcome& run = report.run;

  nlohmann::json outcome = {
      {"started", run.wait_status.has_value() && !run.start_error.has_value()},
      {"exit_status", nullptr},
      {"signal", nullptr},
      {"start_error", run.start_error.has_value() ? nlohmann::json(errno_name(*run.start_error))
                                                  : nlohmann::json(nullptr)},
  };
  if (run.wait_status.has_value() && !run.start_error.has_value()) {
    if (WIFEXITED(*run.wait_status)) {
      outcome["exit_status"] = WEXITSTATUS(*run.wait_status);
    } else if (WIFSIGNALED(*run.wait_status)) {
      outcome["signal"] = signal_name(WTERMSIG(*run.wait_status));
    }
  }

  nlohmann::json gaps = nlohmann::json::array();
  for (const GapRecord& gap : report.gaps) {
    gaps.push_back(gap_json(gap));
  }
  return {
      {"schema", kReportSchema},
      {"version", kReportSchemaVersion},
      {"command", run.command},
      {"outcome", outcome},
      {"verdict",
       {{"kind", verdict_kind_name(verdict.kind)},
        {"summary", verdict.summary},
        {"last_gaps", verdict.last_gaps},
        {"by_design_gaps", verdict.by_design_gaps}}},
      {"gaps", gaps},
      {"preflight",
       report.preflight.has_value() ? preflight_json(*report.preflight) : nlohmann::json(nullptr)},
  };
}

std::string render_report(const CompatReport& report, ReportFormat format) {
  switch (format) {
    case ReportFormat::kText: return render_text(report);
    case ReportFormat::kJson: return report_json(report).dump(2) + "\n";
    case ReportFormat::kMarkdown: return render_markdown(report);
  }
  return {};
}

}  // namespace ward::compat
