// The per-process files of procfs. The formats are checked against Linux's
// (stat, statm, maps, limits, mountinfo), and cmdline's setproctitle rules
// on a fake guest memory. The host's stat lines are parsed, and the files
// of a live process with two threads are read through the VFS from inside
// the sentry.
#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "compat/gap_recorder.h"
#include "platform/ptrace/ptrace_platform.h"
#include "sentry/fs/procfs_host.h"
#include "sentry/fs/procfs_memory.h"
#include "sentry/fs/procfs_mounts.h"
#include "sentry/fs/procfs_process.h"
#include "sentry/fs/synthetic.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/open.h"
#include "sentry/vfs/path_walk.h"
#include "syscalls/dispatch.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::describe;
using testing::expect_errno;
using testing::Sandbox;
using testing::TempTree;

// The fields of a stat line after the command name, which may itself
// contain spaces and parentheses.
std::vector<std::string> fields_after_comm(const std::string& line) {
  std::vector<std::string> fields;
  size_t position = line.rfind(')') + 1;
  while (position < line.size()) {
    const size_t start = line.find_first_not_of(" \n", position);
    if (start == std::string::npos) {
      break;
    }
    const size_t end = line.find_first_of(" \n", start);
    fields.push_back(line.substr(start, end - start));
    position = end;
  }
  return fields;
}

// Guest memory for the cmdline tests: `bytes` at `base`, nothing readable
// elsewhere.
class FakeGuestMemory {
 public:
  FakeGuestMemory(uint64_t base, std::string bytes) : base_(base), bytes_(std::move(bytes)) {}

  GuestMemoryReader reader() const {
    return [this](GuestAddr addr, std::span<std::byte> buffer) -> size_t {
      if (addr.value() < base_ || addr.value() >= base_ + bytes_.size()) {
        return 0;
      }
      const size_t offset = addr.value() - base_;
      const size_t count = std::min(buffer.size(), bytes_.size() - offset);
      std::memcpy(buffer.data(), bytes_.data() + offset, count);
      return count;
    };
  }

  GuestAddr at(size_t offset) const { return GuestAddr(base_ + offset); }

 private:
  uint64_t base_;
  std::string bytes_;
};

constexpr uint64_t kFakeBase = 0x7f0000001000;

// argv "prog", "arg"; environment "A=1", "B=2", laid out as execve does.
mm::MemoryManager::ImageInfo image_of(const FakeGuestMemory& memory) {
  mm::MemoryManager::ImageInfo image;
  image.arg_start = memory.at(0);
  image.arg_end = memory.at(9);
  image.env_start = memory.at(9);
  image.env_end = memory.at(17);
  return image;
}

const std::string kArgsAndEnv("prog\0arg\0A=1\0B=2\0", 17);

TEST(ProcfsCmdlineTest, ReadsArgvArea) {
  const FakeGuestMemory memory(kFakeBase, kArgsAndEnv);
  EXPECT_EQ(read_cmdline(image_of(memory), memory.reader()), std::string("prog\0arg\0", 9));
}

TEST(ProcfsCmdlineTest, RewrittenArgvRunsIntoEnvironment) {
  // The program wrote over the NUL that ended argv (setproctitle), and
  // over the first environment string.
  std::string bytes = kArgsAndEnv;
  bytes.replace(0, 13, "a long title!");
  const FakeGuestMemory memory(kFakeBase, bytes);
  EXPECT_EQ(read_cmdline(image_of(memory), memory.reader()), std::string("a long title!B=2\0", 17));
}

TEST(ProcfsCmdlineTest, RewrittenArgvStopsAtEnvironmentEnd) {
  std::string bytes = kArgsAndEnv + "more";
  bytes.replace(0, 17, "xxxxxxxxxxxxxxxxx");
  const FakeGuestMemory memory(kFakeBase, bytes);
  EXPECT_EQ(read_cmdline(image_of(memory), memory.reader()), std::string(17, 'x'));
}

TEST(ProcfsCmdlineTest, RewrittenArgvWithoutAdjacentEnvironment) {
  std::string bytes = kArgsAndEnv;
  bytes.replace(0, 13, "a long title!");
  const FakeGuestMemory memory(kFakeBase, bytes);
  mm::MemoryManager::ImageInfo image = image_of(memory);
  image.env_start = memory.at(10);  // not where argv ends: no running on
  EXPECT_EQ(read_cmdline(image, memory.reader()), "a long ti");
}

