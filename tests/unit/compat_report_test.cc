// The gap recorder's bookkeeping (counts, pids, errnos learned at the end
// of a call, the cap on stacks) and the report's verdicts and renderings.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "compat/gap_recorder.h"
#include "compat/report.h"

namespace ward::compat {
namespace {

GuestStack stack_of(pid_t pid, std::string function) {
  return GuestStack{.pid = pid,
                    .tid = pid,
                    .method = "libunwind",
                    .frames = {StackFrame{.pc = 0x401000,
                                          .object = "/bin/prog",
                                          .object_offset = 0x1000,
                                          .function = std::move(function),
                                          .function_offset = 0x10}}};
}

TEST(GapRecorderTest, CountsPidsAndErrnoFromTheCall) {
  GapRecorder recorder;
  const GapHit hit{.kind = GapKind::kArgument, .syscall = "mmap", .detail = "MAP_HUGETLB",
                   .program = "/bin/prog", .pid = 1, .tid = 1};
  EXPECT_TRUE(recorder.record(hit));
  EXPECT_TRUE(recorder.has_unfinished_calls());
  EXPECT_TRUE(recorder.wants_stack(1));
  recorder.finish_call(1, ENOMEM, stack_of(1, "f"));
  EXPECT_FALSE(recorder.has_unfinished_calls());

  GapHit other = hit;
  other.pid = 2;
  other.tid = 2;
  EXPECT_FALSE(recorder.record(other));
  recorder.finish_call(2, ENOMEM, stack_of(2, "g"));

  const std::vector<GapRecord> records = recorder.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].count, 2u);
  EXPECT_EQ(records[0].error, ENOMEM);
  EXPECT_EQ(records[0].pids, (std::vector<pid_t>{1, 2}));
  EXPECT_EQ(records[0].stacks.size(), 2u);
  EXPECT_LE(records[0].first_seen, records[0].last_seen);
}

TEST(GapRecorderTest, StacksStopAfterTheFirstFew) {
  GapRecorder recorder;
  const GapHit hit{.kind = GapKind::kIoctl, .syscall = "ioctl", .detail = "TIOCSCTTY",
                   .program = "/bin/prog", .pid = 1, .tid = 1, .error = ENOTTY};
  for (int i = 0; i < 10; ++i) {
    recorder.record(hit);
    const bool wants = recorder.wants_stack(1);
    EXPECT_EQ(wants, static_cast<size_t>(i) < GapRecorder::kMaxStacks) << i;
    recorder.finish_call(1, 0, wants ? std::optional(stack_of(1, "f")) : std::nullopt);
  }
  const std::vector<GapRecord> records = recorder.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].count, 10u);
  EXPECT_EQ(records[0].stacks.size(), GapRecorder::kMaxStacks);
  // The call site's errno wins over the call's result.
  EXPECT_EQ(records[0].error, ENOTTY);
  // Hits past the stack limit with a known errno wait for nothing.
  EXPECT_FALSE(recorder.has_unfinished_calls());
}

TEST(GapRecorderTest, MissedStackIsRetried) {
  GapRecorder recorder;
  const GapHit hit{.syscall = "prctl", .detail = "PR_SET_MM", .program = "/bin/prog", .pid = 1,
                   .tid = 1};
  for (size_t i = 0; i < GapRecorder::kMaxStacks; ++i) {
    recorder.record(hit);
    recorder.finish_call(1, EINVAL, std::nullopt);
  }
  recorder.record(hit);
  EXPECT_TRUE(recorder.wants_stack(1));
  recorder.finish_call(1, EINVAL, stack_of(1, "f"));
  EXPECT_EQ(recorder.records()[0].stacks.size(), 1u);
}

TEST(GapKindTest, NamesRoundTrip) {
  for (GapKind kind : {GapKind::kSyscall, GapKind::kArgument, GapKind::kIoctl, GapKind::kSocket,
                       GapKind::kProcFile, GapKind::kFileType, GapKind::kByDesign}) {
    EXPECT_EQ(parse_gap_kind(gap_kind_name(kind)), kind);
  }
  EXPECT_EQ(parse_gap_kind("bogus"), std::nullopt);
}

