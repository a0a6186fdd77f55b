#include "syscalls/strace.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "syscalls/table.h"
#include "tests/unit/strace_fake_memory.h"

namespace ward::syscalls {
namespace {

using enum ArgFormat;

std::string format_value(ArgFormat format, uint64_t value) {
  const FakeGuestMemory no_memory;
  return format_argument(format, value, no_memory.reader());
}

uint64_t as_register(int64_t value) { return static_cast<uint64_t>(value); }

// GoogleTest reports the exception as a failure of the calling test.
const SyscallEntry& row(std::string_view name) {
  const SyscallEntry* entry = find_syscall(name);
  if (entry == nullptr) {
    throw std::invalid_argument("no syscall named " + std::string(name));
  }
  return *entry;
}

std::string format_call(std::string_view name, std::array<uint64_t, 6> args,
                        const FakeGuestMemory& memory = FakeGuestMemory()) {
  return format_syscall_entry(row(name), args, memory.reader());
}

// ---------------------------------------------------------------------------
// Numbers and pointers

TEST(StraceInt, ReadsLow32BitsSigned) {
  EXPECT_EQ(format_value(kInt, 42), "42");
  EXPECT_EQ(format_value(kInt, 0xffffffff), "-1");
  EXPECT_EQ(format_value(kInt, as_register(-1)), "-1");
  EXPECT_EQ(format_value(kInt, 0x100000005), "5");
}

TEST(StraceLong, ReadsAll64Bits) {
  EXPECT_EQ(format_value(kLong, as_register(-1)), "-1");
  EXPECT_EQ(format_value(kLong, 0xffffffff), "4294967295");
  EXPECT_EQ(format_value(kLong, 0x100000000), "4294967296");
}

TEST(StraceUint, PrintsUnsignedDecimal) {
  EXPECT_EQ(format_value(kUint, 0), "0");
  EXPECT_EQ(format_value(kUint, 8192), "8192");
  EXPECT_EQ(format_value(kUint, UINT64_MAX), "18446744073709551615");
}

TEST(StraceHex, PrintsZeroWithoutPrefix) {
  EXPECT_EQ(format_value(kHex, 0), "0");
  EXPECT_EQ(format_value(kHex, 255), "0xff");
  EXPECT_EQ(format_value(kHex, UINT64_MAX), "0xffffffffffffffff");
}

TEST(StracePtr, PrintsNullOrHex) {
  EXPECT_EQ(format_value(kPtr, 0), "NULL");
  EXPECT_EQ(format_value(kPtr, 0x7ffd1000), "0x7ffd1000");
}

TEST(StraceFd, ReadsLow32BitsSigned) {
  EXPECT_EQ(format_value(kFd, 3), "3");
  EXPECT_EQ(format_value(kFd, as_register(-1)), "-1");
  EXPECT_EQ(format_value(kFd, 0xffffffff), "-1");
}

TEST(StraceDirFd, NamesAtFdcwd) {
  EXPECT_EQ(format_value(kDirFd, as_register(-100)), "AT_FDCWD");
  EXPECT_EQ(format_value(kDirFd, 0xffffff9c), "AT_FDCWD");
  EXPECT_EQ(format_value(kDirFd, 5), "5");
  EXPECT_EQ(format_value(kDirFd, as_register(-1)), "-1");
}

// ---------------------------------------------------------------------------
// Flags and enumerations

TEST(StraceOpenFlags, AccessModeComesFirst) {
  EXPECT_EQ(format_value(kOpenFlags, 0), "O_RDONLY");
  EXPECT_EQ(format_value(kOpenFlags, 01), "O_WRONLY");
  EXPECT_EQ(format_value(kOpenFlags, 02), "O_RDWR");
  EXPECT_EQ(format_value(kOpenFlags, 03), "O_ACCMODE");
  EXPECT_EQ(format_value(kOpenFlags, 02000000), "O_RDONLY|O_CLOEXEC");
  EXPECT_EQ(format_value(kOpenFlags, 01 | 0100 | 01000 | 02000000),
            "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
}

TEST(StraceOpenFlags, FollowsStraceOrder) {
  EXPECT_EQ(format_value(kOpenFlags, 04000 | 02000000 | 0200000),
            "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY");
  EXPECT_EQ(format_value(kOpenFlags, 03 | 0100000 | 040000 | 020000 | 01000000 | 010000000),
            "O_ACCMODE|O_DIRECT|O_LARGEFILE|O_NOATIME|O_PATH|O_ASYNC");
}

TEST(StraceOpenFlags, MultiBitNamesWin) {
  EXPECT_EQ(format_value(kOpenFlags, 01 | 04010000), "O_WRONLY|O_SYNC");
  EXPECT_EQ(format_value(kOpenFlags, 010000), "O_RDONLY|O_DSYNC");
  EXPECT_EQ(format_value(kOpenFlags, 02 | 020200000), "O_RDWR|O_TMPFILE");
  EXPECT_EQ(format_value(kOpenFlags, 020000000), "O_RDONLY|__O_TMPFILE");
}

TEST(StraceOpenFlags, UnknownBitsInHex) {
  EXPECT_EQ(format_value(kOpenFlags, 02 | 0x40000000), "O_RDWR|0x40000000");
  // The kernel reads an int, so the high half of the register is ignored.
  EXPECT_EQ(format_value(kOpenFlags, 0xff00000000000000 | 0100), "O_RDONLY|O_CREAT");
}

TEST(StraceNewFdFlags, NoAccessMode) {
  EXPECT_EQ(format_value(kNewFdFlags, 0), "0");
  EXPECT_EQ(format_value(kNewFdFlags, 02000000), "O_CLOEXEC");
  EXPECT_EQ(format_value(kNewFdFlags, 04000 | 02000000), "O_NONBLOCK|O_CLOEXEC");
  EXPECT_EQ(format_value(kNewFdFlags, 02000000 | 1), "O_CLOEXEC|0x1");
}

TEST(StraceMode, Octal) {
  EXPECT_EQ(format_value(kMode, 0), "000");
  EXPECT_EQ(format_value(kMode, 07), "007");
  EXPECT_EQ(format_value(kMode, 022), "022");
  EXPECT_EQ(format_value(kMode, 0644), "0644");
  EXPECT_EQ(format_value(kMode, 04755), "04755");
}

TEST(StraceMode, FileType) {
  EXPECT_EQ(format_value(kMode, 020000 | 0600), "S_IFCHR|0600");
  EXPECT_EQ(format_value(kMode, 0100000 | 0644), "S_IFREG|0644");
  EXPECT_EQ(format_value(kMode, 010000), "S_IFIFO|000");
  // 0170000 is no file type, so the whole mode is printed in octal.
  EXPECT_EQ(format_value(kMode, 0170644), "0170644");
}

TEST(StraceMode, ReadsUmodeT) {
  // umode_t is 16 bits wide: 0x12345 is read as 0x2345, which is 021505.
  EXPECT_EQ(format_value(kMode, 0x12345), "S_IFCHR|01505");
}

TEST(StraceAtFlags, NamesAndUnknownBits) {
  EXPECT_EQ(format_value(kAtFlags, 0), "0");
  EXPECT_EQ(format_value(kAtFlags, 0x100 | 0x1000), "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH");
  EXPECT_EQ(format_value(kAtFlags, 0x1000 | 0x40000000), "AT_EMPTY_PATH|0x40000000");
  EXPECT_EQ(format_value(kAtFlags, 0x8000), "AT_RECURSIVE");
  // 0x200 means AT_REMOVEDIR, AT_EACCESS or AT_HANDLE_FID depending on the
  // call, so the generic decoder does not name it.
  EXPECT_EQ(format_value(kAtFlags, 0x200), "0x200");
}

TEST(StraceUnlinkatFlags, RemoveDir) {
  EXPECT_EQ(format_value(kUnlinkatFlags, 0), "0");
  EXPECT_EQ(format_value(kUnlinkatFlags, 0x200), "AT_REMOVEDIR");
  EXPECT_EQ(format_value(kUnlinkatFlags, 0x201), "AT_REMOVEDIR|0x1");
}

TEST(StraceFaccessatFlags, Eaccess) {
  EXPECT_EQ(format_value(kFaccessatFlags, 0x200), "AT_EACCESS");
  EXPECT_EQ(format_value(kFaccessatFlags, 0x1100), "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH");
}

TEST(StraceProt, NamesAndNone) {
  EXPECT_EQ(format_value(kProt, 0), "PROT_NONE");
  EXPECT_EQ(format_value(kProt, 3), "PROT_READ|PROT_WRITE");
  EXPECT_EQ(format_value(kProt, 0x1000007), "PROT_READ|PROT_WRITE|PROT_EXEC|PROT_GROWSDOWN");
  EXPECT_EQ(format_value(kProt, 0x14), "PROT_EXEC|0x10");
}

TEST(StraceMmapFlags, TypeThenFlags) {
  EXPECT_EQ(format_value(kMmapFlags, 0x22), "MAP_PRIVATE|MAP_ANONYMOUS");
  EXPECT_EQ(format_value(kMmapFlags, 0x02 | 0x10 | 0x800), "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
  EXPECT_EQ(format_value(kMmapFlags, 0x03 | 0x20000 | 0x200),
            "MAP_SHARED_VALIDATE|MAP_STACK|0x200");
  EXPECT_EQ(format_value(kMmapFlags, 0x20), "0|MAP_ANONYMOUS");
}

TEST(StraceMmapFlags, HugePageSize) {
  const uint64_t flags = 0x01 | 0x10 | 0x40000 | (uint64_t{21} << 26);
  EXPECT_EQ(format_value(kMmapFlags, flags), "MAP_SHARED|MAP_FIXED|MAP_HUGETLB|21<<MAP_HUGE_SHIFT");
}

TEST(StraceMmapFlags, UninitializedWithoutHugetlb) {
  EXPECT_EQ(format_value(kMmapFlags, 0x22 | 0x4000000),
            "MAP_PRIVATE|MAP_ANONYMOUS|MAP_UNINITIALIZED");
}

TEST(StraceSignal, Names) {
  EXPECT_EQ(format_value(kSignal, 0), "0");
  EXPECT_EQ(format_value(kSignal, 2), "SIGINT");
  EXPECT_EQ(format_value(kSignal, 9), "SIGKILL");
  EXPECT_EQ(format_value(kSignal, 17), "SIGCHLD");
  EXPECT_EQ(format_value(kSignal, 31), "SIGSYS");
}

TEST(StraceSignal, RealTimeAndOutOfRange) {
  EXPECT_EQ(format_value(kSignal, 32), "SIGRTMIN");
  EXPECT_EQ(format_value(kSignal, 34), "SIGRT_2");
  EXPECT_EQ(format_value(kSignal, 64), "SIGRT_32");
  EXPECT_EQ(format_value(kSignal, 65), "65");
  EXPECT_EQ(format_value(kSignal, as_register(-5)), "-5");
}

TEST(StraceClockId, Names) {
  EXPECT_EQ(format_value(kClockId, 0), "CLOCK_REALTIME");
  EXPECT_EQ(format_value(kClockId, 1), "CLOCK_MONOTONIC");
  EXPECT_EQ(format_value(kClockId, 7), "CLOCK_BOOTTIME");
  EXPECT_EQ(format_value(kClockId, 11), "CLOCK_TAI");
  EXPECT_EQ(format_value(kClockId, 99), "0x63 /* CLOCK_??? */");
}

TEST(StraceClockId, CpuAndFdClocks) {
  const auto clock_id = [](int32_t owner, int32_t type) {
    return static_cast<uint64_t>(static_cast<uint32_t>((~owner * 8) | type));
  };
  EXPECT_EQ(format_value(kClockId, clock_id(1234, 2)),
            "MAKE_PROCESS_CPUCLOCK(1234, CPUCLOCK_SCHED)");
  EXPECT_EQ(format_value(kClockId, clock_id(1234, 4 | 0)),
            "MAKE_THREAD_CPUCLOCK(1234, CPUCLOCK_PROF)");
  EXPECT_EQ(format_value(kClockId, as_register(-2)), "MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED)");
  EXPECT_EQ(format_value(kClockId, clock_id(3, 3)), "FD_TO_CLOCKID(3)");
  EXPECT_EQ(format_value(kClockId, clock_id(5, 7)), "0xffffffd7 /* CLOCK_??? */");
}

TEST(StraceWhence, Names) {
  EXPECT_EQ(format_value(kWhence, 0), "SEEK_SET");
  EXPECT_EQ(format_value(kWhence, 1), "SEEK_CUR");
  EXPECT_EQ(format_value(kWhence, 2), "SEEK_END");
  EXPECT_EQ(format_value(kWhence, 4), "SEEK_HOLE");
  EXPECT_EQ(format_value(kWhence, 9), "0x9 /* SEEK_??? */");
}

TEST(StraceFcntlCmd, Names) {
  EXPECT_EQ(format_value(kFcntlCmd, 0), "F_DUPFD");
  EXPECT_EQ(format_value(kFcntlCmd, 3), "F_GETFL");
  EXPECT_EQ(format_value(kFcntlCmd, 37), "F_OFD_SETLK");
  EXPECT_EQ(format_value(kFcntlCmd, 1030), "F_DUPFD_CLOEXEC");
  EXPECT_EQ(format_value(kFcntlCmd, 12345), "0x3039 /* F_??? */");
}

TEST(StraceIoctlCmd, CommonRequests) {
  EXPECT_EQ(format_value(kIoctlCmd, 0x5401), "TCGETS");
  EXPECT_EQ(format_value(kIoctlCmd, 0x5413), "TIOCGWINSZ");
  EXPECT_EQ(format_value(kIoctlCmd, 0x541b), "FIONREAD");
  EXPECT_EQ(format_value(kIoctlCmd, 0x5451), "FIOCLEX");
  EXPECT_EQ(format_value(kIoctlCmd, 0x80045430), "TIOCGPTN");
}

TEST(StraceIoctlCmd, UnknownInHex) {
  EXPECT_EQ(format_value(kIoctlCmd, 0x12345678), "0x12345678");
  // The request is an unsigned int, so the high half of the register is ignored.
  EXPECT_EQ(format_value(kIoctlCmd, 0xffffffff00005401), "TCGETS");
}

TEST(StraceCloneFlags, ExitSignalInLowByte) {
  EXPECT_EQ(format_value(kCloneFlags, 0), "0");
  EXPECT_EQ(format_value(kCloneFlags, 17), "SIGCHLD");
  EXPECT_EQ(format_value(kCloneFlags, 0x1200000 | 17),
            "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD");
}

TEST(StraceCloneFlags, ThreadFlags) {
  // The flags glibc's pthread_create passes.
  EXPECT_EQ(format_value(kCloneFlags, 0x3d0f00),
            "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
            "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID");
}

TEST(StraceCloneFlags, UnknownBitsBeforeSignal) {
  EXPECT_EQ(format_value(kCloneFlags, 0x400000000 | 0x100 | 17), "CLONE_VM|0x400000000|SIGCHLD");
}

TEST(StraceNamespaceFlags, NewTimeHasNoSignalByte) {
  EXPECT_EQ(format_value(kNamespaceFlags, 0), "0");
  EXPECT_EQ(format_value(kNamespaceFlags, 0x80 | 0x20000 | 0x10000000),
            "CLONE_NEWTIME|CLONE_NEWNS|CLONE_NEWUSER");
  EXPECT_EQ(format_value(kNamespaceFlags, 0x40000000 | 0x1), "CLONE_NEWNET|0x1");
}

TEST(StraceFutexOp, CommandPrivateAndClock) {
  EXPECT_EQ(format_value(kFutexOp, 0), "FUTEX_WAIT");
  EXPECT_EQ(format_value(kFutexOp, 1 | 128), "FUTEX_WAKE_PRIVATE");
  EXPECT_EQ(format_value(kFutexOp, 9 | 128 | 256),
            "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME");
  EXPECT_EQ(format_value(kFutexOp, 9 | 256), "FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME");
  EXPECT_EQ(format_value(kFutexOp, 13), "FUTEX_LOCK_PI2");
}

TEST(StraceFutexOp, UnknownCommand) {
  EXPECT_EQ(format_value(kFutexOp, 99), "0x63 /* FUTEX_??? */");
  EXPECT_EQ(format_value(kFutexOp, 14 | 128), "0x8e /* FUTEX_??? */");
}

TEST(StraceAccessMode, Names) {
  EXPECT_EQ(format_value(kAccessMode, 0), "F_OK");
  EXPECT_EQ(format_value(kAccessMode, 4), "R_OK");
  EXPECT_EQ(format_value(kAccessMode, 7), "R_OK|W_OK|X_OK");
  EXPECT_EQ(format_value(kAccessMode, 0x14), "R_OK|0x10");
  EXPECT_EQ(format_value(kAccessMode, 0x18), "0x18");
}

// ---------------------------------------------------------------------------
// Strings and arrays in guest memory

TEST(StraceString, QuotedAndEscaped) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "a\"b\\c\n\t\r\v\f\x01\x7f\xff z");
  EXPECT_EQ(format_argument(kString, 0x1000, memory.reader()),
            R"("a\"b\\c\n\t\r\v\f\1\177\377 z")");
}

TEST(StraceString, OctalEscapeBeforeDigit) {
  // The escape takes three digits only when an octal digit follows it.
  FakeGuestMemory memory;
  memory.put_string(0x1000, std::string{'\x01', '8', '\x01', '7', '\x1b', '0'});
  EXPECT_EQ(format_argument(kString, 0x1000, memory.reader()), R"("\18\0017\0330")");
}

TEST(StraceString, TruncatedAfter32Bytes) {
  FakeGuestMemory memory;
  const std::string exactly_32(32, 'a');
  const std::string longer(33, 'b');
  memory.put_string(0x1000, exactly_32);
  memory.put_string(0x2000, longer);

  EXPECT_EQ(format_argument(kString, 0x1000, memory.reader()), "\"" + exactly_32 + "\"");
  EXPECT_EQ(format_argument(kString, 0x2000, memory.reader()),
            "\"" + std::string(32, 'b') + "\"...");
}

TEST(StraceString, TruncationCountsRawBytes) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, std::string(40, '\n'));
  std::string expected = "\"";
  for (int i = 0; i < 32; ++i) {
    expected += "\\n";
  }
  expected += "\"...";
  EXPECT_EQ(format_argument(kString, 0x1000, memory.reader()), expected);
}

