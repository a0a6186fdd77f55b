// Preflight on temporary roots built from host files. The cases: a dynamic
// program in a root of busybox alone, a program whose own library is absent
// or found through $ORIGIN, a libc whose DT_VERDEF lacks the version the
// program needs, and a symlink that would only resolve outside the root.
#include "compat/preflight.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "compat/sandbox_files.h"

namespace ward::compat {
namespace {

namespace fs = std::filesystem;

constexpr char kLoader[] = "/lib64/ld-linux-x86-64.so.2";
constexpr char kLibcPath[] = "/lib/x86_64-linux-gnu/libc.so.6";

class TempRoot {
 public:
  TempRoot() {
    char pattern[] = "/tmp/ward-preflight-test-XXXXXX";
    const char* made = mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : "";
  }
  ~TempRoot() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  const std::string& path() const { return path_; }

  // Copies the host file `from` (symlinks followed) to `to` inside the root.
  void copy(const std::string& from, const std::string& to) const {
    const fs::path target = fs::path(path_) / fs::path(to).relative_path();
    fs::create_directories(target.parent_path());
    fs::copy_file(fs::canonical(from), target, fs::copy_options::overwrite_existing);
  }

  void symlink(const std::string& target, const std::string& at) const {
    const fs::path link = fs::path(path_) / fs::path(at).relative_path();
    fs::create_directories(link.parent_path());
    fs::create_symlink(target, link);
  }

  // A root with the host's loader and libc.
  void add_loader_and_libc() const {
    copy(kLoader, kLoader);
    copy(kLibcPath, kLibcPath);
  }

  PreflightReport preflight(const std::string& program) const {
    auto files = SandboxRootFiles::for_host_root(path_);
    EXPECT_TRUE(files.ok());
    if (!files.ok()) {
      return {};
    }
    return run_preflight(**files, program);
  }

