// The overlay root on a temporary host tree as its lower layer: reads from
// the lower, copy-up before every change, whiteouts and opaque directories
// in the upper, merged listings with stable cookies, inode identity across
// copy-up, and the size limit. Every test ends by checking that the host
// tree is exactly as it was.
#include "sentry/fs/overlay.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sentry/vfs/file.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/mutate.h"
#include "sentry/vfs/open.h"
#include "sentry/vfs/xattr.h"
#include "tests/unit/vfs_test_util.h"

namespace ward::vfs {
namespace {

using testing::describe;
using testing::expect_errno;
using testing::TempTree;

// What the host tree held: each path's mode, owner, size, mtime and data
// or link target.
std::map<std::string, std::string> describe_host_tree(const std::string& root) {
  std::map<std::string, std::string> result;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string path = entry.path().string();
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
      continue;
    }
    std::ostringstream text;
    text << std::oct << st.st_mode << std::dec << " " << st.st_uid << ":" << st.st_gid << " "
         << st.st_size << " " << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec << " "
         << st.st_nlink;
    if (S_ISREG(st.st_mode)) {
      std::ifstream in(path, std::ios::binary);
      text << " data=" << in.rdbuf();
    } else if (S_ISLNK(st.st_mode)) {
      text << " target=" << std::filesystem::read_symlink(entry.path()).string();
    }
    result[path.substr(root.size())] = text.str();
  }
  return result;
}

// Collects directory entries, up to `capacity` per call.
class ListingSink final : public DirentSink {
 public:
  explicit ListingSink(size_t capacity = SIZE_MAX) : capacity_(capacity) {}

  bool add(const Dirent& entry) override {
    if (taken_ == capacity_) {
      return false;
    }
    ++taken_;
    names.emplace_back(entry.name);
    offsets.push_back(entry.next_offset);
    inos.push_back(entry.ino);
    return true;
  }

  std::vector<std::string> names;
  std::vector<int64_t> offsets;
  std::vector<uint64_t> inos;

 private:
  size_t capacity_;
  size_t taken_ = 0;
};

class OverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(tree_.host("dir/sub"));
    std::filesystem::create_directories(tree_.host("empty"));
    TempTree::write_file(tree_.host("file"), "lower data\n");
    TempTree::write_file(tree_.host("dir/a"), "a\n");
    TempTree::write_file(tree_.host("dir/sub/deep"), "deep\n");
    ASSERT_EQ(::symlink("file", tree_.host("link").c_str()), 0);
    ASSERT_EQ(::chmod(tree_.host("dir").c_str(), 0750), 0);
    host_before_ = describe_host_tree(tree_.root());
    make_sandbox(0);
  }

  void TearDown() override {
    EXPECT_EQ(describe_host_tree(tree_.root()), host_before_) << "the host tree changed";
  }

  void make_sandbox(uint64_t size_bytes) {
    SandboxMountConfig config;
    config.host_root = tree_.root();
    config.overlay = OverlayMode::kMemory;
    config.overlay_size_bytes = size_bytes;
    auto mounts = make_sandbox_mounts(config);
    ASSERT_TRUE(mounts.ok()) << describe(mounts.error());
    mounts_ = std::move(*mounts);
    fs_ = std::make_shared<FsContext>(mounts_->root(), mounts_->root(), 0);
  }

  Caller caller() const { return Caller{.creds = creds_, .fs = *fs_, .task = nullptr}; }
  VirtualDentry root() const { return mounts_->root(); }

  Result<VirtualDentry> walk(std::string_view path, bool follow = true) {
    return walk_path(caller(), root(), path, WalkOptions{.follow_final = follow});
  }

  Result<FileRef> open(std::string_view path, uint32_t flags, mode_t mode = 0644) {
    return open_path(caller(), root(), path, OpenRequest{.flags = flags, .mode = mode});
  }

  // The whole content of `path`, or the errno name.
  std::string read_text(std::string_view path) {
    auto file = open(path, O_RDONLY);
    if (!file.ok()) {
      return describe(file.error());
    }
    return read_file(**file);
  }

  static std::string read_file(FileDescription& file) {
    std::string text;
    std::vector<std::byte> buffer(4096);
    int64_t position = 0;
    for (;;) {
      auto got = file.read(buffer, position);
      if (!got.ok()) {
        return describe(got.error());
      }
      if (*got == 0) {
        return text;
      }
      text.append(reinterpret_cast<const char*>(buffer.data()), *got);
      position += static_cast<int64_t>(*got);
    }
  }

  void write_text(std::string_view path, std::string_view text, uint32_t flags) {
    auto file = open(path, O_WRONLY | flags);
    ASSERT_TRUE(file.ok()) << path << ": " << describe(file.error());
    auto written = (*file)->write(std::as_bytes(std::span(text)), std::nullopt);
    ASSERT_TRUE(written.ok()) << describe(written.error());
    EXPECT_EQ(*written, text.size());
  }

  // The merged listing of `path`, sorted, without "." and "..".
  std::vector<std::string> list(std::string_view path) {
    auto file = open(path, O_RDONLY | O_DIRECTORY);
    EXPECT_TRUE(file.ok()) << path << ": " << describe(file.error());
    if (!file.ok()) {
      return {};
    }
    ListingSink sink;
    EXPECT_TRUE((*file)->iterate_dir(caller(), sink).ok());
    std::vector<std::string> names;
    for (const std::string& name : sink.names) {
      if (name != "." && name != "..") {
        names.push_back(name);
      }
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  struct stat stat_of(std::string_view path, bool follow = true) {
    auto location = walk(path, follow);
    EXPECT_TRUE(location.ok()) << path << ": " << describe(location.error());
    if (!location.ok()) {
      return {};
    }
    auto st = location->dentry->inode().stat();
    EXPECT_TRUE(st.ok());
    return st.ok() ? *st : (struct stat){};
  }

  OverlayInode& overlay_root() { return *as_overlay(root().dentry->inode()); }

  // The upper inode at `path` below the upper root, or null.
  std::shared_ptr<Inode> upper_at(std::string_view path) {
    std::shared_ptr<Inode> current = overlay_root().upper();
    std::string_view rest = path;
    while (current && !rest.empty()) {
      const size_t slash = rest.find('/');
      const std::string_view name = rest.substr(0, slash);
      auto next = current->lookup(caller(), name);
      current = next.ok() ? *next : nullptr;
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    }
    return current;
  }

  TempTree tree_;
  std::map<std::string, std::string> host_before_;
  kernel::Credentials creds_;
  std::shared_ptr<MountNamespace> mounts_;
  std::shared_ptr<FsContext> fs_;
};

TEST_F(OverlayTest, RootMountIsWritableOverlay) {
  const Mount& mount = *root().mount;
  EXPECT_FALSE(mount.read_only());
  EXPECT_TRUE(mount.options().nodev);
  EXPECT_EQ(mount.source(), "overlay");
  EXPECT_EQ(root().dentry->inode().filesystem().type_name(), "overlay");

  auto info = statfs_at(root());
  ASSERT_TRUE(info.ok()) << describe(info.error());
  EXPECT_EQ(static_cast<uint64_t>(info->f_type), OVERLAYFS_SUPER_MAGIC);
  EXPECT_GT(info->f_blocks, 0U);
}

TEST_F(OverlayTest, ReadsLowerFilesWithHostIdentity) {
  EXPECT_EQ(read_text("file"), "lower data\n");
  EXPECT_EQ(read_text("dir/sub/deep"), "deep\n");
  EXPECT_EQ(read_text("link"), "lower data\n");

  struct stat host {};
  ASSERT_EQ(::stat(tree_.host("file").c_str(), &host), 0);
  const struct stat st = stat_of("file");
  EXPECT_EQ(st.st_dev, host.st_dev);
  EXPECT_EQ(st.st_ino, host.st_ino);

  struct stat host_dir {};
  ASSERT_EQ(::stat(tree_.host("dir").c_str(), &host_dir), 0);
  const struct stat dir = stat_of("dir");
  EXPECT_EQ(dir.st_dev, root().dentry->inode().filesystem().dev());
  EXPECT_EQ(dir.st_ino, host_dir.st_ino);
  EXPECT_EQ(dir.st_mode, host_dir.st_mode);
}

TEST_F(OverlayTest, LowerFileMapsThroughHostFd) {
  auto file = open("file", O_RDONLY);
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_TRUE((*file)->host_fd_for_mapping().has_value());
}

TEST_F(OverlayTest, TruncatingOpenCopiesUpWithoutData) {
  write_text("file", "upper\n", O_TRUNC);
  EXPECT_EQ(read_text("file"), "upper\n");
  ASSERT_NE(upper_at("file"), nullptr);
}

TEST_F(OverlayTest, AppendKeepsLowerData) {
  write_text("dir/sub/deep", "more\n", O_APPEND);
  EXPECT_EQ(read_text("dir/sub/deep"), "deep\nmore\n");
  // The ancestors were copied up with the lower's mode.
  auto upper_dir = upper_at("dir");
  ASSERT_NE(upper_dir, nullptr);
  EXPECT_EQ(upper_dir->stat()->st_mode & 07777, 0750U);
  EXPECT_EQ(stat_of("dir").st_mode & 07777, 0750U);
}

TEST_F(OverlayTest, CopyUpKeepsInodeAndStIno) {
  auto before = walk("file");
  ASSERT_TRUE(before.ok());
  std::shared_ptr<Inode> inode = before->dentry->inode_ref();
  const ino_t ino = inode->stat()->st_ino;

  write_text("file", "x", 0);
  auto after = walk("file");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->dentry->inode_ref(), inode);
  EXPECT_EQ(inode->stat()->st_ino, ino);
  EXPECT_NE(as_overlay(*inode)->upper(), nullptr);
  EXPECT_EQ(read_text("file"), "xower data\n");
}

