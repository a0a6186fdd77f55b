// The --strace decoders of structs and buffers, on byte buffers stored in
// fake guest memory, through whole syscall lines.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "syscalls/strace.h"
#include "syscalls/table.h"
#include "tests/unit/strace_fake_memory.h"

namespace ward::syscalls {
namespace {

// The kernel's struct sigaction on x86_64.
struct GuestSigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};

constexpr uint64_t kSaRestorer = 0x04000000;

const SyscallEntry& row(std::string_view name) {
  const SyscallEntry* entry = find_syscall(name);
  if (entry == nullptr) {
    throw std::invalid_argument("no syscall named " + std::string(name));
  }
  return *entry;
}

// The whole --strace line of a call that returned `result`.
std::string exit_line(std::string_view name, std::array<uint64_t, 6> args, int64_t result,
                      const FakeGuestMemory& memory = FakeGuestMemory()) {
  const GuestMemoryReader reader = memory.reader();
  return SyscallTrace(row(name), args, reader).line_at_exit(result, reader);
}

int64_t error_result(int error) { return -static_cast<int64_t>(error); }

uint64_t signal_bit(int signal) { return uint64_t{1} << (signal - 1); }

// ---------------------------------------------------------------------------
// Buffers

TEST(StraceBuffer, WriteAtEntry) {
  FakeGuestMemory memory;
  memory.put_bytes(0x1000, "hello\n");
  EXPECT_EQ(exit_line("write", {1, 0x1000, 6}, 6, memory), R"(write(1, "hello\n", 6) = 6)");
  EXPECT_EQ(exit_line("pwrite64", {3, 0x1000, 5, 10}, 5, memory),
            R"(pwrite64(3, "hello", 5, 10) = 5)");
}

TEST(StraceBuffer, CutAfter32Bytes) {
  FakeGuestMemory memory;
  memory.put_bytes(0x1000, std::string(64, 'x'));
  EXPECT_EQ(exit_line("write", {1, 0x1000, 64}, 64, memory),
            "write(1, \"" + std::string(32, 'x') + "\"..., 64) = 64");
  EXPECT_EQ(exit_line("write", {1, 0x1000, 32}, 32, memory),
            "write(1, \"" + std::string(32, 'x') + "\", 32) = 32");
}

TEST(StraceBuffer, BadPointerPrintsAddress) {
  EXPECT_EQ(exit_line("write", {1, 0x10, 3}, error_result(EFAULT)),
            "write(1, 0x10, 3) = -1 EFAULT (Bad address)");
  EXPECT_EQ(exit_line("read", {0, 0x10, 3}, error_result(EFAULT)),
            "read(0, 0x10, 3) = -1 EFAULT (Bad address)");
}

TEST(StraceBuffer, ReadShowsReturnedLength) {
  FakeGuestMemory memory;
  memory.put_bytes(0x2000, "abcde" + std::string(95, '\0'));
  EXPECT_EQ(exit_line("read", {3, 0x2000, 100}, 5, memory), R"(read(3, "abcde", 100) = 5)");
  EXPECT_EQ(exit_line("read", {3, 0x2000, 100}, 0, memory), R"(read(3, "", 100) = 0)");
  EXPECT_EQ(exit_line("pread64", {3, 0x2001, 3, 1}, 3, memory), R"(pread64(3, "bcd", 3, 1) = 3)");
}

TEST(StraceBuffer, ReadFailurePrintsPointer) {
  FakeGuestMemory memory;
  memory.put_bytes(0x2000, std::string(100, 'a'));
  EXPECT_EQ(exit_line("read", {3, 0x2000, 100}, error_result(EAGAIN), memory),
            "read(3, 0x2000, 100) = -1 EAGAIN (Resource temporarily unavailable)");
}

TEST(StraceBuffer, ReadDecodedAtExit) {
  // The data the call stores is only there after the call.
  FakeGuestMemory memory;
  const GuestMemoryReader reader = memory.reader();
  const SyscallTrace trace(row("read"), {3, 0x2000, 100}, reader);
  EXPECT_EQ(trace.call_at_entry(), "read(3, 0x2000, 100)");

  memory.put_bytes(0x2000, "new data");
  EXPECT_EQ(trace.line_at_exit(8, reader), R"(read(3, "new data", 100) = 8)");
}

TEST(StraceBuffer, SendtoAndRecvfrom) {
  FakeGuestMemory memory;
  memory.put_bytes(0x1000, "ping");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(5353);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  memory.put_struct(0x2000, address);
  memory.put_struct(0x3000, int32_t{16});

  EXPECT_EQ(exit_line("sendto", {7, 0x1000, 4, 0x4000, 0x2000, 16}, 4, memory),
            R"(sendto(7, "ping", 4, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(5353), )"
            R"(sin_addr=inet_addr("127.0.0.1")}, 16) = 4)");
  EXPECT_EQ(exit_line("recvfrom", {7, 0x1000, 100, 0, 0x2000, 0x3000}, 4, memory),
            R"(recvfrom(7, "ping", 100, 0, {sa_family=AF_INET, sin_port=htons(5353), )"
            R"(sin_addr=inet_addr("127.0.0.1")}, [16]) = 4)");
  EXPECT_EQ(exit_line("recvfrom", {7, 0x1000, 100, 0x40, 0, 0}, error_result(EAGAIN), memory),
            "recvfrom(7, 0x1000, 100, MSG_DONTWAIT, NULL, NULL) = -1 EAGAIN "
            "(Resource temporarily unavailable)");
}

// ---------------------------------------------------------------------------
// stat and statx

TEST(StraceStat, RegularFile) {
  FakeGuestMemory memory;
  struct stat status {};
  status.st_mode = S_IFREG | 0644;
  status.st_size = 1234;
  memory.put_struct(0x3000, status);
  memory.put_string(0x1000, "/etc/passwd");

  EXPECT_EQ(exit_line("fstat", {3, 0x3000}, 0, memory),
            "fstat(3, {st_mode=S_IFREG|0644, st_size=1234, ...}) = 0");
  EXPECT_EQ(exit_line("stat", {0x1000, 0x3000}, 0, memory),
            R"(stat("/etc/passwd", {st_mode=S_IFREG|0644, st_size=1234, ...}) = 0)");
  EXPECT_EQ(exit_line("lstat", {0x1000, 0x3000}, 0, memory),
            R"(lstat("/etc/passwd", {st_mode=S_IFREG|0644, st_size=1234, ...}) = 0)");
  EXPECT_EQ(
      exit_line("newfstatat", {static_cast<uint64_t>(-100), 0x1000, 0x3000, 0}, 0, memory),
      R"(newfstatat(AT_FDCWD, "/etc/passwd", {st_mode=S_IFREG|0644, st_size=1234, ...}, 0) = 0)");
}

TEST(StraceStat, DevicePrintsRdev) {
  FakeGuestMemory memory;
  struct stat status {};
  status.st_mode = S_IFCHR | 0666;
  status.st_rdev = makedev(1, 3);
  memory.put_struct(0x3000, status);
  EXPECT_EQ(exit_line("fstat", {0, 0x3000}, 0, memory),
            "fstat(0, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0");
}

TEST(StraceStat, FailureAndBadPointer) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "/missing");
  EXPECT_EQ(exit_line("stat", {0x1000, 0x3000}, error_result(ENOENT), memory),
            R"(stat("/missing", 0x3000) = -1 ENOENT (No such file or directory))");
  EXPECT_EQ(exit_line("fstat", {3, 0x10}, error_result(EFAULT)),
            "fstat(3, 0x10) = -1 EFAULT (Bad address)");
}

