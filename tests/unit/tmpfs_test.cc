// tmpfs and the VFS's writable paths, driven without a kernel: a tmpfs as
// the root of a mount namespace, and a caller whose credentials each test
// picks.
#include "sentry/fs/tmpfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "sentry/fs/tmpfs_inode.h"
#include "sentry/vfs/mutate.h"
#include "sentry/vfs/open.h"
#include "sentry/vfs/open_flags.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::describe;
using testing::expect_errno;
using testing::user_creds;

constexpr uint64_t kPageBytes = 4096;

// Collects the names of a listing, accepting at most `capacity` entries per
// call.
class NameSink final : public DirentSink {
 public:
  explicit NameSink(size_t capacity) : capacity_(capacity) {}
  bool add(const Dirent& entry) override {
    if (taken_ == capacity_) {
      return false;
    }
    ++taken_;
    names.emplace_back(entry.name);
    return true;
  }
  void reset() { taken_ = 0; }
  std::vector<std::string> names;

 private:
  size_t capacity_;
  size_t taken_ = 0;
};

class TmpfsTest : public ::testing::Test {
 protected:
  explicit TmpfsTest(uint64_t size_limit_bytes = 0) {
    auto mount = std::make_shared<Mount>(make_tmpfs_root(size_limit_bytes, 01777), "tmpfs",
                                         MountOptions{});
    mounts_ = std::make_shared<MountNamespace>(std::move(mount));
    fs_ = std::make_shared<FsContext>(mounts_->root(), mounts_->root());
  }

  Caller caller() const { return Caller{.creds = creds_, .fs = *fs_, .task = nullptr}; }
  VirtualDentry root() const { return mounts_->root(); }

  Result<FileRef> open(std::string_view path, uint32_t flags, mode_t mode = 0644) {
    return open_path(caller(), root(), path, OpenRequest{.flags = flags, .mode = mode, .resolve = {}});
  }

  struct stat stat_of(std::string_view path) {
    auto location = walk_path(caller(), root(), path, WalkOptions{.follow_final = false});
    EXPECT_TRUE(location.ok()) << path << ": " << describe(location.error());
    if (!location.ok()) {
      return {};
    }
    return *location->dentry->inode().stat();
  }

  static size_t write_text(FileDescription& file, std::string_view text) {
    auto wrote = file.write(std::as_bytes(std::span(text.data(), text.size())), std::nullopt);
    return wrote.ok() ? *wrote : 0;
  }

  static std::string read_at(FileDescription& file, int64_t offset, size_t length) {
    std::string text(length, '\0');
    auto got = file.read(std::as_writable_bytes(std::span(text.data(), text.size())), offset);
    text.resize(got.ok() ? *got : 0);
    return text;
  }

  std::vector<std::string> list(std::string_view path) {
    auto directory = open(path, O_RDONLY | O_DIRECTORY);
    EXPECT_TRUE(directory.ok());
    NameSink sink(1000);
    EXPECT_TRUE((*directory)->iterate_dir(caller(), sink).ok());
    return sink.names;
  }

  kernel::Credentials creds_;
  std::shared_ptr<MountNamespace> mounts_;
  std::shared_ptr<FsContext> fs_;
};

TEST_F(TmpfsTest, CreateWriteReadAndStat) {
  auto file = open("file", O_RDWR | O_CREAT | O_EXCL);
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_EQ(write_text(**file, "hello"), 5u);
  EXPECT_EQ(read_at(**file, 0, 16), "hello");

  const struct stat st = stat_of("file");
  EXPECT_EQ(st.st_mode, S_IFREG | 0644);
  EXPECT_EQ(st.st_size, 5);
  EXPECT_EQ(st.st_blocks, 8);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_TRUE((*file)->host_fd_for_mapping().has_value());
  expect_errno(open("file", O_RDWR | O_CREAT | O_EXCL), EEXIST, "O_EXCL");
}

TEST_F(TmpfsTest, UnlinkedFileStaysReadable) {
  auto file = open("doomed", O_RDWR | O_CREAT);
  ASSERT_TRUE(file.ok());
  write_text(**file, "data");
  ASSERT_TRUE(unlink_file(caller(), root(), "doomed").ok());
  EXPECT_TRUE((*file)->inode().unlinked());
  EXPECT_EQ(read_at(**file, 0, 8), "data");
  EXPECT_EQ((*file)->display_path(), "/doomed (deleted)");
  expect_errno(open("doomed", O_RDONLY), ENOENT, "open after unlink");
}