GapRecord make_gap(std::string syscall, std::string detail, uint64_t count, int seconds) {
  GapRecord gap;
  gap.kind = detail.empty() ? GapKind::kSyscall : GapKind::kArgument;
  gap.syscall = std::move(syscall);
  gap.detail = std::move(detail);
  gap.program = "/bin/prog";
  gap.error = ENOSYS;
  gap.count = count;
  gap.first_seen = GapClock::time_point(std::chrono::seconds(1000));
  gap.last_seen = GapClock::time_point(std::chrono::seconds(1000 + seconds));
  gap.pids = {1};
  gap.stacks = {stack_of(1, "caller")};
  return gap;
}

CompatReport report_with(int wait_status) {
  CompatReport report;
  report.run.command = {"/bin/prog", "arg"};
  report.run.wait_status = wait_status;
  report.gaps = order_gaps({make_gap("rseq", "", 1, 1), make_gap("mmap", "MAP_HUGETLB", 5, 3),
                            make_gap("perf_event_open", "", 2, 2)});
  return report;
}

TEST(ReportTest, GapsOrderedByCount) {
  const CompatReport report = report_with(0);
  ASSERT_EQ(report.gaps.size(), 3u);
  EXPECT_EQ(report.gaps[0].syscall, "mmap");
  EXPECT_EQ(report.gaps[1].syscall, "perf_event_open");
  EXPECT_EQ(report.gaps[2].syscall, "rseq");
}

TEST(ReportTest, Verdicts) {
  EXPECT_EQ(judge(report_with(0)).kind, VerdictKind::kSurvived);

  CompatReport clean;
  clean.run.wait_status = 0;
  EXPECT_EQ(judge(clean).kind, VerdictKind::kNoGaps);

  // Killed by SIGSEGV: the gaps hit last come first.
  const Verdict failed = judge(report_with(SIGSEGV));
  EXPECT_EQ(failed.kind, VerdictKind::kFailed);
  ASSERT_EQ(failed.last_gaps.size(), 3u);
  const CompatReport crashed = report_with(SIGSEGV);
  EXPECT_EQ(crashed.gaps[failed.last_gaps[0]].syscall, "mmap");
  EXPECT_EQ(crashed.gaps[failed.last_gaps[1]].syscall, "perf_event_open");
  EXPECT_NE(failed.summary.find("killed by SIGSEGV"), std::string::npos) << failed.summary;

  CompatReport preflight_only;
  preflight_only.preflight = PreflightReport{};
  EXPECT_EQ(judge(preflight_only).kind, VerdictKind::kNotRun);
}

CompatReport report_with_by_design(int wait_status) {
  CompatReport report;
  report.run.command = {"/bin/prog"};
  report.run.wait_status = wait_status;
  GapRecord rseq = make_gap("rseq", "", 1, 1);
  rseq.kind = GapKind::kByDesign;
  report.gaps = order_gaps({rseq});
  return report;
}