TEST(ProcfsCmdlineTest, EmptyBeforeExec) {
  const FakeGuestMemory memory(kFakeBase, kArgsAndEnv);
  EXPECT_EQ(read_cmdline(mm::MemoryManager::ImageInfo{}, memory.reader()), "");
}

TEST(ProcfsCmdlineTest, StopsAtUnreadableMemory) {
  const FakeGuestMemory memory(kFakeBase, std::string("pro", 3));
  mm::MemoryManager::ImageInfo image = image_of(memory);
  // The last byte of argv cannot be read, so this is no setproctitle.
  EXPECT_EQ(read_cmdline(image, memory.reader()), "pro");
}

TEST(ProcfsEnvironTest, ReadsEnvironmentArea) {
  const FakeGuestMemory memory(kFakeBase, kArgsAndEnv);
  EXPECT_EQ(read_environ(image_of(memory), memory.reader()), std::string("A=1\0B=2\0", 8));
}

std::vector<uint64_t> words_of(const std::string& bytes) {
  std::vector<uint64_t> words(bytes.size() / sizeof(uint64_t));
  std::memcpy(words.data(), bytes.data(), words.size() * sizeof(uint64_t));
  return words;
}

TEST(ProcfsAuxvTest, EndsWithAtNull) {
  mm::MemoryManager::ImageInfo image;
  image.auxv = {AT_PAGESZ, 4096, AT_NULL, 0, AT_UID, 7};
  EXPECT_EQ(words_of(auxv_bytes(image)), (std::vector<uint64_t>{AT_PAGESZ, 4096, AT_NULL, 0}));
}

TEST(ProcfsAuxvTest, MissingAtNullIsAdded) {
  mm::MemoryManager::ImageInfo image;
  EXPECT_EQ(words_of(auxv_bytes(image)), (std::vector<uint64_t>{AT_NULL, 0}));
  image.auxv = {AT_PAGESZ, 4096};
  EXPECT_EQ(words_of(auxv_bytes(image)), (std::vector<uint64_t>{AT_PAGESZ, 4096, AT_NULL, 0}));
}

TEST(ProcfsMapsTest, NamePaddedToColumn73) {
  const MapsLine line{.start = 0x55621252d000,
                      .end = 0x55621252f000,
                      .permissions = "r--p",
                      .offset = 0x2000,
                      .device_major = 0xfe,
                      .device_minor = 0,
                      .inode = 247134,
                      .name = "/usr/bin/cat"};
  EXPECT_EQ(format_maps_line(line),
            "55621252d000-55621252f000 r--p 00002000 fe:00 247134                     "
            "/usr/bin/cat\n");
  EXPECT_EQ(format_maps_line(line).find("/usr"), 73U);
}

TEST(ProcfsMapsTest, ShortAddressesAndAnonymousLines) {
  const MapsLine line{.start = 0x1000, .end = 0x2000, .permissions = "rw-p", .name = ""};
  // Eight hex digits at least, and no padding without a name.
  EXPECT_EQ(format_maps_line(line), "00001000-00002000 rw-p 00000000 00:00 0 \n");
}

TEST(ProcfsMapsTest, LongPrefixGetsNoPadding) {
  const MapsLine line{.start = 0xffffffffff600000,
                      .end = 0xffffffffff601000,
                      .permissions = "--xp",
                      .inode = UINT64_MAX,
                      .name = "[x]"};
  // Past the name column, a second space follows the prefix's own trailing
  // space, because Linux's seq_pad always adds one.
  EXPECT_EQ(format_maps_line(line),
            "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 18446744073709551615  [x]\n");
}

