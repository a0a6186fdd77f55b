// The compatibility report's engine on real programs run in a sandbox on
// the host root. compat_gaps (tests/integration/compat_gaps.c) hits known
// gaps, whose kinds, errnos, counts and stack frames the JSON report must
// show exactly. /bin/true hits none. A program that fails after a gap is
// judged failed with that gap named.
#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "compat/report.h"
#include "platform/ptrace/ptrace_platform.h"
#include "sentry/fs/sandbox_mounts.h"
#include "sentry/kernel/kernel.h"
#include "sentry/loader/loader.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"
#include "syscalls/dispatch.h"

namespace ward::compat {
namespace {

// Runs `command` as the first process of a sandbox on the host root, with
// no stdio, and returns its report with the gaps ordered.
CompatReport run_sandboxed(const std::vector<std::string>& command) {
  CompatReport report;
  report.run.command = command;

  auto platform = platform::PtracePlatform::create();
  EXPECT_TRUE(platform.ok());
  if (!platform.ok()) {
    return report;
  }
  auto kernel = kernel::Kernel::create(std::move(*platform), kernel::KernelOptions{});
  EXPECT_TRUE(kernel.ok());
  if (!kernel.ok()) {
    return report;
  }
  syscalls::install_dispatcher(**kernel);

  vfs::SandboxMountConfig config;
  config.host_root = "/";
  auto mounts = vfs::make_sandbox_mounts(config);
  EXPECT_TRUE(mounts.ok());
  if (!mounts.ok()) {
    return report;
  }
  (*kernel)->set_mounts(*mounts);
  kernel::Credentials creds;
  auto fs = vfs::make_fs_context(**mounts, creds, "/");
  EXPECT_TRUE(fs.ok());
  if (!fs.ok()) {
    return report;
  }

  loader::ExecRequest request{command.front(), command, {"PATH=/usr/bin:/bin"}};
  kernel::InitProcess init{
      .creds = creds,
      .fdtable = std::make_shared<vfs::FdTable>(),
      .fs = std::move(*fs),
      .startup = [request](kernel::Task& task) -> Result<void> {
        Result<void> started = loader::execvp(task, request, "/usr/bin:/bin");
        if (!started.ok()) {
          task.kernel().set_init_start_error(started.error());
        }
        return started;
      },
  };
  EXPECT_TRUE((*kernel)->start_init(std::move(init)).ok());
  report.run.wait_status = (*kernel)->run();
  if (auto error = (*kernel)->init_start_error()) {
    report.run.start_error = error->value;
  }
  report.gaps = order_gaps((*kernel)->gaps().records());
  return report;
}

// The gaps of a JSON report by "syscall detail".
std::map<std::string, nlohmann::json> gaps_by_title(const nlohmann::json& report) {
  std::map<std::string, nlohmann::json> gaps;
  for (const nlohmann::json& gap : report["gaps"]) {
    std::string title = gap["syscall"].get<std::string>();
    if (!gap["detail"].get<std::string>().empty()) {
      title += " " + gap["detail"].get<std::string>();
    }
    gaps[title] = gap;
  }
  return gaps;
}

// Whether some frame of some stack of `gap` names `function`.
bool stack_names(const nlohmann::json& gap, const std::string& function) {
  for (const nlohmann::json& stack : gap["stacks"]) {
    for (const nlohmann::json& frame : stack["frames"]) {
      if (frame["function"].is_string() && frame["function"].get<std::string>() == function) {
        return true;
      }
    }
  }
  return false;
}

std::string dump(const CompatReport& report) { return render_report(report, ReportFormat::kText); }

TEST(CompatRunTest, KnownGapsWithCountsAndStacks) {
  const CompatReport report = run_sandboxed({WARD_COMPAT_GAPS_PROGRAM});
  ASSERT_TRUE(report.run.wait_status.has_value());
  ASSERT_TRUE(WIFEXITED(*report.run.wait_status)) << dump(report);
  EXPECT_EQ(WEXITSTATUS(*report.run.wait_status), 0) << dump(report);

  const nlohmann::json json = report_json(report);
  EXPECT_EQ(json["schema"], "ward-compat-report");
  EXPECT_EQ(json["version"], 1);
  EXPECT_EQ(json["verdict"]["kind"], "survived") << dump(report);

  std::map<std::string, nlohmann::json> gaps = gaps_by_title(json);
  // glibc registers rseq at startup and runs on without it.
  gaps.erase("rseq");
  ASSERT_EQ(gaps.size(), 3u) << json.dump(2);

  const nlohmann::json& missing = gaps["perf_event_open"];
  EXPECT_EQ(missing["kind"], "syscall");
  EXPECT_EQ(missing["errno"], "ENOSYS");
  EXPECT_EQ(missing["count"], 2);
  EXPECT_EQ(missing["pids"], nlohmann::json::array({1}));
  EXPECT_EQ(missing["program"], WARD_COMPAT_GAPS_PROGRAM);
  EXPECT_EQ(missing["stacks"].size(), 2u);
  EXPECT_TRUE(stack_names(missing, "hit_missing_syscall")) << missing.dump(2);
  EXPECT_TRUE(stack_names(missing, "main")) << missing.dump(2);

  const nlohmann::json& flag = gaps["mmap MAP_HUGETLB"];
  EXPECT_EQ(flag["kind"], "argument");
  EXPECT_EQ(flag["errno"], "ENOMEM");
  EXPECT_EQ(flag["count"], 1);
  EXPECT_TRUE(stack_names(flag, "hit_hugetlb_flag")) << flag.dump(2);

  const nlohmann::json& ioctl = gaps["ioctl FIOASYNC"];
  EXPECT_EQ(ioctl["kind"], "ioctl");
  EXPECT_EQ(ioctl["errno"], "ENOTTY");
  EXPECT_EQ(ioctl["count"], 3);
  // Stacks are kept for the first three hits only.
  EXPECT_EQ(ioctl["stacks"].size(), 3u);
  EXPECT_TRUE(stack_names(ioctl, "hit_fioasync_ioctl")) << ioctl.dump(2);

  // Ordered by count: FIOASYNC (3), perf_event_open (2), then the rest.
  EXPECT_EQ(json["gaps"][0]["detail"], "FIOASYNC");
}

TEST(CompatRunTest, TrueHasNoGaps) {
  const CompatReport report = run_sandboxed({"/bin/true"});
  ASSERT_TRUE(report.run.wait_status.has_value());
  EXPECT_TRUE(WIFEXITED(*report.run.wait_status));
  std::vector<GapRecord> gaps = report.gaps;
  // glibc's rseq registration is the one gap every dynamic glibc program
  // has; it is by design and does not count against the verdict.
  std::erase_if(gaps, [](const GapRecord& gap) { return gap.kind == GapKind::kByDesign; });
  EXPECT_TRUE(gaps.empty()) << dump(report);
  EXPECT_EQ(judge(report).kind, VerdictKind::kNoGaps) << dump(report);
}

TEST(CompatRunTest, FailureAfterGapNamesIt) {
  const CompatReport report = run_sandboxed({WARD_COMPAT_GAPS_PROGRAM, "fail"});
  ASSERT_TRUE(report.run.wait_status.has_value());
  ASSERT_TRUE(WIFEXITED(*report.run.wait_status));
  EXPECT_EQ(WEXITSTATUS(*report.run.wait_status), 3);

  const Verdict verdict = judge(report);
  EXPECT_EQ(verdict.kind, VerdictKind::kFailed);
  ASSERT_FALSE(verdict.last_gaps.empty());
  // The last gap hit before exiting is the FIOASYNC ioctl.
  EXPECT_EQ(report.gaps[verdict.last_gaps.front()].detail, "FIOASYNC");
  EXPECT_NE(verdict.summary.find("exit status 3"), std::string::npos) << verdict.summary;
  EXPECT_NE(verdict.summary.find("ioctl FIOASYNC"), std::string::npos) << verdict.summary;
}

TEST(CompatRunTest, MissingProgramIsAStartFailure) {
  const CompatReport report = run_sandboxed({"/nonexistent/program"});
  ASSERT_TRUE(report.run.start_error.has_value());
  EXPECT_EQ(*report.run.start_error, ENOENT);
  EXPECT_EQ(judge(report).kind, VerdictKind::kFailed);
  EXPECT_EQ(report_json(report)["outcome"]["start_error"], "ENOENT");
}

}  // namespace
}  // namespace ward::compat
