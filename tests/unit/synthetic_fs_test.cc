// devfs, procfs and sysfs as a sandbox on the host root sees them, without
// a running kernel: the files that need no task. The per-process files of
// procfs (/proc/self, /proc/<pid>/fd...) need a task and are left to the
// integration tests.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "sentry/fs/synthetic.h"
#include "sentry/vfs/dirent_buffer.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/mutate.h"
#include "sentry/vfs/open.h"
#include "sentry/vfs/path_ops.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::describe;
using testing::expect_errno;
using testing::Sandbox;

class SyntheticFsTest : public ::testing::Test {
 protected:
  Result<FileRef> open(std::string_view path, uint32_t flags) {
    return open_path(sandbox_.caller(), sandbox_.root(), path, OpenRequest{.flags = flags});
  }

  std::string read_all(std::string_view path) {
    auto file = open(path, O_RDONLY);
    EXPECT_TRUE(file.ok()) << path << ": " << describe(file.error());
    if (!file.ok()) {
      return {};
    }
    std::string text;
    std::vector<std::byte> buffer(4096);
    for (;;) {
      auto got = (*file)->read(buffer, std::nullopt);
      EXPECT_TRUE(got.ok());
      if (!got.ok() || *got == 0) {
        return text;
      }
      text.append(reinterpret_cast<const char*>(buffer.data()), *got);
    }
  }

  std::set<std::string> list(std::string_view path) {
    auto dir = open(path, O_RDONLY | O_DIRECTORY);
    EXPECT_TRUE(dir.ok()) << path;
    std::set<std::string> names;
    if (!dir.ok()) {
      return names;
    }
    DirentBuffer buffer(DirentFormat::kLinuxDirent64, 64 * 1024);
    EXPECT_TRUE((*dir)->iterate_dir(sandbox_.caller(), buffer).ok());
    const auto& bytes = buffer.bytes();
    for (size_t at = 0; at < bytes.size();) {
      uint16_t record_bytes = 0;
      std::memcpy(&record_bytes, bytes.data() + at + 16, sizeof(record_bytes));
      names.insert(reinterpret_cast<const char*>(bytes.data() + at + 19));
      at += record_bytes;
    }
    return names;
  }

  Sandbox sandbox_{"/"};
};

TEST_F(SyntheticFsTest, DevNullZeroFull) {
  std::vector<std::byte> buffer(32, std::byte{0x55});
  auto null = open("/dev/null", O_RDWR);
  ASSERT_TRUE(null.ok()) << describe(null.error());
  EXPECT_EQ(*(*null)->read(buffer, std::nullopt), 0u);
  EXPECT_EQ(*(*null)->write(buffer, std::nullopt), buffer.size());
  EXPECT_EQ(*(*null)->seek(100, SEEK_SET), 0);
  EXPECT_FALSE((*null)->host_fd_for_mapping().has_value());

  auto zero = open("/dev/zero", O_RDONLY);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*(*zero)->read(buffer, std::nullopt), buffer.size());
  EXPECT_TRUE(
      std::all_of(buffer.begin(), buffer.end(), [](std::byte b) { return b == std::byte{0}; }));
  EXPECT_TRUE((*zero)->host_fd_for_mapping().has_value());

  auto full = open("/dev/full", O_WRONLY);
  ASSERT_TRUE(full.ok());
  expect_errno((*full)->write(buffer, std::nullopt), ENOSPC, "/dev/full");
}

TEST_F(SyntheticFsTest, DevUrandomGivesRandomBytes) {
  auto urandom = open("/dev/urandom", O_RDONLY);
  ASSERT_TRUE(urandom.ok());
  std::vector<std::byte> first(64);
  std::vector<std::byte> second(64);
  EXPECT_EQ(*(*urandom)->read(first, std::nullopt), 64u);
  EXPECT_EQ(*(*urandom)->read(second, std::nullopt), 64u);
  EXPECT_NE(first, second);
}

TEST_F(SyntheticFsTest, DeviceStatHasLinuxNumbers) {
  const std::vector<std::pair<std::string, unsigned>> devices = {{"/dev/null", 3},
                                                                 {"/dev/zero", 5},
                                                                 {"/dev/full", 7},
                                                                 {"/dev/random", 8},
                                                                 {"/dev/urandom", 9}};
  for (const auto& [path, minor_number] : devices) {
    auto location = sandbox_.walk(path);
    ASSERT_TRUE(location.ok()) << path;
    auto st = location->dentry->inode().stat();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->st_mode, static_cast<mode_t>(S_IFCHR | 0666)) << path;
    EXPECT_EQ(major(st->st_rdev), 1u) << path;
    EXPECT_EQ(minor(st->st_rdev), minor_number) << path;
  }
}