TEST_F(OverlayTest, EarlyReaderKeepsLowerData) {
  auto reader = open("file", O_RDONLY);
  ASSERT_TRUE(reader.ok());
  write_text("file", "changed\n", O_TRUNC);
  EXPECT_EQ(read_file(**reader), "lower data\n");
  EXPECT_EQ(read_text("file"), "changed\n");
}

TEST_F(OverlayTest, CreateInLowerDirectory) {
  write_text("dir/sub/new", "new\n", O_CREAT | O_EXCL);
  EXPECT_EQ(read_text("dir/sub/new"), "new\n");
  EXPECT_EQ(list("dir/sub"), (std::vector<std::string>{"deep", "new"}));
  EXPECT_FALSE(std::filesystem::exists(tree_.host("dir/sub/new")));
}

TEST_F(OverlayTest, UnlinkLeavesWhiteout) {
  ASSERT_TRUE(unlink_file(caller(), root(), "file").ok());
  expect_errno(walk("file"), ENOENT, "walk after unlink");
  EXPECT_EQ(list("/"), (std::vector<std::string>{"dir", "empty", "link"}));

  auto whiteout = upper_at("file");
  ASSERT_NE(whiteout, nullptr);
  EXPECT_TRUE(is_whiteout(*whiteout));

  // A new file over the whiteout has none of the lower's data.
  write_text("file", "fresh\n", O_CREAT | O_EXCL);
  EXPECT_EQ(read_text("file"), "fresh\n");
  EXPECT_FALSE(is_whiteout(*upper_at("file")));
}

TEST_F(OverlayTest, UnlinkUpperFileShowsNoWhiteout) {
  write_text("made", "x", O_CREAT);
  ASSERT_TRUE(unlink_file(caller(), root(), "made").ok());
  EXPECT_EQ(upper_at("made"), nullptr);
}

