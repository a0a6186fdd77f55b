#include "cli/do_options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstring>
#include <limits>
#include <sstream>

#include "compat/report.h"
#include "syscalls/table.h"

namespace ward::cli {
namespace {

// Linux's HOST_NAME_MAX: the longest name sethostname accepts, in bytes.
constexpr size_t kHostNameMax = 64;

// PATH of the guest's default environment, the one glibc's execvp assumes
// when there is none.
constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

// Splits `text` at every `separator`.
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> fields;
  for (;;) {
    const size_t end = text.find(separator);
    fields.push_back(text.substr(0, end));
    if (end == std::string_view::npos) {
      return fields;
    }
    text.remove_prefix(end + 1);
  }
}

// Checks a path inside the sandbox where something is mounted: absolute,
// without `..` components (which would make the mount point depend on
// symlinks above it), and not the root itself.
std::string check_mount_path(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return "the guest path " + in_quotes(path) + " must be absolute";
  }
  bool only_root = true;
  for (std::string_view component : split(path, '/')) {
    if (component == "..") {
      return "the guest path " + in_quotes(path) + " must not contain '..'";
    }
    if (!component.empty() && component != ".") {
      only_root = false;
    }
  }
  if (only_root) {
    return "the guest path " + in_quotes(path) + " must not be the sandbox root";
  }
  return {};
}

bool parse_id(std::string_view text, uint32_t& id) {
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, id);
  // (uid_t)-1 means "unchanged" to the set*id calls, so no process has it.
  return !text.empty() && error == std::errc() && stop == end &&
         id != std::numeric_limits<uint32_t>::max();
}

// Sets `name` to `assignment` ("NAME=VALUE") in `environment`, in place
// when the name is already there.
void set_variable(std::vector<std::string>& environment, std::string_view name,
                  std::string assignment) {
  for (std::string& variable : environment) {
    if (variable.size() > name.size() && variable.compare(0, name.size(), name) == 0 &&
        variable[name.size()] == '=') {
      variable = std::move(assignment);
      return;
    }
  }
  environment.push_back(std::move(assignment));
}

const std::string* find_variable(const std::vector<std::string>& environment,
                                 std::string_view name) {
  for (const std::string& variable : environment) {
    if (variable.size() > name.size() && variable.compare(0, name.size(), name) == 0 &&
        variable[name.size()] == '=') {
      return &variable;
    }
  }
  return nullptr;
}

// A CLI11 check from one of the functions above, which only validate.
template <typename Parse>
CLI::Validator checked_by(Parse parse) {
  return CLI::Validator([parse](std::string& value) -> std::string { return parse(value); }, "");
}

// The CLI11 checks of the values that parse into structures.
std::string check_user(std::string_view text) {
  UserIds ignored;
  return parse_user(text, ignored);
}

std::string check_overlay(std::string_view text) {
  vfs::OverlayMode ignored_mode{};
  std::string ignored_directory;
  return parse_overlay(text, ignored_mode, ignored_directory);
}

std::string check_size(std::string_view text) {
  uint64_t ignored = 0;
  return parse_size(text, ignored);
}

std::string check_bind(std::string_view text) {
  vfs::BindMount ignored;
  return parse_bind(text, ignored);
}

std::string check_tmpfs(std::string_view text) {
  vfs::TmpfsMount ignored;
  return parse_tmpfs(text, ignored);
}

// A repeatable option: each occurrence takes one value, so that the
// program after the last one is not taken for another value.
CLI::Option* add_repeatable(CLI::App& command, const std::string& name,
                            std::vector<std::string>& values, const std::string& help) {
  return command.add_option(name, values, help)->allow_extra_args(false);
}