TEST(ProcfsMapsTest, LinesMergeInAddressOrder) {
  auto file = std::make_shared<const mm::MappedFileInfo>(
      mm::MappedFileInfo{.path = "/a\nb", .device = makedev(8, 1), .inode = 42});
  const std::vector<mm::Vma> vmas = {
      mm::Vma{.start = GuestAddr(0x1000),
              .end = GuestAddr(0x3000),
              .prot = PROT_READ | PROT_WRITE,
              .flags = MAP_SHARED,
              .file = file,
              .file_offset = 0x5000},
      mm::Vma{.start = GuestAddr(0x9000),
              .end = GuestAddr(0xa000),
              .prot = PROT_READ | PROT_WRITE,
              .flags = MAP_PRIVATE | MAP_ANONYMOUS,
              .name = "[heap]"},
  };
  const std::vector<HostSpecialMapping> special = {
      HostSpecialMapping{.start = 0x5000, .end = 0x7000, .permissions = "r-xp", .name = "[vdso]"}};

  const std::vector<MapsLine> lines = maps_lines(vmas, special);
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0].permissions, "rw-s");
  EXPECT_EQ(lines[0].offset, 0x5000U);
  EXPECT_EQ(lines[0].device_major, 8U);
  EXPECT_EQ(lines[0].device_minor, 1U);
  EXPECT_EQ(lines[0].name, "/a\\012b");
  EXPECT_EQ(lines[1].name, "[vdso]");
  EXPECT_EQ(lines[2].name, "[heap]");
  EXPECT_EQ(lines[2].permissions, "rw-p");
}

TEST(ProcfsMapsTest, CountsFollowVmStatAccount) {
  const std::vector<mm::Vma> vmas = {
      // Code: neither data nor stack.
      mm::Vma{.start = GuestAddr(0x10000),
              .end = GuestAddr(0x12000),
              .prot = PROT_READ | PROT_EXEC,
              .flags = MAP_PRIVATE},
      // Private writable data: 3 pages.
      mm::Vma{.start = GuestAddr(0x20000),
              .end = GuestAddr(0x23000),
              .prot = PROT_READ | PROT_WRITE,
              .flags = MAP_PRIVATE | MAP_ANONYMOUS},
      // Shared writable memory is not data.
      mm::Vma{.start = GuestAddr(0x30000),
              .end = GuestAddr(0x31000),
              .prot = PROT_READ | PROT_WRITE,
              .flags = MAP_SHARED},
      // A stack counts whatever its protection: 4 pages.
      mm::Vma{.start = GuestAddr(0x40000),
              .end = GuestAddr(0x44000),
              .prot = PROT_NONE,
              .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN},
  };
  const std::vector<HostSpecialMapping> special = {
      HostSpecialMapping{.start = 0x50000, .end = 0x52000, .permissions = "r-xp", .name = "[vdso]"},
      HostSpecialMapping{.start = 0xffffffffff600000,
                         .end = 0xffffffffff601000,
                         .permissions = "--xp",
                         .name = "[vsyscall]"}};

  const MemoryCounts counts = count_memory(vmas, special);
  EXPECT_EQ(counts.total_pages, 2U + 3U + 1U + 4U + 2U);
  EXPECT_EQ(counts.data_pages, 3U + 4U);
}

TEST(ProcfsMapsTest, HeapStartIsHeapVmaOrBreak) {
  const std::vector<mm::Vma> vmas = {mm::Vma{.start = GuestAddr(0x20000),
                                             .end = GuestAddr(0x23000),
                                             .prot = PROT_READ | PROT_WRITE,
                                             .flags = MAP_PRIVATE | MAP_ANONYMOUS,
                                             .name = "[heap]"}};
  EXPECT_EQ(heap_start(vmas, GuestAddr(0x22800)), GuestAddr(0x20000));
  EXPECT_EQ(heap_start({}, GuestAddr(0x20000)), GuestAddr(0x20000));
}

TEST(ProcfsStatTest, FormatHas52Fields) {
  ProcStat stat;
  stat.pid = 7;
  stat.comm = "a b) (c";
  stat.exit_signal = 17;
  const std::string line = format_stat(stat);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.rfind("7 (a b) (c) R ", 0), 0U) << line;
  EXPECT_EQ(fields_after_comm(line).size(), 50U) << line;
}