TEST_F(OverlayTest, RmdirOfMergedDirectory) {
  expect_errno(remove_directory(caller(), root(), "dir/sub"), ENOTEMPTY, "rmdir non-empty");
  ASSERT_TRUE(unlink_file(caller(), root(), "dir/sub/deep").ok());
  ASSERT_TRUE(remove_directory(caller(), root(), "dir/sub").ok());
  expect_errno(walk("dir/sub"), ENOENT, "walk after rmdir");
  EXPECT_EQ(list("dir"), (std::vector<std::string>{"a"}));
}

TEST_F(OverlayTest, MkdirOverWhiteoutIsOpaque) {
  ASSERT_TRUE(unlink_file(caller(), root(), "dir/sub/deep").ok());
  ASSERT_TRUE(remove_directory(caller(), root(), "dir/sub").ok());
  ASSERT_TRUE(make_directory(caller(), root(), "dir/sub", 0700).ok());
  EXPECT_TRUE(list("dir/sub").empty());
  expect_errno(walk("dir/sub/deep"), ENOENT, "lower entry under an opaque directory");
  EXPECT_EQ(stat_of("dir/sub").st_mode & 07777, 0700U);

  // The opaque attribute is never shown.
  auto location = walk("dir/sub");
  ASSERT_TRUE(location.ok());
  std::vector<char> names(256);
  auto listed = list_xattr_at(caller(), *location, names);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, 0U);
  std::byte value[4];
  expect_errno(get_xattr_at(caller(), *location, "trusted.overlay.opaque", value), EOPNOTSUPP,
               "get of the opaque xattr");
  expect_errno(set_xattr_at(caller(), *location, "trusted.overlay.opaque",
                            std::as_bytes(std::span("n", 1)), 0),
               EOPNOTSUPP, "set of the opaque xattr");
}

TEST_F(OverlayTest, RenameLowerFileCopiesUp) {
  ASSERT_TRUE(rename_path(caller(), root(), "dir/a", root(), "moved", 0).ok());
  EXPECT_EQ(read_text("moved"), "a\n");
  expect_errno(walk("dir/a"), ENOENT, "old name");
  EXPECT_EQ(list("dir"), (std::vector<std::string>{"sub"}));
  EXPECT_TRUE(is_whiteout(*upper_at("dir/a")));
}

TEST_F(OverlayTest, RenameOverLowerFile) {
  write_text("made", "made\n", O_CREAT);
  ASSERT_TRUE(rename_path(caller(), root(), "made", root(), "file", 0).ok());
  EXPECT_EQ(read_text("file"), "made\n");
  expect_errno(walk("made"), ENOENT, "old name");
}

TEST_F(OverlayTest, RenameLowerDirectoryIsExdev) {
  expect_errno(rename_path(caller(), root(), "dir", root(), "other", 0), EXDEV, "lower dir");
  ASSERT_TRUE(make_directory(caller(), root(), "made", 0755).ok());
  write_text("made/inner", "i", O_CREAT);
  ASSERT_TRUE(rename_path(caller(), root(), "made", root(), "renamed", 0).ok());
  EXPECT_EQ(read_text("renamed/inner"), "i");
}

TEST_F(OverlayTest, RenameDirectoryOverEmptyLowerDirectory) {
  ASSERT_TRUE(make_directory(caller(), root(), "made", 0755).ok());
  write_text("made/inner", "i", O_CREAT);
  expect_errno(rename_path(caller(), root(), "made", root(), "dir", 0), ENOTEMPTY,
               "over a non-empty lower dir");
  ASSERT_TRUE(rename_path(caller(), root(), "made", root(), "empty", 0).ok());
  EXPECT_EQ(list("empty"), (std::vector<std::string>{"inner"}));
}

