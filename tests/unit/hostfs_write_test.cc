// Bind mounts and the writable hostfs of read-write binds: the inode
// operations called directly, as the VFS calls them once it has made its
// checks, and writes through open files. Every change must land inside the
// bound host directory, never through a host symlink, and read-only binds
// and the sandbox root must reject every change with EROFS.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sentry/fs/hostfs.h"
#include "sentry/fs/sandbox_mounts.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/open.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::describe;
using testing::expect_errno;
using testing::TempTree;

std::string read_host(const std::string& path) {
  std::ifstream stream(path);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

NewNode node(mode_t mode, std::string_view link_target = {}) {
  NewNode result;
  result.mode = mode;
  result.link_target = link_target;
  return result;
}

NewNode device_node(mode_t mode, dev_t device) {
  NewNode result = node(mode);
  result.device = device;
  return result;
}

AttributeChange size_change(int64_t size) {
  AttributeChange change;
  change.size = size;
  return change;
}

AttributeChange mode_change(mode_t mode) {
  AttributeChange change;
  change.mode = mode;
  return change;
}

AttributeChange mtime_change(timespec when) {
  AttributeChange change;
  change.mtime = when;
  return change;
}

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

class HostfsWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(tree_.host("bound/sub"));
    std::filesystem::create_directories(tree_.host("readonly"));
    std::filesystem::create_directories(tree_.host("etc"));
    TempTree::write_file(tree_.host("etc/passwd"), "sandbox passwd\n");
    TempTree::write_file(tree_.host("bound/file"), "0123456789");
    TempTree::write_file(tree_.host("readonly/file"), "read only\n");

    SandboxMountConfig config{.host_root = tree_.root(),
                              .overlay = OverlayMode::kNone,
                              .overlay_size_bytes = 0,
                              .binds = {BindMount{.host_path = tree_.host("bound"),
                                                  .guest_path = "/mnt/rw",
                                                  .read_only = false},
                                        BindMount{.host_path = tree_.host("readonly"),
                                                  .guest_path = "/mnt/ro",
                                                  .read_only = true},
                                        BindMount{.host_path = tree_.host("bound/file"),
                                                  .guest_path = "/single/file",
                                                  .read_only = true}},
                              .tmpfs = {},
                              .overlay_directory = {}};
    auto made = make_sandbox_mounts(config);
    ASSERT_TRUE(made.ok()) << describe(made.error());
    mounts_ = std::move(*made);
    fs_ = std::make_shared<FsContext>(mounts_->root(), mounts_->root());
  }

  Caller caller() const { return Caller{.creds = creds_, .fs = *fs_, .task = nullptr}; }

  VirtualDentry walk(std::string_view path, bool follow = true) {
    auto location = walk_path(caller(), fs_->cwd(), path, WalkOptions{.follow_final = follow});
    EXPECT_TRUE(location.ok()) << path << ": " << describe(location.error());
    return location.ok() ? *location : mounts_->root();
  }

  // The inode at `path`, kept alive by the caller: the dentry cache holds
  // dentries weakly.
  std::shared_ptr<Inode> inode_at(std::string_view path) { return walk(path).dentry->inode_ref(); }

  std::string bound(std::string_view relative) const {
    return tree_.host("bound/" + std::string(relative));
  }

  TempTree tree_;
  kernel::Credentials creds_;
  std::shared_ptr<MountNamespace> mounts_;
  std::shared_ptr<FsContext> fs_;
};

TEST_F(HostfsWriteTest, BindShowsHostDirectory) {
  VirtualDentry location = walk("/mnt/rw/file");
  EXPECT_FALSE(location.mount->read_only());
  EXPECT_TRUE(walk("/mnt/ro").mount->read_only());
  auto file = open_path(caller(), fs_->cwd(), "/mnt/rw/file", OpenRequest{.flags = O_RDONLY});
  ASSERT_TRUE(file.ok()) << describe(file.error());
  std::vector<std::byte> buffer(32);
  auto got = (*file)->read(buffer, 0);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 10U);
}