TEST(StraceStat, Statx) {
  FakeGuestMemory memory;
  struct statx status {};
  status.stx_mask = 0x7ff | 0x800;
  status.stx_mode = S_IFDIR | 0755;
  status.stx_size = 4096;
  memory.put_struct(0x3000, status);
  memory.put_string(0x1000, "/tmp");
  EXPECT_EQ(exit_line("statx", {static_cast<uint64_t>(-100), 0x1000, 0, 0x7ff, 0x3000}, 0, memory),
            R"(statx(AT_FDCWD, "/tmp", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, )"
            R"({stx_mask=STATX_BASIC_STATS|STATX_BTIME, stx_attributes=0, )"
            R"(stx_mode=S_IFDIR|0755, stx_size=4096, ...}) = 0)");
  EXPECT_EQ(exit_line("statx", {3, 0x1000, 0x1000 | 0x4000, 0x200 | 0x1000, 0x3000},
                      error_result(ENOENT), memory),
            R"(statx(3, "/tmp", AT_STATX_DONT_SYNC|AT_EMPTY_PATH, STATX_SIZE|STATX_MNT_ID, )"
            "0x3000) = -1 ENOENT (No such file or directory)");
}

// ---------------------------------------------------------------------------
// Time

TEST(StraceTime, NanosleepRequest) {
  FakeGuestMemory memory;
  memory.put_struct(0x1000, timespec{.tv_sec = 0, .tv_nsec = 1000000});
  EXPECT_EQ(exit_line("nanosleep", {0x1000, 0}, 0, memory),
            "nanosleep({tv_sec=0, tv_nsec=1000000}, NULL) = 0");
  EXPECT_EQ(exit_line("clock_nanosleep", {1, 0, 0x1000, 0}, 0, memory),
            "clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=1000000}, NULL) = 0");
  EXPECT_EQ(exit_line("nanosleep", {0x20, 0}, error_result(EFAULT)),
            "nanosleep(0x20, NULL) = -1 EFAULT (Bad address)");
}