TEST(ReportTest, ByDesignGapsDoNotCount) {
  const Verdict clean = judge(report_with_by_design(0));
  EXPECT_EQ(clean.kind, VerdictKind::kNoGaps);
  EXPECT_EQ(clean.by_design_gaps, std::vector<size_t>{0});
  EXPECT_NE(clean.summary.find("apart from rseq"), std::string::npos) << clean.summary;

  // Next to another gap the verdict is survived and counts only that one.
  CompatReport mixed = report_with_by_design(0);
  mixed.gaps.push_back(make_gap("perf_event_open", "", 2, 2));
  mixed.gaps = order_gaps(mixed.gaps);
  const Verdict survived = judge(mixed);
  EXPECT_EQ(survived.kind, VerdictKind::kSurvived);
  EXPECT_EQ(survived.by_design_gaps, std::vector<size_t>{1});
  EXPECT_NE(survived.summary.find("hit 1 gap and"), std::string::npos) << survived.summary;

  // A failed run names a by-design gap only when it hit nothing else.
  const Verdict failed = judge(report_with_by_design(1 << 8));
  EXPECT_EQ(failed.kind, VerdictKind::kFailed);
  EXPECT_EQ(failed.last_gaps, std::vector<size_t>{0});
  CompatReport mixed_failed = mixed;
  mixed_failed.run.wait_status = 1 << 8;
  EXPECT_EQ(judge(mixed_failed).last_gaps, std::vector<size_t>{0});

  const std::string text = render_report(mixed, ReportFormat::kText);
  EXPECT_NE(text.find("gaps (1, most frequent first):\n  1. perf_event_open"), std::string::npos)
      << text;
  EXPECT_NE(text.find("left out by design (1, not counted in the verdict):\n  1. rseq"),
            std::string::npos)
      << text;
  const std::string markdown = render_report(mixed, ReportFormat::kMarkdown);
  EXPECT_NE(markdown.find("## Left out by design"), std::string::npos) << markdown;
  EXPECT_EQ(report_json(mixed)["verdict"]["by_design_gaps"], nlohmann::json::array({1}));
}

TEST(ReportTest, JsonSchema) {
  const nlohmann::json json = report_json(report_with(1 << 8));
  EXPECT_EQ(json["schema"], "ward-compat-report");
  EXPECT_EQ(json["version"], kReportSchemaVersion);
  EXPECT_EQ(json["command"], nlohmann::json::array({"/bin/prog", "arg"}));
  EXPECT_EQ(json["outcome"]["exit_status"], 1);
  EXPECT_TRUE(json["outcome"]["signal"].is_null());
  EXPECT_EQ(json["verdict"]["kind"], "failed");
  ASSERT_EQ(json["gaps"].size(), 3u);
  const nlohmann::json& gap = json["gaps"][0];
  EXPECT_EQ(gap["kind"], "argument");
  EXPECT_EQ(gap["errno"], "ENOSYS");
  EXPECT_EQ(gap["errno_value"], ENOSYS);
  EXPECT_EQ(gap["count"], 5);
  EXPECT_EQ(gap["first_seen"], "1970-01-01T00:16:40.000Z");
  EXPECT_EQ(gap["stacks"][0]["frames"][0]["text"], "caller+0x10 (/bin/prog)");
  EXPECT_EQ(gap["stacks"][0]["frames"][0]["pc"], "0x401000");
  EXPECT_FALSE(gap["hint"].get<std::string>().empty());
  EXPECT_TRUE(json["preflight"].is_null());
}

TEST(ReportTest, TextAndMarkdown) {
  const CompatReport report = report_with(0);
  const std::string text = render_report(report, ReportFormat::kText);
  EXPECT_NE(text.find("mmap MAP_HUGETLB [argument] x5, errno ENOSYS"), std::string::npos) << text;
  EXPECT_NE(text.find("#0  caller+0x10 (/bin/prog)"), std::string::npos) << text;

  const std::string markdown = render_report(report, ReportFormat::kMarkdown);
  EXPECT_NE(markdown.find("| 1 | `mmap MAP_HUGETLB` | argument | 5 | ENOSYS |"), std::string::npos)
      << markdown;
  EXPECT_NE(markdown.find("```\n#0  caller+0x10 (/bin/prog)\n```"), std::string::npos) << markdown;

  EXPECT_EQ(parse_report_format("json"), ReportFormat::kJson);
  EXPECT_EQ(parse_report_format("markdown"), ReportFormat::kMarkdown);
  EXPECT_EQ(parse_report_format("text"), ReportFormat::kText);
  EXPECT_EQ(parse_report_format("html"), std::nullopt);
}

}  // namespace
}  // namespace ward::compat
