// Shared pieces of the VFS tests: a temporary host directory used as the
// sandbox root, next to a directory outside it that no walk may reach, and
// a Caller for the sandbox built on it.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "sentry/fs/sandbox_mounts.h"
#include "sentry/kernel/credentials.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/path_walk.h"
#include "ward/errno_name.h"

namespace ward::vfs::testing {

// Prints an errno by name in assertion messages.
inline std::string describe(Errno error) { return std::string(errno_name(error.value)); }

// A temporary directory with `root/` (the sandbox root) and `outside/`
// (host files the sandbox must never see), removed at the end.
class TempTree {
 public:
  TempTree() {
    char pattern[] = "/tmp/ward-vfs-test-XXXXXX";
    const char* made = mkdtemp(pattern);
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    base_ = made;
    std::filesystem::create_directory(root());
    std::filesystem::create_directory(outside());
    write_file(outside() + "/secret", "outside the sandbox\n");
  }
  ~TempTree() {
    std::error_code ignored;
    std::filesystem::remove_all(base_, ignored);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  std::string root() const { return base_ + "/root"; }
  std::string outside() const { return base_ + "/outside"; }

  // A host path inside the root.
  std::string host(std::string_view relative) const { return root() + "/" + std::string(relative); }

  static void write_file(const std::string& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
  }

 private:
  std::string base_;
};

// A sandbox on a host directory, with a caller at its root.
class Sandbox {
 public:
  explicit Sandbox(const std::string& host_root, kernel::Credentials creds = {}) : creds_(creds) {
    auto made = make_sandbox_mounts(host_root);
    if (!made.ok()) {
      ADD_FAILURE() << "make_sandbox_mounts: " << describe(made.error());
      return;
    }
    mounts_ = std::move(*made);
    fs_ = std::make_shared<FsContext>(mounts_->root(), mounts_->root());
  }

  Caller caller() const { return Caller{.creds = creds_, .fs = *fs_, .task = nullptr}; }
  VirtualDentry root() const { return mounts_->root(); }
  MountNamespace& mounts() { return *mounts_; }
  FsContext& fs() { return *fs_; }
  kernel::Credentials& creds() { return creds_; }

  Result<VirtualDentry> walk(std::string_view path, const WalkOptions& options = {}) const {
    return walk_path(caller(), fs_->cwd(), path, options);
  }

  Result<VirtualDentry> walk_from(const VirtualDentry& start, std::string_view path,
                                  const WalkOptions& options = {}) const {
    return walk_path(caller(), start, path, options);
  }

 private:
  kernel::Credentials creds_;
  std::shared_ptr<MountNamespace> mounts_;
  std::shared_ptr<FsContext> fs_;
};

inline kernel::Credentials user_creds(uid_t uid, gid_t gid) {
  kernel::Credentials creds;
  creds.real_uid = creds.effective_uid = creds.saved_uid = creds.fs_uid = uid;
  creds.real_gid = creds.effective_gid = creds.saved_gid = creds.fs_gid = gid;
  return creds;
}

// Expects `result` to fail with `expected`, printing errno names.
template <typename T>
void expect_errno(const Result<T>& result, int expected, std::string_view what = "") {
  if (result.ok()) {
    ADD_FAILURE() << what << ": succeeded; expected " << errno_name(expected);
    return;
  }
  EXPECT_EQ(result.error().value, expected) << what << ": got " << errno_name(result.error().value)
                                            << ", expected " << errno_name(expected);
}

}  // namespace ward::vfs::testing