TEST(StraceTime, ClockGettimeAtExit) {
  FakeGuestMemory memory;
  memory.put_struct(0x1000, timespec{.tv_sec = 1, .tv_nsec = 0});
  EXPECT_EQ(exit_line("clock_gettime", {1, 0x1000}, 0, memory),
            "clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=0}) = 0");
  EXPECT_EQ(exit_line("clock_gettime", {99, 0x1000}, error_result(EINVAL), memory),
            "clock_gettime(0x63 /* CLOCK_??? */, 0x1000) = -1 EINVAL (Invalid argument)");
}

TEST(StraceTime, FutexTimeout) {
  FakeGuestMemory memory;
  memory.put_struct(0x7ffd0000, timespec{.tv_sec = 2, .tv_nsec = 500});
  EXPECT_EQ(exit_line("futex", {0x7f0000001000, 0 | 128, 2, 0x7ffd0000, 0, 0},
                      error_result(ETIMEDOUT), memory),
            "futex(0x7f0000001000, FUTEX_WAIT_PRIVATE, 2, {tv_sec=2, tv_nsec=500}) = -1 "
            "ETIMEDOUT (Connection timed out)");
}

TEST(StraceTime, UtimensatPair) {
  FakeGuestMemory memory;
  memory.put_string(0x1000, "f");
  const std::array<timespec, 2> times = {timespec{.tv_sec = 1, .tv_nsec = 2},
                                         timespec{.tv_sec = 0, .tv_nsec = (1L << 30) - 1}};
  memory.put_struct(0x2000, times);
  const std::array<timespec, 2> omitted = {timespec{.tv_sec = 0, .tv_nsec = (1L << 30) - 2},
                                           timespec{.tv_sec = 5, .tv_nsec = 0}};
  memory.put_struct(0x3000, omitted);
  EXPECT_EQ(exit_line("utimensat", {static_cast<uint64_t>(-100), 0x1000, 0x2000, 0}, 0, memory),
            R"(utimensat(AT_FDCWD, "f", [{tv_sec=1, tv_nsec=2}, UTIME_NOW], 0) = 0)");
  EXPECT_EQ(exit_line("utimensat", {3, 0x1000, 0x3000, 0}, 0, memory),
            R"(utimensat(3, "f", [UTIME_OMIT, {tv_sec=5, tv_nsec=0}], 0) = 0)");
  EXPECT_EQ(exit_line("utimensat", {3, 0x1000, 0, 0}, 0, memory),
            R"(utimensat(3, "f", NULL, 0) = 0)");
}