TEST(ProcfsStatTest, FieldsInProcOrder) {
  ProcStat stat;
  stat.pid = 1;
  stat.comm = "cat";
  stat.flags = 4194304;
  stat.minflt = 98;
  stat.starttime = 549360;
  stat.vsize = 3133440;
  stat.rss = 383;
  stat.rsslim = UINT64_MAX;
  stat.startcode = 94447155056640;
  stat.exit_signal = 17;
  stat.processor = 1;
  stat.start_brk = 94448129953792;
  stat.env_end = 140725399228395;
  EXPECT_EQ(format_stat(stat),
            "1 (cat) R 0 0 0 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 549360 3133440 383 "
            "18446744073709551615 94447155056640 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 "
            "94448129953792 0 0 0 140725399228395 0\n");
}

TEST(ProcfsStatmTest, LibAndDtAreZero) {
  EXPECT_EQ(format_statm(ProcStatm{.size_pages = 765,
                                   .resident_pages = 406,
                                   .shared_pages = 378,
                                   .text_pages = 5,
                                   .data_pages = 123}),
            "765 406 378 5 0 123 0\n");
}

TEST(ProcfsLimitsTest, MatchesLinuxTable) {
  std::array<rlimit, RLIM_NLIMITS> limits{};
  for (rlimit& limit : limits) {
    limit = rlimit{.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
  }
  limits[RLIMIT_STACK] = rlimit{.rlim_cur = 8388608, .rlim_max = RLIM_INFINITY};
  limits[RLIMIT_NICE] = rlimit{.rlim_cur = 0, .rlim_max = 0};

  const std::string text = format_limits(limits);
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  ASSERT_EQ(lines.size(), 1U + RLIM_NLIMITS);
  EXPECT_EQ(lines[0],
            "Limit                     Soft Limit           Hard Limit           Units     ");
  EXPECT_EQ(lines[1 + RLIMIT_STACK],
            "Max stack size            8388608              unlimited            bytes     ");
  EXPECT_EQ(lines[1 + RLIMIT_NICE],
            "Max nice priority         0                    0                    ");
  EXPECT_EQ(lines[1 + RLIMIT_RTTIME],
            "Max realtime timeout      unlimited            unlimited            us        ");
}

TEST(ProcfsHostTest, ParsesStatWithAwkwardComm) {
  const std::string line =
      "4242 (a) b (c)) t 1 4242 4242 0 -1 4194560 98 0 3 0 12 34 0 0 20 0 1 0 549360 3133440 "
      "383 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 5 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
  auto stat = parse_host_stat(line);
  ASSERT_TRUE(stat.ok()) << describe(stat.error());
  EXPECT_EQ(stat->state, 't');
  EXPECT_EQ(stat->minor_faults, 98U);
  EXPECT_EQ(stat->major_faults, 3U);
  EXPECT_EQ(stat->utime_ticks, 12U);
  EXPECT_EQ(stat->stime_ticks, 34U);
  EXPECT_EQ(stat->processor, 5);
}

TEST(ProcfsHostTest, ShortStatLineIsEinval) {
  expect_errno(parse_host_stat("4242 (cat) R 1 2 3\n"), EINVAL, "short");
  expect_errno(parse_host_stat("no parenthesis"), EINVAL, "no comm");
}

TEST(ProcfsHostTest, ReadsOwnProcess) {
  auto stat = read_host_thread_stat(getpid(), gettid());
  ASSERT_TRUE(stat.ok()) << describe(stat.error());
  EXPECT_EQ(stat->state, 'R');
  auto statm = read_host_statm(getpid());
  ASSERT_TRUE(statm.ok()) << describe(statm.error());
  EXPECT_GT(statm->resident_pages, 0U);
  auto special = read_host_special_mappings(getpid());
  ASSERT_TRUE(special.ok()) << describe(special.error());
  const bool has_vdso = std::any_of(special->begin(), special->end(),
                                    [](const HostSpecialMapping& m) { return m.name == "[vdso]"; });
  EXPECT_TRUE(has_vdso);
}

TEST(ProcfsMountsTest, MountinfoOfSandbox) {
  TempTree tree;
  Sandbox sandbox(tree.root());
  auto text = mountinfo_text(sandbox.root(), sandbox.mounts());
  ASSERT_TRUE(text.ok()) << describe(text.error());

  std::vector<std::string> lines;
  for (size_t start = 0; start < text->size();) {
    const size_t end = text->find('\n', start);
    lines.push_back(text->substr(start, end - start));
    start = end + 1;
  }
  ASSERT_EQ(lines.size(), 5U) << *text;

  const auto mounts = sandbox.mounts().mounts();
  struct stat root_stat {};
  ASSERT_EQ(stat(tree.root().c_str(), &root_stat), 0);
  const int root_id = mounts[0]->id();
  EXPECT_EQ(lines[0], fmt::format("{} {} {}:{} / / ro,nodev - hostfs none ro", root_id, root_id,
                                  major(root_stat.st_dev), minor(root_stat.st_dev)));
  const dev_t proc_device = mounts[2]->root()->inode().filesystem().dev();
  EXPECT_EQ(lines[2],
            fmt::format("{} {} {}:{} / /proc rw,nosuid,nodev,noexec - proc proc rw",
                        mounts[2]->id(), root_id, major(proc_device), minor(proc_device)));

  EXPECT_EQ(mounts_text(sandbox.root(), sandbox.mounts()),
            "none / hostfs ro,nodev 0 0\n"
            "devtmpfs /dev devtmpfs ro,nosuid,noexec 0 0\n"
            "proc /proc proc rw,nosuid,nodev,noexec 0 0\n"
            "sysfs /sys sysfs ro,nosuid,nodev,noexec 0 0\n"
            "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n");
}

TEST(ProcfsMountsTest, PathsSeenFromProcessRoot) {
  TempTree tree;
  Sandbox sandbox(tree.root());
  auto proc = sandbox.walk("/proc");
  ASSERT_TRUE(proc.ok()) << describe(proc.error());
  // From inside /proc only the mount of /proc itself is reachable.
  auto text = mountinfo_text(*proc, sandbox.mounts());
  ASSERT_TRUE(text.ok()) << describe(text.error());
  EXPECT_EQ(std::count(text->begin(), text->end(), '\n'), 1) << *text;
  EXPECT_NE(text->find(" / / rw,nosuid,nodev,noexec - proc proc rw"), std::string::npos) << *text;
}

// ---------------------------------------------------------------------------
// A live process

constexpr GuestAddr kStackAddr(0x7f0000000000);
constexpr uint64_t kStackBytes = 16 * kPageSize;

// The texts of procfs files, read by the first process of a sandbox from
// inside the sentry, and the tids of its two threads.
struct ProcessFiles {
  std::map<std::string, Result<std::string>> texts;
  pid_t leader_tid = 0;
  pid_t worker_tid = 0;
};

Result<std::string> read_whole(kernel::Task& task, const std::string& path) {
  const Caller caller = caller_of(task);
  FileRef file = TRY(open_path(caller, task.fs().cwd(), path, OpenRequest{.flags = O_RDONLY}));
  std::string text;
  std::vector<std::byte> chunk(4096);
  for (;;) {
    const size_t got = TRY(file->read(chunk, std::nullopt));
    if (got == 0) {
      return text;
    }
    text.append(reinterpret_cast<const char*>(chunk.data()), got);
  }
}

Result<std::string> list_directory(kernel::Task& task, const std::string& path) {
  const Caller caller = caller_of(task);
  const VirtualDentry location = TRY(walk_path(caller, task.fs().cwd(), path));
  auto& directory = static_cast<SyntheticDirectory&>(location.dentry->inode());
  std::string names;
  for (const auto& entry : TRY(directory.entries(caller))) {
    names += entry.name + " ";
  }
  return names;
}

// Writes `data` to a procfs file through its inode with `caller`'s
// credentials, and returns the count written as text. Opening through the
// inode skips may_open's mode check, so any caller reaches the file's own
// rules.
Result<std::string> write_through_inode(const Caller& caller, kernel::Task& task,
                                        const std::string& path, std::string_view data) {
  const VirtualDentry location = TRY(walk_path(caller, task.fs().cwd(), path));
  FileRef file = TRY(location.dentry->inode().open(caller, location, O_WRONLY));
  const size_t written =
      TRY(file->write(std::as_bytes(std::span(data.data(), data.size())), std::nullopt));
  return std::to_string(written);
}

// Gives the task an address space with a stack holding argv "prog",
// "arg" and the environment "HOME=/", as the loader would.
Result<void> load_image(kernel::Task& task) {
  auto mm = TRY(mm::MemoryManager::create(task.kernel().platform()));
  TRY(mm->map(mm::MapRequest{.hint = kStackAddr,
                             .length = kStackBytes,
                             .prot = PROT_READ | PROT_WRITE,
                             .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN,
                             .fixed = true,
                             .name = "[stack]"}));
  const std::string strings("prog\0arg\0HOME=/\0", 16);
  const GuestAddr strings_at = kStackAddr + kStackBytes - 64;
  TRY(mm->copy_out(strings_at, std::as_bytes(std::span(strings.data(), strings.size()))));
  auto& image = mm->image_info();
  image.arg_start = strings_at;
  image.arg_end = strings_at + 9;
  image.env_start = strings_at + 9;
  image.env_end = strings_at + 16;
  image.stack_top = kStackAddr + kStackBytes;
  image.auxv = {AT_PAGESZ, kPageSize, AT_NULL, 0};

  platform::Registers regs = task.kernel().platform().initial_registers();
  regs.rsp = (strings_at - 64).value();
  auto context = TRY(mm->address_space().new_context(regs, {}));
  task.replace_image(std::move(mm), std::move(context));
  return ok();
}

ProcessFiles read_files_of_live_process(const std::string& host_root) {
  ProcessFiles files;
  auto mounts = make_sandbox_mounts(host_root);
  EXPECT_TRUE(mounts.ok());
  auto platform = platform::PtracePlatform::create();
  EXPECT_TRUE(platform.ok());
  auto kernel = kernel::Kernel::create(std::move(*platform), kernel::KernelOptions{});
  EXPECT_TRUE(kernel.ok());
  syscalls::install_dispatcher(**kernel);
  (*kernel)->set_mounts(*mounts);

  std::array<rlimit, RLIM_NLIMITS> limits{};
  for (rlimit& limit : limits) {
    limit = rlimit{.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
  }
  const VirtualDentry root = (*mounts)->root();
  auto startup = [&files](kernel::Task& task) -> Result<void> {
    TRY(load_image(task));
    task.set_comm("leader");

    // A second thread of the process, which never runs guest code.
    kernel::Task& worker = task.kernel().create_task(
        task.thread_group(), task.creds(), task.mm_ref(), task.fdtable_ref(), task.fs_ref());
    worker.set_comm("worker");
    worker.start([](kernel::Task&) -> Result<void> { return Errno{ECANCELED}; });
    files.leader_tid = task.tid();
    files.worker_tid = worker.tid();

    const std::string worker_dir = "/proc/self/task/" + std::to_string(worker.tid());
    for (std::string name :
         {"stat", "statm", "maps", "cmdline", "environ", "auxv", "limits", "status"}) {
      files.texts.emplace(name, read_whole(task, "/proc/self/" + name));
    }
    files.texts.emplace("worker stat", read_whole(task, worker_dir + "/stat"));
    files.texts.emplace("worker comm", read_whole(task, worker_dir + "/comm"));
    files.texts.emplace("worker status", read_whole(task, worker_dir + "/status"));
    files.texts.emplace("task", list_directory(task, "/proc/self/task"));
    files.texts.emplace("missing thread", read_whole(task, "/proc/self/task/999/stat"));

    // Writable attributes, written by the process itself.
    const Caller caller = caller_of(task);
    files.texts.emplace("comm write", write_through_inode(caller, task, "/proc/self/comm",
                                                          "a-name-longer-than-15"));
    files.texts.emplace("comm after write", read_whole(task, "/proc/self/comm"));
    files.texts.emplace("worker comm write", write_through_inode(caller, task, worker_dir + "/comm",
                                                                 std::string("w\0x", 3)));
    files.texts.emplace("worker comm after write", read_whole(task, worker_dir + "/comm"));
    files.texts.emplace("oom write -500",
                        write_through_inode(caller, task, "/proc/self/oom_score_adj", " -500\n"));
    files.texts.emplace("oom write 1001",
                        write_through_inode(caller, task, "/proc/self/oom_score_adj", "1001"));
    files.texts.emplace("oom write junk",
                        write_through_inode(caller, task, "/proc/self/oom_score_adj", "12x"));
    kernel::Credentials unprivileged = task.creds();
    unprivileged.cap_effective.remove(CAP_SYS_RESOURCE);
    const Caller without_capability{.creds = unprivileged, .fs = task.fs(), .task = &task};
    files.texts.emplace(
        "oom write -600 unprivileged",
        write_through_inode(without_capability, task, "/proc/self/oom_score_adj", "-600"));
    files.texts.emplace(
        "oom write 300 unprivileged",
        write_through_inode(without_capability, task, "/proc/self/oom_score_adj", "300"));
    files.texts.emplace("oom after writes", read_whole(task, "/proc/self/oom_score_adj"));
    files.texts.emplace("oom_score", read_whole(task, "/proc/self/oom_score"));
    files.texts.emplace("cgroup", read_whole(task, "/proc/self/cgroup"));
    files.texts.emplace("fdinfo", list_directory(task, "/proc/self/fdinfo"));
    files.texts.emplace("smaps", read_whole(task, "/proc/self/smaps"));

    // A file Linux has and ward lacks is a compatibility gap.
    files.texts.emplace("missing file", read_whole(task, "/proc/self/no_such_file"));
    std::string gaps;
    for (const compat::GapRecord& record : task.kernel().gaps().records()) {
      gaps += record.detail + "\n";
    }
    files.texts.emplace("gaps", gaps);
    // Ends the leader; the worker ends when its fiber first runs.
    return Errno{ECANCELED};
  };
  EXPECT_TRUE((*kernel)
                  ->start_init(kernel::InitProcess{.fdtable = std::make_shared<FdTable>(),
                                                   .fs = std::make_shared<FsContext>(root, root),
                                                   .limits = limits,
                                                   .startup = startup})
                  .ok());
  (*kernel)->run();
  return files;
}

class ProcfsLiveProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tree_ = new TempTree();
    files_ = new ProcessFiles(read_files_of_live_process(tree_->root()));
  }
  static void TearDownTestSuite() {
    delete files_;
    delete tree_;
  }

  static const std::string& text(const std::string& name) {
    static const std::string kMissing = "<missing>";
    const auto& result = files_->texts.at(name);
    EXPECT_TRUE(result.ok()) << name << ": " << describe(result.error());
    return result.ok() ? *result : kMissing;
  }

  static TempTree* tree_;
  static ProcessFiles* files_;
};