TEST_F(TmpfsTest, DirectoryLinkCountAndSize) {
  ASSERT_TRUE(make_directory(caller(), root(), "a", 0755).ok());
  ASSERT_TRUE(make_directory(caller(), root(), "a/b", 0755).ok());
  ASSERT_TRUE(open("a/file", O_WRONLY | O_CREAT).ok());
  EXPECT_EQ(stat_of("a").st_nlink, 3u);
  EXPECT_EQ(stat_of("a").st_size, 80);  // 20 bytes per entry, "." and ".." included
  expect_errno(remove_directory(caller(), root(), "a"), ENOTEMPTY, "rmdir a");
  ASSERT_TRUE(remove_directory(caller(), root(), "a/b").ok());
  EXPECT_EQ(stat_of("a").st_nlink, 2u);
}

TEST_F(TmpfsTest, ListingSurvivesRemoval) {
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(open("f" + std::to_string(i), O_WRONLY | O_CREAT).ok());
  }
  auto directory = open(".", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(directory.ok());
  NameSink sink(4);
  ASSERT_TRUE((*directory)->iterate_dir(caller(), sink).ok());
  EXPECT_EQ(sink.names, (std::vector<std::string>{".", "..", "f0", "f1"}));

  ASSERT_TRUE(unlink_file(caller(), root(), "f2").ok());
  ASSERT_TRUE(unlink_file(caller(), root(), "f1").ok());
  ASSERT_TRUE(open("late", O_WRONLY | O_CREAT).ok());
  sink.reset();
  ASSERT_TRUE((*directory)->iterate_dir(caller(), sink).ok());
  // "late" was made after the listing began, so only a rewind lists it.
  EXPECT_EQ(sink.names, (std::vector<std::string>{".", "..", "f0", "f1", "f3", "f4", "f5"}));

  ASSERT_TRUE((*directory)->seek(0, SEEK_SET).ok());
  sink.names.clear();
  for (int call = 0; call < 2; ++call) {
    sink.reset();
    ASSERT_TRUE((*directory)->iterate_dir(caller(), sink).ok());
  }
  EXPECT_EQ(sink.names, (std::vector<std::string>{".", "..", "f0", "f3", "f4", "f5", "late"}));
}

TEST_F(TmpfsTest, RenameRules) {
  ASSERT_TRUE(make_directory(caller(), root(), "d", 0755).ok());
  ASSERT_TRUE(make_directory(caller(), root(), "d/sub", 0755).ok());
  ASSERT_TRUE(make_directory(caller(), root(), "full", 0755).ok());
  ASSERT_TRUE(open("full/x", O_WRONLY | O_CREAT).ok());
  ASSERT_TRUE(open("file", O_WRONLY | O_CREAT).ok());

  expect_errno(rename_path(caller(), root(), "d", root(), "d/sub/in", 0), EINVAL, "into itself");
  expect_errno(rename_path(caller(), root(), "d", root(), "full", 0), ENOTEMPTY, "over nonempty");
  expect_errno(rename_path(caller(), root(), "d", root(), "file", 0), ENOTDIR, "dir over file");
  expect_errno(rename_path(caller(), root(), "file", root(), "d", 0), EISDIR, "file over dir");
  expect_errno(rename_path(caller(), root(), "file", root(), "full", RENAME_NOREPLACE), EEXIST,
               "RENAME_NOREPLACE");

  ASSERT_TRUE(rename_path(caller(), root(), "file", root(), "d", RENAME_EXCHANGE).ok());
  EXPECT_TRUE(S_ISDIR(stat_of("file").st_mode));
  EXPECT_TRUE(S_ISREG(stat_of("d").st_mode));

  // An open directory follows its rename.
  auto sub = open("file/sub", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(rename_path(caller(), root(), "file/sub", root(), "moved", 0).ok());
  EXPECT_EQ((*sub)->display_path(), "/moved");
}

TEST_F(TmpfsTest, WhiteoutRenameLeavesCharacterNode) {
  ASSERT_TRUE(open("upper", O_WRONLY | O_CREAT).ok());
  ASSERT_TRUE(rename_path(caller(), root(), "upper", root(), "moved", RENAME_WHITEOUT).ok());
  const struct stat st = stat_of("upper");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, 0u);
}