TEST(StraceTime, Timeval) {
  FakeGuestMemory memory;
  memory.put_struct(0x1000, timeval{.tv_sec = 1700000000, .tv_usec = 250});
  EXPECT_EQ(exit_line("gettimeofday", {0x1000, 0}, 0, memory),
            "gettimeofday({tv_sec=1700000000, tv_usec=250}, NULL) = 0");
  EXPECT_EQ(exit_line("select", {4, 0, 0, 0, 0x1000}, 0, memory),
            "select(4, NULL, NULL, NULL, {tv_sec=1700000000, tv_usec=250}) = 0");
}

// ---------------------------------------------------------------------------
// Socket addresses

TEST(StraceSockaddr, UnixPathAbstractAndUnnamed) {
  FakeGuestMemory memory;
  sockaddr_un path_address{};
  path_address.sun_family = AF_UNIX;
  std::strcpy(path_address.sun_path, "/tmp/s");
  memory.put_struct(0x1000, path_address);

  sockaddr_un abstract_address{};
  abstract_address.sun_family = AF_UNIX;
  std::memcpy(abstract_address.sun_path, "\0name", 5);
  memory.put_struct(0x2000, abstract_address);

  EXPECT_EQ(exit_line("connect", {3, 0x1000, 110}, 0, memory),
            R"(connect(3, {sa_family=AF_UNIX, sun_path="/tmp/s"}, 110) = 0)");
  EXPECT_EQ(exit_line("bind", {3, 0x2000, 7}, 0, memory),
            R"(bind(3, {sa_family=AF_UNIX, sun_path=@"name"}, 7) = 0)");
  EXPECT_EQ(exit_line("bind", {3, 0x1000, 2}, 0, memory), "bind(3, {sa_family=AF_UNIX}, 2) = 0");
}

TEST(StraceSockaddr, InetAndInet6) {
  FakeGuestMemory memory;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(80);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  memory.put_struct(0x1000, address);

  sockaddr_in6 address6{};
  address6.sin6_family = AF_INET6;
  address6.sin6_port = htons(443);
  address6.sin6_addr = in6addr_loopback;
  memory.put_struct(0x2000, address6);

  EXPECT_EQ(exit_line("connect", {3, 0x1000, 16}, 0, memory),
            R"(connect(3, {sa_family=AF_INET, sin_port=htons(80), )"
            R"(sin_addr=inet_addr("127.0.0.1")}, 16) = 0)");
  EXPECT_EQ(exit_line("connect", {3, 0x2000, 28}, error_result(ECONNREFUSED), memory),
            R"(connect(3, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), )"
            R"(inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 )"
            "ECONNREFUSED (Connection refused)");
}

TEST(StraceSockaddr, OtherFamilyShortAndBad) {
  FakeGuestMemory memory;
  const std::string netlink = std::string("\x10\x00", 2) + "abcd";
  memory.put_bytes(0x1000, netlink);
  EXPECT_EQ(exit_line("bind", {3, 0x1000, 6}, 0, memory),
            R"(bind(3, {sa_family=AF_NETLINK, sa_data="abcd"}, 6) = 0)");
  EXPECT_EQ(exit_line("bind", {3, 0x1000, 1}, error_result(EINVAL), memory),
            "bind(3, 0x1000, 1) = -1 EINVAL (Invalid argument)");
  EXPECT_EQ(exit_line("connect", {3, 0x10, 16}, error_result(EFAULT)),
            "connect(3, 0x10, 16) = -1 EFAULT (Bad address)");
}

