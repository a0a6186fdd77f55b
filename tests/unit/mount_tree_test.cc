// MountNamespace's changes for mount(2), umount2(2) and
// unshare(CLONE_NEWNS): binds, detaches, moves and namespace copies, and
// the tmpfs filesystems mount(2) makes from its data string.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "sentry/fs/mount_filesystems.h"
#include "sentry/fs/tmpfs.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::expect_errno;
using testing::Sandbox;
using testing::TempTree;

class MountTreeTest : public ::testing::Test {
 protected:
  MountTreeTest() : sandbox_(tree_.root()) {}

  // A new tmpfs mount made from the data string `data`.
  std::shared_ptr<Mount> new_tmpfs(std::string_view data = "") {
    NewFilesystem filesystem;
    const FilesystemRequest request{.type = "tmpfs", .data = data, .fs_uid = 0, .fs_gid = 0};
    EXPECT_FALSE(make_filesystem(sandbox_.mounts(), request, filesystem).has_value());
    return std::make_shared<Mount>(filesystem.root, "none", MountOptions{});
  }

  VirtualDentry walk(std::string_view path) {
    auto found = sandbox_.walk(path);
    EXPECT_TRUE(found.ok()) << path;
    return found.ok() ? *found : VirtualDentry{};
  }

  void make_directory(const std::string& relative) {
    ASSERT_EQ(::mkdir(tree_.host(relative).c_str(), 0755), 0) << relative;
  }

  TempTree tree_;
  Sandbox sandbox_;
};

TEST_F(MountTreeTest, DetachHidesMountAndKeepsHolder) {
  make_directory("a");
  auto mount = new_tmpfs();
  ASSERT_TRUE(sandbox_.mounts().attach(walk("/a"), mount).ok());
  const VirtualDentry inside = walk("/a");
  EXPECT_EQ(inside.mount, mount);
  EXPECT_TRUE(sandbox_.mounts().contains(*mount));

  sandbox_.mounts().detach_tree(mount);
  EXPECT_FALSE(sandbox_.mounts().contains(*mount));
  EXPECT_NE(walk("/a").mount, mount);
  // The holder's location still works, but leads nowhere above.
  EXPECT_EQ(inside.mount->parent(), nullptr);
}

TEST_F(MountTreeTest, RecursiveBindCopiesSubmounts) {
  make_directory("src");
  make_directory("src/sub");
  make_directory("b");
  make_directory("c");
  auto sub = new_tmpfs();
  ASSERT_TRUE(sandbox_.mounts().attach(walk("/src/sub"), sub).ok());

  auto plain = sandbox_.mounts().copy_for_bind(walk("/src"), false);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->size(), 1u);
  auto recursive = sandbox_.mounts().copy_for_bind(walk("/src"), true);
  ASSERT_TRUE(recursive.ok());
  ASSERT_EQ(recursive->size(), 2u);

  ASSERT_TRUE(sandbox_.mounts().attach_tree(walk("/b"), *recursive).ok());
  const VirtualDentry copied = walk("/b/sub");
  EXPECT_EQ(copied.dentry, sub->root());
  EXPECT_NE(copied.mount, sub);
  EXPECT_TRUE(copied.mount->has_children() == false);
  EXPECT_TRUE(recursive->front()->has_children());
}

TEST_F(MountTreeTest, UnbindableSourceIsRejected) {
  make_directory("a");
  auto mount = new_tmpfs();
  ASSERT_TRUE(sandbox_.mounts().attach(walk("/a"), mount).ok());
  mount->set_propagation(Propagation::kUnbindable);
  expect_errno(sandbox_.mounts().copy_for_bind(walk("/a"), false), EINVAL, "bind");
}

TEST_F(MountTreeTest, MoveIntoItselfIsEloop) {
  make_directory("a");
  make_directory("b");
  auto mount = new_tmpfs();
  ASSERT_TRUE(sandbox_.mounts().attach(walk("/a"), mount).ok());
  ASSERT_TRUE(sandbox_.mounts().move_tree(mount, walk("/b")).ok());
  EXPECT_EQ(walk("/b").mount, mount);
  EXPECT_NE(walk("/a").mount, mount);
  expect_errno(sandbox_.mounts().move_tree(mount, walk("/b")), ELOOP, "move into itself");
  expect_errno(sandbox_.mounts().move_tree(sandbox_.mounts().root_mount(), walk("/a")), EINVAL,
               "move the root");
}