TEST_F(OverlayTest, RenameExchangeAndNoReplace) {
  write_text("made", "made\n", O_CREAT);
  expect_errno(rename_path(caller(), root(), "made", root(), "file", RENAME_NOREPLACE), EEXIST,
               "noreplace over a lower file");
  ASSERT_TRUE(rename_path(caller(), root(), "made", root(), "file", RENAME_EXCHANGE).ok());
  EXPECT_EQ(read_text("file"), "made\n");
  EXPECT_EQ(read_text("made"), "lower data\n");

  ASSERT_TRUE(unlink_file(caller(), root(), "dir/a").ok());
  ASSERT_TRUE(rename_path(caller(), root(), "made", root(), "dir/a", RENAME_NOREPLACE).ok());
  EXPECT_EQ(read_text("dir/a"), "lower data\n");
}

TEST_F(OverlayTest, HardLinkOfLowerFile) {
  auto target = walk("file");
  ASSERT_TRUE(target.ok());
  ASSERT_TRUE(link_path(caller(), *target, root(), "dir/linked").ok());
  auto linked = walk("dir/linked");
  ASSERT_TRUE(linked.ok());
  EXPECT_EQ(&linked->dentry->inode(), &target->dentry->inode());
  EXPECT_EQ(stat_of("file").st_nlink, 2U);
  write_text("dir/linked", "L", 0);
  EXPECT_EQ(read_text("file"), "Lower data\n");
}

TEST_F(OverlayTest, ChmodAndTruncateCopyUp) {
  auto location = walk("file");
  ASSERT_TRUE(location.ok());
  ASSERT_TRUE(change_mode(caller(), *location, 0600).ok());
  EXPECT_EQ(stat_of("file").st_mode & 07777, 0600U);
  EXPECT_EQ(read_text("file"), "lower data\n");

  auto deep = walk("dir/sub/deep");
  ASSERT_TRUE(deep.ok());
  ASSERT_TRUE(truncate_location(caller(), *deep, 2, UINT64_MAX).ok());
  EXPECT_EQ(read_text("dir/sub/deep"), "de");
}

TEST_F(OverlayTest, SymlinkCopyUpKeepsTarget) {
  auto location = walk("link", /*follow=*/false);
  ASSERT_TRUE(location.ok());
  ASSERT_TRUE(change_owner(caller(), *location, 12, 34).ok());
  const struct stat st = stat_of("link", /*follow=*/false);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_uid, 12U);
  auto target = location->dentry->inode().readlink(caller());
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, "file");
  EXPECT_EQ(read_text("link"), "lower data\n");
}

TEST_F(OverlayTest, UnlinkedOpenLowerFileCanStillChange) {
  auto file = open("file", O_RDONLY);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(unlink_file(caller(), root(), "file").ok());
  EXPECT_TRUE((*file)->inode().unlinked());
  ASSERT_TRUE(change_mode(caller(), (*file)->location(), 0600).ok());
  EXPECT_EQ((*file)->inode().stat()->st_mode & 07777, 0600U);
  expect_errno(walk("file"), ENOENT, "walk after unlink");
}

TEST_F(OverlayTest, ListingMergesLayersAndHidesWork) {
  write_text("made", "m", O_CREAT);
  ASSERT_TRUE(make_directory(caller(), root(), "dir/newdir", 0755).ok());
  EXPECT_EQ(list("/"), (std::vector<std::string>{"dir", "empty", "file", "link", "made"}));
  EXPECT_EQ(list("dir"), (std::vector<std::string>{"a", "newdir", "sub"}));
}