TEST(StraceString, EmptyNullAndUnreadable) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "");
  EXPECT_EQ(format_argument(kString, 0x1000, memory.reader()), "\"\"");
  EXPECT_EQ(format_argument(kString, 0, memory.reader()), "NULL");
  EXPECT_EQ(format_argument(kString, 0xdead0000, memory.reader()), "0xdead0000");
}

TEST(StracePath, NotCutAt32Bytes) {
  FakeGuestMemory memory;
  const std::string path = "/" + std::string(100, 'p');
  memory.put_string(0x1000, path);
  EXPECT_EQ(format_argument(kPath, 0x1000, memory.reader()), "\"" + path + "\"");
}

TEST(StracePath, CutAtPathMax) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, std::string(5000, 'p'));
  EXPECT_EQ(format_argument(kPath, 0x1000, memory.reader()),
            "\"" + std::string(4096, 'p') + "\"...");
}

TEST(StraceStringArray, PrintsEveryElement) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "ls");
  memory.put_string(0x2000, "-la");
  memory.put_pointer_array(0x3000, {0x1000, 0x2000});
  EXPECT_EQ(format_argument(kStringArray, 0x3000, memory.reader()), R"(["ls", "-la"])");
}

TEST(StraceStringArray, EmptyNullAndUnreadable) {
  FakeGuestMemory memory;
  memory.put_pointer_array(0x3000, {});
  EXPECT_EQ(format_argument(kStringArray, 0x3000, memory.reader()), "[]");
  EXPECT_EQ(format_argument(kStringArray, 0, memory.reader()), "NULL");
  EXPECT_EQ(format_argument(kStringArray, 0x8, memory.reader()), "0x8");
}