TempTree* ProcfsLiveProcessTest::tree_ = nullptr;
ProcessFiles* ProcfsLiveProcessTest::files_ = nullptr;

TEST_F(ProcfsLiveProcessTest, StatDescribesProcess) {
  const std::string& stat = text("stat");
  EXPECT_EQ(stat.rfind("1 (leader) R 0 1 1 0 -1 ", 0), 0U) << stat;
  const std::vector<std::string> fields = fields_after_comm(stat);
  ASSERT_EQ(fields.size(), 50U) << stat;
  // Field n of proc(5) is fields[n - 3].
  EXPECT_EQ(fields[20 - 3], "2") << "num_threads";
  EXPECT_EQ(fields[25 - 3], "18446744073709551615") << "rsslim";
  EXPECT_EQ(fields[35 - 3], "0") << "wchan of a process with two threads";
  EXPECT_EQ(fields[38 - 3], "17") << "exit_signal";
  EXPECT_EQ(std::stoull(fields[48 - 3]), kStackAddr.value() + kStackBytes - 64) << "arg_start";
  EXPECT_EQ(std::stoull(fields[51 - 3]), kStackAddr.value() + kStackBytes - 48) << "env_end";
}

TEST_F(ProcfsLiveProcessTest, StatmMatchesStatVsize) {
  const std::vector<std::string> stat = fields_after_comm(text("stat"));
  ASSERT_EQ(stat.size(), 50U);
  uint64_t size_pages = 0;
  uint64_t data_pages = 0;
  uint64_t unused = 0;
  ASSERT_EQ(sscanf(text("statm").c_str(), "%lu %lu %lu %lu %lu %lu %lu", &size_pages, &unused,
                   &unused, &unused, &unused, &data_pages, &unused),
            7);
  EXPECT_EQ(size_pages * kPageSize, std::stoull(stat[23 - 3]));
  EXPECT_EQ(data_pages, kStackBytes / kPageSize) << "the stack is the only data";
}

