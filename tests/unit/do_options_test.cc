// ward's command line: every flag of `ward do` and `ward compat` parsed into
// its options, each
// bad value rejected with its exact one-line message and status 2, and the
// guest's environment and credentials built from them.
#include "cli/do_options.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace ward::cli {
namespace {

std::vector<std::string> do_argv(std::vector<std::string> flags) {
  std::vector<std::string> argv = {"ward", "do"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.emplace_back("--");
  argv.emplace_back("/bin/true");
  return argv;
}

DoOptions parse_ok(std::vector<std::string> flags) {
  auto parsed = parse_command_line(do_argv(std::move(flags)));
  if (auto* exit = std::get_if<CommandLineExit>(&parsed)) {
    ADD_FAILURE() << "rejected: " << exit->message;
    return {};
  }
  return std::get<ParsedCommandLine>(parsed).do_options;
}

// The message of a rejected command line; its status must be kExitUsage.
std::string rejection(std::vector<std::string> flags) {
  auto parsed = parse_command_line(do_argv(std::move(flags)));
  auto* exit = std::get_if<CommandLineExit>(&parsed);
  if (exit == nullptr) {
    ADD_FAILURE() << "accepted";
    return {};
  }
  EXPECT_EQ(exit->exit_status, kExitUsage) << exit->message;
  return exit->message;
}

// A host directory that exists for the whole test.
class TempDirectory {
 public:
  TempDirectory() {
    char pattern[] = "/tmp/ward-options-test-XXXXXX";
    const char* made = mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : "/nonexistent";
  }
  ~TempDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(DoOptions, DefaultsWithoutFlags) {
  DoOptions options = parse_ok({});
  EXPECT_EQ(options.command, std::vector<std::string>{"/bin/true"});
  EXPECT_EQ(options.mounts.host_root, "/");
  EXPECT_EQ(options.mounts.overlay, vfs::OverlayMode::kMemory);
  EXPECT_EQ(options.mounts.overlay_size_bytes, 0U);
  EXPECT_TRUE(options.mounts.binds.empty());
  EXPECT_TRUE(options.mounts.tmpfs.empty());
  EXPECT_FALSE(options.user.has_value());
  EXPECT_TRUE(options.env.empty());
  EXPECT_TRUE(options.pass_env.empty());
}

TEST(DoOptions, EveryFlagParsed) {
  TempDirectory host;
  DoOptions options = parse_ok({"--root",         host.path(),
                                "--cwd",          "/tmp",
                                "--hostname",     "box",
                                "--env",          "A=1",
                                "--env",          "B=x=y",
                                "--pass-env",     "HOME",
                                "--user",         "1000:100",
                                "--overlay-size", "64M",
                                "--bind",         host.path() + ":/data",
                                "--bind",         host.path() + ":/out:rw",
                                "--bind",         host.path() + ":/in:ro",
                                "--tmpfs",        "/scratch",
                                "--tmpfs",        "/small:size=4K"});
  EXPECT_EQ(options.mounts.host_root, host.path());
  EXPECT_EQ(options.cwd, "/tmp");
  EXPECT_EQ(options.hostname, "box");
  EXPECT_EQ(options.env, (std::vector<std::string>{"A=1", "B=x=y"}));
  EXPECT_EQ(options.pass_env, std::vector<std::string>{"HOME"});
  ASSERT_TRUE(options.user.has_value());
  EXPECT_EQ(options.user->uid, 1000U);
  EXPECT_EQ(options.user->gid, 100U);
  EXPECT_EQ(options.mounts.overlay_size_bytes, 64ULL << 20);

  ASSERT_EQ(options.mounts.binds.size(), 3U);
  EXPECT_EQ(options.mounts.binds[0].host_path, host.path());
  EXPECT_EQ(options.mounts.binds[0].guest_path, "/data");
  EXPECT_TRUE(options.mounts.binds[0].read_only);
  EXPECT_EQ(options.mounts.binds[1].guest_path, "/out");
  EXPECT_FALSE(options.mounts.binds[1].read_only);
  EXPECT_TRUE(options.mounts.binds[2].read_only);

  ASSERT_EQ(options.mounts.tmpfs.size(), 2U);
  EXPECT_EQ(options.mounts.tmpfs[0].guest_path, "/scratch");
  EXPECT_EQ(options.mounts.tmpfs[0].size_bytes, 0U);
  EXPECT_EQ(options.mounts.tmpfs[1].guest_path, "/small");
  EXPECT_EQ(options.mounts.tmpfs[1].size_bytes, 4096U);
}

TEST(DoOptions, OverlayNone) {
  DoOptions options = parse_ok({"--overlay", "none"});
  EXPECT_EQ(options.mounts.overlay, vfs::OverlayMode::kNone);
}

TEST(DoOptions, OverlayHostDirectory) {
  TempDirectory upper;
  DoOptions options = parse_ok({"--overlay", "dir:" + upper.path(), "--overlay-size", "8M"});
  EXPECT_EQ(options.mounts.overlay, vfs::OverlayMode::kHostDirectory);
  EXPECT_EQ(options.mounts.overlay_directory, upper.path());
  EXPECT_EQ(options.mounts.overlay_size_bytes, 8ULL << 20);
}

TEST(DoOptions, OverlayHostDirectoryDefaultSize) {
  TempDirectory upper;
  DoOptions options = parse_ok({"--overlay=dir:" + upper.path()});
  EXPECT_EQ(options.mounts.overlay, vfs::OverlayMode::kHostDirectory);
  EXPECT_EQ(options.mounts.overlay_size_bytes, 0U);
}

TEST(DoOptions, StraceFilterNamesSyscalls) {
  DoOptions options = parse_ok({"--strace-filter", "openat,close", "--strace-filter=read"});
  EXPECT_TRUE(options.strace);
  EXPECT_EQ(options.strace_filter, (std::set<uint32_t>{0, 3, 257}));
}

TEST(DoOptions, BadStraceFilter) {
  EXPECT_EQ(rejection({"--strace-filter", "openat,no_such_call"}),
            "ward: --strace-filter: unknown system call 'no_such_call'\n");
}

TEST(DoOptions, RepeatedFlagTakesOneValueEach) {
  // A flag's value never swallows the program that follows it.
  auto parsed = parse_command_line({"ward", "do", "--env", "A=1", "env", "ARGUMENT"});
  ASSERT_TRUE(std::holds_alternative<ParsedCommandLine>(parsed));
  const DoOptions& options = std::get<ParsedCommandLine>(parsed).do_options;
  EXPECT_EQ(options.env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(options.command, (std::vector<std::string>{"env", "ARGUMENT"}));
}

TEST(DoOptions, SizeSuffixes) {
  uint64_t size = 0;
  EXPECT_EQ(parse_size("512", size), "");
  EXPECT_EQ(size, 512U);
  EXPECT_EQ(parse_size("3k", size), "");
  EXPECT_EQ(size, 3U << 10);
  EXPECT_EQ(parse_size("2G", size), "");
  EXPECT_EQ(size, 2ULL << 30);
  EXPECT_EQ(parse_size("18446744073709551615", size), "");
  EXPECT_EQ(size, UINT64_MAX);
}

TEST(DoOptions, BadRoot) {
  EXPECT_EQ(rejection({"--root", "/nonexistent-ward-root"}),
            "ward: --root: Directory does not exist: /nonexistent-ward-root\n");
}

TEST(DoOptions, BadCwd) {
  EXPECT_EQ(rejection({"--cwd", "relative"}),
            "ward: --cwd: invalid working directory 'relative': expected an absolute path "
            "inside the sandbox\n");
}

TEST(DoOptions, BadHostname) {
  EXPECT_EQ(
      rejection({"--hostname", std::string(65, 'h')}),
      "ward: --hostname: invalid hostname '" + std::string(65, 'h') + "': longer than 64 bytes\n");
  EXPECT_EQ(rejection({"--hostname", "a/b"}),
            "ward: --hostname: invalid hostname 'a/b': contains '/'\n");
  EXPECT_EQ(rejection({"--hostname", ""}), "ward: --hostname: invalid hostname '': empty\n");
  EXPECT_EQ(check_hostname(std::string_view("a\0b", 3)),
            std::string("invalid hostname 'a\0b': contains a NUL byte", 43));
  EXPECT_EQ(check_hostname(std::string(64, 'h')), "");
}

TEST(DoOptions, BadEnv) {
  EXPECT_EQ(rejection({"--env", "NOVALUE"}),
            "ward: --env: invalid environment assignment 'NOVALUE': expected NAME=VALUE\n");
  EXPECT_EQ(rejection({"--env", "=1"}),
            "ward: --env: invalid environment assignment '=1': the name is empty\n");
}

TEST(DoOptions, BadPassEnv) {
  EXPECT_EQ(rejection({"--pass-env", "A=1"}),
            "ward: --pass-env: invalid environment variable name 'A=1': contains '='\n");
  EXPECT_EQ(rejection({"--pass-env", ""}),
            "ward: --pass-env: invalid environment variable name '': empty\n");
}

TEST(DoOptions, BadUser) {
  const std::string expected_tail = "': expected UID:GID, two decimal numbers below 4294967295\n";
  EXPECT_EQ(rejection({"--user", "1000"}), "ward: --user: invalid user '1000" + expected_tail);
  EXPECT_EQ(rejection({"--user", "root:root"}),
            "ward: --user: invalid user 'root:root" + expected_tail);
  EXPECT_EQ(rejection({"--user", "1:-1"}), "ward: --user: invalid user '1:-1" + expected_tail);
  EXPECT_EQ(rejection({"--user", "4294967295:0"}),
            "ward: --user: invalid user '4294967295:0" + expected_tail);
  EXPECT_EQ(rejection({"--user", "1:2:3"}), "ward: --user: invalid user '1:2:3" + expected_tail);
}

TEST(DoOptions, BadOverlay) {
  EXPECT_EQ(rejection({"--overlay", "disk"}),
            "ward: --overlay: invalid overlay 'disk': expected memory, none or dir:PATH\n");
}

TEST(DoOptions, BadOverlayDirectory) {
  TempDirectory host;
  const std::string file = host.path() + "/file";
  const int fd = open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  close(fd);
  EXPECT_EQ(rejection({"--overlay", "dir:"}),
            "ward: --overlay: invalid overlay 'dir:': expected a host directory after dir:\n");
  EXPECT_EQ(rejection({"--overlay", "dir:/nonexistent-ward-upper"}),
            "ward: --overlay: overlay directory '/nonexistent-ward-upper' not found: No such "
            "file or directory\n");
  EXPECT_EQ(rejection({"--overlay", "dir:" + file}),
            "ward: --overlay: overlay directory '" + file + "' is not a directory\n");
  EXPECT_EQ(rejection({"--overlay", "dir:" + file + "/below"}),
            "ward: --overlay: overlay directory '" + file + "/below' not found: Not a directory\n");
}

// A directory the caller may not write to. Root writes anywhere, so the
// parse runs in a child that has dropped to the user nobody.
TEST(DoOptions, ReadOnlyOverlayDirectory) {
  TempDirectory host;
  const std::string upper = host.path() + "/upper";
  ASSERT_EQ(mkdir(upper.c_str(), 0555), 0);
  ASSERT_EQ(chmod(host.path().c_str(), 0755), 0);

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    constexpr uid_t kNobody = 65534;
    if (geteuid() == 0 &&
        (setresgid(kNobody, kNobody, kNobody) != 0 || setresuid(kNobody, kNobody, kNobody) != 0)) {
      _exit(3);
    }
    auto parsed = parse_command_line(do_argv({"--overlay", "dir:" + upper}));
    auto* exit = std::get_if<CommandLineExit>(&parsed);
    const std::string message = exit != nullptr ? exit->message : "accepted";
    const ssize_t wrote = write(pipe_fds[1], message.data(), message.size());
    _exit(wrote == static_cast<ssize_t>(message.size()) ? 0 : 4);
  }
  close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  ssize_t got = 0;
  while ((got = read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
    message.append(buffer, static_cast<size_t>(got));
  }
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(message, "ward: --overlay: overlay directory '" + upper +
                         "' is not writable: Permission denied\n");
}

TEST(DoOptions, BadOverlaySize) {
  EXPECT_EQ(rejection({"--overlay-size", "lots"}),
            "ward: --overlay-size: invalid size 'lots': expected a number of bytes, optionally "
            "followed by K, M or G\n");
  EXPECT_EQ(rejection({"--overlay-size", "0"}),
            "ward: --overlay-size: invalid size '0': must be greater than 0\n");
  EXPECT_EQ(rejection({"--overlay-size", "17179869184G"}),
            "ward: --overlay-size: invalid size '17179869184G': too large\n");
  EXPECT_EQ(rejection({"--overlay-size", "-1"}),
            "ward: --overlay-size: invalid size '-1': expected a number of bytes, optionally "
            "followed by K, M or G\n");
  EXPECT_EQ(rejection({"--overlay", "none", "--overlay-size", "1M"}),
            "ward: --overlay-size: only a memory or dir: overlay has a size, but --overlay is "
            "none\n");
}

TEST(DoOptions, BadBind) {
  TempDirectory host;
  const std::string source = host.path();
  EXPECT_EQ(rejection({"--bind", "/nonexistent-ward-source:/data"}),
            "ward: --bind: bind source '/nonexistent-ward-source' not found: No such file or "
            "directory\n");
  EXPECT_EQ(rejection({"--bind", source}),
            "ward: --bind: invalid bind '" + source +
                "': expected HOST:GUEST, HOST:GUEST:ro or HOST:GUEST:rw\n");
  EXPECT_EQ(rejection({"--bind", source + ":/a:rw:x"}),
            "ward: --bind: invalid bind '" + source +
                ":/a:rw:x': expected HOST:GUEST, HOST:GUEST:ro or HOST:GUEST:rw\n");
  EXPECT_EQ(rejection({"--bind", source + ":/data:rx"}),
            "ward: --bind: invalid bind '" + source +
                ":/data:rx': the mode 'rx' is neither ro "
                "nor rw\n");
  EXPECT_EQ(
      rejection({"--bind", source + ":data"}),
      "ward: --bind: invalid bind '" + source + ":data': the guest path 'data' must be absolute\n");
  EXPECT_EQ(rejection({"--bind", source + ":/a/../etc"}),
            "ward: --bind: invalid bind '" + source +
                ":/a/../etc': the guest path '/a/../etc' must not contain '..'\n");
  EXPECT_EQ(rejection({"--bind", source + ":/"}),
            "ward: --bind: invalid bind '" + source +
                ":/': the guest path '/' must not be the sandbox root\n");
}

TEST(DoOptions, BadTmpfs) {
  EXPECT_EQ(rejection({"--tmpfs", "tmp"}),
            "ward: --tmpfs: invalid tmpfs 'tmp': the guest path 'tmp' must be absolute\n");
  EXPECT_EQ(rejection({"--tmpfs", "/tmp:mode=1777"}),
            "ward: --tmpfs: invalid tmpfs option 'mode=1777' in '/tmp:mode=1777': expected "
            "size=BYTES\n");
  EXPECT_EQ(rejection({"--tmpfs", "/tmp:size=big"}),
            "ward: --tmpfs: invalid size 'big': expected a number of bytes, optionally followed "
            "by K, M or G\n");
}

TEST(DoOptions, UnknownFlagIsOneLine) {
  EXPECT_EQ(rejection({"--no-such-flag"}),
            "ward: The following arguments were not expected: -- --no-such-flag\n");
}

TEST(DoOptions, HelpGoesToStdout) {
  auto parsed = parse_command_line({"ward", "do", "--help"});
  auto* exit = std::get_if<CommandLineExit>(&parsed);
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->exit_status, 0);
  EXPECT_NE(exit->message.find("--bind HOST:GUEST[:ro|:rw]"), std::string::npos) << exit->message;
}

// `ward compat` takes every `ward do` flag plus its own.
std::variant<ParsedCommandLine, CommandLineExit> parse_compat(std::vector<std::string> flags) {
  std::vector<std::string> argv = {"ward", "compat"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.emplace_back("--");
  argv.emplace_back("/bin/true");
  return parse_command_line(argv);
}

std::string compat_rejection(std::vector<std::string> flags) {
  auto parsed = parse_compat(std::move(flags));
  auto* exit = std::get_if<CommandLineExit>(&parsed);
  if (exit == nullptr) {
    ADD_FAILURE() << "accepted";
    return {};
  }
  EXPECT_EQ(exit->exit_status, kExitUsage) << exit->message;
  return exit->message;
}

TEST(CompatOptions, DefaultsWithoutFlags) {
  auto parsed = parse_compat({});
  ASSERT_TRUE(std::holds_alternative<ParsedCommandLine>(parsed));
  const ParsedCommandLine& command_line = std::get<ParsedCommandLine>(parsed);
  EXPECT_TRUE(command_line.compat_command);
  EXPECT_FALSE(command_line.do_command);
  EXPECT_EQ(command_line.compat_options.format, "text");
  EXPECT_EQ(command_line.compat_options.output, "");
  EXPECT_FALSE(command_line.compat_options.preflight_only);
  EXPECT_EQ(command_line.compat_options.run.command, std::vector<std::string>{"/bin/true"});
  EXPECT_EQ(command_line.compat_options.run.mounts.overlay, vfs::OverlayMode::kMemory);
}

TEST(CompatOptions, OwnAndDoFlagsParsed) {
  TempDirectory host;
  auto parsed = parse_compat({"--format", "json", "--output", "report.json", "--preflight",
                              "--root", host.path(), "--overlay", "none", "--env", "A=1",
                              "--tmpfs", "/scratch:size=1M", "--user", "1:2"});
  ASSERT_TRUE(std::holds_alternative<ParsedCommandLine>(parsed));
  const CompatOptions& options = std::get<ParsedCommandLine>(parsed).compat_options;
  EXPECT_EQ(options.format, "json");
  EXPECT_EQ(options.output, "report.json");
  EXPECT_TRUE(options.preflight_only);
  EXPECT_EQ(options.run.mounts.host_root, host.path());
  EXPECT_EQ(options.run.mounts.overlay, vfs::OverlayMode::kNone);
  EXPECT_EQ(options.run.env, std::vector<std::string>{"A=1"});
  ASSERT_EQ(options.run.mounts.tmpfs.size(), 1U);
  EXPECT_EQ(options.run.mounts.tmpfs[0].size_bytes, 1U << 20);
  ASSERT_TRUE(options.run.user.has_value());
  EXPECT_EQ(options.run.user->gid, 2U);
}

TEST(CompatOptions, BadFormat) {
  EXPECT_EQ(compat_rejection({"--format", "yaml"}),
            "ward: --format: invalid report format 'yaml': expected text, json or markdown\n");
}

TEST(CompatOptions, BadOutput) {
  EXPECT_EQ(compat_rejection({"--output", ""}),
            "ward: --output: invalid report file '': expected a file path\n");
  EXPECT_EQ(compat_rejection({"--output="}),
            "ward: --output: invalid report file '--': starts with '-'; write ./NAME for a "
            "file whose name starts with a dash\n");
}

TEST(CompatOptions, BadDoFlag) {
  EXPECT_EQ(compat_rejection({"--overlay", "none", "--overlay-size", "1M"}),
            "ward: --overlay-size: only a memory or dir: overlay has a size, but --overlay is "
            "none\n");
}

TEST(CompatOptions, HelpNamesExitStatus) {
  auto parsed = parse_command_line({"ward", "compat", "--help"});
  auto* exit = std::get_if<CommandLineExit>(&parsed);
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->exit_status, 0);
  EXPECT_NE(exit->message.find("--format text|json|markdown"), std::string::npos) << exit->message;
  EXPECT_NE(exit->message.find("1 when it finds such a problem"), std::string::npos)
      << exit->message;
}

TEST(GuestEnvironment, DefaultsHideTheCaller) {
  const std::vector<std::string> caller = {"SECRET_TOKEN=hunter2", "PATH=/opt/bin",
                                           "TERM=xterm-256color", "HOME=/home/me"};
  EXPECT_EQ(
      guest_environment(DoOptions{}, 0, caller),
      (std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                "HOME=/root", "TERM=xterm-256color", "LANG=C.UTF-8"}));
}

TEST(GuestEnvironment, HomeOfOtherUsersIsRoot) {
  const std::vector<std::string> environment = guest_environment(DoOptions{}, 1000, {});
  EXPECT_EQ(environment, (std::vector<std::string>{
                             "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                             "HOME=/", "LANG=C.UTF-8"}));
}

TEST(GuestEnvironment, PassEnvAndEnvOverrideInPlace) {
  DoOptions options;
  options.pass_env = {"PATH", "UNSET_IN_CALLER", "SECRET_TOKEN"};
  options.env = {"LANG=C", "NEW=1", "SECRET_TOKEN=replaced"};
  const std::vector<std::string> caller = {"SECRET_TOKEN=hunter2", "PATH=/opt/bin"};
  EXPECT_EQ(guest_environment(options, 0, caller),
            (std::vector<std::string>{"PATH=/opt/bin", "HOME=/root", "LANG=C",
                                      "SECRET_TOKEN=replaced", "NEW=1"}));
}

TEST(CredentialsForUser, OrdinaryUserHasNoCapabilities) {
  const kernel::Credentials creds = credentials_for_user(UserIds{.uid = 1000, .gid = 100});
  EXPECT_EQ(creds.real_uid, 1000U);
  EXPECT_EQ(creds.effective_uid, 1000U);
  EXPECT_EQ(creds.saved_uid, 1000U);
  EXPECT_EQ(creds.fs_uid, 1000U);
  EXPECT_EQ(creds.real_gid, 100U);
  EXPECT_EQ(creds.effective_gid, 100U);
  EXPECT_EQ(creds.saved_gid, 100U);
  EXPECT_EQ(creds.fs_gid, 100U);
  EXPECT_TRUE(creds.supplementary_groups.empty());
  EXPECT_TRUE(creds.cap_effective.empty());
  EXPECT_TRUE(creds.cap_permitted.empty());
  EXPECT_TRUE(creds.cap_inheritable.empty());
  EXPECT_TRUE(creds.cap_ambient.empty());
  EXPECT_EQ(creds.cap_bset, kernel::CapabilitySet::all());
}

TEST(CredentialsForUser, RootHasEveryCapability) {
  const kernel::Credentials creds = credentials_for_user(UserIds{.uid = 0, .gid = 0});
  EXPECT_EQ(creds.effective_uid, 0U);
  EXPECT_EQ(creds.cap_effective, kernel::CapabilitySet::all());
  EXPECT_EQ(creds.cap_permitted, kernel::CapabilitySet::all());
  EXPECT_TRUE(creds.cap_inheritable.empty());
  EXPECT_TRUE(creds.cap_ambient.empty());
  EXPECT_TRUE(creds.supplementary_groups.empty());
}

}  // namespace
}  // namespace ward::cli
