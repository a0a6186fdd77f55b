// Record lock ranges: conflicts, splitting, merging, upgrade and downgrade,
// the range of a struct flock, and the release of locks when a descriptor
// closes or a description ends.
#include "sentry/vfs/lock_list.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <vector>

#include "sentry/fs/pipe.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/locks.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::expect_errno;

// Two owners; only their addresses matter.
const int kFirstOwner = 1;
const int kSecondOwner = 2;

FileLock lock_of(const void* owner, short type, int64_t start, int64_t end) {
  return FileLock{.type = type, .owner = owner, .start = start, .end = end};
}

struct Span {
  short type;
  int64_t start;
  int64_t end;
  bool operator==(const Span&) const = default;
};

void PrintTo(const Span& span, std::ostream* out) {
  *out << (span.type == F_WRLCK   ? "W"
           : span.type == F_RDLCK ? "R"
                                  : "U")
       << "[" << span.start << "," << span.end << "]";
}

// The locks of `owner`, in list order.
std::vector<Span> spans_of(const RecordLockList& list, const void* owner) {
  std::vector<Span> spans;
  for (const FileLock& lock : list.locks()) {
    if (lock.owner == owner) {
      spans.push_back({lock.type, lock.start, lock.end});
    }
  }
  return spans;
}

TEST(RecordLockListTest, WriteLockSplitsReadLock) {
  RecordLockList list;
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_RDLCK, 0, 99)));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_WRLCK, 40, 59)));
  EXPECT_EQ(spans_of(list, &kFirstOwner),
            (std::vector<Span>{{F_RDLCK, 0, 39}, {F_WRLCK, 40, 59}, {F_RDLCK, 60, 99}}));
}

TEST(RecordLockListTest, UnlockSplitsAndRemoves) {
  RecordLockList list;
  list.apply(lock_of(&kFirstOwner, F_WRLCK, 0, kLockOffsetMax));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_UNLCK, 10, 19)));
  EXPECT_EQ(spans_of(list, &kFirstOwner),
            (std::vector<Span>{{F_WRLCK, 0, 9}, {F_WRLCK, 20, kLockOffsetMax}}));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_UNLCK, 0, kLockOffsetMax)));
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(list.apply(lock_of(&kFirstOwner, F_UNLCK, 0, kLockOffsetMax)));
}

TEST(RecordLockListTest, SameTypeMergesOverlappingAndAdjacent) {
  RecordLockList list;
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 0, 9));
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 20, 29));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_RDLCK, 10, 19)));
  EXPECT_EQ(spans_of(list, &kFirstOwner), (std::vector<Span>{{F_RDLCK, 0, 29}}));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_RDLCK, 25, 40)));
  EXPECT_EQ(spans_of(list, &kFirstOwner), (std::vector<Span>{{F_RDLCK, 0, 40}}));
  EXPECT_FALSE(list.apply(lock_of(&kFirstOwner, F_RDLCK, 5, 6))) << "already covered";
}

TEST(RecordLockListTest, MergeReachesEndOfFileWithoutOverflow) {
  RecordLockList list;
  list.apply(lock_of(&kFirstOwner, F_WRLCK, 100, kLockOffsetMax));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_WRLCK, 50, 99)));
  EXPECT_EQ(spans_of(list, &kFirstOwner), (std::vector<Span>{{F_WRLCK, 50, kLockOffsetMax}}));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_RDLCK, kLockOffsetMax, kLockOffsetMax)));
  EXPECT_EQ(spans_of(list, &kFirstOwner),
            (std::vector<Span>{{F_WRLCK, 50, kLockOffsetMax - 1},
                               {F_RDLCK, kLockOffsetMax, kLockOffsetMax}}));
}

TEST(RecordLockListTest, DifferentTypesDoNotMerge) {
  RecordLockList list;
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 0, 9));
  list.apply(lock_of(&kFirstOwner, F_WRLCK, 10, 19));
  EXPECT_EQ(spans_of(list, &kFirstOwner), (std::vector<Span>{{F_RDLCK, 0, 9}, {F_WRLCK, 10, 19}}));
}

TEST(RecordLockListTest, UpgradeAndDowngradeReplaceInPlace) {
  RecordLockList list;
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 0, 9));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_WRLCK, 0, 9)));
  EXPECT_EQ(spans_of(list, &kFirstOwner), (std::vector<Span>{{F_WRLCK, 0, 9}}));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_RDLCK, 0, 9)));
  EXPECT_EQ(spans_of(list, &kFirstOwner), (std::vector<Span>{{F_RDLCK, 0, 9}}));
}

TEST(RecordLockListTest, WriteLockOverSeveralLocksReplacesThem) {
  RecordLockList list;
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 0, 9));
  list.apply(lock_of(&kFirstOwner, F_WRLCK, 20, 29));
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 40, 49));
  EXPECT_TRUE(list.apply(lock_of(&kFirstOwner, F_WRLCK, 5, 44)));
  EXPECT_EQ(spans_of(list, &kFirstOwner),
            (std::vector<Span>{{F_RDLCK, 0, 4}, {F_WRLCK, 5, 44}, {F_RDLCK, 45, 49}}));
}

TEST(RecordLockListTest, ConflictsNeedAnotherOwnerOverlapAndAWrite) {
  RecordLockList list;
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 0, 9));
  list.apply(lock_of(&kFirstOwner, F_WRLCK, 20, 29));

  EXPECT_EQ(list.find_conflict(lock_of(&kFirstOwner, F_WRLCK, 0, 99)), nullptr) << "own locks";
  EXPECT_EQ(list.find_conflict(lock_of(&kSecondOwner, F_RDLCK, 0, 19)), nullptr) << "readers";
  EXPECT_EQ(list.find_conflict(lock_of(&kSecondOwner, F_WRLCK, 10, 19)), nullptr) << "gap";

  const FileLock* reader = list.find_conflict(lock_of(&kSecondOwner, F_WRLCK, 5, 25));
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->start, 0) << "the first conflict in list order";
  const FileLock* writer = list.find_conflict(lock_of(&kSecondOwner, F_RDLCK, 5, 25));
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->start, 20);
}