TEST(StraceSockaddr, AcceptAndGetsocknameAtExit) {
  FakeGuestMemory memory;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, "/tmp/s");
  memory.put_struct(0x1000, address);

  // The length reads 110 at entry and the call rewrites it.
  memory.put_struct(0x2000, int32_t{110});
  const GuestMemoryReader reader = memory.reader();
  const SyscallTrace accept(row("accept"), {3, 0x1000, 0x2000}, reader);
  EXPECT_EQ(accept.call_at_entry(), "accept(3, 0x1000, [110])");
  memory.put_struct(0x2000, int32_t{2});
  EXPECT_EQ(accept.line_at_exit(4, reader), "accept(3, {sa_family=AF_UNIX}, [110 => 2]) = 4");

  memory.put_struct(0x2000, int32_t{9});
  EXPECT_EQ(exit_line("getsockname", {3, 0x1000, 0x2000}, 0, memory),
            R"(getsockname(3, {sa_family=AF_UNIX, sun_path="/tmp/s"}, [9]) = 0)");
  EXPECT_EQ(exit_line("accept4", {3, 0, 0, 02000000}, 5, memory),
            "accept4(3, NULL, NULL, O_CLOEXEC) = 5");
  EXPECT_EQ(exit_line("accept", {3, 0x1000, 0x2000}, error_result(EAGAIN), memory),
            "accept(3, 0x1000, [9]) = -1 EAGAIN (Resource temporarily unavailable)");
}

// ---------------------------------------------------------------------------
// iovec and msghdr

TEST(StraceIovec, WritevAtEntry) {
  FakeGuestMemory memory;
  memory.put_bytes(0x1000, "ab");
  const std::array<iovec, 2> pieces = {iovec{reinterpret_cast<void*>(0x1000), 1},
                                       iovec{reinterpret_cast<void*>(0x1001), 1}};
  memory.put_struct(0x2000, pieces);
  EXPECT_EQ(exit_line("writev", {1, 0x2000, 2}, 2, memory),
            R"(writev(1, [{iov_base="a", iov_len=1}, {iov_base="b", iov_len=1}], 2) = 2)");
  EXPECT_EQ(exit_line("writev", {1, 0x10, 2}, error_result(EFAULT)),
            "writev(1, 0x10, 2) = -1 EFAULT (Bad address)");
}

TEST(StraceIovec, ReadvSplitsReturnedLength) {
  FakeGuestMemory memory;
  memory.put_bytes(0x1000, std::string("abcde") + std::string(20, '\0'));
  const std::array<iovec, 3> pieces = {iovec{reinterpret_cast<void*>(0x1000), 2},
                                       iovec{reinterpret_cast<void*>(0x1002), 10},
                                       iovec{reinterpret_cast<void*>(0x100c), 4}};
  memory.put_struct(0x2000, pieces);
  EXPECT_EQ(exit_line("readv", {3, 0x2000, 3}, 5, memory),
            R"(readv(3, [{iov_base="ab", iov_len=2}, {iov_base="cde", iov_len=10}, )"
            R"({iov_base="", iov_len=4}], 3) = 5)");
  EXPECT_EQ(exit_line("readv", {3, 0x2000, 3}, error_result(EBADF), memory),
            "readv(3, 0x2000, 3) = -1 EBADF (Bad file descriptor)");
}

TEST(StraceIovec, CutAfter32Elements) {
  FakeGuestMemory memory;
  memory.put_bytes(0x1000, "x");
  std::array<iovec, 40> pieces{};
  pieces.fill(iovec{reinterpret_cast<void*>(0x1000), 1});
  memory.put_struct(0x2000, pieces);

  std::string elements;
  for (int i = 0; i < 32; ++i) {
    elements += R"({iov_base="x", iov_len=1}, )";
  }
  EXPECT_EQ(exit_line("writev", {1, 0x2000, 40}, 40, memory),
            "writev(1, [" + elements + "...], 40) = 40");
}