 private:
  std::string path_;
};

const PreflightFinding* find_error(const PreflightReport& report, std::string_view subject) {
  for (const PreflightFinding& finding : report.findings) {
    if (finding.severity == Severity::kError && finding.subject == subject) {
      return &finding;
    }
  }
  return nullptr;
}

std::string describe(const PreflightReport& report) {
  std::string text;
  for (const PreflightFinding& finding : report.findings) {
    text += std::string(severity_name(finding.severity)) + " " + finding.subject + ": " +
            finding.message + "\n";
  }
  return text;
}

bool host_has_loader() { return access(kLoader, R_OK) == 0 && access(kLibcPath, R_OK) == 0; }

TEST(PreflightTest, BusyboxRootLacksTheLoader) {
  if (access("/bin/busybox", R_OK) != 0) {
    GTEST_SKIP() << "busybox-static is not installed";
  }
  TempRoot root;
  root.copy("/bin/busybox", "/bin/busybox");
  root.copy(WARD_COMPAT_GAPS_PROGRAM, "/bin/prog");

  const PreflightReport busybox = root.preflight("/bin/busybox");
  EXPECT_EQ(busybox.kind, BinaryKind::kStatic);
  EXPECT_TRUE(busybox.ok()) << describe(busybox);

  const PreflightReport report = root.preflight("/bin/prog");
  EXPECT_EQ(report.kind, BinaryKind::kDynamic);
  EXPECT_EQ(report.interpreter, kLoader);
  EXPECT_FALSE(report.ok());
  const PreflightFinding* missing = find_error(report, kLoader);
  ASSERT_NE(missing, nullptr) << describe(report);
  EXPECT_NE(missing->message.find("ENOENT"), std::string::npos) << missing->message;
  EXPECT_FALSE(missing->action.empty());
}

TEST(PreflightTest, MissingLibraryIsReported) {
  if (!host_has_loader()) {
    GTEST_SKIP() << "the host has no x86_64 glibc at the Debian paths";
  }
  TempRoot root;
  root.add_loader_and_libc();
  root.copy(WARD_PREFLIGHT_NEEDS_EXTRA, "/opt/app/bin/prog");

  const PreflightReport report = root.preflight("/opt/app/bin/prog");
  EXPECT_FALSE(report.ok());
  const PreflightFinding* missing = find_error(report, "libward_preflight_extra.so");
  ASSERT_NE(missing, nullptr) << describe(report);
  // The search followed $ORIGIN/../lib and the default directories.
  EXPECT_NE(missing->message.find("/opt/app/bin/../lib/libward_preflight_extra.so"),
            std::string::npos)
      << missing->message;
  EXPECT_NE(missing->message.find("/usr/lib/libward_preflight_extra.so"), std::string::npos)
      << missing->message;
  // libc.so.6 itself was found.
  EXPECT_EQ(find_error(report, "libc.so.6"), nullptr) << describe(report);
}

TEST(PreflightTest, LibraryFoundThroughOrigin) {
  if (!host_has_loader()) {
    GTEST_SKIP() << "the host has no x86_64 glibc at the Debian paths";
  }
  TempRoot root;
  root.add_loader_and_libc();
  root.copy(WARD_PREFLIGHT_NEEDS_EXTRA, "/opt/app/bin/prog");
  root.copy(WARD_PREFLIGHT_EXTRA_LIBRARY, "/opt/app/lib/libward_preflight_extra.so");

  const PreflightReport report = root.preflight("/opt/app/bin/prog");
  EXPECT_TRUE(report.ok()) << describe(report);
  auto extra = std::find_if(report.libraries.begin(), report.libraries.end(),
                            [](const ResolvedLibrary& library) {
                              return library.name == "libward_preflight_extra.so";
                            });
  ASSERT_NE(extra, report.libraries.end());
  EXPECT_EQ(extra->path, "/opt/app/bin/../lib/libward_preflight_extra.so");
  EXPECT_EQ(extra->needed_by, "/opt/app/bin/prog");
}

TEST(PreflightTest, OldLibcLacksTheVersion) {
  if (!host_has_loader()) {
    GTEST_SKIP() << "the host has no x86_64 glibc at the Debian paths";
  }
  TempRoot root;
  root.copy(kLoader, kLoader);
  root.copy(WARD_PREFLIGHT_FAKE_LIBC, kLibcPath);
  root.copy(WARD_COMPAT_GAPS_PROGRAM, "/bin/prog");

  const PreflightReport report = root.preflight("/bin/prog");
  EXPECT_FALSE(report.ok());
  const PreflightFinding* version = find_error(report, "GLIBC_2.34");
  ASSERT_NE(version, nullptr) << describe(report);
  EXPECT_NE(version->message.find("libc.so.6"), std::string::npos) << version->message;
  EXPECT_NE(version->message.find("GLIBC_2.2.5"), std::string::npos) << version->message;
}

TEST(PreflightTest, SymlinkOutOfTheRootIsNotFollowed) {
  if (!host_has_loader()) {
    GTEST_SKIP() << "the host has no x86_64 glibc at the Debian paths";
  }
  TempRoot root;
  root.copy(kLoader, kLoader);
  root.copy(WARD_COMPAT_GAPS_PROGRAM, "/bin/prog");
  // On the host this relative link reaches the host's libc; in the root,
  // `..` stops at the root, where no libc exists.
  root.symlink("../../../../../../../../../../usr/lib/x86_64-linux-gnu/libc.so.6",
               "/lib/x86_64-linux-gnu/libc.so.6");

  const PreflightReport report = root.preflight("/bin/prog");
  EXPECT_NE(find_error(report, "libc.so.6"), nullptr) << describe(report);
}

TEST(PreflightTest, MissingProgramAndNonElf) {
  TempRoot root;
  const PreflightReport missing = root.preflight("/bin/nothing");
  EXPECT_NE(find_error(missing, "/bin/nothing"), nullptr) << describe(missing);

  root.copy("/etc/hostname", "/bin/text");
  const PreflightReport text = root.preflight("/bin/text");
  EXPECT_NE(find_error(text, "/bin/text"), nullptr) << describe(text);
}

}  // namespace
}  // namespace ward::compat
