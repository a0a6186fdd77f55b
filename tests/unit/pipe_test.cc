// Pipes without a running kernel: capacity, PIPE_BUF atomicity, end of file,
// EPIPE, non-blocking EAGAIN, readiness bits and reopening through the
// pipe's inode. Blocking reads and writes need a task on a fiber and are
// left to the integration tests.
#include "sentry/fs/pipe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <numeric>
#include <vector>

#include "sentry/vfs/caller.h"
#include "sentry/vfs/fs_context.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::describe;
using testing::expect_errno;

std::vector<std::byte> bytes_of(size_t count, uint8_t first = 0) {
  std::vector<std::byte> data(count);
  for (size_t i = 0; i < count; ++i) {
    data[i] = std::byte(static_cast<uint8_t>(first + i));
  }
  return data;
}

Result<size_t> write_bytes(FileDescription& end, size_t count, uint8_t first = 0) {
  const auto data = bytes_of(count, first);
  return end.write(data, std::nullopt);
}

class PipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    creds_.fs_uid = 1234;
    creds_.fs_gid = 5678;
    auto [reader, writer] = make_pipe(creds_, O_NONBLOCK);
    reader_ = std::move(reader);
    writer_ = std::move(writer);
  }

  kernel::Credentials creds_;
  FileRef reader_;
  FileRef writer_;
};

TEST_F(PipeTest, EndsHaveTheirAccessModes) {
  EXPECT_TRUE(reader_->readable());
  EXPECT_FALSE(reader_->writable());
  EXPECT_TRUE(writer_->writable());
  EXPECT_FALSE(writer_->readable());
  EXPECT_EQ(reader_->flags(), static_cast<uint32_t>(O_RDONLY | O_NONBLOCK));
  EXPECT_EQ(writer_->flags(), static_cast<uint32_t>(O_WRONLY | O_NONBLOCK));
  EXPECT_TRUE(reader_->stream());
  EXPECT_EQ(pipe_capacity(*reader_), kPipeCapacityBytes);
}

TEST_F(PipeTest, StatShowsFifoOwnedByCreator) {
  auto st = reader_->stat();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode, static_cast<mode_t>(S_IFIFO | 0600));
  EXPECT_EQ(st->st_uid, 1234u);
  EXPECT_EQ(st->st_gid, 5678u);
  auto other = writer_->stat();
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(st->st_ino, other->st_ino);
  EXPECT_EQ(reader_->display_path(), "pipe:[" + std::to_string(st->st_ino) + "]");
}

TEST_F(PipeTest, DataComesOutInOrderAcrossTheRingEnd) {
  std::vector<std::byte> got(kPipeCapacityBytes);
  for (int round = 0; round < 5; ++round) {
    // 40000 bytes a round, so the ring wraps on the second.
    const auto sent = bytes_of(40000, static_cast<uint8_t>(round));
    ASSERT_EQ(*writer_->write(sent, std::nullopt), sent.size());
    auto read = reader_->read(std::span(got.data(), sent.size()), std::nullopt);
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(*read, sent.size());
    EXPECT_TRUE(std::equal(sent.begin(), sent.end(), got.begin())) << "round " << round;
  }
}

TEST_F(PipeTest, CapacityIsSixtyFourKibibytes) {
  auto wrote = write_bytes(*writer_, 100000);
  ASSERT_TRUE(wrote.ok());
  EXPECT_EQ(*wrote, kPipeCapacityBytes);
  expect_errno(write_bytes(*writer_, 1), EAGAIN, "write to a full pipe");
  EXPECT_EQ(writer_->readiness(POLLOUT), 0u);
  EXPECT_EQ(reader_->readiness(POLLIN), static_cast<uint32_t>(POLLIN));
}

