// The formatters and parsers behind procfs's system and attribute files
// and sysfs's CPU lists: uptime, loadavg and stat, the kernel's integer
// parsing for oom_score_adj, oom_score's scaling, fdinfo, the status
// template merge and smaps built from the host's counters.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "sentry/fs/procfs_attributes.h"
#include "sentry/fs/procfs_smaps.h"
#include "sentry/fs/procfs_status.h"
#include "sentry/fs/procfs_system.h"
#include "sentry/fs/sysfs.h"

namespace ward::vfs {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(ProcfsSystemTest, UptimeCutsToCentiseconds) {
  EXPECT_EQ(format_uptime(seconds(12) + milliseconds(349) + nanoseconds(999'999),
                          seconds(3) + milliseconds(5)),
            "12.34 3.00\n");
  EXPECT_EQ(format_uptime(nanoseconds(0), nanoseconds(-5)), "0.00 0.00\n");
}

TEST(ProcfsSystemTest, UptimeIdleParsed) {
  auto idle = parse_uptime_idle_seconds("1084.59 1145.48\n");
  ASSERT_TRUE(idle.ok());
  EXPECT_DOUBLE_EQ(*idle, 1145.48);
  EXPECT_FALSE(parse_uptime_idle_seconds("1084.59\n").ok());
}

TEST(ProcfsSystemTest, LoadavgKeepsHostAveragesOnly) {
  auto text = format_loadavg("0.13 0.89 0.91 1/121 20315\n",
                             SandboxTaskCounts{.running = 2, .total = 5, .last_pid = 7});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "0.13 0.89 0.91 2/5 7\n");
  EXPECT_FALSE(format_loadavg("0.13 0.89\n", SandboxTaskCounts{}).ok());
}

TEST(ProcfsSystemTest, StatReplacesSandboxLines) {
  const std::string host =
      "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 5 0\nctxt 9\n"
      "btime 1700000000\nprocesses 20318\nprocs_running 3\nprocs_blocked 1\nsoftirq 1 2\n";
  const std::string text = rewrite_proc_stat(
      host, SandboxTaskCounts{.running = 1, .total = 3, .last_pid = 4}, 1800000000);
  EXPECT_EQ(text,
            "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 5 0\nctxt 9\n"
            "btime 1800000000\nprocesses 4\nprocs_running 1\nprocs_blocked 0\nsoftirq 1 2\n");
}

TEST(ProcfsSystemTest, UuidIsVersion4AndFresh) {
  const std::regex form("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n");
  const std::string first = random_uuid_line();
  const std::string second = random_uuid_line();
  EXPECT_TRUE(std::regex_match(first, form)) << first;
  EXPECT_TRUE(std::regex_match(second, form)) << second;
  EXPECT_NE(first, second);
}

TEST(ProcfsAttributesTest, KernelIntParsing) {
  struct Case {
    const char* text;
    int value;
  };
  for (const Case& good : {Case{"0", 0}, Case{" 0x10\n", 16}, Case{"010", 8}, Case{"+7", 7},
                           Case{"-1000", -1000}, Case{"5\n\n", 5}, Case{"-0x0", 0}}) {
    auto parsed = parse_kernel_int(good.text);
    ASSERT_TRUE(parsed.ok()) << good.text;
    EXPECT_EQ(*parsed, good.value) << good.text;
  }
  for (const char* bad : {"", " ", "-+5", "1 2", "08", "0x", "12a", "--1"}) {
    auto parsed = parse_kernel_int(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error(), Errno{EINVAL}) << bad;
  }
  for (const char* huge : {"99999999999", "2147483648", "-2147483649"}) {
    auto parsed = parse_kernel_int(huge);
    ASSERT_FALSE(parsed.ok()) << huge;
    EXPECT_EQ(parsed.error(), Errno{ERANGE}) << huge;
  }
  auto lowest = parse_kernel_int("-2147483648");
  ASSERT_TRUE(lowest.ok());
  EXPECT_EQ(*lowest, INT32_MIN);
}

TEST(ProcfsAttributesTest, OomScoreScaling) {
  // A small process with adj 0 scores about two thirds of 1000, as Linux
  // shows for most processes.
  EXPECT_EQ(oom_score(OomUsage{.rss_pages = 400, .total_pages = 6'000'000}), 666u);
  EXPECT_EQ(oom_score(OomUsage{.rss_pages = 400, .total_pages = 6'000'000, .oom_score_adj = 1000}),
            1333u);
  // Integer division cuts toward zero: (1000 - 998) * 2 / 3.
  EXPECT_EQ(oom_score(OomUsage{.rss_pages = 400, .total_pages = 6'000'000, .oom_score_adj = -999}),
            1u);
  EXPECT_EQ(oom_score(OomUsage{.rss_pages = 400, .total_pages = 6'000'000, .oom_score_adj = -1000}),
            0u);
  // Half the memory resident: 1000 + 500, scaled by two thirds.
  EXPECT_EQ(oom_score(OomUsage{.rss_pages = 3'000'000, .total_pages = 6'000'000}), 1000u);
}

TEST(ProcfsAttributesTest, FdinfoFormat) {
  EXPECT_EQ(format_fdinfo(FdInfo{.pos = 12, .flags = O_RDWR | O_CLOEXEC, .mnt_id = 3, .ino = 99}),
            "pos:\t12\nflags:\t02000002\nmnt_id:\t3\nino:\t99\n");
  EXPECT_EQ(format_fdinfo(FdInfo{}), "pos:\t0\nflags:\t00\nmnt_id:\t0\nino:\t0\n");
}

TEST(ProcfsStatusTest, HostTemplateDecidesKeysAndOrder) {
  const std::vector<StatusLine> host = parse_status_lines(
      "Name:\tstub\nUmask:\t0022\nTgid:\t4242\nNgid:\t0\nPid:\t4243\nVmRSS:\t    1776 kB\n"
      "Seccomp:\t2\nFutureKey:\tsecret\nCpus_allowed_list:\t0-1\n");
  const std::vector<StatusLine> sandbox = {{"Name", "prog"}, {"Umask", "0022"}, {"Tgid", "1"},
                                           {"Pid", "1"},     {"Seccomp", "0"},  {"Threads", "1"}};
  EXPECT_EQ(merge_status(sandbox, host),
            "Name:\tprog\nUmask:\t0022\nTgid:\t1\nPid:\t1\nVmRSS:\t    1776 kB\nSeccomp:\t0\n"
            "Cpus_allowed_list:\t0-1\n");
}

TEST(ProcfsStatusTest, EmptyTemplateKeepsSandboxLines) {
  const std::vector<StatusLine> sandbox = {{"Name", "prog"}, {"Groups", "1 2 "}};
  EXPECT_EQ(merge_status(sandbox, {}), "Name:\tprog\nGroups:\t1 2 \n");
}

TEST(ProcfsStatusTest, ParseSkipsLinesWithoutColon) {
  const std::vector<StatusLine> lines = parse_status_lines("Name:\tx y\nnonsense\nGroups:\t \n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].key, "Name");
  EXPECT_EQ(lines[0].value, "x y");
  EXPECT_EQ(lines[1].value, " ");
}

// Two host mappings: one covers two guest VMAs, the other lies inside one.
constexpr const char* kHostSmaps =
    "1000-5000 rw-p 00000000 00:00 0 \n"
    "Size:                 16 kB\n"
    "KernelPageSize:        4 kB\n"
    "MMUPageSize:           4 kB\n"
    "Rss:                  16 kB\n"
    "Pss:                   8 kB\n"
    "THPeligible:           0\n"
    "VmFlags: rd wr mr mw me ac \n"
    "7000-8000 r-xp 00000000 fe:00 42                 /bin/prog\n"
    "Size:                  4 kB\n"
    "KernelPageSize:        4 kB\n"
    "MMUPageSize:           4 kB\n"
    "Rss:                   4 kB\n"
    "Pss:                   4 kB\n"
    "THPeligible:           0\n"
    "VmFlags: rd ex mr mw me \n";

TEST(ProcfsSmapsTest, ParsesHostBlocks) {
  auto blocks = parse_host_smaps(kHostSmaps);
  ASSERT_TRUE(blocks.ok());
  ASSERT_EQ(blocks->size(), 2u);
  EXPECT_EQ((*blocks)[0].start, 0x1000u);
  EXPECT_EQ((*blocks)[0].end, 0x5000u);
  ASSERT_EQ((*blocks)[0].entries.size(), 7u);
  EXPECT_TRUE((*blocks)[0].entries[3].in_kilobytes);
  EXPECT_EQ((*blocks)[0].entries[3].kilobytes, 16u);
  EXPECT_EQ((*blocks)[0].entries[6].line, "VmFlags: rd wr mr mw me ac ");
  EXPECT_FALSE(parse_host_smaps("Rss: 4 kB\n").ok());
}

TEST(ProcfsSmapsTest, CountersSplitByOverlap) {
  auto blocks = parse_host_smaps(kHostSmaps);
  ASSERT_TRUE(blocks.ok());
  const std::vector<MapsLine> lines = {
      {.start = 0x1000, .end = 0x2000, .permissions = "rw-p", .name = ""},
      {.start = 0x2000, .end = 0x5000, .permissions = "r--p", .name = ""},
      {.start = 0x7000, .end = 0x8000, .permissions = "r-xp", .inode = 42, .name = "/bin/prog"},
  };
  const std::string text = format_smaps(lines, *blocks);
  const std::string first =
      "00001000-00002000 rw-p 00000000 00:00 0 \n"
      "Size:                  4 kB\n"
      "KernelPageSize:        4 kB\n"
      "MMUPageSize:           4 kB\n"
      "Rss:                   4 kB\n"
      "Pss:                   2 kB\n"
      "THPeligible:           0\n"
      "VmFlags: rd wr mr mw me ac \n";
  EXPECT_EQ(text.substr(0, first.size()), first) << text;
  EXPECT_NE(text.find("00002000-00005000 r--p 00000000 00:00 0 \nSize:                 12 kB\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Rss:                  12 kB\nPss:                   6 kB\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("/bin/prog\nSize:                  4 kB\n"), std::string::npos) << text;
  EXPECT_NE(text.find("VmFlags: rd ex mr mw me \n"), std::string::npos) << text;
}

TEST(ProcfsSmapsTest, MappingWithoutHostBlockReadsZero) {
  auto blocks = parse_host_smaps(kHostSmaps);
  ASSERT_TRUE(blocks.ok());
  const std::vector<MapsLine> lines = {
      {.start = 0x9000, .end = 0xa000, .permissions = "rw-s", .name = ""}};
  const std::string text = format_smaps(lines, *blocks);
  EXPECT_NE(text.find("Rss:                   0 kB\n"), std::string::npos) << text;
  EXPECT_NE(text.find("THPeligible:           0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("VmFlags: rd wr sh mr mw me \n"), std::string::npos) << text;
}

TEST(SysfsTest, CpuListParsing) {
  EXPECT_EQ(parse_cpu_list("0-1\n"), (std::vector<int>{0, 1}));
  EXPECT_EQ(parse_cpu_list("0-2,5,7-8"), (std::vector<int>{0, 1, 2, 5, 7, 8}));
  EXPECT_EQ(parse_cpu_list("3"), (std::vector<int>{3}));
  EXPECT_TRUE(parse_cpu_list("").empty());
  EXPECT_TRUE(parse_cpu_list("\n").empty());
  EXPECT_TRUE(parse_cpu_list("2-1").empty());
  EXPECT_TRUE(parse_cpu_list("a").empty());
  EXPECT_TRUE(parse_cpu_list("1,,2").empty());
}

}  // namespace
}  // namespace ward::vfs
