// Extended attributes through the VFS without a kernel: hostfs reading the
// host's attributes (symlinks' own included, trusted.* withheld), the
// namespace and permission rules every filesystem shares, the defaults of
// filesystems without xattr handlers (procfs, sysfs, devfs, pipes), and
// EROFS on read-only mounts.
#include "sentry/vfs/xattr.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "sentry/fs/pipe.h"
#include "sentry/fs/synthetic.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/mount.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::describe;
using testing::expect_errno;
using testing::Sandbox;
using testing::TempTree;
using testing::user_creds;

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

class XattrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TempTree::write_file(tree_.host("file"), "data");
    TempTree::write_file(tree_.host("secret"), "secret");
    ASSERT_EQ(chmod(tree_.host("secret").c_str(), 0600), 0);
    ASSERT_EQ(mkdir(tree_.host("dir").c_str(), 0755), 0);
    ASSERT_EQ(symlink("file", tree_.host("link").c_str()), 0);
    ASSERT_EQ(mkfifo(tree_.host("fifo").c_str(), 0644), 0);

    // Host attributes the sandbox reads. trusted.* and security.* need the
    // privileges of root, which the unit tests have when run as root.
    set_host("file", "user.colour", "blue");
    set_host("file", "user.size", "large");
    set_host("secret", "user.hidden", "x");
    set_host("dir", "user.kind", "directory");
    privileged_ = lsetxattr(tree_.host("link").c_str(), "security.ward", "link", 4, 0) == 0 &&
                  setxattr(tree_.host("file").c_str(), "trusted.host", "admin", 5, 0) == 0;

    sandbox_ = std::make_unique<Sandbox>(tree_.root());
  }

  void set_host(const std::string& relative, const char* name, std::string_view value) {
    ASSERT_EQ(setxattr(tree_.host(relative).c_str(), name, value.data(), value.size(), 0), 0)
        << relative << " " << name << ": " << strerror(errno);
  }

  VirtualDentry walk(std::string_view path, bool follow = true) {
    auto location = sandbox_->walk(path, WalkOptions{.follow_final = follow});
    EXPECT_TRUE(location.ok()) << path << ": " << describe(location.error());
    return location.ok() ? *location : VirtualDentry{};
  }

  Result<std::string> get(const Caller& caller, const VirtualDentry& location,
                          std::string_view name, size_t buffer_bytes = 256) {
    std::vector<std::byte> buffer(buffer_bytes);
    const size_t length = TRY(get_xattr_at(caller, location, name, buffer));
    return std::string(reinterpret_cast<const char*>(buffer.data()), length);
  }

  Result<std::vector<std::string>> list(const Caller& caller, const VirtualDentry& location) {
    std::vector<char> buffer(kXattrListMax);
    const size_t length = TRY(list_xattr_at(caller, location, buffer));
    std::vector<std::string> names;
    for (size_t position = 0; position < length;) {
      names.emplace_back(buffer.data() + position);
      position += names.back().size() + 1;
    }
    return names;
  }

  Caller root() const { return sandbox_->caller(); }

  TempTree tree_;
  std::unique_ptr<Sandbox> sandbox_;
  bool privileged_ = false;
};

TEST_F(XattrTest, HostfsReadsHostValue) {
  auto value = get(root(), walk("file"), "user.colour");
  ASSERT_TRUE(value.ok()) << describe(value.error());
  EXPECT_EQ(*value, "blue");

  auto on_dir = get(root(), walk("dir"), "user.kind");
  ASSERT_TRUE(on_dir.ok()) << describe(on_dir.error());
  EXPECT_EQ(*on_dir, "directory");
}

TEST_F(XattrTest, EmptyBufferAsksForLength) {
  auto length = get_xattr_at(root(), walk("file"), "user.size", {});
  ASSERT_TRUE(length.ok()) << describe(length.error());
  EXPECT_EQ(*length, 5U);
}

TEST_F(XattrTest, SmallBufferIsErange) {
  expect_errno(get(root(), walk("file"), "user.size", 4), ERANGE);
}

TEST_F(XattrTest, AbsentAttributeIsEnodata) {
  expect_errno(get(root(), walk("file"), "user.absent"), ENODATA);
}