TEST(StraceStringArray, UnreadableElements) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "ls");
  // Neither the second string nor the third slot can be read.
  memory.put_word(0x3000, 0x1000);
  memory.put_word(0x3008, 0xbad000);
  EXPECT_EQ(format_argument(kStringArray, 0x3000, memory.reader()), R"(["ls", 0xbad000, ???])");
}

TEST(StraceStringArray, CutAfter32Elements) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "x");
  memory.put_pointer_array(0x3000, std::vector<uint64_t>(40, 0x1000));

  std::string expected = "[";
  for (int i = 0; i < 32; ++i) {
    expected += "\"x\", ";
  }
  expected += "...]";
  EXPECT_EQ(format_argument(kStringArray, 0x3000, memory.reader()), expected);
}

TEST(StraceEnvArray, PrintsCount) {
  FakeGuestMemory memory;
  memory.put_pointer_array(0x3000, std::vector<uint64_t>(12, 0x1000));
  memory.put_pointer_array(0x4000, {0x1000});
  memory.put_pointer_array(0x5000, {});
  EXPECT_EQ(format_argument(kEnvArray, 0x3000, memory.reader()), "0x3000 /* 12 vars */");
  EXPECT_EQ(format_argument(kEnvArray, 0x4000, memory.reader()), "0x4000 /* 1 var */");
  EXPECT_EQ(format_argument(kEnvArray, 0x5000, memory.reader()), "0x5000 /* 0 vars */");
}