TEST_F(SyntheticFsTest, DevLinksPointIntoProcSelf) {
  const Caller caller = sandbox_.caller();
  const std::vector<std::pair<std::string, std::string>> links = {
      {"/dev/fd", "/proc/self/fd"},
      {"/dev/stdin", "/proc/self/fd/0"},
      {"/dev/stdout", "/proc/self/fd/1"},
      {"/dev/stderr", "/proc/self/fd/2"}};
  for (const auto& [path, target] : links) {
    auto link = sandbox_.walk(path, WalkOptions{.follow_final = false});
    ASSERT_TRUE(link.ok()) << path;
    auto text = read_link_at(caller, *link, false);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, target);
    // Without a task there is no /proc/self to follow.
    expect_errno(sandbox_.walk(path), ENOENT, path);
  }
}

TEST_F(SyntheticFsTest, TerminalsAreAbsentAndShmIsTmpfs) {
  for (const char* path : {"/dev/pts", "/dev/ptmx", "/dev/tty", "/dev/console"}) {
    expect_errno(sandbox_.walk(path), ENOENT, path);
  }
  auto shm = sandbox_.walk("/dev/shm");
  ASSERT_TRUE(shm.ok());
  EXPECT_TRUE(shm->dentry->inode().is_dir());
  EXPECT_TRUE(make_directory(sandbox_.caller(), sandbox_.root(), "/dev/shm/x", 0700).ok());
  EXPECT_TRUE(open("/dev/shm/segment", O_RDWR | O_CREAT).ok());
  expect_errno(make_directory(sandbox_.caller(), sandbox_.root(), "/dev/x", 0700), EROFS,
               "mkdir in /dev");
  expect_errno(make_node(sandbox_.caller(), sandbox_.root(), "/dev/null", S_IFCHR, 0), EEXIST,
               "mknod over /dev/null");
  const std::set<std::string> expected = {".",       "..", "null",  "zero",   "full",   "random",
                                          "urandom", "fd", "stdin", "stdout", "stderr", "shm"};
  EXPECT_EQ(list("/dev"), expected);
}

TEST_F(SyntheticFsTest, ProcSystemFilesComeFromTheHost) {
  auto host_cpuinfo = read_host_file("/proc/cpuinfo");
  ASSERT_TRUE(host_cpuinfo.ok());
  EXPECT_EQ(read_all("/proc/cpuinfo"), *host_cpuinfo);
  EXPECT_EQ(read_all("/proc/sys/kernel/ostype"), "Linux\n");
  struct utsname names {};
  ASSERT_EQ(uname(&names), 0);
  EXPECT_EQ(read_all("/proc/sys/kernel/osrelease"), std::string(names.release) + "\n");
  // The hostname is the sandbox's, which needs a kernel.
  expect_errno(open("/proc/sys/kernel/hostname", O_RDONLY), ENOENT, "hostname without a kernel");
  EXPECT_NE(read_all("/proc/filesystems").find("nodev\tproc\n"), std::string::npos);
  EXPECT_NE(read_all("/proc/meminfo").find("MemTotal:"), std::string::npos);
  EXPECT_EQ(read_all("/proc/version").rfind("Linux version", 0), 0u);
}

// /proc is mounted read-write as on Linux, so its files' modes and open
// methods decide. Root may open a top-level file for writing, but each write
// fails with EIO, and truncation does nothing.
TEST_F(SyntheticFsTest, ProcFilesRejectWrites) {
  auto writable = open("/proc/cpuinfo", O_WRONLY | O_TRUNC);
  ASSERT_TRUE(writable.ok()) << describe(writable.error());
  const char text[] = "1\n";
  expect_errno((*writable)->write(std::as_bytes(std::span(text, 2)), std::nullopt), EIO,
               "write /proc/cpuinfo");
  expect_errno(open("/proc/new", O_WRONLY | O_CREAT), ENOENT, "create in /proc");
  expect_errno(make_directory(sandbox_.caller(), sandbox_.root(), "/proc/dir", 0700), ENOENT,
               "mkdir in /proc");
  expect_errno(unlink_file(sandbox_.caller(), sandbox_.root(), "/proc/cpuinfo"), EPERM,
               "unlink in /proc");
  // A sysctl without a write bit refuses even root.
  expect_errno(open("/proc/sys/kernel/osrelease", O_WRONLY), EACCES, "write a read-only sysctl");

  sandbox_.creds() = testing::user_creds(1000, 1000);
  expect_errno(open("/proc/cpuinfo", O_WRONLY), EACCES, "write /proc/cpuinfo as a user");
}

