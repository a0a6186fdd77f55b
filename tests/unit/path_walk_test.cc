// The sentry's path walk against escape attempts on a temporary host
// directory used as the sandbox root: `..`, symlinks inside and outside,
// loops, long names, host renames and swaps during a walk, device nodes,
// and the host's own /proc, /sys and /dev.
#include "sentry/vfs/path_walk.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "sentry/vfs/open.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::describe;
using testing::expect_errno;
using testing::Sandbox;
using testing::TempTree;

// The host file a location stands for, as (device, inode).
std::pair<dev_t, ino_t> identity(const VirtualDentry& location) {
  auto st = location.dentry->inode().stat();
  EXPECT_TRUE(st.ok());
  return {st->st_dev, st->st_ino};
}

std::pair<dev_t, ino_t> host_identity(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return {st.st_dev, st.st_ino};
}

class PathWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(tree_.host("dir/sub"));
    TempTree::write_file(tree_.host("file"), "inside\n");
    TempTree::write_file(tree_.host("dir/sub/deep"), "deep\n");
    sandbox_ = std::make_unique<Sandbox>(tree_.root());
  }

  void symlink_in_root(const std::string& target, const std::string& name) {
    ASSERT_EQ(::symlink(target.c_str(), tree_.host(name).c_str()), 0) << name;
  }

  TempTree tree_;
  std::unique_ptr<Sandbox> sandbox_;
};

TEST_F(PathWalkTest, RootIsTheHostDirectory) {
  auto root = sandbox_->walk("/");
  ASSERT_TRUE(root.ok()) << describe(root.error());
  EXPECT_EQ(identity(*root), host_identity(tree_.root()));
}

TEST_F(PathWalkTest, DotDotAboveRootStaysAtRoot) {
  for (const char* path : {"/..", "/../..", "..", "dir/../../..", "/dir/sub/../../../../.."}) {
    auto location = sandbox_->walk(path);
    ASSERT_TRUE(location.ok()) << path << ": " << describe(location.error());
    EXPECT_EQ(*location, sandbox_->root()) << path;
  }
  expect_errno(sandbox_->walk("../outside/secret"), ENOENT, "../outside/secret");
  expect_errno(sandbox_->walk("/../../outside/secret"), ENOENT, "/../../outside/secret");
}

TEST_F(PathWalkTest, DotDotReturnsToParent) {
  auto location = sandbox_->walk("dir/sub/..");
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(identity(*location), host_identity(tree_.host("dir")));
}

TEST_F(PathWalkTest, AbsoluteSymlinkRestartsAtSandboxRoot) {
  // The target exists on the host but not inside the sandbox.
  symlink_in_root(tree_.outside(), "to_outside");
  expect_errno(sandbox_->walk("to_outside/secret"), ENOENT, "absolute symlink");
  expect_errno(sandbox_->walk("to_outside"), ENOENT, "final absolute symlink");

  // An absolute target that does exist inside resolves there.
  symlink_in_root("/dir/sub/deep", "to_deep");
  auto deep = sandbox_->walk("to_deep");
  ASSERT_TRUE(deep.ok()) << describe(deep.error());
  EXPECT_EQ(identity(*deep), host_identity(tree_.host("dir/sub/deep")));
}

TEST_F(PathWalkTest, RelativeSymlinkCannotClimbOut) {
  symlink_in_root("../outside/secret", "rel_secret");
  symlink_in_root("../../../../../../../../outside/secret", "many_dots");
  symlink_in_root("dir/../file", "rel_inside");
  expect_errno(sandbox_->walk("rel_secret"), ENOENT, "rel_secret");
  expect_errno(sandbox_->walk("many_dots"), ENOENT, "many_dots");

  auto inside = sandbox_->walk("rel_inside");
  ASSERT_TRUE(inside.ok()) << describe(inside.error());
  EXPECT_EQ(identity(*inside), host_identity(tree_.host("file")));
}

TEST_F(PathWalkTest, SymlinkToSlashIsSandboxRoot) {
  symlink_in_root("/", "slash");
  symlink_in_root("///", "slashes");
  for (const char* path : {"slash", "slash/", "slash/..", "slashes", "slash/slash/slash"}) {
    auto location = sandbox_->walk(path);
    ASSERT_TRUE(location.ok()) << path << ": " << describe(location.error());
    EXPECT_EQ(*location, sandbox_->root()) << path;
  }
}

TEST_F(PathWalkTest, SymlinkLoopIsEloop) {
  symlink_in_root("loop_b", "loop_a");
  symlink_in_root("loop_a", "loop_b");
  symlink_in_root("self", "self");
  expect_errno(sandbox_->walk("loop_a"), ELOOP, "loop_a");
  expect_errno(sandbox_->walk("self/x"), ELOOP, "self/x");
}