TEST_F(OverlayTest, ListingCookiesSurviveChanges) {
  for (int i = 0; i < 6; ++i) {
    write_text("empty/f" + std::to_string(i), "x", O_CREAT);
  }
  auto directory = open("empty", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(directory.ok());
  ListingSink sink(3);
  ASSERT_TRUE((*directory)->iterate_dir(caller(), sink).ok());
  ASSERT_EQ(sink.names.size(), 3U);

  // Removing entries already listed and adding new ones does not disturb
  // the rest of this listing.
  ASSERT_TRUE(unlink_file(caller(), root(), "empty/" + sink.names[2]).ok());
  write_text("empty/later", "x", O_CREAT);
  const int64_t resume = sink.offsets.back();
  ListingSink rest;
  ASSERT_TRUE((*directory)->iterate_dir(caller(), rest).ok());
  EXPECT_EQ(rest.names.size(), 5U);
  EXPECT_EQ(std::count(rest.names.begin(), rest.names.end(), "later"), 0);

  // Seeking to a cookie resumes there; seeking to 0 takes a new snapshot.
  ASSERT_TRUE((*directory)->seek(resume, SEEK_SET).ok());
  ListingSink again;
  ASSERT_TRUE((*directory)->iterate_dir(caller(), again).ok());
  EXPECT_EQ(again.names, rest.names);
  ASSERT_TRUE((*directory)->seek(0, SEEK_SET).ok());
  ListingSink fresh;
  ASSERT_TRUE((*directory)->iterate_dir(caller(), fresh).ok());
  EXPECT_EQ(std::count(fresh.names.begin(), fresh.names.end(), "later"), 1);
  EXPECT_EQ(fresh.names.size(), 2U + 6U);
  expect_errno((*directory)->seek(0, SEEK_END), EINVAL, "SEEK_END on a merged directory");
}

TEST_F(OverlayTest, ListingInodesMatchStat) {
  write_text("file", "x", 0);
  ASSERT_TRUE(make_directory(caller(), root(), "made", 0755).ok());
  auto directory = open("/", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(directory.ok());
  ListingSink sink;
  ASSERT_TRUE((*directory)->iterate_dir(caller(), sink).ok());
  for (size_t i = 0; i < sink.names.size(); ++i) {
    const std::string& name = sink.names[i];
    if (name == "..") {
      continue;
    }
    const std::string path = name == "." ? "/" : name;
    EXPECT_EQ(sink.inos[i], stat_of(path, /*follow=*/false).st_ino) << name;
  }
}

TEST_F(OverlayTest, RmdirRemovesWhiteoutsInside) {
  ASSERT_TRUE(make_directory(caller(), root(), "dir/sub/x", 0755).ok());
  ASSERT_TRUE(remove_directory(caller(), root(), "dir/sub/x").ok());
  ASSERT_TRUE(unlink_file(caller(), root(), "dir/sub/deep").ok());
  EXPECT_TRUE(list("dir/sub").empty());
  ASSERT_TRUE(remove_directory(caller(), root(), "dir/sub").ok());
  EXPECT_TRUE(is_whiteout(*upper_at("dir/sub")));
}

TEST_F(OverlayTest, UserXattrsAreCopiedUp) {
  if (::setxattr(tree_.host("dir/a").c_str(), "user.note", "v", 1, 0) != 0) {
    GTEST_SKIP() << "the host's /tmp has no user xattrs";
  }
  host_before_ = describe_host_tree(tree_.root());
  write_text("dir/a", "b", 0);
  auto location = walk("dir/a");
  ASSERT_TRUE(location.ok());
  std::byte value[8];
  auto got = get_xattr_at(caller(), *location, "user.note", value);
  ASSERT_TRUE(got.ok()) << describe(got.error());
  EXPECT_EQ(*got, 1U);
  EXPECT_EQ(value[0], std::byte{'v'});
}

TEST_F(OverlayTest, SizeLimitGivesEnospc) {
  make_sandbox(64 * 1024);
  auto file = open("big", O_WRONLY | O_CREAT);
  ASSERT_TRUE(file.ok());
  const std::vector<std::byte> chunk(16 * 1024);
  Result<size_t> written = size_t{0};
  for (int i = 0; i < 16 && written.ok(); ++i) {
    written = (*file)->write(chunk, std::nullopt);
  }
  expect_errno(written, ENOSPC, "write past the overlay's size");
}

TEST_F(OverlayTest, NoneModeStaysReadOnly) {
  auto mounts = make_sandbox_mounts(tree_.root());
  ASSERT_TRUE(mounts.ok());
  EXPECT_TRUE((*mounts)->root().mount->read_only());
  EXPECT_EQ((*mounts)->root().dentry->inode().filesystem().type_name(), "hostfs");
}

}  // namespace
}  // namespace ward::vfs