TEST_F(XattrTest, HostListsNamesAndLength) {
  auto names = list(root(), walk("file"));
  ASSERT_TRUE(names.ok()) << describe(names.error());
  EXPECT_NE(std::find(names->begin(), names->end(), "user.colour"), names->end());
  EXPECT_NE(std::find(names->begin(), names->end(), "user.size"), names->end());

  auto length = list_xattr_at(root(), walk("file"), {});
  ASSERT_TRUE(length.ok()) << describe(length.error());
  size_t expected = 0;
  for (const std::string& name : *names) {
    expected += name.size() + 1;
  }
  EXPECT_EQ(*length, expected);

  std::vector<char> too_small(expected - 1);
  expect_errno(list_xattr_at(root(), walk("file"), too_small), ERANGE);
}

TEST_F(XattrTest, TrustedHostAttributesAreWithheld) {
  if (!privileged_) {
    GTEST_SKIP() << "setting trusted.* and security.* host attributes needs root";
  }
  expect_errno(get(root(), walk("file"), "trusted.host"), ENODATA);
  auto names = list(root(), walk("file"));
  ASSERT_TRUE(names.ok()) << describe(names.error());
  for (const std::string& name : *names) {
    EXPECT_FALSE(name.starts_with("trusted.")) << name;
  }
}

TEST_F(XattrTest, SymlinkHasOwnAttributes) {
  if (!privileged_) {
    GTEST_SKIP() << "setting security.* on a host symlink needs root";
  }
  const VirtualDentry link = walk("link", /*follow=*/false);
  ASSERT_TRUE(link.dentry->inode().is_symlink());
  auto value = get(root(), link, "security.ward");
  ASSERT_TRUE(value.ok()) << describe(value.error());
  EXPECT_EQ(*value, "link");

  auto names = list(root(), link);
  ASSERT_TRUE(names.ok()) << describe(names.error());
  EXPECT_EQ(*names, std::vector<std::string>{"security.ward"});

  // Following the link reaches the file, which has no such attribute.
  expect_errno(get(root(), walk("link"), "security.ward"), ENODATA);
}

TEST_F(XattrTest, UserNamesOnlyOnFilesAndDirectories) {
  expect_errno(get(root(), walk("link", /*follow=*/false), "user.colour"), ENODATA, "symlink");
  expect_errno(get(root(), walk("fifo"), "user.colour"), ENODATA, "fifo");
  expect_errno(get(root(), walk("dev/null"), "user.colour"), ENODATA, "device");
}

TEST_F(XattrTest, ReadNeedsReadPermission) {
  sandbox_->creds() = user_creds(1000, 1000);
  expect_errno(get(sandbox_->caller(), walk("secret"), "user.hidden"), EACCES);

  // security.* is left to the filesystem, and listing checks nothing.
  expect_errno(get(sandbox_->caller(), walk("secret"), "security.absent"), ENODATA);
  auto names = list(sandbox_->caller(), walk("secret"));
  ASSERT_TRUE(names.ok()) << describe(names.error());
  EXPECT_NE(std::find(names->begin(), names->end(), "user.hidden"), names->end());
}

TEST_F(XattrTest, TrustedNeedsRootCapability) {
  sandbox_->creds() = user_creds(1000, 1000);
  expect_errno(get(sandbox_->caller(), walk("proc"), "trusted.x"), ENODATA);

  const VirtualDentry pipe_end = make_pipe(sandbox_->creds(), 0).second->location();
  expect_errno(set_xattr_at(sandbox_->caller(), pipe_end, "trusted.x", bytes_of("1"), 0), EPERM);
  expect_errno(remove_xattr_at(sandbox_->caller(), pipe_end, "trusted.x"), EPERM);
}

TEST_F(XattrTest, HostfsWritesAreErofs) {
  expect_errno(set_xattr_at(root(), walk("file"), "user.colour", bytes_of("red"), 0), EROFS);
  expect_errno(set_xattr_at(root(), walk("link", false), "user.x", bytes_of("1"), 0), EROFS);
  expect_errno(remove_xattr_at(root(), walk("file"), "user.colour"), EROFS);

  // Nothing reached the host.
  char value[16] = {};
  EXPECT_EQ(getxattr(tree_.host("file").c_str(), "user.colour", value, sizeof(value)), 4);
  EXPECT_STREQ(value, "blue");
}