TEST(StraceEnvArray, NullAndUnreadable) {
  FakeGuestMemory memory;
  memory.put_word(0x3000, 0x1000);
  memory.put_word(0x3008, 0x1000);
  EXPECT_EQ(format_argument(kEnvArray, 0, memory.reader()), "NULL");
  EXPECT_EQ(format_argument(kEnvArray, 0x8, memory.reader()), "0x8");
  // Two slots readable, the third not: at least two variables.
  EXPECT_EQ(format_argument(kEnvArray, 0x3000, memory.reader()), "0x3000 /* 2+ vars */");
}

// ---------------------------------------------------------------------------
// Whole calls

TEST(StraceEntry, OpenatWithoutCreateOmitsMode) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "/etc/passwd");
  EXPECT_EQ(format_call("openat", {as_register(-100), 0x1000, 02000000, 0777}, memory),
            R"(openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC))");
}

TEST(StraceEntry, OpenatWithCreatePrintsMode) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "out.txt");
  EXPECT_EQ(format_call("openat", {3, 0x1000, 01 | 0100 | 01000, 0644}, memory),
            R"(openat(3, "out.txt", O_WRONLY|O_CREAT|O_TRUNC, 0644))");
  EXPECT_EQ(format_call("open", {0x1000, 02 | 020200000, 0600}, memory),
            R"(open("out.txt", O_RDWR|O_TMPFILE, 0600))");
}