TEST(StraceMsghdr, SendmsgNameAndIov) {
  FakeGuestMemory memory;
  memory.put_bytes(0x1000, "hi");
  const iovec piece{reinterpret_cast<void*>(0x1000), 2};
  memory.put_struct(0x2000, piece);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, "/tmp/s");
  memory.put_struct(0x3000, address);

  msghdr header{};
  header.msg_name = reinterpret_cast<void*>(0x3000);
  header.msg_namelen = sizeof(address);
  header.msg_iov = reinterpret_cast<iovec*>(0x2000);
  header.msg_iovlen = 1;
  header.msg_control = reinterpret_cast<void*>(0x5000);
  header.msg_controllen = 24;
  memory.put_struct(0x4000, header);
  EXPECT_EQ(exit_line("sendmsg", {3, 0x4000, 0x4000}, 2, memory),
            R"(sendmsg(3, {msg_name={sa_family=AF_UNIX, sun_path="/tmp/s"}, msg_namelen=110, )"
            R"(msg_iov=[{iov_base="hi", iov_len=2}], msg_iovlen=1, msg_control=0x5000, )"
            R"(msg_controllen=24, msg_flags=0}, MSG_NOSIGNAL) = 2)");
}

TEST(StraceMsghdr, RecvmsgAtExit) {
  FakeGuestMemory memory;
  memory.put_bytes(0x1000, std::string("ab") + std::string(98, '\0'));
  const iovec piece{reinterpret_cast<void*>(0x1000), 100};
  memory.put_struct(0x2000, piece);
  msghdr header{};
  header.msg_iov = reinterpret_cast<iovec*>(0x2000);
  header.msg_iovlen = 1;
  header.msg_flags = MSG_TRUNC;
  memory.put_struct(0x4000, header);
  EXPECT_EQ(exit_line("recvmsg", {6, 0x4000, 0}, 2, memory),
            R"(recvmsg(6, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="ab", iov_len=100}], )"
            R"(msg_iovlen=1, msg_controllen=0, msg_flags=MSG_TRUNC}, 0) = 2)");
  EXPECT_EQ(exit_line("recvmsg", {6, 0x4000, 0x40}, error_result(EAGAIN), memory),
            "recvmsg(6, 0x4000, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)");
}

// ---------------------------------------------------------------------------
// poll, rlimit, signals, epoll

TEST(StracePoll, EventsAndRevents) {
  FakeGuestMemory memory;
  const std::array<pollfd, 2> fds = {
      pollfd{.fd = 6, .events = POLLIN, .revents = 0},
      pollfd{.fd = 5, .events = POLLIN | POLLOUT, .revents = POLLOUT}};
  memory.put_struct(0x1000, fds);
  EXPECT_EQ(exit_line("poll", {0x1000, 2, 0}, 1, memory),
            "poll([{fd=6, events=POLLIN}, {fd=5, events=POLLIN|POLLOUT}], 2, 0) = 1 "
            "([{fd=5, revents=POLLOUT}])");
  EXPECT_EQ(exit_line("poll", {0x1000, 2, 0}, 0, memory),
            "poll([{fd=6, events=POLLIN}, {fd=5, events=POLLIN|POLLOUT}], 2, 0) = 0");

  memory.put_struct(0x2000, timespec{.tv_sec = 0, .tv_nsec = 5});
  EXPECT_EQ(exit_line("ppoll", {0x1000, 1, 0x2000, 0, 8}, 0, memory),
            "ppoll([{fd=6, events=POLLIN}], 1, {tv_sec=0, tv_nsec=5}, NULL, 8) = 0");
}