TEST_F(XattrTest, ProcfsHasNoXattrHandlers) {
  expect_errno(get(root(), walk("proc"), "user.x"), EOPNOTSUPP, "user");
  expect_errno(get(root(), walk("proc"), "trusted.x"), EOPNOTSUPP, "trusted");
  expect_errno(get(root(), walk("proc"), "security.x"), EOPNOTSUPP, "security");
  expect_errno(get(root(), walk("proc"), "system.posix_acl_access"), EOPNOTSUPP, "acl");
  expect_errno(get(root(), walk("proc/cpuinfo"), "user.x"), EOPNOTSUPP, "file");

  auto length = list_xattr_at(root(), walk("proc"), {});
  ASSERT_TRUE(length.ok()) << describe(length.error());
  EXPECT_EQ(*length, 0U);

  // Its mount is read-write, as on Linux, so set and remove reach procfs,
  // which has no handlers.
  expect_errno(set_xattr_at(root(), walk("proc"), "user.x", bytes_of("1"), 0), EOPNOTSUPP);
  expect_errno(remove_xattr_at(root(), walk("proc"), "user.x"), EOPNOTSUPP);
}

TEST_F(XattrTest, SysfsAndDevfsHaveNoXattrHandlers) {
  expect_errno(get(root(), walk("sys"), "user.x"), EOPNOTSUPP, "sysfs");
  expect_errno(get(root(), walk("dev"), "user.x"), EOPNOTSUPP, "devfs");
  expect_errno(get(root(), walk("dev/null"), "trusted.x"), EOPNOTSUPP, "device");

  auto length = list_xattr_at(root(), walk("dev/null"), {});
  ASSERT_TRUE(length.ok()) << describe(length.error());
  EXPECT_EQ(*length, 0U);
}

TEST_F(XattrTest, PipesHaveNoXattrHandlers) {
  const auto [read_end, write_end] = make_pipe(sandbox_->creds(), 0);
  const VirtualDentry pipe = write_end->location();

  expect_errno(get(root(), pipe, "user.x"), ENODATA, "get user");
  expect_errno(get(root(), pipe, "trusted.x"), EOPNOTSUPP, "get trusted");
  auto length = list_xattr_at(root(), pipe, {});
  ASSERT_TRUE(length.ok()) << describe(length.error());
  EXPECT_EQ(*length, 0U);

  // A pipe's mount is writable, so the namespace rules apply, and past them
  // the filesystem returns EOPNOTSUPP.
  expect_errno(set_xattr_at(root(), pipe, "user.x", bytes_of("1"), 0), EPERM, "set user");
  expect_errno(set_xattr_at(root(), pipe, "trusted.x", bytes_of("1"), 0), EOPNOTSUPP,
               "set trusted");
  expect_errno(set_xattr_at(root(), pipe, "security.x", bytes_of("1"), 0), EOPNOTSUPP,
               "set security");
  expect_errno(remove_xattr_at(root(), pipe, "user.x"), EPERM, "remove user");
  expect_errno(remove_xattr_at(root(), pipe, "trusted.x"), EOPNOTSUPP, "remove trusted");
}

TEST_F(XattrTest, StickyDirectoryNeedsOwner) {
  auto filesystem = std::make_shared<Filesystem>("test", 0);
  const VirtualDentry sticky =
      make_anonymous_location(std::make_shared<StaticDirectory>(filesystem, 01777));
  const VirtualDentry plain =
      make_anonymous_location(std::make_shared<StaticDirectory>(filesystem, 0755));

  sandbox_->creds() = user_creds(1000, 1000);
  expect_errno(set_xattr_at(sandbox_->caller(), sticky, "user.x", bytes_of("1"), 0), EPERM,
               "sticky, not owner");
  expect_errno(set_xattr_at(sandbox_->caller(), plain, "user.x", bytes_of("1"), 0), EACCES,
               "no write permission");

  // Root passes both checks and meets the filesystem's EOPNOTSUPP.
  sandbox_->creds() = kernel::Credentials{};
  expect_errno(set_xattr_at(sandbox_->caller(), sticky, "user.x", bytes_of("1"), 0), EOPNOTSUPP,
               "root");
}

}  // namespace
}  // namespace ward::vfs