TEST_F(MountTreeTest, CopiedNamespaceIsIndependent) {
  make_directory("a");
  make_directory("b");
  auto mount = new_tmpfs();
  ASSERT_TRUE(sandbox_.mounts().attach(walk("/a"), mount).ok());

  std::map<const Mount*, std::shared_ptr<Mount>> copies;
  auto copy = sandbox_.mounts().copy(copies);
  ASSERT_EQ(copy->mounts().size(), sandbox_.mounts().mounts().size());
  ASSERT_EQ(copies.count(mount.get()), 1u);
  const auto& mount_copy = copies[mount.get()];
  EXPECT_TRUE(copy->contains(*mount_copy));
  EXPECT_FALSE(copy->contains(*mount));

  // A mount in the copy does not show in the original.
  VirtualDentry copy_b = walk("/b");
  copy_b.mount = copies[copy_b.mount.get()];
  ASSERT_TRUE(copy->attach(copy_b, new_tmpfs()).ok());
  EXPECT_EQ(walk("/b").mount, sandbox_.mounts().root_mount());
}

TEST_F(MountTreeTest, TmpfsDataSetsSizeAndMode) {
  NewFilesystem filesystem;
  const FilesystemRequest request{
      .type = "tmpfs", .data = "size=1m,mode=0750,uid=5,gid=6", .fs_uid = 0, .fs_gid = 0};
  ASSERT_FALSE(make_filesystem(sandbox_.mounts(), request, filesystem).has_value());
  auto st = filesystem.root->inode().stat();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode & 07777, 0750u);
  EXPECT_EQ(st->st_uid, 5u);
  EXPECT_EQ(st->st_gid, 6u);
  auto* tmpfs = dynamic_cast<TmpfsFilesystem*>(&filesystem.root->inode().filesystem());
  ASSERT_NE(tmpfs, nullptr);
  EXPECT_EQ(tmpfs->size_limit_bytes(), 1u << 20);
}

TEST_F(MountTreeTest, FilesystemRequestErrors) {
  struct Case {
    std::string_view type;
    std::string_view data;
    int error;
    bool gap;
  };
  const Case cases[] = {
      {"nosuchfs", "", ENODEV, true},       {"tmpfs", "size=1q", EINVAL, false},
      {"tmpfs", "bogus", EINVAL, false},    {"tmpfs", "mode=9", EINVAL, false},
      {"tmpfs", "uid=-1", EINVAL, false},   {"tmpfs", "nr_inodes=10", EINVAL, true},
      {"tmpfs", "size", EINVAL, false},     {"proc", "hidepid=2", EINVAL, true},
      {"sysfs", "anything", EINVAL, false}, {"tmpfs", "source=a,source=b", EINVAL, false},
  };
  for (const Case& test : cases) {
    NewFilesystem filesystem;
    const FilesystemRequest request{.type = test.type, .data = test.data, .fs_uid = 0, .fs_gid = 0};
    auto failure = make_filesystem(sandbox_.mounts(), request, filesystem);
    ASSERT_TRUE(failure.has_value()) << test.type << " " << test.data;
    EXPECT_EQ(failure->error, test.error) << test.type << " " << test.data;
    EXPECT_EQ(!failure->gap.empty(), test.gap) << test.type << " " << test.data;
  }
}

TEST_F(MountTreeTest, ProcIsOneFilesystemPerNamespace) {
  NewFilesystem filesystem;
  const FilesystemRequest request{.type = "proc", .data = "", .fs_uid = 0, .fs_gid = 0};
  ASSERT_FALSE(make_filesystem(sandbox_.mounts(), request, filesystem).has_value());
  EXPECT_EQ(filesystem.root, walk("/proc").mount->root());
}

TEST_F(MountTreeTest, RemountRejectsSizeBelowUse) {
  auto mount = new_tmpfs("size=1m");
  bool read_only = false;
  EXPECT_FALSE(reconfigure_filesystem(*mount, "size=2m,ro", read_only).has_value());
  EXPECT_TRUE(read_only);
  auto* tmpfs = dynamic_cast<TmpfsFilesystem*>(&mount->root()->inode().filesystem());
  ASSERT_NE(tmpfs, nullptr);
  EXPECT_EQ(tmpfs->size_limit_bytes(), 2u << 20);
  ASSERT_TRUE(tmpfs->charge(8192).ok());
  auto failure = reconfigure_filesystem(*mount, "size=4k", read_only);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->error, EINVAL);
}

}  // namespace
}  // namespace ward::vfs