void add_do_options(CLI::App& command, DoOptions& options, std::vector<std::string>& binds,
                    std::vector<std::string>& tmpfs_mounts, std::string& user, std::string& overlay,
                    std::string& overlay_size, std::vector<std::string>& strace_filter) {
  command.add_flag("--strace", options.strace,
                   "Log every system call with its decoded arguments and result, and every signal "
                   "the program takes, at info level");
  command
      .add_option("--strace-filter", strace_filter,
                  "Log only these system calls, by name, separated by commas; implies --strace")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->type_name("SYSCALL,...");
  command
      .add_option("--root", options.mounts.host_root,
                  "Host directory the sandbox sees as /, read-only underneath the overlay")
      ->check(CLI::ExistingDirectory)
      ->type_name("DIR")
      ->capture_default_str();
  command
      .add_option("--cwd", options.cwd,
                  "Working directory of the program, an absolute path inside the sandbox "
                  "(default: ward's own working directory)")
      ->check(checked_by(check_guest_directory))
      ->type_name("PATH");
  command
      .add_option("--hostname", options.hostname,
                  "Host name the sandbox reports, at most 64 bytes (default: the host's)")
      ->check(checked_by(check_hostname))
      ->type_name("NAME");
  add_repeatable(command, "--env", options.env,
                 "Set NAME to VALUE in the program's environment; may be repeated")
      ->check(checked_by(check_env_assignment))
      ->type_name("NAME=VALUE");
  add_repeatable(command, "--pass-env", options.pass_env,
                 "Copy ward's variable NAME, when it is set, into the program's environment; "
                 "may be repeated")
      ->check(checked_by(check_env_name))
      ->type_name("NAME");
  command
      .add_option("--user", user,
                  "Run the program with user id UID and group id GID, without supplementary "
                  "groups (default: ward's own ids)")
      ->check(checked_by(check_user))
      ->type_name("UID:GID");
  command
      .add_option("--overlay", overlay,
                  "Where writes to the root go: memory (kept in the sentry, lost at exit), "
                  "dir:PATH (the same, but file data is kept in unnamed files in the host "
                  "directory PATH instead of memory) or none (the root is read-only)")
      ->check(checked_by(check_overlay))
      ->type_name("memory|dir:PATH|none")
      ->capture_default_str();
  command
      .add_option("--overlay-size", overlay_size,
                  "Most bytes the overlay may hold, with an optional K, M or G suffix (powers "
                  "of 1024); by default half the host's RAM for memory, the size of PATH's "
                  "filesystem for dir:PATH")
      ->check(checked_by(check_size))
      ->type_name("BYTES");
  add_repeatable(command, "--bind", binds,
                 "Mount the host file or directory HOST at the absolute path GUEST, read-only "
                 "unless :rw is given; may be repeated")
      ->check(checked_by(check_bind))
      ->type_name("HOST:GUEST[:ro|:rw]");
  add_repeatable(command, "--tmpfs", tmpfs_mounts,
                 "Mount an empty tmpfs at the absolute path PATH, holding at most BYTES (K, M "
                 "or G suffixes allowed); may be repeated")
      ->check(checked_by(check_tmpfs))
      ->type_name("PATH[:size=BYTES]");
  command
      .add_option("--platform", options.platform,
                  "How guest system calls are captured; ptrace is the only one so far")
      ->check(CLI::IsMember({"ptrace"}))
      ->capture_default_str();
  command
      .add_option("PROGRAM", options.command,
                  "The program to run, looked up in the program's PATH when it has no slash, "
                  "then its arguments; put -- before them when they start with a dash")
      ->required();
  command.positionals_at_end();
}

// Converts the option values CLI11 has checked into the mount
// configuration. Returns a usage error for a combination of options.
std::string finish_do_options(DoOptions& options, const std::vector<std::string>& binds,
                              const std::vector<std::string>& tmpfs_mounts, const std::string& user,
                              const std::string& overlay, const std::string& overlay_size,
                              const std::vector<std::string>& strace_filter) {
  for (const std::string& name : strace_filter) {
    const syscalls::SyscallEntry* entry = syscalls::find_syscall(name);
    if (entry == nullptr) {
      return "--strace-filter: unknown system call '" + name + "'";
    }
    options.strace_filter.insert(static_cast<uint32_t>(entry->number));
    options.strace = true;
  }
  if (!user.empty()) {
    UserIds ids;
    if (std::string error = parse_user(user, ids); !error.empty()) {
      return "--user: " + error;
    }
    options.user = ids;
  }
  if (std::string error =
          parse_overlay(overlay, options.mounts.overlay, options.mounts.overlay_directory);
      !error.empty()) {
    return "--overlay: " + error;
  }
  if (!overlay_size.empty()) {
    if (options.mounts.overlay == vfs::OverlayMode::kNone) {
      return "--overlay-size: only a memory or dir: overlay has a size, but --overlay is " +
             overlay;
    }
    if (std::string error = parse_size(overlay_size, options.mounts.overlay_size_bytes);
        !error.empty()) {
      return "--overlay-size: " + error;
    }
  }
  for (const std::string& text : binds) {
    vfs::BindMount bind;
    if (std::string error = parse_bind(text, bind); !error.empty()) {
      return "--bind: " + error;
    }
    options.mounts.binds.push_back(std::move(bind));
  }
  for (const std::string& text : tmpfs_mounts) {
    vfs::TmpfsMount tmpfs;
    if (std::string error = parse_tmpfs(text, tmpfs); !error.empty()) {
      return "--tmpfs: " + error;
    }
    options.mounts.tmpfs.push_back(std::move(tmpfs));
  }
  return {};
}