TEST_F(PathWalkTest, FortySymlinksResolveAndFortyOneDoNot) {
  // chain0 -> file, chainN -> chain(N-1): following chainN takes N+1 links.
  symlink_in_root("file", "chain0");
  for (int i = 1; i <= 40; ++i) {
    symlink_in_root("chain" + std::to_string(i - 1), "chain" + std::to_string(i));
  }
  auto forty = sandbox_->walk("chain39");
  ASSERT_TRUE(forty.ok()) << describe(forty.error());
  EXPECT_EQ(identity(*forty), host_identity(tree_.host("file")));
  expect_errno(sandbox_->walk("chain40"), ELOOP, "41 links");
}

TEST_F(PathWalkTest, NoFollowKeepsFinalSymlink) {
  symlink_in_root("file", "link");
  auto link = sandbox_->walk("link", WalkOptions{.follow_final = false});
  ASSERT_TRUE(link.ok());
  EXPECT_TRUE(link->dentry->inode().is_symlink());
  // A trailing slash follows it anyway.
  expect_errno(sandbox_->walk("link/", WalkOptions{.follow_final = false}), ENOTDIR, "link/");
}

TEST_F(PathWalkTest, PathOfPathMaxIsTooLong) {
  // "./" repeated, then a missing name: a walk that reaches the end
  // answers ENOENT, one that is too long ENAMETOOLONG.
  std::string almost;
  while (almost.size() < 4094) {
    almost += "./";
  }
  std::string just_fits = almost.substr(0, 4094) + "x";  // 4095 bytes
  ASSERT_EQ(just_fits.size(), 4095u);
  expect_errno(sandbox_->walk(just_fits), ENOENT, "4095 bytes");
  std::string too_long = almost.substr(0, 4094) + "xy";  // 4096 bytes
  ASSERT_EQ(too_long.size(), 4096u);
  expect_errno(sandbox_->walk(too_long), ENAMETOOLONG, "4096 bytes");
}

TEST_F(PathWalkTest, ComponentOf256BytesIsTooLong) {
  expect_errno(sandbox_->walk("/" + std::string(256, 'a')), ENAMETOOLONG, "256 bytes");
  expect_errno(sandbox_->walk("/" + std::string(256, 'a') + "/x"), ENAMETOOLONG, "256 then more");
  expect_errno(sandbox_->walk("/" + std::string(255, 'a')), ENOENT, "255 bytes");
  // A missing directory on the way is found first.
  expect_errno(sandbox_->walk("/missing/" + std::string(256, 'a')), ENOENT, "missing first");
}

TEST_F(PathWalkTest, TrailingSlashOnFileIsEnotdir) {
  symlink_in_root("file", "file_link");
  expect_errno(sandbox_->walk("file/"), ENOTDIR, "file/");
  expect_errno(sandbox_->walk("file//"), ENOTDIR, "file//");
  expect_errno(sandbox_->walk("file/."), ENOTDIR, "file/.");
  expect_errno(sandbox_->walk("file/x"), ENOTDIR, "file/x");
  expect_errno(sandbox_->walk("file_link/"), ENOTDIR, "file_link/");
  expect_errno(sandbox_->walk("missing/"), ENOENT, "missing/");
  EXPECT_TRUE(sandbox_->walk("dir/").ok());
  EXPECT_TRUE(sandbox_->walk("dir//sub///").ok());
}

TEST_F(PathWalkTest, RequireDirectoryIsEnotdir) {
  expect_errno(sandbox_->walk("file", WalkOptions{.require_directory = true}), ENOTDIR,
               "O_DIRECTORY on a file");
  EXPECT_TRUE(sandbox_->walk("dir", WalkOptions{.require_directory = true}).ok());
}

TEST_F(PathWalkTest, EmptyPathIsEnoent) { expect_errno(sandbox_->walk(""), ENOENT, "\"\""); }

TEST_F(PathWalkTest, RelativeWalkFromFileIsEnotdir) {
  auto file = sandbox_->walk("file");
  ASSERT_TRUE(file.ok());
  expect_errno(sandbox_->walk_from(*file, "x"), ENOTDIR, "start at a file");
  // An absolute path ignores the start.
  EXPECT_TRUE(sandbox_->walk_from(*file, "/dir").ok());
}