TEST(StraceRlimit, PrlimitAndGetrlimit) {
  FakeGuestMemory memory;
  memory.put_struct(0x1000, rlimit{.rlim_cur = 8192 * 1024, .rlim_max = RLIM_INFINITY});
  memory.put_struct(0x2000, rlimit{.rlim_cur = 1024, .rlim_max = 20000});
  EXPECT_EQ(exit_line("prlimit64", {0, 3, 0, 0x1000}, 0, memory),
            "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0");
  EXPECT_EQ(exit_line("prlimit64", {0, 7, 0x2000, 0}, 0, memory),
            "prlimit64(0, RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=20000}, NULL) = 0");
  EXPECT_EQ(exit_line("getrlimit", {3, 0x1000}, 0, memory),
            "getrlimit(RLIMIT_STACK, {rlim_cur=8192*1024, rlim_max=RLIM_INFINITY}) = 0");
  EXPECT_EQ(exit_line("setrlimit", {99, 0x2000}, error_result(EINVAL), memory),
            "setrlimit(0x63 /* RLIMIT_??? */, {rlim_cur=1024, rlim_max=20000}) = -1 EINVAL "
            "(Invalid argument)");
}

TEST(StraceSigaction, NewAndOld) {
  FakeGuestMemory memory;
  memory.put_struct(0x1000, GuestSigaction{.handler = 0x401000,
                                           .flags = kSaRestorer | SA_RESTART,
                                           .restorer = 0x7f0000002000,
                                           .mask = signal_bit(SIGTERM)});
  memory.put_struct(0x2000, GuestSigaction{.handler = 0, .flags = 0, .restorer = 0, .mask = 0});
  EXPECT_EQ(exit_line("rt_sigaction", {SIGUSR1, 0x1000, 0x2000, 8}, 0, memory),
            "rt_sigaction(SIGUSR1, {sa_handler=0x401000, sa_mask=[TERM], "
            "sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f0000002000}, "
            "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0");

  memory.put_struct(0x3000,
                    GuestSigaction{.handler = 1, .flags = SA_SIGINFO, .restorer = 0, .mask = 0});
  EXPECT_EQ(exit_line("rt_sigaction", {SIGPIPE, 0x3000, 0, 8}, 0, memory),
            "rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_SIGINFO}, NULL, "
            "8) = 0");
  EXPECT_EQ(exit_line("rt_sigaction", {SIGKILL, 0x3000, 0x2000, 8}, error_result(EINVAL), memory),
            "rt_sigaction(SIGKILL, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_SIGINFO}, "
            "0x2000, 8) = -1 EINVAL (Invalid argument)");
}

TEST(StraceSigset, NamesComplementAndRealtime) {
  FakeGuestMemory memory;
  memory.put_struct(0x1000, signal_bit(SIGINT) | signal_bit(SIGTERM));
  memory.put_struct(0x2000, ~(signal_bit(SIGKILL) | signal_bit(SIGSTOP)));
  memory.put_struct(0x3000, signal_bit(32) | signal_bit(33));
  memory.put_struct(0x4000, uint64_t{0});

  EXPECT_EQ(exit_line("rt_sigprocmask", {0, 0x1000, 0, 8}, 0, memory),
            "rt_sigprocmask(SIG_BLOCK, [INT TERM], NULL, 8) = 0");
  EXPECT_EQ(exit_line("rt_sigprocmask", {2, 0x2000, 0x4000, 8}, 0, memory),
            "rt_sigprocmask(SIG_SETMASK, ~[KILL STOP], [], 8) = 0");
  EXPECT_EQ(exit_line("rt_sigprocmask", {1, 0x3000, 0, 8}, 0, memory),
            "rt_sigprocmask(SIG_UNBLOCK, [RTMIN RT_1], NULL, 8) = 0");
  EXPECT_EQ(exit_line("rt_sigprocmask", {7, 0x10, 0, 8}, error_result(EINVAL)),
            "rt_sigprocmask(0x7 /* SIG_??? */, 0x10, NULL, 8) = -1 EINVAL (Invalid argument)");
}