TEST_F(HostfsWriteTest, SingleFileBind) {
  VirtualDentry location = walk("/single/file");
  EXPECT_TRUE(location.dentry->inode().is_regular());
  EXPECT_TRUE(location.mount->read_only());
  EXPECT_TRUE(walk("/single").dentry->inode().is_dir());
}

TEST_F(HostfsWriteTest, BindOnFileOfWrongKindFails) {
  SandboxMountConfig config{
      .host_root = tree_.root(),
      .overlay = OverlayMode::kNone,
      .overlay_size_bytes = 0,
      .binds = {BindMount{
          .host_path = tree_.host("bound"), .guest_path = "/etc/passwd", .read_only = true}},
      .tmpfs = {},
      .overlay_directory = {}};
  expect_errno(make_sandbox_mounts(config), ENOTDIR, "directory on a file");
}

TEST_F(HostfsWriteTest, CreateEveryAllowedType) {
  const std::shared_ptr<Inode> directory_inode = inode_at("/mnt/rw");
  Inode& directory = *directory_inode;
  const Caller at_root = caller();

  auto file = directory.create(at_root, "new_file", node(S_IFREG | 0640));
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_TRUE((*file)->is_regular());
  struct stat st {};
  ASSERT_EQ(lstat(bound("new_file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0640);
  EXPECT_EQ(st.st_uid, geteuid()) << "owned by ward's host uid";

  auto made_directory = directory.create(at_root, "new_dir", node(S_IFDIR | 0777));
  ASSERT_TRUE(made_directory.ok()) << describe(made_directory.error());
  ASSERT_EQ(lstat(bound("new_dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0777) << "ward's umask must not apply";

  auto link = directory.create(at_root, "new_link", node(S_IFLNK | 0777, "/etc/passwd"));
  ASSERT_TRUE(link.ok()) << describe(link.error());
  EXPECT_TRUE((*link)->is_symlink());
  EXPECT_EQ(std::filesystem::read_symlink(bound("new_link")), "/etc/passwd");

  auto fifo = directory.create(at_root, "new_fifo", node(S_IFIFO | 0600));
  ASSERT_TRUE(fifo.ok()) << describe(fifo.error());
  ASSERT_EQ(lstat(bound("new_fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));

  auto socket = directory.create(at_root, "new_socket", node(S_IFSOCK | 0600));
  ASSERT_TRUE(socket.ok()) << describe(socket.error());
  ASSERT_EQ(lstat(bound("new_socket").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST_F(HostfsWriteTest, CreateDeviceIsEperm) {
  const std::shared_ptr<Inode> directory_inode = inode_at("/mnt/rw");
  Inode& directory = *directory_inode;
  expect_errno(directory.create(caller(), "null", device_node(S_IFCHR | 0666, makedev(1, 3))),
               EPERM, "character device");
  expect_errno(directory.create(caller(), "disk", node(S_IFBLK | 0600)), EPERM, "block device");
  EXPECT_FALSE(std::filesystem::exists(bound("null")));
}

TEST_F(HostfsWriteTest, CreateExistingIsEexist) {
  expect_errno(inode_at("/mnt/rw")->create(caller(), "file", node(S_IFREG | 0644)), EEXIST);
}

TEST_F(HostfsWriteTest, CreateOverHostSymlinkNeverFollowsIt) {
  // A host symlink in the bind that points outside it.
  const std::string secret = tree_.outside() + "/secret";
  ASSERT_EQ(symlink(secret.c_str(), bound("escape").c_str()), 0);
  const std::shared_ptr<Inode> directory_inode = inode_at("/mnt/rw");
  Inode& directory = *directory_inode;
  expect_errno(directory.create(caller(), "escape", node(S_IFREG | 0644)), EEXIST);
  expect_errno(directory.create(caller(), "escape", node(S_IFDIR | 0755)), EEXIST);
  EXPECT_EQ(read_host(secret), "outside the sandbox\n");
}

TEST_F(HostfsWriteTest, GuestSymlinkResolvesInsideSandbox) {
  // ln -s /etc/passwd x; echo y > x: the write follows x in the sandbox's
  // namespace, to the sandbox's own /etc/passwd, which is read-only.
  const std::shared_ptr<Inode> directory_inode = inode_at("/mnt/rw");
  Inode& directory = *directory_inode;
  ASSERT_TRUE(directory.create(caller(), "x", node(S_IFLNK | 0777, "/etc/passwd")).ok());
  VirtualDentry target = walk("/mnt/rw/x");
  EXPECT_TRUE(target.mount->read_only());
  expect_errno(open_path(caller(), fs_->cwd(), "/mnt/rw/x", OpenRequest{.flags = O_WRONLY}), EROFS,
               "write through the symlink");

  // The symlink itself cannot be opened for writing, nor truncated.
  VirtualDentry link = walk("/mnt/rw/x", false);
  expect_errno(link.dentry->inode().open(caller(), link, O_WRONLY), ELOOP, "open the link");
  expect_errno(link.dentry->inode().set_attributes(caller(), size_change(0)), EINVAL,
               "truncate the link");
  EXPECT_EQ(read_host(tree_.host("etc/passwd")), "sandbox passwd\n");
  EXPECT_EQ(read_host("/etc/passwd").find("sandbox passwd"), std::string::npos);
}

TEST_F(HostfsWriteTest, LinkUnlinkRmdir) {
  const std::shared_ptr<Inode> directory_inode = inode_at("/mnt/rw");
  Inode& directory = *directory_inode;
  std::shared_ptr<Inode> file = walk("/mnt/rw/file").dentry->inode_ref();
  ASSERT_TRUE(directory.link(caller(), "hard", file).ok());
  struct stat st {};
  ASSERT_EQ(stat(bound("hard").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2U);

  ASSERT_TRUE(directory.unlink(caller(), "file", *file).ok());
  EXPECT_FALSE(std::filesystem::exists(bound("file")));
  EXPECT_EQ(read_host(bound("hard")), "0123456789");

  const std::shared_ptr<Inode> sub_inode = inode_at("/mnt/rw/sub");
  Inode& sub = *sub_inode;
  ASSERT_TRUE(directory.rmdir(caller(), "sub", sub).ok());
  EXPECT_FALSE(std::filesystem::exists(bound("sub")));
}

TEST_F(HostfsWriteTest, RmdirOfNonEmptyIsEnotempty) {
  TempTree::write_file(bound("sub/inner"), "x");
  expect_errno(inode_at("/mnt/rw")->rmdir(caller(), "sub", *inode_at("/mnt/rw/sub")), ENOTEMPTY);
}

TEST_F(HostfsWriteTest, UnlinkOfRenamedNameIsEnoent) {
  // The host renames the file the VFS found; the sentry must not remove
  // whatever now has its name.
  std::shared_ptr<Inode> file = walk("/mnt/rw/file").dentry->inode_ref();
  std::filesystem::rename(bound("file"), bound("moved"));
  TempTree::write_file(bound("file"), "another file");
  expect_errno(inode_at("/mnt/rw")->unlink(caller(), "file", *file), ENOENT);
  EXPECT_EQ(read_host(bound("file")), "another file");
}

TEST_F(HostfsWriteTest, RenameWithFlags) {
  const std::shared_ptr<Inode> directory_inode = inode_at("/mnt/rw");
  Inode& directory = *directory_inode;
  const std::shared_ptr<Inode> sub_inode = inode_at("/mnt/rw/sub");
  Inode& sub = *sub_inode;
  ASSERT_TRUE(directory.rename(caller(), "file", sub, "renamed", 0).ok());
  EXPECT_EQ(read_host(bound("sub/renamed")), "0123456789");

  TempTree::write_file(bound("other"), "other");
  expect_errno(sub.rename(caller(), "renamed", directory, "other", RENAME_NOREPLACE), EEXIST,
               "RENAME_NOREPLACE");
  ASSERT_TRUE(sub.rename(caller(), "renamed", directory, "other", RENAME_EXCHANGE).ok());
  EXPECT_EQ(read_host(bound("other")), "0123456789");
  EXPECT_EQ(read_host(bound("sub/renamed")), "other");
}

TEST_F(HostfsWriteTest, RenameAcrossBindsIsExdev) {
  expect_errno(inode_at("/mnt/rw")->rename(caller(), "file", *inode_at("/mnt/ro"), "file", 0),
               EXDEV);
}

TEST_F(HostfsWriteTest, SetAttributes) {
  const std::shared_ptr<Inode> file_inode = inode_at("/mnt/rw/file");
  Inode& file = *file_inode;
  const timespec when{.tv_sec = 1000000000, .tv_nsec = 5};
  AttributeChange change;
  change.mode = 0751;
  change.uid = geteuid();
  change.gid = getegid();
  change.size = 4;
  change.atime = when;
  change.mtime = when;
  ASSERT_TRUE(file.set_attributes(caller(), change).ok());
  struct stat st {};
  ASSERT_EQ(stat(bound("file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751U);
  EXPECT_EQ(st.st_size, 4);
  EXPECT_EQ(st.st_mtim.tv_sec, when.tv_sec);
  EXPECT_EQ(st.st_mtim.tv_nsec, when.tv_nsec);
  EXPECT_EQ(st.st_atim.tv_sec, when.tv_sec);
  EXPECT_EQ(read_host(bound("file")), "0123");

  // stat reports the host's owner, whatever the guest asked for.
  auto reported = file.stat();
  ASSERT_TRUE(reported.ok());
  EXPECT_EQ(reported->st_uid, st.st_uid);
}

TEST_F(HostfsWriteTest, SetuidBitsOnFilesAreEperm) {
  const std::shared_ptr<Inode> directory = inode_at("/mnt/rw");
  expect_errno(directory->create(caller(), "setuid", node(S_IFREG | 04755)), EPERM, "create");
  EXPECT_FALSE(std::filesystem::exists(bound("setuid")));

  const std::shared_ptr<Inode> file = inode_at("/mnt/rw/file");
  expect_errno(file->set_attributes(caller(), mode_change(04755)), EPERM, "chmod u+s");
  expect_errno(file->set_attributes(caller(), mode_change(02755)), EPERM, "chmod g+s");
  struct stat st {};
  ASSERT_EQ(stat(bound("file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644U);

  // A set-group-ID directory only passes its group on.
  auto shared = directory->create(caller(), "shared", node(S_IFDIR | 02775));
  ASSERT_TRUE(shared.ok()) << describe(shared.error());
  ASSERT_EQ(stat(bound("shared").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02775U);
}

TEST_F(HostfsWriteTest, SetAttributesOfSymlinkChangesTheLinkOnly) {
  ASSERT_EQ(symlink("file", bound("link").c_str()), 0);
  VirtualDentry link = walk("/mnt/rw/link", false);
  const timespec when{.tv_sec = 1000000000, .tv_nsec = 0};
  ASSERT_TRUE(link.dentry->inode().set_attributes(caller(), mtime_change(when)).ok());
  struct stat st {};
  ASSERT_EQ(lstat(bound("link").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, when.tv_sec);
  ASSERT_EQ(stat(bound("file").c_str(), &st), 0);
  EXPECT_NE(st.st_mtim.tv_sec, when.tv_sec);
  expect_errno(link.dentry->inode().set_attributes(caller(), mode_change(0600)), EOPNOTSUPP,
               "chmod of a symlink");
}

TEST_F(HostfsWriteTest, WriteTruncateAppend) {
  VirtualDentry location = walk("/mnt/rw/file");
  auto opened = location.dentry->inode().open(caller(), location, O_RDWR);
  ASSERT_TRUE(opened.ok()) << describe(opened.error());
  FileDescription& file = **opened;

  auto wrote = file.write(bytes_of("ab"), std::nullopt);
  ASSERT_TRUE(wrote.ok()) << describe(wrote.error());
  EXPECT_EQ(*wrote, 2U);
  EXPECT_EQ(file.offset(), 2);
  ASSERT_TRUE(file.write(bytes_of("Z"), 9).ok());
  EXPECT_EQ(file.offset(), 2) << "pwrite leaves the offset";
  EXPECT_EQ(read_host(bound("file")), "ab2345678Z");

  ASSERT_TRUE(file.truncate(3).ok());
  EXPECT_EQ(read_host(bound("file")), "ab2");

  file.set_status_flags(O_APPEND);
  ASSERT_TRUE(file.write(bytes_of("++"), std::nullopt).ok());
  EXPECT_EQ(file.offset(), 5);
  ASSERT_TRUE(file.write(bytes_of("!"), 0).ok());
  EXPECT_EQ(file.offset(), 5) << "an explicit offset leaves the file offset";
  EXPECT_EQ(read_host(bound("file")), "ab2++!") << "O_APPEND writes at the end, as Linux does";
}

TEST_F(HostfsWriteTest, OpenWithTruncate) {
  VirtualDentry location = walk("/mnt/rw/file");
  auto opened = location.dentry->inode().open(caller(), location, O_WRONLY | O_TRUNC);
  ASSERT_TRUE(opened.ok()) << describe(opened.error());
  EXPECT_EQ(read_host(bound("file")), "");
}

TEST_F(HostfsWriteTest, ReadOnlyBindRejectsEveryChange) {
  VirtualDentry location = walk("/mnt/ro/file");
  const std::shared_ptr<Inode> directory_inode = inode_at("/mnt/ro");
  Inode& directory = *directory_inode;
  Inode& file = location.dentry->inode();
  expect_errno(directory.create(caller(), "new", node(S_IFREG | 0644)), EROFS, "create");
  expect_errno(directory.unlink(caller(), "file", file), EROFS, "unlink");
  expect_errno(directory.rename(caller(), "file", directory, "moved", 0), EROFS, "rename");
  expect_errno(file.set_attributes(caller(), size_change(0)), EROFS, "truncate");
  expect_errno(file.set_xattr(caller(), "user.test", bytes_of("1"), 0), EROFS, "setxattr");
  expect_errno(file.open(caller(), location, O_WRONLY), EROFS, "open for writing");
  EXPECT_EQ(read_host(tree_.host("readonly/file")), "read only\n");
}

TEST_F(HostfsWriteTest, SandboxRootRejectsEveryChange) {
  Inode& root = mounts_->root().dentry->inode();
  const std::shared_ptr<Inode> etc_inode = inode_at("/etc");
  Inode& etc = *etc_inode;
  expect_errno(root.create(caller(), "new", node(S_IFDIR | 0755)), EROFS, "mkdir");
  expect_errno(etc.set_attributes(caller(), mode_change(0777)), EROFS, "chmod");
  EXPECT_FALSE(std::filesystem::exists(tree_.host("new")));
}

TEST_F(HostfsWriteTest, XattrsOnlyInUserNamespace) {
  const std::shared_ptr<Inode> file_inode = inode_at("/mnt/rw/file");
  Inode& file = *file_inode;
  expect_errno(file.set_xattr(caller(), "security.capability", bytes_of("x"), 0), EPERM,
               "security.*");
  expect_errno(file.set_xattr(caller(), "trusted.x", bytes_of("x"), 0), EPERM, "trusted.*");
  auto set = file.set_xattr(caller(), "user.ward_test", bytes_of("v"), 0);
  if (!set.ok() && set.error().value == EOPNOTSUPP) {
    GTEST_SKIP() << "the host filesystem of /tmp has no user xattrs";
  }
  ASSERT_TRUE(set.ok()) << describe(set.error());
  ASSERT_TRUE(file.remove_xattr(caller(), "user.ward_test").ok());
}

}  // namespace
}  // namespace ward::vfs