void add_compat_options(CLI::App& command, CompatOptions& options) {
  command
      .add_option("--format", options.format,
                  "Format of the report: text or markdown for people, json for tools (schema in "
                  "docs/compat-report.md)")
      ->check(checked_by(check_report_format))
      ->type_name("text|json|markdown")
      ->capture_default_str();
  command
      .add_option("--output", options.output,
                  "File to write the report to, created or truncated before the program starts "
                  "(default: standard error)")
      ->check(checked_by(check_report_file))
      ->type_name("FILE");
  command.add_flag("--preflight", options.preflight_only,
                   "Only check that the sandbox root has what the program needs to start (its "
                   "loader, libraries and symbol versions); do not run it");
}

}  // namespace

std::string check_report_format(std::string_view text) {
  if (!compat::parse_report_format(text)) {
    return "invalid report format " + in_quotes(text) + ": expected text, json or markdown";
  }
  return {};
}

std::string check_report_file(std::string_view text) {
  if (text.empty()) {
    return "invalid report file '': expected a file path";
  }
  // CLI11 takes the next argument as the value of an empty `--output=`,
  // which would silently name a file "--" or "--format".
  if (text.front() == '-') {
    return "invalid report file " + in_quotes(text) +
           ": starts with '-'; write ./NAME for a file whose name starts with a dash";
  }
  return {};
}

std::string parse_size(std::string_view text, uint64_t& size_bytes) {
  const std::string invalid = "invalid size " + in_quotes(text) + ": ";
  uint64_t multiplier = 1;
  std::string_view digits = text;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'K':
      case 'k':
        multiplier = uint64_t{1} << 10;
        break;
      case 'M':
      case 'm':
        multiplier = uint64_t{1} << 20;
        break;
      case 'G':
      case 'g':
        multiplier = uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (multiplier != 1) {
      digits.remove_suffix(1);
    }
  }

  uint64_t count = 0;
  const char* end = digits.data() + digits.size();
  auto [stop, error] = std::from_chars(digits.data(), end, count);
  if (digits.empty() || stop != end || error == std::errc::invalid_argument) {
    return invalid + "expected a number of bytes, optionally followed by K, M or G";
  }
  if (error == std::errc::result_out_of_range ||
      count > std::numeric_limits<uint64_t>::max() / multiplier) {
    return invalid + "too large";
  }
  if (count == 0) {
    return invalid + "must be greater than 0";
  }
  size_bytes = count * multiplier;
  return {};
}

std::string parse_user(std::string_view text, UserIds& user) {
  const std::vector<std::string_view> fields = split(text, ':');
  uint32_t uid = 0;
  uint32_t gid = 0;
  if (fields.size() != 2 || !parse_id(fields[0], uid) || !parse_id(fields[1], gid)) {
    return "invalid user " + in_quotes(text) +
           ": expected UID:GID, two decimal numbers below 4294967295";
  }
  user = UserIds{.uid = uid, .gid = gid};
  return {};
}

std::string parse_overlay(std::string_view text, vfs::OverlayMode& mode, std::string& directory) {
  if (text == "memory") {
    mode = vfs::OverlayMode::kMemory;
    return {};
  }
  if (text == "none") {
    mode = vfs::OverlayMode::kNone;
    return {};
  }
  constexpr std::string_view kDirectoryPrefix = "dir:";
  if (!text.starts_with(kDirectoryPrefix)) {
    return "invalid overlay " + in_quotes(text) + ": expected memory, none or dir:PATH";
  }

  const std::string path(text.substr(kDirectoryPrefix.size()));
  if (path.empty()) {
    return "invalid overlay " + in_quotes(text) + ": expected a host directory after dir:";
  }
  struct stat host_stat {};
  if (::stat(path.c_str(), &host_stat) != 0) {
    return "overlay directory " + in_quotes(path) + " not found: " + std::strerror(errno);
  }
  if (!S_ISDIR(host_stat.st_mode)) {
    return "overlay directory " + in_quotes(path) + " is not a directory";
  }
  // The sentry makes its files there, which needs write and search access.
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    return "overlay directory " + in_quotes(path) + " is not writable: " + std::strerror(errno);
  }
  mode = vfs::OverlayMode::kHostDirectory;
  directory = path;
  return {};
}

