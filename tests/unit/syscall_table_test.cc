#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "syscalls/table.h"

namespace ward::syscalls {
namespace {

using enum ArgFormat;

// The highest number Linux 6.18 assigns on x86_64: file_setattr.
constexpr int kHighestNumber = 469;

TEST(SyscallTable, NumbersStrictlyAscending) {
  const auto table = syscall_table();
  ASSERT_FALSE(table.empty());
  for (size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(table[i - 1].number, table[i].number)
        << table[i - 1].name << " comes before " << table[i].name;
  }
}

TEST(SyscallTable, NamesUnique) {
  std::set<std::string_view> names;
  for (const SyscallEntry& entry : syscall_table()) {
    EXPECT_TRUE(names.insert(entry.name).second) << "duplicate name " << entry.name;
  }
}

TEST(SyscallTable, NamesAreNonEmptyIdentifiers) {
  for (const SyscallEntry& entry : syscall_table()) {
    ASSERT_FALSE(entry.name.empty()) << "row " << entry.number;
    for (char c : entry.name) {
      const bool identifier_char = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      EXPECT_TRUE(identifier_char) << "row " << entry.number << " name " << entry.name;
    }
  }
}

TEST(SyscallTable, EveryNumberFrom0To336Present) {
  // 0-334 are the classic calls. 335 uretprobe came in Linux 6.11, and 336
  // uprobe in 6.18.
  for (uint64_t number = 0; number <= 336; ++number) {
    EXPECT_NE(find_syscall(number), nullptr) << "number " << number;
  }
}

TEST(SyscallTable, Numbers337To423Absent) {
  for (uint64_t number = 337; number <= 423; ++number) {
    EXPECT_EQ(find_syscall(number), nullptr) << "number " << number;
  }
}

TEST(SyscallTable, EveryNumberFrom424ToHighestPresent) {
  for (uint64_t number = 424; number <= kHighestNumber; ++number) {
    EXPECT_NE(find_syscall(number), nullptr) << "number " << number;
  }
}

TEST(SyscallTable, X32NumbersAbsent) {
  for (uint64_t number = 512; number <= 547; ++number) {
    EXPECT_EQ(find_syscall(number), nullptr) << "number " << number;
  }
}

TEST(SyscallTable, NumbersAboveHighestAbsent) {
  EXPECT_EQ(syscall_table().back().number, kHighestNumber);
  EXPECT_EQ(syscall_table().back().name, "file_setattr");
  EXPECT_EQ(find_syscall(uint64_t{kHighestNumber + 1}), nullptr);
  EXPECT_EQ(find_syscall(uint64_t{1} << 32), nullptr);
  EXPECT_EQ(find_syscall(UINT64_MAX), nullptr);
}

TEST(SyscallTable, RowCount) {
  // 0-336 and 424-469.
  EXPECT_EQ(syscall_table().size(), 337u + 46u);
}

TEST(SyscallTable, FindByNumberAndNameAgree) {
  for (const SyscallEntry& entry : syscall_table()) {
    EXPECT_EQ(find_syscall(static_cast<uint64_t>(entry.number)), &entry) << entry.name;
    EXPECT_EQ(find_syscall(entry.name), &entry) << entry.name;
  }
}

TEST(SyscallTable, FindUnknownNameReturnsNull) {
  EXPECT_EQ(find_syscall(std::string_view("no_such_syscall")), nullptr);
  EXPECT_EQ(find_syscall(std::string_view("")), nullptr);
  EXPECT_EQ(find_syscall(std::string_view("openat ")), nullptr);
}

TEST(SyscallTable, ArgCountAtMostSix) {
  for (const SyscallEntry& entry : syscall_table()) {
    EXPECT_LE(entry.arg_count, 6) << entry.name;
  }
}

// The dispatcher relies on this rule: a row without a handler returns
// ENOSYS, and a row with one is supported at least in part.
TEST(SyscallTable, SupportNoneExactlyWhenHandlerNull) {
  for (const SyscallEntry& entry : syscall_table()) {
    EXPECT_EQ(entry.support == Support::kNone, entry.handler == nullptr) << entry.name;
  }
}

TEST(SyscallTable, EveryRowHasNoteUnlessFullySupported) {
  for (const SyscallEntry& entry : syscall_table()) {
    if (entry.support != Support::kFull) {
      EXPECT_FALSE(entry.note.empty()) << entry.name;
    }
  }
}

struct WellKnownRow {
  int number;
  std::string_view name;
  std::vector<ArgFormat> args;
};

void expect_row(const WellKnownRow& expected) {
  const SyscallEntry* entry = find_syscall(static_cast<uint64_t>(expected.number));
  ASSERT_NE(entry, nullptr) << expected.name;
  EXPECT_EQ(entry->name, expected.name);
  ASSERT_EQ(entry->arg_count, expected.args.size()) << expected.name;
  for (size_t i = 0; i < expected.args.size(); ++i) {
    EXPECT_EQ(entry->args[i], expected.args[i]) << expected.name << " argument " << i;
  }
}

TEST(SyscallTable, WellKnownRows) {
  const WellKnownRow rows[] = {
      {0, "read", {kFd, kReadBuffer, kUint}},
      {1, "write", {kFd, kWriteBuffer, kUint}},
      {2, "open", {kPath, kOpenFlags, kMode}},
      {3, "close", {kFd}},
      {9, "mmap", {kPtr, kUint, kProt, kMmapFlags, kFd, kHex}},
      {12, "brk", {kPtr}},
      {15, "rt_sigreturn", {}},
      {16, "ioctl", {kFd, kIoctlCmd, kHex}},
      {39, "getpid", {}},
      {56, "clone", {kCloneFlags, kPtr, kPtr, kPtr, kPtr}},
      {59, "execve", {kPath, kStringArray, kEnvArray}},
      {60, "exit", {kInt}},
      {62, "kill", {kInt, kSignal}},
      {72, "fcntl", {kFd, kFcntlCmd, kHex}},
      {202, "futex", {kPtr, kFutexOp, kInt, kTimespec, kPtr, kHex}},
      {228, "clock_gettime", {kClockId, kTimespecOut}},
      {231, "exit_group", {kInt}},
      {257, "openat", {kDirFd, kPath, kOpenFlags, kMode}},
      {263, "unlinkat", {kDirFd, kPath, kUnlinkatFlags}},
      {272, "unshare", {kNamespaceFlags}},
      {318, "getrandom", {kPtr, kUint, kHex}},
      {322, "execveat", {kDirFd, kPath, kStringArray, kEnvArray, kAtFlags}},
      {334, "rseq", {kPtr, kUint, kHex, kHex}},
      {335, "uretprobe", {}},
      {336, "uprobe", {}},
      {424, "pidfd_send_signal", {kFd, kSignal, kPtr, kHex}},
      {435, "clone3", {kPtr, kUint}},
      {437, "openat2", {kDirFd, kPath, kPtr, kUint}},
      {439, "faccessat2", {kDirFd, kPath, kAccessMode, kFaccessatFlags}},
      {449, "futex_waitv", {kPtr, kUint, kHex, kPtr, kClockId}},
      {462, "mseal", {kPtr, kUint, kHex}},
      {469, "file_setattr", {kDirFd, kPath, kPtr, kUint, kAtFlags}},
  };
  for (const WellKnownRow& row : rows) {
    expect_row(row);
  }
}

TEST(SyscallTable, NamesAfter450) {
  // Numbers newer than Debian 12's kernel headers, checked one by one.
  const std::pair<int, std::string_view> rows[] = {
      {451, "cachestat"},         {452, "fchmodat2"},        {453, "map_shadow_stack"},
      {454, "futex_wake"},        {455, "futex_wait"},       {456, "futex_requeue"},
      {457, "statmount"},         {458, "listmount"},        {459, "lsm_get_self_attr"},
      {460, "lsm_set_self_attr"}, {461, "lsm_list_modules"}, {462, "mseal"},
      {463, "setxattrat"},        {464, "getxattrat"},       {465, "listxattrat"},
      {466, "removexattrat"},     {467, "open_tree_attr"},   {468, "file_getattr"},
      {469, "file_setattr"},
  };
  for (const auto& [number, name] : rows) {
    const SyscallEntry* entry = find_syscall(static_cast<uint64_t>(number));
    ASSERT_NE(entry, nullptr) << number;
    EXPECT_EQ(entry->name, name) << number;
  }
}

TEST(SyscallTable, RemovedCallsSayLinuxLacksThem) {
  for (std::string_view name :
       {"_sysctl", "uselib", "lookup_dcookie", "set_thread_area", "create_module", "vserver"}) {
    const SyscallEntry* entry = find_syscall(name);
    ASSERT_NE(entry, nullptr) << name;
    EXPECT_NE(entry->note.find("ENOSYS"), std::string_view::npos) << name;
  }
}

}  // namespace
}  // namespace ward::syscalls