TEST_F(PathWalkTest, RenamedDirectoryNeverLeavesRoot) {
  std::filesystem::create_directories(tree_.host("a/b"));
  TempTree::write_file(tree_.host("a/sibling"), "in a\n");
  TempTree::write_file(tree_.host("a/b/child"), "in b\n");
  auto held = sandbox_->walk("a/b");
  ASSERT_TRUE(held.ok());

  // The host moves b out of the sandbox while the sentry holds it.
  std::filesystem::rename(tree_.host("a/b"), tree_.outside() + "/b");

  // `..` follows the sentry's own dentries: back to /a, never to outside/.
  auto parent = sandbox_->walk_from(*held, "..");
  ASSERT_TRUE(parent.ok());
  EXPECT_EQ(identity(*parent), host_identity(tree_.host("a")));
  auto sibling = sandbox_->walk_from(*held, "../sibling");
  ASSERT_TRUE(sibling.ok()) << describe(sibling.error());
  EXPECT_EQ(identity(*sibling), host_identity(tree_.host("a/sibling")));
  expect_errno(sandbox_->walk_from(*held, "../secret"), ENOENT, "outside/secret via ..");
  auto top = sandbox_->walk_from(*held, "../../../..");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(*top, sandbox_->root());

  // A fresh walk sees that b is gone from the root.
  expect_errno(sandbox_->walk("a/b/child"), ENOENT, "moved away");
}

TEST_F(PathWalkTest, SymlinkSwappedForDirectoryIsResolvedAnew) {
  std::filesystem::create_directories(tree_.host("real"));
  TempTree::write_file(tree_.host("real/file"), "real\n");
  symlink_in_root("real", "swap");
  auto first = sandbox_->walk("swap/file");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(identity(*first), host_identity(tree_.host("real/file")));

  // The host replaces the symlink with a directory of its own.
  ASSERT_EQ(::unlink(tree_.host("swap").c_str()), 0);
  std::filesystem::create_directories(tree_.host("swap"));
  TempTree::write_file(tree_.host("swap/file"), "swapped\n");
  auto second = sandbox_->walk("swap/file");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(identity(*second), host_identity(tree_.host("swap/file")));
}

TEST_F(PathWalkTest, DirectorySwappedForOutsideSymlinkStaysInside) {
  std::filesystem::create_directories(tree_.host("victim"));
  auto held = sandbox_->walk("victim");
  ASSERT_TRUE(held.ok());

  // The host replaces the directory with a symlink to a host path outside.
  std::filesystem::rename(tree_.host("victim"), tree_.outside() + "/old_victim");
  symlink_in_root(tree_.outside(), "victim");

  // The symlink is followed inside the sandbox, where that path is absent.
  expect_errno(sandbox_->walk("victim/secret"), ENOENT, "swapped symlink");
  // The held directory is still the old one, not the host's outside/.
  expect_errno(sandbox_->walk_from(*held, "secret"), ENOENT, "held directory");
}