TEST_F(TmpfsTest, StickyDirectoryKeepsOthersEntries) {
  ASSERT_TRUE(open("root-file", O_WRONLY | O_CREAT, 0666).ok());
  creds_ = user_creds(1000, 1000);
  creds_.cap_effective = kernel::CapabilitySet();
  expect_errno(unlink_file(caller(), root(), "root-file"), EPERM, "unlink other's entry");
  ASSERT_TRUE(open("mine", O_WRONLY | O_CREAT).ok());
  EXPECT_EQ(stat_of("mine").st_uid, 1000u);
  EXPECT_TRUE(unlink_file(caller(), root(), "mine").ok());
}

TEST_F(TmpfsTest, SetgidDirectoryGivesItsGroup) {
  ASSERT_TRUE(make_directory(caller(), root(), "shared", 0777).ok());
  ASSERT_TRUE(change_owner(caller(), *walk_path(caller(), root(), "shared"), -1, 50).ok());
  ASSERT_TRUE(change_mode(caller(), *walk_path(caller(), root(), "shared"), 02777).ok());
  ASSERT_TRUE(make_directory(caller(), root(), "shared/sub", 0755).ok());
  ASSERT_TRUE(open("shared/file", O_WRONLY | O_CREAT).ok());
  EXPECT_EQ(stat_of("shared/sub").st_gid, 50u);
  EXPECT_EQ(stat_of("shared/sub").st_mode & 07777, 02755u);
  EXPECT_EQ(stat_of("shared/file").st_gid, 50u);
}

TEST_F(TmpfsTest, UmaskAppliesToNewNodes) {
  fs_->set_umask(077);
  ASSERT_TRUE(open("masked", O_WRONLY | O_CREAT, 0666).ok());
  ASSERT_TRUE(make_directory(caller(), root(), "dir", 0777).ok());
  ASSERT_TRUE(make_symlink(caller(), "target", root(), "link").ok());
  EXPECT_EQ(stat_of("masked").st_mode & 07777, 0600u);
  EXPECT_EQ(stat_of("dir").st_mode & 07777, 0700u);
  EXPECT_EQ(stat_of("link").st_mode & 07777, 0777u);
}

TEST_F(TmpfsTest, ChownDropsSetIdBits) {
  ASSERT_TRUE(open("program", O_WRONLY | O_CREAT, 0755).ok());
  const VirtualDentry program = *walk_path(caller(), root(), "program");
  ASSERT_TRUE(change_mode(caller(), program, 06755).ok());
  ASSERT_TRUE(change_owner(caller(), program, 1000, -1).ok());
  EXPECT_EQ(stat_of("program").st_mode & 07777, 0755u);

  creds_ = user_creds(2000, 2000);
  creds_.cap_effective = kernel::CapabilitySet();
  expect_errno(change_mode(caller(), program, 0700), EPERM, "chmod by another user");
  expect_errno(change_owner(caller(), program, 2000, -1), EPERM, "chown by another user");
}

TEST_F(TmpfsTest, TmpfileLinksUnlessExclusive) {
  auto file = open(".", O_RDWR | kOpenTmpfileBit);
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_EQ(stat_of(".").st_nlink, 2u);
  ASSERT_TRUE(link_path(caller(), (*file)->location(), root(), "named").ok());
  EXPECT_EQ(stat_of("named").st_nlink, 1u);

  auto exclusive = open(".", O_RDWR | O_EXCL | kOpenTmpfileBit);
  ASSERT_TRUE(exclusive.ok());
  expect_errno(link_path(caller(), (*exclusive)->location(), root(), "other"), ENOENT,
               "link of O_TMPFILE|O_EXCL");
}

TEST_F(TmpfsTest, StatfsReportsTmpfs) {
  auto st = statfs_at(root());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->f_type, TMPFS_MAGIC);
  EXPECT_GT(st->f_blocks, 0u);
}

class SmallTmpfsTest : public TmpfsTest {
 protected:
  SmallTmpfsTest() : TmpfsTest(2 * kPageBytes) {}
};

TEST_F(SmallTmpfsTest, SizeLimitGivesEnospc) {
  auto file = open("big", O_RDWR | O_CREAT);
  ASSERT_TRUE(file.ok());
  const std::string data(3 * kPageBytes, 'x');
  EXPECT_EQ(write_text(**file, data), 2 * kPageBytes);
  expect_errno((*file)->write(std::as_bytes(std::span(data.data(), 1)), std::nullopt), ENOSPC,
               "write past the limit");
  EXPECT_EQ(statfs_at(root())->f_bfree, 0u);

  ASSERT_TRUE(truncate_file(caller(), **file, 0).ok());
  EXPECT_EQ(statfs_at(root())->f_bfree, 2u);
}

