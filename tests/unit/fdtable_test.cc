// FdTable: descriptor allocation, limits, FD_CLOEXEC, replacement and
// copies for fork.
#include "sentry/vfs/fdtable.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "sentry/fs/pipe.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::expect_errno;

FileRef new_file() {
  const kernel::Credentials creds;
  return make_pipe(creds, 0).first;
}

TEST(FdTableTest, InstallTakesLowestFreeDescriptor) {
  FdTable table;
  EXPECT_EQ(*table.install(new_file(), false), 0);
  EXPECT_EQ(*table.install(new_file(), false), 1);
  EXPECT_EQ(*table.install(new_file(), false), 2);
  ASSERT_TRUE(table.remove(1).ok());
  EXPECT_EQ(*table.install(new_file(), false), 1);
  EXPECT_EQ(*table.install(new_file(), false), 3);
}

TEST(FdTableTest, InstallRespectsLowestFd) {
  FdTable table;
  EXPECT_EQ(*table.install(new_file(), false, 10), 10);
  EXPECT_EQ(*table.install(new_file(), false, 10), 11);
  EXPECT_EQ(*table.install(new_file(), false), 0);
  EXPECT_EQ((std::vector<int>{0, 10, 11}), table.open_fds());
}

TEST(FdTableTest, FullTableIsEmfile) {
  FdTable table;
  table.set_max_fds(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(table.install(new_file(), false).ok());
  }
  expect_errno(table.install(new_file(), false), EMFILE, "full table");
  expect_errno(table.check_free_slot(), EMFILE, "check_free_slot");
  FdTable sparse;
  sparse.set_max_fds(8);
  expect_errno(sparse.install(new_file(), false, 8), EMFILE, "lowest_fd at the limit");
  EXPECT_TRUE(sparse.check_free_slot().ok());
}

TEST(FdTableTest, DefaultLimitIsRlimitNofile) {
  FdTable table;
  EXPECT_EQ(table.max_fds(), 1024);
  EXPECT_EQ(*table.install(new_file(), false, 1023), 1023);
  expect_errno(table.install(new_file(), false, 1023), EMFILE, "past 1023");
}

TEST(FdTableTest, BadDescriptorsAreEbadf) {
  FdTable table;
  expect_errno(table.get(0), EBADF, "get on an empty table");
  expect_errno(table.get(-1), EBADF, "get -1");
  expect_errno(table.remove(5), EBADF, "remove 5");
  expect_errno(table.close_on_exec_flag(0), EBADF, "F_GETFD");
  expect_errno(table.set_close_on_exec_flag(0, true), EBADF, "F_SETFD");
  expect_errno(table.install_at(-1, new_file(), false), EBADF, "install_at -1");
  expect_errno(table.install_at(1024, new_file(), false), EBADF, "install_at 1024");
}

TEST(FdTableTest, InstallAtReplacesAndKeepsFileOnItself) {
  FdTable table;
  FileRef file = new_file();
  std::weak_ptr<FileDescription> watch = file;
  ASSERT_EQ(*table.install(file, true), 0);
  file.reset();
  // Installing a descriptor's own file over it (dup2 onto itself) keeps it.
  ASSERT_TRUE(table.install_at(0, *table.get(0), false).ok());
  EXPECT_FALSE(watch.expired());
  EXPECT_FALSE(*table.close_on_exec_flag(0));
  // Replacing it with another file closes the first.
  ASSERT_TRUE(table.install_at(0, new_file(), false).ok());
  EXPECT_TRUE(watch.expired());
  ASSERT_TRUE(table.install_at(7, new_file(), true).ok());
  EXPECT_EQ((std::vector<int>{0, 7}), table.open_fds());
}

TEST(FdTableTest, CloseOnExecClosesOnlyMarkedDescriptors) {
  FdTable table;
  ASSERT_EQ(*table.install(new_file(), true), 0);
  ASSERT_EQ(*table.install(new_file(), false), 1);
  ASSERT_EQ(*table.install(new_file(), false), 2);
  ASSERT_TRUE(table.set_close_on_exec_flag(2, true).ok());
  EXPECT_TRUE(*table.close_on_exec_flag(0));
  EXPECT_FALSE(*table.close_on_exec_flag(1));
  table.close_on_exec();
  EXPECT_EQ((std::vector<int>{1}), table.open_fds());
}

TEST(FdTableTest, CloneIsIndependentButSharesFiles) {
  FdTable table;
  ASSERT_EQ(*table.install(new_file(), false), 0);
  ASSERT_EQ(*table.install(new_file(), true), 1);
  auto copy = table.clone();
  EXPECT_EQ(*copy->get(0), *table.get(0));
  EXPECT_TRUE(*copy->close_on_exec_flag(1));

  // The open file descriptions are shared, so their status flags are.
  (*copy->get(0))->set_status_flags(O_NONBLOCK);
  EXPECT_NE((*table.get(0))->flags() & O_NONBLOCK, 0u);

  ASSERT_TRUE(copy->remove(0).ok());
  ASSERT_TRUE(copy->set_close_on_exec_flag(1, false).ok());
  ASSERT_EQ(*copy->install(new_file(), false), 0);
  EXPECT_NE(*copy->get(0), *table.get(0));
  EXPECT_TRUE(*table.close_on_exec_flag(1));
  ASSERT_TRUE(table.remove(1).ok());
  EXPECT_TRUE(copy->get(1).ok());
}

TEST(FdTableTest, CloseRangeClosesOrMarks) {
  FdTable table;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(table.install(new_file(), false).ok());
  }
  table.close_range(2, 4, /*set_cloexec_only=*/false);
  EXPECT_EQ((std::vector<int>{0, 1, 5, 6, 7}), table.open_fds());
  table.close_range(6, ~0u, /*set_cloexec_only=*/true);
  EXPECT_TRUE(*table.close_on_exec_flag(6));
  EXPECT_TRUE(*table.close_on_exec_flag(7));
  EXPECT_FALSE(*table.close_on_exec_flag(5));
  table.close_range(0, ~0u, false);
  EXPECT_TRUE(table.open_fds().empty());
}

}  // namespace
}  // namespace ward::vfs
