// hostfs on a temporary host directory: reads, seeks, listings, stat of
// every file type, opening for execution, and EROFS (after Linux's earlier
// errors) for every call that would change the host.
#include "sentry/fs/hostfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "sentry/vfs/dirent_buffer.h"
#include "sentry/vfs/exec_open.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/mutate.h"
#include "sentry/vfs/open.h"
#include "sentry/vfs/open_flags.h"
#include "sentry/vfs/path_ops.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::describe;
using testing::expect_errno;
using testing::Sandbox;
using testing::TempTree;

std::string as_text(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class HostfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(tree_.host("dir/sub"));
    TempTree::write_file(tree_.host("file"), "0123456789abcdef");
    TempTree::write_file(tree_.host("dir/sub/deep"), "deep\n");
    sandbox_ = std::make_unique<Sandbox>(tree_.root());
  }

  Result<FileRef> open(std::string_view path, uint32_t flags, mode_t mode = 0) {
    return open_path(sandbox_->caller(), sandbox_->fs().cwd(), path,
                     OpenRequest{.flags = flags, .mode = mode});
  }

  VirtualDentry walk(std::string_view path, bool follow = true) {
    auto location = sandbox_->walk(path, WalkOptions{.follow_final = follow});
    EXPECT_TRUE(location.ok()) << path << ": " << describe(location.error());
    return location.ok() ? *location : VirtualDentry{};
  }

  std::vector<std::byte> read_some(FileDescription& file, size_t count,
                                   std::optional<int64_t> offset) {
    std::vector<std::byte> buffer(count);
    auto got = file.read(buffer, offset);
    EXPECT_TRUE(got.ok()) << describe(got.error());
    buffer.resize(got.ok() ? *got : 0);
    return buffer;
  }

  TempTree tree_;
  std::unique_ptr<Sandbox> sandbox_;
};

TEST_F(HostfsTest, ReadAdvancesOffsetAndPreadDoesNot) {
  auto file = open("file", O_RDONLY);
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_EQ(as_text(read_some(**file, 4, std::nullopt)), "0123");
  EXPECT_EQ((*file)->offset(), 4);
  EXPECT_EQ(as_text(read_some(**file, 3, 10)), "abc");
  EXPECT_EQ((*file)->offset(), 4);
  EXPECT_EQ(as_text(read_some(**file, 100, std::nullopt)), "456789abcdef");
  EXPECT_EQ(as_text(read_some(**file, 100, std::nullopt)), "");
  EXPECT_EQ(as_text(read_some(**file, 10, 1000)), "");
  EXPECT_TRUE((*file)->host_fd_for_mapping().has_value());
}

TEST_F(HostfsTest, SeekFollowsLinuxRules) {
  auto file = open("file", O_RDONLY);
  ASSERT_TRUE(file.ok());
  FileDescription& f = **file;
  EXPECT_EQ(*f.seek(5, SEEK_SET), 5);
  EXPECT_EQ(*f.seek(2, SEEK_CUR), 7);
  EXPECT_EQ(*f.seek(-1, SEEK_END), 15);
  EXPECT_EQ(*f.seek(100, SEEK_END), 116);  // past the end is allowed
  expect_errno(f.seek(-1, SEEK_SET), EINVAL, "negative");
  expect_errno(f.seek(-200, SEEK_END), EINVAL, "before the start");
  expect_errno(f.seek(INT64_MAX, SEEK_END), EINVAL, "overflow");
  expect_errno(f.seek(0, 42), EINVAL, "unknown whence");
  EXPECT_EQ(f.offset(), 116);
}