TEST(TmpfsSealsTest, MemfdSealsFollowLinux) {
  const kernel::Credentials creds;
  auto mount = std::make_shared<Mount>(make_tmpfs_root(0), "tmpfs", MountOptions{});
  MountNamespace mounts(mount);
  const FsContext fs(mounts.root(), mounts.root());
  const Caller caller{.creds = creds, .fs = fs, .task = nullptr};

  auto plain = make_memfd(caller, "plain", 0);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*get_seals(**plain), static_cast<uint32_t>(F_SEAL_SEAL));
  expect_errno(add_seals(**plain, F_SEAL_WRITE), EPERM, "seal without MFD_ALLOW_SEALING");
  EXPECT_EQ((*plain)->display_path(), "/memfd:plain (deleted)");

  auto sealable = make_memfd(caller, "sealable", kMemfdAllowSealing);
  ASSERT_TRUE(sealable.ok());
  EXPECT_EQ(*get_seals(**sealable), 0u);
  expect_errno(add_seals(**sealable, 0x1000), EINVAL, "unknown seal");
  ASSERT_TRUE(add_seals(**sealable, F_SEAL_WRITE).ok());
  const char byte = 'x';
  expect_errno((*sealable)->write(std::as_bytes(std::span(&byte, 1)), std::nullopt), EPERM,
               "write after F_SEAL_WRITE");

  auto directory = open_path(caller, mounts.root(), "/", OpenRequest{.flags = O_RDONLY});
  ASSERT_TRUE(directory.ok());
  expect_errno(get_seals(**directory), EINVAL, "seals of a directory");
}

TEST(TmpfsMountsTest, NestedMountPathIsMade) {
  testing::TempTree tree;
  SandboxMountConfig config{.host_root = tree.root(),
                            .overlay = OverlayMode::kNone,
                            .overlay_size_bytes = 0,
                            .binds = {},
                            .tmpfs = {TmpfsMount{.guest_path = "/a/b/c", .size_bytes = kPageBytes}},
                            .overlay_directory = {}};
  auto mounts = make_sandbox_mounts(config);
  ASSERT_TRUE(mounts.ok()) << describe(mounts.error());
  const kernel::Credentials creds;
  const FsContext fs((*mounts)->root(), (*mounts)->root());
  const Caller caller{.creds = creds, .fs = fs, .task = nullptr};

  auto mounted = walk_path(caller, (*mounts)->root(), "/a/b/c");
  ASSERT_TRUE(mounted.ok()) << describe(mounted.error());
  EXPECT_EQ(statfs_at(*mounted)->f_blocks, 1u);
  EXPECT_TRUE(make_directory(caller, (*mounts)->root(), "/a/b/c/new", 0755).ok());
  expect_errno(make_directory(caller, (*mounts)->root(), "/a/other", 0755), EROFS,
               "mkdir beside the mount");
  EXPECT_FALSE(std::filesystem::exists(tree.host("a")));

  config.tmpfs = {TmpfsMount{.guest_path = "relative", .size_bytes = 0}};
  expect_errno(make_sandbox_mounts(config), EINVAL, "relative tmpfs path");
}

// A tmpfs whose file data lives in unnamed files of a host directory, as
// the overlay's upper layer under `ward do --overlay dir:PATH`.
class HostBackedTmpfsTest : public ::testing::Test {
 protected:
  HostBackedTmpfsTest() {
    data_directory_ = tree_.root() + "/data";
    std::filesystem::create_directory(data_directory_);
  }

  bool data_directory_empty() const {
    return std::filesystem::is_empty(std::filesystem::path(data_directory_));
  }

  testing::TempTree tree_;
  std::string data_directory_;
  const kernel::Credentials creds_;
};