TEST(StraceEntry, UnreadablePath) {
  EXPECT_EQ(format_call("openat", {as_register(-100), 0x1000, 0, 0}),
            "openat(AT_FDCWD, 0x1000, O_RDONLY)");
  EXPECT_EQ(format_call("chdir", {0}), "chdir(NULL)");
}

TEST(StraceEntry, MmapAnonymous) {
  EXPECT_EQ(format_call("mmap", {0, 8192, 3, 0x22, as_register(-1), 0}),
            "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
}

TEST(StraceEntry, MmapFile) {
  EXPECT_EQ(format_call("mmap", {0x7f0000000000, 4096, 5, 0x812, 3, 0x2000}),
            "mmap(0x7f0000000000, 4096, PROT_READ|PROT_EXEC, "
            "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x2000)");
}

TEST(StraceEntry, Execve) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "/bin/ls");
  memory.put_string(0x1100, "ls");
  memory.put_string(0x1200, "-la");
  memory.put_pointer_array(0x2000, {0x1100, 0x1200});
  memory.put_pointer_array(0x7ffd0000, std::vector<uint64_t>(12, 0x1100));
  EXPECT_EQ(format_call("execve", {0x1000, 0x2000, 0x7ffd0000}, memory),
            R"(execve("/bin/ls", ["ls", "-la"], 0x7ffd0000 /* 12 vars */))");
}