TEST_F(ProcfsLiveProcessTest, MapsListsStackAndVdso) {
  const std::string& maps = text("maps");
  EXPECT_NE(maps.find("7f0000000000-7f0000010000 rw-p 00000000 00:00 0                          "
                      "[stack]\n"),
            std::string::npos)
      << maps;
  EXPECT_NE(maps.find("[vdso]\n"), std::string::npos) << maps;
}

TEST_F(ProcfsLiveProcessTest, GuestMemoryFiles) {
  EXPECT_EQ(text("cmdline"), std::string("prog\0arg\0", 9));
  EXPECT_EQ(text("environ"), std::string("HOME=/\0", 7));
  EXPECT_EQ(words_of(text("auxv")), (std::vector<uint64_t>{AT_PAGESZ, kPageSize, AT_NULL, 0}));
}

TEST_F(ProcfsLiveProcessTest, LimitsComeFromProcess) {
  EXPECT_NE(text("limits").find("Max open files            unlimited            unlimited"),
            std::string::npos)
      << text("limits");
}

TEST_F(ProcfsLiveProcessTest, TaskListsBothThreads) {
  EXPECT_EQ(text("task"), fmt::format("{} {} ", files_->leader_tid, files_->worker_tid));

  const std::string& stat = text("worker stat");
  EXPECT_EQ(stat.rfind(fmt::format("{} (worker) S 0 1 1 ", files_->worker_tid), 0), 0U) << stat;
  const std::vector<std::string> fields = fields_after_comm(stat);
  ASSERT_EQ(fields.size(), 50U) << stat;
  EXPECT_EQ(fields[38 - 3], "-1") << "a thread's exit_signal";
  EXPECT_EQ(fields[35 - 3], "1") << "a waiting thread's wchan";

  EXPECT_EQ(text("worker comm"), "worker\n");
  EXPECT_NE(text("worker status").find("\nTgid:\t1\n"), std::string::npos) << text("worker status");
  EXPECT_NE(text("worker status").find(fmt::format("\nPid:\t{}\n", files_->worker_tid)),
            std::string::npos)
      << text("worker status");
  expect_errno(files_->texts.at("missing thread"), ENOENT);
}