TEST_F(PipeTest, SmallWritesAreAtomic) {
  // Leave 100 bytes of room.
  ASSERT_EQ(*write_bytes(*writer_, kPipeCapacityBytes - 100), kPipeCapacityBytes - 100);
  expect_errno(write_bytes(*writer_, 200), EAGAIN, "200 bytes into 100");
  expect_errno(write_bytes(*writer_, kPipeBufBytes), EAGAIN, "PIPE_BUF bytes into 100");
  // A larger write puts its last partial page into the newest buffer when
  // that fits, as Linux's pipe_write, and the ring is then full.
  auto partial = write_bytes(*writer_, kPipeBufBytes + 1);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(*partial, 1u);
  expect_errno(write_bytes(*writer_, kPipeBufBytes + 200), EAGAIN, "large write into nothing");
}

TEST_F(PipeTest, EmptyPipeWithWriterIsEagain) {
  std::vector<std::byte> buffer(16);
  expect_errno(reader_->read(buffer, std::nullopt), EAGAIN, "empty pipe");
  EXPECT_EQ(reader_->readiness(POLLIN), 0u);
}

TEST_F(PipeTest, ReadAfterLastWriterIsEndOfFile) {
  ASSERT_EQ(*write_bytes(*writer_, 10), 10u);
  writer_.reset();
  std::vector<std::byte> buffer(64);
  auto first = reader_->read(buffer, std::nullopt);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 10u);
  auto second = reader_->read(buffer, std::nullopt);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 0u);
  EXPECT_EQ(reader_->readiness(POLLIN) & POLLHUP, static_cast<uint32_t>(POLLHUP));
}

TEST_F(PipeTest, WriteAfterLastReaderIsEpipe) {
  reader_.reset();
  expect_errno(write_bytes(*writer_, 1), EPIPE, "write without readers");
  // An empty write succeeds even then, as on Linux.
  auto empty = write_bytes(*writer_, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, 0u);
  EXPECT_EQ(writer_->readiness(POLLOUT) & POLLERR, static_cast<uint32_t>(POLLERR));
}

// FIONREAD copies this count to the guest, which needs a task.
TEST(PipeBufferTest, AvailableBytesCountsUnreadData) {
  Pipe pipe;
  pipe.add_reader();
  pipe.add_writer();
  ASSERT_EQ(*pipe.write(bytes_of(77)), 77u);
  EXPECT_EQ(pipe.available_bytes(), 77u);
  std::vector<std::byte> buffer(30);
  ASSERT_EQ(*pipe.read(buffer), 30u);
  EXPECT_EQ(pipe.available_bytes(), 47u);
  EXPECT_EQ(pipe.capacity_bytes(), kPipeCapacityBytes);
  pipe.remove_reader();
  pipe.remove_writer();
}

TEST(PipeBufferTest, SmallWritesShareAPage) {
  Pipe pipe;
  pipe.add_reader();
  pipe.add_writer();
  // Sixteen pages hold far more than sixteen small writes.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(*pipe.write(bytes_of(10)), 10u) << "write " << i;
  }
  EXPECT_EQ(pipe.available_bytes(), 1000u);
  pipe.remove_reader();
  pipe.remove_writer();
}

TEST(PipeBufferTest, PacketsFillOnePageEach) {
  Pipe pipe;
  pipe.add_reader();
  pipe.add_writer();
  for (size_t i = 0; i < kPipeCapacityBytes / kPipePageBytes; ++i) {
    ASSERT_EQ(*pipe.write(bytes_of(3, static_cast<uint8_t>(i)), /*packet=*/true), 3u);
  }
  expect_errno(pipe.write(bytes_of(1), /*packet=*/true), EAGAIN, "packet into a full ring");

  // A read returns one packet and drops what does not fit.
  std::vector<std::byte> buffer(100);
  ASSERT_EQ(*pipe.read(buffer), 3u);
  EXPECT_EQ(buffer[0], std::byte{0});
  ASSERT_EQ(*pipe.read(std::span(buffer.data(), 1)), 1u);
  EXPECT_EQ(buffer[0], std::byte{1});
  ASSERT_EQ(*pipe.read(buffer), 3u);
  EXPECT_EQ(buffer[0], std::byte{2});
  EXPECT_EQ(pipe.available_bytes(), 13u * 3u);
  pipe.remove_reader();
  pipe.remove_writer();
}