TEST_F(PathWalkTest, DeviceNodeDoesNotOpen) {
  if (::mknod(tree_.host("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "mknod needs CAP_MKNOD";
  }
  ASSERT_EQ(::mknod(tree_.host("disk").c_str(), S_IFBLK | 0600, makedev(7, 0)), 0);

  auto node = sandbox_->walk("null");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->dentry->inode().type(), static_cast<mode_t>(S_IFCHR));
  for (const char* name : {"null", "disk"}) {
    for (uint32_t flags : {O_RDONLY, O_WRONLY, O_RDWR}) {
      auto opened =
          open_path(sandbox_->caller(), sandbox_->root(), name, OpenRequest{.flags = flags});
      expect_errno(opened, EACCES, name);
    }
  }
}

TEST_F(PathWalkTest, SearchPermissionIsChecked) {
  std::filesystem::create_directories(tree_.host("private/inner"));
  ASSERT_EQ(::chmod(tree_.host("private").c_str(), 0700), 0);
  ASSERT_EQ(::chown(tree_.host("private").c_str(), 0, 0), 0);

  Sandbox user(tree_.root(), testing::user_creds(1000, 1000));
  expect_errno(user.walk("private/inner"), EACCES, "uid 1000 through 0700");
  // The directory itself can be reached; only what is under it cannot.
  EXPECT_TRUE(user.walk("private").ok());
  // Root may search any directory, even one without x bits.
  ASSERT_EQ(::chmod(tree_.host("private").c_str(), 0), 0);
  EXPECT_TRUE(sandbox_->walk("private/inner").ok());
}

TEST_F(PathWalkTest, ResolveBeneathRejectsEscapes) {
  auto dir = sandbox_->walk("dir");
  ASSERT_TRUE(dir.ok());
  const WalkOptions beneath{.beneath = true};
  expect_errno(sandbox_->walk_from(*dir, "..", beneath), EXDEV, "..");
  expect_errno(sandbox_->walk_from(*dir, "/file", beneath), EXDEV, "absolute");
  EXPECT_TRUE(sandbox_->walk_from(*dir, "sub/../sub/deep", beneath).ok());

  const WalkOptions in_root{.in_root = true};
  auto deep = sandbox_->walk_from(*dir, "/sub/deep", in_root);
  ASSERT_TRUE(deep.ok()) << describe(deep.error());
  EXPECT_EQ(identity(*deep), host_identity(tree_.host("dir/sub/deep")));
  auto stays = sandbox_->walk_from(*dir, "../..", in_root);
  ASSERT_TRUE(stays.ok());
  EXPECT_EQ(*stays, *dir);

  symlink_in_root("file", "plain_link");
  expect_errno(sandbox_->walk("plain_link", WalkOptions{.no_symlinks = true}), ELOOP,
               "RESOLVE_NO_SYMLINKS");
}

TEST_F(PathWalkTest, ParentWalkReportsLastComponent) {
  auto parent = walk_parent(sandbox_->caller(), sandbox_->root(), "dir/sub/newname");
  ASSERT_TRUE(parent.ok());
  EXPECT_EQ(parent->last, "newname");
  EXPECT_EQ(parent->last_type, LastComponent::kNormal);
  EXPECT_FALSE(parent->trailing_slash);
  EXPECT_EQ(identity(parent->parent), host_identity(tree_.host("dir/sub")));

  auto dots = walk_parent(sandbox_->caller(), sandbox_->root(), "dir/..");
  ASSERT_TRUE(dots.ok());
  EXPECT_EQ(dots->last_type, LastComponent::kDotDot);
  auto root = walk_parent(sandbox_->caller(), sandbox_->root(), "//");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->last_type, LastComponent::kRoot);
  auto slash = walk_parent(sandbox_->caller(), sandbox_->root(), "dir/new/");
  ASSERT_TRUE(slash.ok());
  EXPECT_TRUE(slash->trailing_slash);
}

// With the real host root, the host's /proc, /sys and /dev are replaced by
// the sentry's own.
TEST(SandboxMountsTest, HostKernelFilesystemsAreNotReachable) {
  Sandbox sandbox("/");
  // The sandbox's /sys has its own kernel/ and fs/cgroup, but none of the
  // host's debug, security or firmware files.
  for (const char* path : {"/proc/1/environ", "/proc/sysrq-trigger", "/proc/kcore",
                           "/sys/kernel/debug", "/sys/kernel/security", "/sys/fs/bpf",
                           "/sys/firmware", "/dev/sda", "/dev/mem", "/dev/kmsg", "/dev/pts/0"}) {
    expect_errno(sandbox.walk(path), ENOENT, path);
  }
  auto proc = sandbox.walk("/proc");
  ASSERT_TRUE(proc.ok());
  EXPECT_EQ(proc->dentry->inode().filesystem().type_name(), "proc");
  auto proc_stat = statfs_at(*proc);
  ASSERT_TRUE(proc_stat.ok());
  EXPECT_EQ(static_cast<uint64_t>(proc_stat->f_type), PROC_SUPER_MAGIC);
  // Without a task there is no /proc/self.
  expect_errno(sandbox.walk("/proc/self"), ENOENT, "/proc/self");

  auto null = sandbox.walk("/dev/null");
  ASSERT_TRUE(null.ok());
  EXPECT_EQ(null->dentry->inode().filesystem().type_name(), "devtmpfs");
  EXPECT_TRUE(sandbox.walk("/sys/devices/system/cpu/online").ok());
  EXPECT_TRUE(sandbox.walk("/proc/sys/kernel/osrelease").ok());

  // `..` out of a mount returns to the root.
  auto up = sandbox.walk("/proc/sys/../..");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(*up, sandbox.root());
}

TEST(SandboxMountsTest, HostKernelFilesystemAsRootIsRefused) {
  expect_errno(make_sandbox_mounts("/proc"), EACCES, "procfs as the root");
  expect_errno(make_sandbox_mounts("/sys"), EACCES, "sysfs as the root");
  expect_errno(make_sandbox_mounts("/nonexistent-ward-root"), ENOENT, "missing root");
}

TEST_F(PathWalkTest, RootThatIsAFileIsEnotdir) {
  expect_errno(make_sandbox_mounts(tree_.host("file")), ENOTDIR, "file as the root");
}

}  // namespace
}  // namespace ward::vfs