TEST_F(HostBackedTmpfsTest, DataLivesInUnnamedHostFiles) {
  auto root_inode = make_host_backed_tmpfs_root_inode(0, 01777, data_directory_);
  ASSERT_TRUE(root_inode.ok()) << describe(root_inode.error());
  auto mount = std::make_shared<Mount>(Dentry::make_root(*root_inode), "tmpfs", MountOptions{});
  MountNamespace mounts(mount);
  const FsContext fs(mounts.root(), mounts.root());
  const Caller caller{.creds = creds_, .fs = fs, .task = nullptr};

  auto file = open_path(caller, mounts.root(), "/file",
                        OpenRequest{.flags = O_RDWR | O_CREAT, .mode = 0644, .resolve = {}});
  ASSERT_TRUE(file.ok()) << describe(file.error());
  const std::string data(3 * kPageBytes, 'd');
  auto wrote = (*file)->write(std::as_bytes(std::span(data.data(), data.size())), std::nullopt);
  ASSERT_TRUE(wrote.ok()) << describe(wrote.error());
  EXPECT_EQ(*wrote, data.size());
  EXPECT_TRUE(data_directory_empty());

  // The data file is a host file of the directory's filesystem, not a memfd.
  const std::optional<int> data_fd = (*file)->host_fd_for_mapping();
  ASSERT_TRUE(data_fd.has_value());
  struct stat data_stat {};
  ASSERT_EQ(fstat(*data_fd, &data_stat), 0);
  struct stat directory_stat {};
  ASSERT_EQ(::stat(data_directory_.c_str(), &directory_stat), 0);
  EXPECT_EQ(data_stat.st_dev, directory_stat.st_dev);
  EXPECT_EQ(data_stat.st_nlink, 0u);
  EXPECT_EQ(data_stat.st_mode & 07777, 0600u);
  EXPECT_EQ(data_stat.st_size, static_cast<off_t>(data.size()));

  std::string back(data.size(), '\0');
  auto got = (*file)->read(std::as_writable_bytes(std::span(back.data(), back.size())), 0);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(back, data);

  // The default size limit is the host filesystem's size.
  struct statvfs host_fs {};
  ASSERT_EQ(statvfs(data_directory_.c_str(), &host_fs), 0);
  auto st = statfs_at(mounts.root());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->f_blocks, host_fs.f_blocks * host_fs.f_frsize / kPageBytes);

  // Seals stay a memfd feature: these files start sealed with F_SEAL_SEAL.
  expect_errno(add_seals(**file, F_SEAL_WRITE), EPERM, "seal a host-backed file");
}

TEST_F(HostBackedTmpfsTest, SizeLimitGivesEnospc) {
  auto root_inode = make_host_backed_tmpfs_root_inode(2 * kPageBytes, 01777, data_directory_);
  ASSERT_TRUE(root_inode.ok()) << describe(root_inode.error());
  auto mount = std::make_shared<Mount>(Dentry::make_root(*root_inode), "tmpfs", MountOptions{});
  MountNamespace mounts(mount);
  const FsContext fs(mounts.root(), mounts.root());
  const Caller caller{.creds = creds_, .fs = fs, .task = nullptr};

  auto file = open_path(caller, mounts.root(), "/big",
                        OpenRequest{.flags = O_RDWR | O_CREAT, .mode = 0644, .resolve = {}});
  ASSERT_TRUE(file.ok()) << describe(file.error());
  const std::string data(3 * kPageBytes, 'x');
  auto wrote = (*file)->write(std::as_bytes(std::span(data.data(), data.size())), std::nullopt);
  ASSERT_TRUE(wrote.ok());
  EXPECT_EQ(*wrote, 2 * kPageBytes);
  expect_errno((*file)->write(std::as_bytes(std::span(data.data(), 1)), std::nullopt), ENOSPC,
               "write past the limit");
}

TEST_F(HostBackedTmpfsTest, BadDirectoryFails) {
  expect_errno(make_host_backed_tmpfs_root_inode(0, 01777, tree_.root() + "/missing"), ENOENT,
               "missing directory");
  testing::TempTree::write_file(tree_.root() + "/file", "x");
  expect_errno(make_host_backed_tmpfs_root_inode(0, 01777, tree_.root() + "/file"), ENOTDIR,
               "regular file");
}

// The fallback for host filesystems without O_TMPFILE: the name is gone as
// soon as the file exists.
TEST_F(HostBackedTmpfsTest, NamedFallbackLeavesNoName) {
  const int directory = ::open(data_directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(directory, 0);
  auto file = make_named_then_unlinked_file(directory);
  close(directory);
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_TRUE(data_directory_empty());
  struct stat st {};
  ASSERT_EQ(fstat(file->get(), &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(pwrite(file->get(), "x", 1, 0), 1);
}

}  // namespace
}  // namespace ward::vfs