std::string parse_bind(std::string_view text, vfs::BindMount& bind) {
  const std::vector<std::string_view> fields = split(text, ':');
  if (fields.size() < 2 || fields.size() > 3 || fields[0].empty()) {
    return "invalid bind " + in_quotes(text) +
           ": expected HOST:GUEST, HOST:GUEST:ro or HOST:GUEST:rw";
  }
  bool read_only = true;
  if (fields.size() == 3) {
    if (fields[2] == "rw") {
      read_only = false;
    } else if (fields[2] != "ro") {
      return "invalid bind " + in_quotes(text) + ": the mode " + in_quotes(fields[2]) +
             " is neither ro nor rw";
    }
  }
  if (std::string error = check_mount_path(fields[1]); !error.empty()) {
    return "invalid bind " + in_quotes(text) + ": " + error;
  }

  const std::string host_path(fields[0]);
  struct stat host_stat {};
  if (::stat(host_path.c_str(), &host_stat) != 0) {
    return "bind source " + in_quotes(host_path) + " not found: " + std::strerror(errno);
  }
  bind = vfs::BindMount{
      .host_path = host_path, .guest_path = std::string(fields[1]), .read_only = read_only};
  return {};
}

std::string parse_tmpfs(std::string_view text, vfs::TmpfsMount& tmpfs) {
  const size_t colon = text.find(':');
  const std::string_view path = text.substr(0, colon);
  if (std::string error = check_mount_path(path); !error.empty()) {
    return "invalid tmpfs " + in_quotes(text) + ": " + error;
  }
  uint64_t size_bytes = 0;
  if (colon != std::string_view::npos) {
    const std::string_view option = text.substr(colon + 1);
    constexpr std::string_view kSizePrefix = "size=";
    if (!option.starts_with(kSizePrefix)) {
      return "invalid tmpfs option " + in_quotes(option) + " in " + in_quotes(text) +
             ": expected size=BYTES";
    }
    if (std::string error = parse_size(option.substr(kSizePrefix.size()), size_bytes);
        !error.empty()) {
      return error;
    }
  }
  tmpfs = vfs::TmpfsMount{.guest_path = std::string(path), .size_bytes = size_bytes};
  return {};
}

std::string check_hostname(std::string_view text) {
  const std::string invalid = "invalid hostname " + in_quotes(text) + ": ";
  if (text.empty()) {
    return invalid + "empty";
  }
  if (text.size() > kHostNameMax) {
    return invalid + "longer than 64 bytes";
  }
  if (text.find('/') != std::string_view::npos) {
    return invalid + "contains '/'";
  }
  if (text.find('\0') != std::string_view::npos) {
    return invalid + "contains a NUL byte";
  }
  return {};
}

std::string check_env_assignment(std::string_view text) {
  const size_t equals = text.find('=');
  if (equals == std::string_view::npos) {
    return "invalid environment assignment " + in_quotes(text) + ": expected NAME=VALUE";
  }
  if (equals == 0) {
    return "invalid environment assignment " + in_quotes(text) + ": the name is empty";
  }
  return {};
}

std::string check_env_name(std::string_view text) {
  if (text.empty()) {
    return "invalid environment variable name '': empty";
  }
  if (text.find('=') != std::string_view::npos) {
    return "invalid environment variable name " + in_quotes(text) + ": contains '='";
  }
  return {};
}

std::string check_guest_directory(std::string_view text) {
  if (text.empty() || text.front() != '/') {
    return "invalid working directory " + in_quotes(text) +
           ": expected an absolute path inside the sandbox";
  }
  return {};
}