TEST_F(ProcfsLiveProcessTest, CommWriteSetsName) {
  EXPECT_EQ(text("comm write"), "21");
  EXPECT_EQ(text("comm after write"), "a-name-longer-t\n");
  EXPECT_EQ(text("worker comm write"), "3") << "the whole count, past the NUL";
  EXPECT_EQ(text("worker comm after write"), "w\n");
}

TEST_F(ProcfsLiveProcessTest, OomScoreAdjWrites) {
  EXPECT_EQ(text("oom write -500"), "6");
  expect_errno(files_->texts.at("oom write 1001"), EINVAL);
  expect_errno(files_->texts.at("oom write junk"), EINVAL);
  // Root set -500, which became the minimum for writers without
  // CAP_SYS_RESOURCE.
  expect_errno(files_->texts.at("oom write -600 unprivileged"), EACCES);
  EXPECT_EQ(text("oom write 300 unprivileged"), "3");
  EXPECT_EQ(text("oom after writes"), "300\n");
  const std::string& score = text("oom_score");
  ASSERT_FALSE(score.empty());
  EXPECT_EQ(score.back(), '\n');
  EXPECT_GT(std::stoi(score), 666) << "a positive adj raises the score";
}

TEST_F(ProcfsLiveProcessTest, CgroupFdinfoAndSmaps) {
  EXPECT_EQ(text("cgroup"), "0::/\n");
  EXPECT_EQ(text("fdinfo"), "");
  const std::string& smaps = text("smaps");
  EXPECT_NE(smaps.find("[stack]\nSize:                 64 kB\n"), std::string::npos) << smaps;
  EXPECT_NE(smaps.find("\nVmFlags: "), std::string::npos) << smaps;
}

TEST_F(ProcfsLiveProcessTest, MissingFileIsGap) {
  expect_errno(files_->texts.at("missing file"), ENOENT);
  EXPECT_NE(text("gaps").find("missing file /proc/<pid>/no_such_file\n"), std::string::npos)
      << text("gaps");
}

}  // namespace
}  // namespace ward::vfs