TEST(StraceEntry, ExecveUnreadableArrays) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "/bin/ls");
  EXPECT_EQ(format_call("execve", {0x1000, 0x8, 0x8}, memory), R"(execve("/bin/ls", 0x8, 0x8))");
  EXPECT_EQ(format_call("execve", {0x1000, 0, 0}, memory), R"(execve("/bin/ls", NULL, NULL))");
}

TEST(StraceEntry, NoArguments) { EXPECT_EQ(format_call("getpid", {1, 2, 3, 4, 5, 6}), "getpid()"); }

TEST(StraceEntry, ExtraRegistersIgnored) {
  EXPECT_EQ(format_call("close", {3, 99, 99, 99, 99, 99}), "close(3)");
}

TEST(StraceEntry, SimpleCalls) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "dir");
  memory.put_string(0x2000, "/etc/passwd");
  EXPECT_EQ(format_call("unlinkat", {as_register(-100), 0x1000, 0x200}, memory),
            R"(unlinkat(AT_FDCWD, "dir", AT_REMOVEDIR))");
  EXPECT_EQ(format_call("access", {0x2000, 4}, memory), R"(access("/etc/passwd", R_OK))");
  EXPECT_EQ(format_call("kill", {1234, 15}), "kill(1234, SIGTERM)");
  EXPECT_EQ(format_call("lseek", {3, as_register(-1), 1}), "lseek(3, -1, SEEK_CUR)");
  EXPECT_EQ(format_call("ioctl", {1, 0x5413, 0x7ffd0000}), "ioctl(1, TIOCGWINSZ, 0x7ffd0000)");
  EXPECT_EQ(format_call("clock_gettime", {1, 0x7ffd0000}),
            "clock_gettime(CLOCK_MONOTONIC, 0x7ffd0000)");
  EXPECT_EQ(format_call("clone", {0x1200011, 0, 0, 0x7f0000001000, 0}),
            "clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x7f0000001000, "
            "NULL)");
  EXPECT_EQ(format_call("pipe2", {0x7ffd0000, 02000000}), "pipe2(0x7ffd0000, O_CLOEXEC)");
}

TEST(StraceEntry, FcntlArgumentDependsOnCommand) {
  EXPECT_EQ(format_call("fcntl", {3, 3, 0x1234}), "fcntl(3, F_GETFL)");
  EXPECT_EQ(format_call("fcntl", {3, 1, 0x1234}), "fcntl(3, F_GETFD)");
  EXPECT_EQ(format_call("fcntl", {3, 2, 1}), "fcntl(3, F_SETFD, FD_CLOEXEC)");
  EXPECT_EQ(format_call("fcntl", {3, 2, 3}), "fcntl(3, F_SETFD, FD_CLOEXEC|0x2)");
  EXPECT_EQ(format_call("fcntl", {3, 4, 04000}), "fcntl(3, F_SETFL, O_RDONLY|O_NONBLOCK)");
  EXPECT_EQ(format_call("fcntl", {3, 1030, 10}), "fcntl(3, F_DUPFD_CLOEXEC, 10)");
  EXPECT_EQ(format_call("fcntl", {3, 10, 29}), "fcntl(3, F_SETSIG, SIGIO)");
  EXPECT_EQ(format_call("fcntl", {3, 6, 0x7ffd0000}), "fcntl(3, F_SETLK, 0x7ffd0000)");
  EXPECT_EQ(format_call("fcntl", {3, 12345, 10}), "fcntl(3, 0x3039 /* F_??? */, 0xa)");
}