TEST_F(HostfsTest, SeekDataAndHoleAskTheHost) {
  // One byte at 1 MiB: a hole, then data.
  const int fd = ::open(tree_.host("sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "x", 1, 1 << 20), 1);
  ::close(fd);

  auto file = open("sparse", O_RDONLY);
  ASSERT_TRUE(file.ok());
  auto data = (*file)->seek(0, SEEK_DATA);
  ASSERT_TRUE(data.ok()) << describe(data.error());
  EXPECT_LE(*data, 1 << 20);
  auto hole = (*file)->seek(0, SEEK_HOLE);
  ASSERT_TRUE(hole.ok());
  EXPECT_GE(*hole, 0);
  expect_errno((*file)->seek((1 << 20) + 1, SEEK_DATA), ENXIO, "SEEK_DATA at the end");
}

TEST_F(HostfsTest, ReadingADirectoryIsEisdir) {
  auto dir = open("dir", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(dir.ok());
  std::vector<std::byte> buffer(16);
  expect_errno((*dir)->read(buffer, std::nullopt), EISDIR, "read of a directory");
}

TEST_F(HostfsTest, ListsDirectoryOfThousandEntries) {
  std::filesystem::create_directories(tree_.host("many"));
  for (int i = 0; i < 1000; ++i) {
    TempTree::write_file(tree_.host("many/entry_" + std::to_string(i)), "");
  }
  auto dir = open("many", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(dir.ok());

  // A small buffer forces many calls, each resuming where the last stopped.
  std::multiset<std::string> names;
  int calls = 0;
  for (;; ++calls) {
    DirentBuffer buffer(DirentFormat::kLinuxDirent64, 600);
    ASSERT_TRUE((*dir)->iterate_dir(sandbox_->caller(), buffer).ok());
    if (buffer.empty()) {
      EXPECT_FALSE(buffer.overflowed());
      break;
    }
    const auto& bytes = buffer.bytes();
    for (size_t at = 0; at < bytes.size();) {
      uint16_t record_bytes = 0;
      std::memcpy(&record_bytes, bytes.data() + at + 16, sizeof(record_bytes));
      const auto type = static_cast<uint8_t>(bytes[at + 18]);
      std::string name(reinterpret_cast<const char*>(bytes.data() + at + 19));
      if (name.rfind("entry_", 0) == 0) {
        EXPECT_EQ(type, DT_REG) << name;
      }
      names.insert(name);
      at += record_bytes;
    }
  }
  EXPECT_GT(calls, 10);
  EXPECT_EQ(names.size(), 1002u);
  EXPECT_EQ(names.count("."), 1u);
  EXPECT_EQ(names.count(".."), 1u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(names.count("entry_" + std::to_string(i)), 1u) << i;
  }
}

TEST_F(HostfsTest, DirentBufferTooSmallForOneEntryOverflows) {
  auto dir = open("dir", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(dir.ok());
  DirentBuffer tiny(DirentFormat::kLinuxDirent64, 8);
  ASSERT_TRUE((*dir)->iterate_dir(sandbox_->caller(), tiny).ok());
  EXPECT_TRUE(tiny.empty());
  EXPECT_TRUE(tiny.overflowed());
  // Nothing was consumed: a big enough buffer still sees ".".
  DirentBuffer enough(DirentFormat::kLinuxDirent, 4096);
  ASSERT_TRUE((*dir)->iterate_dir(sandbox_->caller(), enough).ok());
  EXPECT_FALSE(enough.empty());
}

TEST_F(HostfsTest, StatOfEveryFileTypeMatchesHost) {
  ASSERT_EQ(::symlink("file", tree_.host("link").c_str()), 0);
  ASSERT_EQ(::mkfifo(tree_.host("fifo").c_str(), 0600), 0);
  const int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string socket_path = tree_.host("socket");
  ASSERT_LT(socket_path.size(), sizeof(address.sun_path));
  std::strcpy(address.sun_path, socket_path.c_str());
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const bool have_device =
      ::mknod(tree_.host("chardev").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0;

  std::vector<std::pair<std::string, mode_t>> cases = {{"file", S_IFREG},
                                                       {"dir", S_IFDIR},
                                                       {"link", S_IFLNK},
                                                       {"fifo", S_IFIFO},
                                                       {"socket", S_IFSOCK}};
  if (have_device) {
    cases.emplace_back("chardev", S_IFCHR);
  }
  for (const auto& [name, type] : cases) {
    const VirtualDentry location = walk(name, /*follow=*/false);
    ASSERT_TRUE(location.valid()) << name;
    auto st = location.dentry->inode().stat();
    ASSERT_TRUE(st.ok()) << name;
    struct stat host {};
    ASSERT_EQ(::lstat(tree_.host(name).c_str(), &host), 0);
    EXPECT_EQ(st->st_mode & S_IFMT, type) << name;
    EXPECT_EQ(st->st_mode, host.st_mode) << name;
    EXPECT_EQ(st->st_ino, host.st_ino) << name;
    EXPECT_EQ(st->st_size, host.st_size) << name;
    auto stx = location.dentry->inode().statx(STATX_BASIC_STATS | STATX_BTIME);
    ASSERT_TRUE(stx.ok()) << name;
    EXPECT_EQ(stx->stx_ino, host.st_ino) << name;
    EXPECT_EQ(stx->stx_mode, host.st_mode) << name;
    EXPECT_EQ(stx->stx_mask & STATX_MNT_ID, 0u) << name;
  }
  ::close(sock);

  // Following the link stats the file.
  auto followed = walk("link").dentry->inode().stat();
  ASSERT_TRUE(followed.ok());
  EXPECT_TRUE(S_ISREG(followed->st_mode));
  expect_errno(open("socket", O_RDONLY), ENXIO, "socket");
}

TEST_F(HostfsTest, FifoOpenIsRefused) {
  ASSERT_EQ(::mkfifo(tree_.host("fifo").c_str(), 0666), 0);
  expect_errno(open("fifo", O_RDONLY), EACCES, "FIFO for reading");
  expect_errno(open("fifo", O_RDONLY | O_NONBLOCK), EACCES, "FIFO for reading, nonblocking");
  expect_errno(open("fifo", O_WRONLY), EACCES, "FIFO for writing");
  expect_errno(open("fifo", O_RDWR), EACCES, "FIFO for reading and writing");
}

TEST_F(HostfsTest, OpenForWritingIsErofs) {
  expect_errno(open("file", O_WRONLY), EROFS, "O_WRONLY");
  expect_errno(open("file", O_RDWR), EROFS, "O_RDWR");
  expect_errno(open("file", O_RDONLY | O_TRUNC), EROFS, "O_TRUNC");
  expect_errno(open("new", O_WRONLY | O_CREAT, 0644), EROFS, "O_CREAT of a new file");
  expect_errno(open("dir/new", O_RDONLY | O_CREAT, 0644), EROFS, "O_CREAT read-only");
  expect_errno(open("dir", O_RDONLY | kOpenTmpfileBit | O_DIRECTORY | O_RDWR), EROFS, "O_TMPFILE");
}

TEST_F(HostfsTest, OpenErrorsComeInLinuxOrder) {
  expect_errno(open("file", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST, "O_EXCL on existing");
  expect_errno(open("dir", O_RDONLY | O_CREAT, 0644), EISDIR, "O_CREAT on a directory");
  expect_errno(open("dir", O_WRONLY), EISDIR, "O_WRONLY on a directory");
  expect_errno(open("newdir/", O_RDONLY | O_CREAT, 0644), EISDIR, "O_CREAT with trailing slash");
  expect_errno(open("missing/new", O_WRONLY | O_CREAT, 0644), ENOENT, "missing parent");
  expect_errno(open("file/new", O_WRONLY | O_CREAT, 0644), ENOTDIR, "file as parent");
  expect_errno(open("file", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file");
  ASSERT_EQ(::symlink("file", tree_.host("link").c_str()), 0);
  expect_errno(open("link", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink");
  auto path_only = open("link", O_PATH | O_NOFOLLOW);
  ASSERT_TRUE(path_only.ok());
  EXPECT_TRUE((*path_only)->path_only());
  EXPECT_TRUE((*path_only)->inode().is_symlink());
}

TEST_F(HostfsTest, PermissionIsCheckedOnOpen) {
  TempTree::write_file(tree_.host("private"), "secret");
  ASSERT_EQ(::chmod(tree_.host("private").c_str(), 0600), 0);
  ASSERT_EQ(::chown(tree_.host("private").c_str(), 0, 0), 0);
  Sandbox user(tree_.root(), testing::user_creds(1000, 1000));
  expect_errno(open_path(user.caller(), user.root(), "private", OpenRequest{.flags = O_RDONLY}),
               EACCES, "uid 1000 reading 0600");
  // Write access on the read-only mount is EROFS before EACCES.
  expect_errno(open_path(user.caller(), user.root(), "private", OpenRequest{.flags = O_WRONLY}),
               EROFS, "uid 1000 writing 0600");
  EXPECT_TRUE(open("private", O_RDONLY).ok());
}

TEST_F(HostfsTest, MutationsAreErofsAfterEarlierErrors) {
  const Caller caller = sandbox_->caller();
  const VirtualDentry root = sandbox_->root();

  expect_errno(make_directory(caller, root, "newdir", 0755), EROFS, "mkdir");
  expect_errno(make_directory(caller, root, "newdir/", 0755), EROFS, "mkdir newdir/");
  expect_errno(make_directory(caller, root, "dir", 0755), EEXIST, "mkdir existing");
  expect_errno(make_directory(caller, root, "/", 0755), EEXIST, "mkdir /");
  expect_errno(make_directory(caller, root, "dir/..", 0755), EEXIST, "mkdir ..");
  expect_errno(make_directory(caller, root, "missing/new", 0755), ENOENT, "mkdir missing parent");
  expect_errno(make_directory(caller, root, "file/new", 0755), ENOTDIR, "mkdir under a file");
  expect_errno(make_directory(caller, root, std::string(256, 'n'), 0755), ENAMETOOLONG,
               "mkdir long name");

  expect_errno(make_node(caller, root, "node", S_IFIFO | 0600, 0), EROFS, "mknod");
  expect_errno(make_node(caller, root, "node", S_IFDIR | 0600, 0), EPERM, "mknod S_IFDIR");
  expect_errno(make_node(caller, root, "node", 0170000, 0), EINVAL, "mknod bad type");
  expect_errno(make_node(caller, root, "node/", S_IFREG, 0), ENOENT, "mknod node/");
  expect_errno(make_node(caller, root, "file", S_IFREG, 0), EEXIST, "mknod existing");

  expect_errno(make_symlink(caller, "target", root, "newlink"), EROFS, "symlink");
  expect_errno(make_symlink(caller, "", root, "newlink"), ENOENT, "symlink to \"\"");
  expect_errno(make_symlink(caller, "target", root, "file"), EEXIST, "symlink existing");

  expect_errno(remove_directory(caller, root, "dir/sub"), EROFS, "rmdir");
  expect_errno(remove_directory(caller, root, "missing"), EROFS, "rmdir missing");
  expect_errno(remove_directory(caller, root, "dir/."), EINVAL, "rmdir .");
  expect_errno(remove_directory(caller, root, "dir/.."), ENOTEMPTY, "rmdir ..");
  expect_errno(remove_directory(caller, root, "/"), EBUSY, "rmdir /");
  expect_errno(remove_directory(caller, root, "missing/x"), ENOENT, "rmdir missing parent");

  expect_errno(unlink_file(caller, root, "file"), EROFS, "unlink");
  expect_errno(unlink_file(caller, root, "."), EISDIR, "unlink .");
  expect_errno(unlink_file(caller, root, "file/x"), ENOTDIR, "unlink under a file");

  expect_errno(rename_path(caller, root, "file", root, "renamed", 0), EROFS, "rename");
  expect_errno(rename_path(caller, root, ".", root, "renamed", 0), EBUSY, "rename .");
  expect_errno(rename_path(caller, root, "file", root, "..", 0), EBUSY, "rename to ..");
  expect_errno(rename_path(caller, root, "file", root, "..", RENAME_NOREPLACE), EEXIST,
               "rename to .. with RENAME_NOREPLACE");
  expect_errno(rename_path(caller, root, "file", root, "/dev/x", 0), EXDEV, "rename across mounts");
  expect_errno(rename_path(caller, root, "missing/a", root, "b", 0), ENOENT, "rename missing");

  const VirtualDentry file = walk("file");
  expect_errno(link_path(caller, file, root, "hardlink"), EROFS, "link");
  expect_errno(link_path(caller, file, root, "dir"), EEXIST, "link onto existing");
  expect_errno(change_mode(caller, file, 0600), EROFS, "chmod");
  expect_errno(change_owner(caller, file, 1, 1), EROFS, "chown");
  expect_errno(truncate_location(caller, file, 0), EROFS, "truncate");
  expect_errno(truncate_location(caller, walk("dir"), 0), EISDIR, "truncate a directory");
  expect_errno(set_times(caller, file, std::nullopt), EROFS, "utimensat");

  auto opened = open("file", O_RDONLY);
  ASSERT_TRUE(opened.ok());
  expect_errno((*opened)->truncate(0), EROFS, "ftruncate");

  // Nothing changed on the host.
  EXPECT_FALSE(std::filesystem::exists(tree_.host("newdir")));
  EXPECT_EQ(std::filesystem::file_size(tree_.host("file")), 16u);
}

TEST_F(HostfsTest, AccessReportsReadOnlyMount) {
  const Caller caller = sandbox_->caller();
  EXPECT_TRUE(check_access_at(caller, walk("file"), R_OK, false).ok());
  EXPECT_TRUE(check_access_at(caller, walk("file"), F_OK, false).ok());
  expect_errno(check_access_at(caller, walk("file"), W_OK, false), EROFS, "W_OK");
  expect_errno(check_access_at(caller, walk("file"), X_OK, false), EACCES, "X_OK without x bits");
  EXPECT_TRUE(check_access_at(caller, walk("dir"), X_OK, false).ok());

  auto statfs = statfs_at(walk("file"));
  ASSERT_TRUE(statfs.ok());
  EXPECT_NE(statfs->f_flags & 0x0001, 0) << "ST_RDONLY";
  EXPECT_NE(statfs->f_flags & 0x0004, 0) << "ST_NODEV";
}

TEST_F(HostfsTest, OpenExecutableFollowsExecveRules) {
  TempTree::write_file(tree_.host("program"), "#!/bin/true\n");
  ASSERT_EQ(::chmod(tree_.host("program").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("program", tree_.host("program_link").c_str()), 0);
  ASSERT_EQ(::mkfifo(tree_.host("fifo").c_str(), 0777), 0);
  const Caller caller = sandbox_->caller();

  auto program = open_executable(caller, "/program_link");
  ASSERT_TRUE(program.ok()) << describe(program.error());
  EXPECT_TRUE((*program)->host_fd_for_mapping().has_value());
  std::vector<std::byte> head(3);
  auto got = (*program)->read(head, 0);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(as_text(std::span(head.data(), *got)), "#!/");

  expect_errno(open_executable(caller, "/file"), EACCES, "no x bit, even for root");
  expect_errno(open_executable(caller, "/dir"), EACCES, "directory");
  expect_errno(open_executable(caller, "/fifo"), EACCES, "FIFO");
  expect_errno(open_executable(caller, "/missing"), ENOENT, "missing");
  expect_errno(open_executable(caller, ""), ENOENT, "empty");
  expect_errno(open_executable(caller, "/file/x"), ENOTDIR, "file as directory");

  ASSERT_EQ(::chmod(tree_.host("program").c_str(), 0700), 0);
  ASSERT_EQ(::chown(tree_.host("program").c_str(), 0, 0), 0);
  Sandbox user(tree_.root(), testing::user_creds(1000, 1000));
  expect_errno(open_executable(user.caller(), "/program"), EACCES, "x for the owner only");
}

TEST_F(HostfsTest, WorkingDirectoryNamesAndLinks) {
  auto context = make_fs_context(sandbox_->mounts(), sandbox_->creds(), "/dir/sub");
  ASSERT_TRUE(context.ok()) << describe(context.error());
  const Caller caller{.creds = sandbox_->creds(), .fs = **context, .task = nullptr};
  auto name = working_directory_name(caller);
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "/dir/sub");
  expect_errno(make_fs_context(sandbox_->mounts(), sandbox_->creds(), "/file"), ENOTDIR,
               "cwd on a file");
  expect_errno(make_fs_context(sandbox_->mounts(), sandbox_->creds(), "/missing"), ENOENT,
               "missing cwd");
  expect_errno(check_new_working_directory(caller, walk("file")), ENOTDIR, "chdir to a file");

  ASSERT_EQ(::symlink("dir/sub", tree_.host("link").c_str()), 0);
  auto text = read_link_at(caller, walk("link", false), false);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "dir/sub");
  expect_errno(read_link_at(caller, walk("file"), false), EINVAL, "readlink of a file");
  expect_errno(read_link_at(caller, walk("file"), true), ENOENT, "readlink of \"\"");

  auto opened = open("dir/sub/deep", O_RDONLY);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ((*opened)->display_path(), "/dir/sub/deep");
}

TEST_F(HostfsTest, DeletedWorkingDirectoryIsEnoent) {
  std::filesystem::create_directories(tree_.host("doomed"));
  auto context = make_fs_context(sandbox_->mounts(), sandbox_->creds(), "/doomed");
  ASSERT_TRUE(context.ok());
  ASSERT_EQ(::rmdir(tree_.host("doomed").c_str()), 0);
  const Caller caller{.creds = sandbox_->creds(), .fs = **context, .task = nullptr};
  expect_errno(working_directory_name(caller), ENOENT, "getcwd of a removed directory");
}

}  // namespace
}  // namespace ward::vfs