TEST(RecordLockListTest, UnlockTestFindsOwnLock) {
  RecordLockList list;
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 10, 19));
  const FileLock* own = list.find_conflict(lock_of(&kFirstOwner, F_UNLCK, 0, kLockOffsetMax));
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(own->start, 10);
  EXPECT_EQ(list.find_conflict(lock_of(&kSecondOwner, F_UNLCK, 0, kLockOffsetMax)), nullptr);
}

TEST(RecordLockListTest, OwnersStayGroupedInArrivalOrder) {
  RecordLockList list;
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 50, 59));
  list.apply(lock_of(&kSecondOwner, F_RDLCK, 0, 9));
  list.apply(lock_of(&kFirstOwner, F_RDLCK, 10, 19));
  ASSERT_EQ(list.locks().size(), 3U);
  EXPECT_EQ(list.locks()[0].owner, &kFirstOwner);
  EXPECT_EQ(list.locks()[0].start, 10);
  EXPECT_EQ(list.locks()[1].owner, &kFirstOwner);
  EXPECT_EQ(list.locks()[1].start, 50);
  EXPECT_EQ(list.locks()[2].owner, &kSecondOwner);

  EXPECT_TRUE(list.remove_owner(&kFirstOwner));
  EXPECT_EQ(spans_of(list, &kSecondOwner), (std::vector<Span>{{F_RDLCK, 0, 9}}));
  EXPECT_FALSE(list.remove_owner(&kFirstOwner));
}

TEST(LockRangeTest, WhenceAndLength) {
  auto range = lock_range(SEEK_SET, 10, 5, 0, 0);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->start, 10);
  EXPECT_EQ(range->end, 14);

  range = lock_range(SEEK_CUR, -5, 0, 100, 0);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->start, 95);
  EXPECT_EQ(range->end, kLockOffsetMax);

  range = lock_range(SEEK_END, 0, -10, 0, 30);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->start, 20);
  EXPECT_EQ(range->end, 29);
}

TEST(LockRangeTest, BadRangesHaveLinuxErrnos) {
  expect_errno(lock_range(SEEK_HOLE, 0, 0, 0, 0), EINVAL, "whence");
  expect_errno(lock_range(SEEK_SET, -1, 0, 0, 0), EINVAL, "negative start");
  expect_errno(lock_range(SEEK_SET, 5, -6, 0, 0), EINVAL, "length before 0");
  expect_errno(lock_range(SEEK_END, kLockOffsetMax, 0, 0, 1), EOVERFLOW, "start past the maximum");
  expect_errno(lock_range(SEEK_SET, kLockOffsetMax, 2, 0, 0), EOVERFLOW, "end past the maximum");
  EXPECT_TRUE(lock_range(SEEK_SET, kLockOffsetMax, 1, 0, 0).ok());
  EXPECT_TRUE(lock_range(SEEK_SET, 5, -5, 0, 0).ok());
}

TEST(FileLocksTest, ClosingAnyDescriptorReleasesPosixLocks) {
  const kernel::Credentials creds;
  auto [read_end, write_end] = make_pipe(creds, 0);
  FdTable table;
  const int read_fd = *table.install(read_end, false);
  const int write_fd = *table.install(write_end, false);

  std::shared_ptr<FileLocks>& state = read_end->inode().file_locks();
  state = std::make_shared<FileLocks>(read_end->inode());
  state->records().apply(FileLock{.type = F_RDLCK, .owner = &table, .start = 0, .end = 9});
  state->records().apply(
      FileLock{.kind = LockKind::kOfd, .type = F_RDLCK, .owner = read_end.get()});

  ASSERT_TRUE(table.remove(write_fd).ok());
  ASSERT_EQ(state->records().locks().size(), 1U) << "the OFD lock stays";
  EXPECT_EQ(state->records().locks()[0].kind, LockKind::kOfd);

  ASSERT_TRUE(table.remove(read_fd).ok());
  EXPECT_EQ(state->records().locks().size(), 1U) << "the test still holds the description";
  const FileLocks* inode_locks = state.get();
  read_end.reset();
  EXPECT_TRUE(inode_locks->records().empty()) << "the description's end releases its OFD lock";
  write_end.reset();
}

TEST(FileLocksTest, FdTableEndReleasesPosixLocks) {
  const kernel::Credentials creds;
  auto [read_end, write_end] = make_pipe(creds, 0);
  auto table = std::make_shared<FdTable>();
  ASSERT_TRUE(table->install(read_end, false).ok());

  std::shared_ptr<FileLocks>& state = read_end->inode().file_locks();
  state = std::make_shared<FileLocks>(read_end->inode());
  state->records().apply(FileLock{.type = F_RDLCK, .owner = table.get()});
  state->flocks().push_back(
      FileLock{.kind = LockKind::kFlock, .type = F_RDLCK, .owner = read_end.get()});

  table.reset();
  EXPECT_TRUE(state->records().empty());
  EXPECT_EQ(state->flocks().size(), 1U) << "flock locks belong to the description";
  FileLocks* inode_locks = state.get();
  read_end.reset();
  EXPECT_TRUE(inode_locks->flocks().empty());
}

}  // namespace
}  // namespace ward::vfs