TEST(StraceEntry, FutexArgumentsDependOnOperation) {
  const uint64_t uaddr = 0x7f0000001000;
  const uint64_t uaddr2 = 0x7f0000002000;
  EXPECT_EQ(format_call("futex", {uaddr, 1 | 128, 1, 0, 0, 0}),
            "futex(0x7f0000001000, FUTEX_WAKE_PRIVATE, 1)");
  EXPECT_EQ(format_call("futex", {uaddr, 0 | 128, 2, 0, 0, 0}),
            "futex(0x7f0000001000, FUTEX_WAIT_PRIVATE, 2, NULL)");
  EXPECT_EQ(format_call("futex", {uaddr, 9 | 128 | 256, 0, 0, 0, 0xffffffff}),
            "futex(0x7f0000001000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, "
            "FUTEX_BITSET_MATCH_ANY)");
  EXPECT_EQ(format_call("futex", {uaddr, 10, 1, 0, 0, 0x4}),
            "futex(0x7f0000001000, FUTEX_WAKE_BITSET, 1, 0x4)");
  EXPECT_EQ(format_call("futex", {uaddr, 4 | 128, 1, 2147483647, uaddr2, 2}),
            "futex(0x7f0000001000, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2147483647, 0x7f0000002000, 2)");
  EXPECT_EQ(format_call("futex", {uaddr, 5, 1, 1, uaddr2, 0x4000001}),
            "futex(0x7f0000001000, FUTEX_WAKE_OP, 1, 1, 0x7f0000002000, 0x4000001)");
  EXPECT_EQ(format_call("futex", {uaddr, 6 | 128, 0, 0x7ffd0000, 0, 0}),
            "futex(0x7f0000001000, FUTEX_LOCK_PI_PRIVATE, 0x7ffd0000)");
  EXPECT_EQ(format_call("futex", {uaddr, 7, 0, 0, 0, 0}), "futex(0x7f0000001000, FUTEX_UNLOCK_PI)");
}

TEST(StraceEntry, FutexUnknownOperationPrintsEverything) {
  EXPECT_EQ(format_call("futex", {0x1000, 99, 1, 0, 0, 0}),
            "futex(0x1000, 0x63 /* FUTEX_??? */, 1, NULL, NULL, 0)");
}

// ---------------------------------------------------------------------------
// Results

TEST(StraceResult, Success) {
  EXPECT_EQ(format_syscall_result(row("openat"), 3), "= 3");
  EXPECT_EQ(format_syscall_result(row("read"), 0), "= 0");
  EXPECT_EQ(format_syscall_result(row("lseek"), 1LL << 40), "= 1099511627776");
}

TEST(StraceResult, ErrorsWithNameAndMessage) {
  EXPECT_EQ(format_syscall_result(row("openat"), -2), "= -1 ENOENT (No such file or directory)");
  EXPECT_EQ(format_syscall_result(row("read"), -11),
            "= -1 EAGAIN (Resource temporarily unavailable)");
  EXPECT_EQ(format_syscall_result(row("mmap"), -12), "= -1 ENOMEM (Cannot allocate memory)");
  EXPECT_EQ(format_syscall_result(row("getrandom"), -38), "= -1 ENOSYS (Function not implemented)");
}

TEST(StraceResult, ErrorRangeEndsAt4095) {
  EXPECT_EQ(format_syscall_result(row("read"), -4095), "= -1 4095 (Unknown error 4095)");
  EXPECT_EQ(format_syscall_result(row("lseek"), -4096), "= -4096");
}

TEST(StraceResult, AddressesInHex) {
  EXPECT_EQ(format_syscall_result(row("mmap"), 0x7f21cd615000), "= 0x7f21cd615000");
  EXPECT_EQ(format_syscall_result(row("brk"), 0x56005cf13000), "= 0x56005cf13000");
  EXPECT_EQ(format_syscall_result(row("mremap"), 0x7f0000000000), "= 0x7f0000000000");
}

TEST(StraceResult, UmaskInOctal) {
  EXPECT_EQ(format_syscall_result(row("umask"), 022), "= 022");
  EXPECT_EQ(format_syscall_result(row("umask"), 0), "= 000");
}

TEST(StraceResult, RestartCodes) {
  EXPECT_EQ(format_syscall_result(row("read"), -512),
            "= ? ERESTARTSYS (restarted unless a handler without SA_RESTART runs)");
  EXPECT_EQ(format_syscall_result(row("wait4"), -513), "= ? ERESTARTNOINTR (always restarted)");
  EXPECT_EQ(format_syscall_result(row("pause"), -514),
            "= ? ERESTARTNOHAND (restarted unless a handler runs)");
  EXPECT_EQ(format_syscall_result(row("nanosleep"), -516),
            "= ? ERESTART_RESTARTBLOCK (restarted through restart_syscall unless a handler runs)");
}

TEST(StraceResult, UnnamedErrnoPrintsNumber) {
  // ENOIOCTLCMD (515) is kernel-internal: the kernel turns it into ENOTTY
  // before returning, and errno_name has no name for it.
  EXPECT_EQ(format_syscall_result(row("ioctl"), -515), "= -1 515 (Unknown error 515)");
}