TEST(StraceEpoll, CtlAndWait) {
  FakeGuestMemory memory;
  memory.put_struct(0x1000, epoll_event{.events = EPOLLIN | EPOLLET, .data = {.u64 = 7}});
  const std::array<epoll_event, 2> ready = {
      epoll_event{.events = EPOLLOUT, .data = {.u64 = 0x100000001}},
      epoll_event{.events = EPOLLIN | EPOLLHUP, .data = {.u64 = 3}}};
  memory.put_struct(0x2000, ready);

  EXPECT_EQ(exit_line("epoll_ctl", {9, 1, 6, 0x1000}, 0, memory),
            "epoll_ctl(9, EPOLL_CTL_ADD, 6, {events=EPOLLIN|EPOLLET, data={u32=7, u64=7}}) = 0");
  EXPECT_EQ(exit_line("epoll_wait", {9, 0x2000, 4, 0}, 0, memory), "epoll_wait(9, [], 4, 0) = 0");
  EXPECT_EQ(exit_line("epoll_wait", {9, 0x2000, 4, 100}, 2, memory),
            "epoll_wait(9, [{events=EPOLLOUT, data={u32=1, u64=4294967297}}, "
            "{events=EPOLLIN|EPOLLHUP, data={u32=3, u64=3}}], 4, 100) = 2");
}

TEST(StraceSocket, FamilyAndType) {
  EXPECT_EQ(exit_line("socket", {AF_UNIX, SOCK_STREAM, 0}, 3),
            "socket(AF_UNIX, SOCK_STREAM, 0) = 3");
  EXPECT_EQ(exit_line("socket", {AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 17}, 4),
            "socket(AF_INET6, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 17) = 4");
  EXPECT_EQ(exit_line("socket", {99, 9, 0}, error_result(EAFNOSUPPORT)),
            "socket(0x63 /* AF_??? */, 0x9 /* SOCK_??? */, 0) = -1 EAFNOSUPPORT "
            "(Address family not supported by protocol)");
}

TEST(StraceWait, StatusAndOptions) {
  FakeGuestMemory memory;
  memory.put_struct(0x1000, int32_t{3 << 8});
  memory.put_struct(0x2000, int32_t{SIGKILL});
  memory.put_struct(0x3000, int32_t{(SIGSTOP << 8) | 0x7f});
  memory.put_struct(0x4000, int32_t{SIGSEGV | 0x80});

  EXPECT_EQ(exit_line("wait4", {static_cast<uint64_t>(-1), 0x1000, 0, 0}, 2, memory),
            "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 2");
  EXPECT_EQ(exit_line("wait4", {2, 0x2000, 0x40000000, 0}, 2, memory),
            "wait4(2, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], __WALL, NULL) = 2");
  EXPECT_EQ(exit_line("wait4", {2, 0x3000, 2, 0}, 2, memory),
            "wait4(2, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WUNTRACED, NULL) = 2");
  EXPECT_EQ(exit_line("wait4", {2, 0x4000, 0, 0}, 2, memory),
            "wait4(2, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}], 0, NULL) = 2");
  // WNOHANG without a child to report stores no status.
  EXPECT_EQ(exit_line("wait4", {static_cast<uint64_t>(-1), 0x1000, 1, 0}, 0, memory),
            "wait4(-1, 0x1000, WNOHANG, NULL) = 0");
  EXPECT_EQ(
      exit_line("wait4", {static_cast<uint64_t>(-1), 0x1000, 0, 0}, error_result(ECHILD), memory),
      "wait4(-1, 0x1000, 0, NULL) = -1 ECHILD (No child processes)");
}

}  // namespace
}  // namespace ward::syscalls