std::variant<ParsedCommandLine, CommandLineExit> parse_command_line(
    const std::vector<std::string>& argv) {
  ParsedCommandLine parsed;
  std::vector<std::string> binds;
  std::vector<std::string> tmpfs_mounts;
  std::string user;
  std::string overlay = "memory";
  std::string overlay_size;
  std::vector<std::string> strace_filter;

  CLI::App app{
      "ward runs Linux programs in a sandbox: every system call they make is served by ward's "
      "own user-space kernel, never by the host's."};
  app.require_subcommand(1);
  app.add_option("--log-level", parsed.global.log_level,
                 "Least severe log messages to print: trace, debug, info, warn, error, critical "
                 "or off. warn shows each compatibility gap a program hits")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--log-file", parsed.global.log_file,
                 "File to append log messages to instead of standard error");

  CLI::App* do_command = app.add_subcommand(
      "do",
      "Run PROGRAM with ARGS in a sandbox whose root is a view of the host's, with writes kept "
      "in memory");
  add_do_options(*do_command, parsed.do_options, binds, tmpfs_mounts, user, overlay, overlay_size,
                 strace_filter);

  CLI::App* compat_command = app.add_subcommand(
      "compat",
      "Run PROGRAM with ARGS as `ward do` runs it, its output and exit status unchanged, then "
      "write a report of what ward lacks that it used: missing system calls, flags, ioctl "
      "requests, socket features and /proc files, with guest call stacks, and whether the "
      "sandbox root has the program's loader and libraries");
  add_do_options(*compat_command, parsed.compat_options.run, binds, tmpfs_mounts, user, overlay,
                 overlay_size, strace_filter);
  add_compat_options(*compat_command, parsed.compat_options);
  compat_command->footer(
      "Exit status: the program's own, as with `ward do` (125 when ward fails before the program "
      "starts or cannot write the report). With --preflight: 0 when preflight finds nothing that "
      "stops the program from starting, 1 when it finds such a problem.");

  CLI::App* syscalls_command = app.add_subcommand(
      "syscalls", "Print every x86_64 system call with ward's support level and what is missing");
  syscalls_command->add_option("--format", parsed.syscalls_options.format, "markdown, json or csv")
      ->check(CLI::IsMember({"markdown", "json", "csv"}))
      ->capture_default_str();

  std::vector<const char*> arguments;
  arguments.reserve(argv.size());
  for (const std::string& argument : argv) {
    arguments.push_back(argument.c_str());
  }
  try {
    app.parse(static_cast<int>(arguments.size()), arguments.data());
  } catch (const CLI::Success& done) {
    // --help: CLI11 formats the help of the subcommand that was named.
    std::ostringstream out;
    std::ostringstream err;
    const int status = app.exit(done, out, err);
    return CommandLineExit{.exit_status = status, .message = out.str() + err.str()};
  } catch (const CLI::ParseError& error) {
    return CommandLineExit{.exit_status = kExitUsage,
                           .message = std::string("ward: ") + error.what() + "\n"};
  }

  if (syscalls_command->parsed()) {
    parsed.syscalls_command = true;
    return parsed;
  }
  if (!do_command->parsed() && !compat_command->parsed()) {
    return CommandLineExit{.exit_status = kExitUsage,
                           .message = "ward: a subcommand is required\n"};
  }
  DoOptions& run_options =
      compat_command->parsed() ? parsed.compat_options.run : parsed.do_options;
  if (std::string error =
          finish_do_options(run_options, binds, tmpfs_mounts, user, overlay, overlay_size,
                            strace_filter);
      !error.empty()) {
    return CommandLineExit{.exit_status = kExitUsage, .message = "ward: " + error + "\n"};
  }
  parsed.do_command = do_command->parsed();
  parsed.compat_command = compat_command->parsed();
  return parsed;
}

std::vector<std::string> guest_environment(const DoOptions& options, uid_t guest_uid,
                                           const std::vector<std::string>& caller_environment) {
  std::vector<std::string> environment = {
      std::string("PATH=") + kDefaultPath,
      guest_uid == 0 ? "HOME=/root" : "HOME=/",
  };
  // Terminal programs need TERM to draw, and it names no secret.
  if (const std::string* term = find_variable(caller_environment, "TERM")) {
    environment.push_back(*term);
  }
  environment.emplace_back("LANG=C.UTF-8");

  for (const std::string& name : options.pass_env) {
    if (const std::string* variable = find_variable(caller_environment, name)) {
      set_variable(environment, name, *variable);
    }
  }
  for (const std::string& assignment : options.env) {
    const std::string_view name = std::string_view(assignment).substr(0, assignment.find('='));
    set_variable(environment, name, assignment);
  }
  return environment;
}

kernel::Credentials credentials_for_user(const UserIds& user) {
  kernel::Credentials creds;
  creds.real_uid = creds.effective_uid = creds.saved_uid = creds.fs_uid = user.uid;
  creds.real_gid = creds.effective_gid = creds.saved_gid = creds.fs_gid = user.gid;
  creds.supplementary_groups.clear();
  if (user.uid != 0) {
    creds.cap_permitted = {};
    creds.cap_effective = {};
    creds.cap_inheritable = {};
    creds.cap_ambient = {};
  }
  return creds;
}

}  // namespace ward::cli