TEST(StraceSignal, SentSignalNamesItsSender) {
  siginfo_t info{};
  info.si_signo = SIGUSR1;
  info.si_code = SI_USER;
  info.si_pid = 3;
  info.si_uid = 1000;
  EXPECT_EQ(format_signal_delivery(SIGUSR1, info),
            "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=3, si_uid=1000} ---");
}

TEST(StraceSignal, ChildSignalUsesChildCodes) {
  siginfo_t info{};
  info.si_signo = SIGCHLD;
  info.si_code = CLD_KILLED;
  info.si_pid = 2;
  info.si_status = SIGKILL;
  EXPECT_EQ(format_signal_delivery(SIGCHLD, info),
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=2, si_uid=0, "
            "si_status=SIGKILL, si_utime=0, si_stime=0} ---");
}

TEST(StraceSignal, KernelSignalHasNoSender) {
  siginfo_t info{};
  info.si_signo = SIGSEGV;
  info.si_code = SI_KERNEL;
  EXPECT_EQ(format_signal_delivery(SIGSEGV, info),
            "--- SIGSEGV {si_signo=SIGSEGV, si_code=SI_KERNEL, si_addr=NULL} ---");
}

TEST(StraceSignal, UnknownCodeIsANumber) {
  siginfo_t info{};
  info.si_signo = SIGSEGV;
  info.si_code = 99;
  EXPECT_EQ(format_signal_delivery(SIGSEGV, info),
            "--- SIGSEGV {si_signo=SIGSEGV, si_code=99, si_addr=NULL} ---");
  info.si_signo = SIGUSR1;
  info.si_code = 1;
  EXPECT_EQ(format_signal_delivery(SIGUSR1, info), "--- SIGUSR1 {si_signo=SIGUSR1, si_code=1} ---");
}

TEST(StraceSignal, FaultCodesAndAddress) {
  siginfo_t info{};
  info.si_addr = reinterpret_cast<void*>(0x10);

  info.si_code = SEGV_MAPERR;
  EXPECT_EQ(format_signal_delivery(SIGSEGV, info),
            "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---");
  info.si_code = SEGV_ACCERR;
  EXPECT_EQ(format_signal_delivery(SIGSEGV, info),
            "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x10} ---");
  info.si_code = BUS_ADRERR;
  EXPECT_EQ(format_signal_delivery(SIGBUS, info),
            "--- SIGBUS {si_signo=SIGBUS, si_code=BUS_ADRERR, si_addr=0x10} ---");
  info.si_code = FPE_INTDIV;
  EXPECT_EQ(format_signal_delivery(SIGFPE, info),
            "--- SIGFPE {si_signo=SIGFPE, si_code=FPE_INTDIV, si_addr=0x10} ---");
  info.si_code = ILL_ILLOPN;
  EXPECT_EQ(format_signal_delivery(SIGILL, info),
            "--- SIGILL {si_signo=SIGILL, si_code=ILL_ILLOPN, si_addr=0x10} ---");
}

TEST(StraceSignal, TrapAndPollCodes) {
  siginfo_t info{};
  info.si_code = TRAP_BRKPT;
  EXPECT_EQ(format_signal_delivery(SIGTRAP, info),
            "--- SIGTRAP {si_signo=SIGTRAP, si_code=TRAP_BRKPT, si_addr=NULL} ---");

  info.si_code = POLL_IN;
  info.si_band = 65;
  info.si_fd = 4;
  EXPECT_EQ(format_signal_delivery(SIGIO, info),
            "--- SIGIO {si_signo=SIGIO, si_code=POLL_IN, si_band=65, si_fd=4} ---");
}

TEST(StraceSignal, ChildExitedStatusAndTimes) {
  siginfo_t info{};
  info.si_code = CLD_EXITED;
  info.si_pid = 2;
  info.si_uid = 1000;
  info.si_status = 3;
  info.si_utime = 5;
  info.si_stime = 1;
  EXPECT_EQ(format_signal_delivery(SIGCHLD, info),
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2, si_uid=1000, "
            "si_status=3, si_utime=5, si_stime=1} ---");

  info.si_code = CLD_STOPPED;
  info.si_status = SIGTSTP;
  EXPECT_EQ(format_signal_delivery(SIGCHLD, info),
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_STOPPED, si_pid=2, si_uid=1000, "
            "si_status=SIGTSTP, si_utime=5, si_stime=1} ---");
}

TEST(StraceSignal, QueuedSignalCarriesValue) {
  siginfo_t info{};
  info.si_code = SI_QUEUE;
  info.si_pid = 7;
  info.si_uid = 0;
  info.si_value.sival_int = 42;
  EXPECT_EQ(format_signal_delivery(SIGUSR2, info),
            "--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_QUEUE, si_pid=7, si_uid=0, si_int=42, "
            "si_ptr=0x2a} ---");
}

}  // namespace
}  // namespace ward::syscalls