TEST(PipeBufferTest, LargePacketWriteSplitsByPage) {
  Pipe pipe;
  pipe.add_reader();
  pipe.add_writer();
  ASSERT_EQ(*pipe.write(bytes_of(kPipePageBytes + 10), /*packet=*/true), kPipePageBytes + 10);
  std::vector<std::byte> buffer(2 * kPipePageBytes);
  EXPECT_EQ(*pipe.read(buffer), kPipePageBytes);
  EXPECT_EQ(*pipe.read(buffer), 10u);
  pipe.remove_reader();
  pipe.remove_writer();
}

TEST(PipeBufferTest, ResizeRejectsShrinkBelowHeldPages) {
  Pipe pipe;
  pipe.add_reader();
  pipe.add_writer();
  ASSERT_EQ(*pipe.write(bytes_of(3 * kPipePageBytes)), 3 * kPipePageBytes);
  expect_errno(pipe.set_capacity_pages(2), EBUSY, "two pages for three held");
  ASSERT_TRUE(pipe.set_capacity_pages(3).ok());
  EXPECT_EQ(pipe.capacity_bytes(), 3 * kPipePageBytes);
  expect_errno(pipe.write(bytes_of(1)), EAGAIN, "write into the shrunk full ring");
  pipe.remove_reader();
  pipe.remove_writer();
}

TEST(PipeBufferTest, SetCapacityRoundsAndChecksLimits) {
  Pipe pipe;
  kernel::Credentials unprivileged;
  unprivileged.cap_effective = kernel::CapabilitySet();
  EXPECT_EQ(*set_pipe_capacity(pipe, 0, unprivileged), kPipePageBytes);
  EXPECT_EQ(*set_pipe_capacity(pipe, 5000, unprivileged), 2 * kPipePageBytes);
  EXPECT_EQ(*set_pipe_capacity(pipe, kPipeMaxSizeBytes, unprivileged), kPipeMaxSizeBytes);
  expect_errno(set_pipe_capacity(pipe, kPipeMaxSizeBytes + 1, unprivileged), EPERM,
               "past pipe-max-size without CAP_SYS_RESOURCE");
  expect_errno(set_pipe_capacity(pipe, 0x80000001u, unprivileged), EINVAL, "past 2 GiB");
  expect_errno(set_pipe_capacity(pipe, 0xffffffffu, unprivileged), EINVAL, "a negative int");
  const kernel::Credentials root;
  EXPECT_EQ(*set_pipe_capacity(pipe, 4 * kPipeMaxSizeBytes, root), 4 * kPipeMaxSizeBytes);
}

TEST_F(PipeTest, ReopenThroughInodeAddsEnds) {
  const kernel::Credentials root;
  const FsContext fs(reader_->location(), reader_->location());
  const Caller caller{.creds = root, .fs = fs, .task = nullptr};

  auto second_writer = reader_->inode().open(caller, reader_->location(), O_WRONLY);
  ASSERT_TRUE(second_writer.ok()) << describe(second_writer.error());
  writer_.reset();
  // The reopened writer keeps the pipe open and feeds the same buffer.
  ASSERT_EQ(*write_bytes(**second_writer, 5), 5u);
  std::vector<std::byte> buffer(8);
  EXPECT_EQ(*reader_->read(buffer, std::nullopt), 5u);

  reader_.reset();
  // Without readers, a write-only open fails as a non-blocking FIFO open.
  expect_errno((*second_writer)->inode().open(caller, (*second_writer)->location(), O_WRONLY),
               ENXIO, "write-only open without readers");
}

}  // namespace
}  // namespace ward::vfs