TEST_F(SyntheticFsTest, ProcFileSeekAndSize) {
  auto file = open("/proc/cpuinfo", O_RDONLY);
  ASSERT_TRUE(file.ok());
  expect_errno((*file)->seek(0, SEEK_END), EINVAL, "SEEK_END on a procfs file");
  auto st = (*file)->stat();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_size, 0);
}

TEST_F(SyntheticFsTest, ProcListingWithoutTaskHasNoProcesses) {
  const std::set<std::string> names = list("/proc");
  for (const char* name :
       {".", "..", "self", "mounts", "cpuinfo", "meminfo", "version", "filesystems", "sys"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
  for (const std::string& name : names) {
    EXPECT_FALSE(std::isdigit(static_cast<unsigned char>(name[0]))) << name;
  }
  auto mounts = sandbox_.walk("/proc/mounts", WalkOptions{.follow_final = false});
  ASSERT_TRUE(mounts.ok());
  EXPECT_EQ(*read_link_at(sandbox_.caller(), *mounts, false), "self/mounts");
  expect_errno(sandbox_.walk("/proc/1"), ENOENT, "/proc/1 without a task");
}

TEST_F(SyntheticFsTest, SysCpuFilesComeFromTheHost) {
  for (const char* name : {"online", "possible", "present"}) {
    const std::string path = std::string("/sys/devices/system/cpu/") + name;
    auto host = read_host_file(path.c_str());
    ASSERT_TRUE(host.ok());
    EXPECT_EQ(read_all(path), *host) << path;
    auto st = sandbox_.walk(path)->dentry->inode().stat();
    EXPECT_EQ(st->st_size, 4096) << path;
  }
  const std::string core_id = "/sys/devices/system/cpu/cpu0/topology/core_id";
  auto host_core_id = read_host_file(core_id.c_str());
  if (host_core_id.ok()) {
    EXPECT_EQ(read_all(core_id), *host_core_id);
  }
  expect_errno(sandbox_.walk("/sys/devices/system/cpu/cpu0/cpufreq"), ENOENT, "cpufreq");
}

TEST_F(SyntheticFsTest, SysCgroupRootHasNoLimits) {
  EXPECT_EQ(read_all("/sys/fs/cgroup/cgroup.controllers"), "cpu memory\n");
  EXPECT_EQ(read_all("/sys/fs/cgroup/cpu.max"), "max 100000\n");
  EXPECT_EQ(read_all("/sys/fs/cgroup/memory.max"), "max\n");
  // Without a kernel there are no processes to list.
  EXPECT_EQ(read_all("/sys/fs/cgroup/cgroup.procs"), "");
  expect_errno(open("/sys/fs/cgroup/cpu.max", O_WRONLY), EROFS, "write cpu.max");
}

TEST_F(SyntheticFsTest, SysMemoryFilesComeFromTheHost) {
  for (const char* path :
       {"/sys/kernel/mm/transparent_hugepage/enabled", "/sys/devices/system/node/online",
        "/sys/devices/system/node/node0/cpulist"}) {
    auto host = read_host_file(path);
    if (!host.ok()) {
      continue;  // a host without THP or NUMA nodes
    }
    EXPECT_EQ(read_all(path), *host) << path;
  }
}

TEST_F(SyntheticFsTest, ProcSysSettings) {
  EXPECT_EQ(read_all("/proc/sys/kernel/ngroups_max"), "65536\n");
  EXPECT_EQ(read_all("/proc/sys/kernel/cap_last_cap"), "40\n");
  EXPECT_EQ(read_all("/proc/sys/kernel/overflowuid"), "65534\n");
  EXPECT_EQ(read_all("/proc/sys/kernel/domainname"), "(none)\n");
  EXPECT_EQ(read_all("/proc/sys/vm/mmap_min_addr"), "65536\n");
  EXPECT_EQ(read_all("/proc/sys/fs/nr_open"), "1048576\n");
  // boot_id stays, uuid changes with every open.
  EXPECT_EQ(read_all("/proc/sys/kernel/random/boot_id"),
            read_all("/proc/sys/kernel/random/boot_id"));
  EXPECT_NE(read_all("/proc/sys/kernel/random/uuid"), read_all("/proc/sys/kernel/random/uuid"));
  expect_errno(sandbox_.walk("/proc/sys/kernel/no_such_setting"), ENOENT, "missing setting");
  auto uptime = read_all("/proc/uptime");
  EXPECT_NE(uptime.find(' '), std::string::npos) << uptime;
}

}  // namespace
}  // namespace ward::vfs
