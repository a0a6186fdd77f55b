// ward compat: run a program as `ward do` runs it, then write a report of
// the compatibility gaps it hit and of the preflight check of its binary.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "cli/do_options.h"
#include "cli/options.h"
#include "cli/sandbox_run.h"
#include "compat/preflight.h"
#include "compat/report.h"
#include "compat/sandbox_files.h"
#include "sentry/kernel/kernel.h"
#include "ward/unique_fd.h"

namespace ward::cli {
namespace {

// `ward compat --preflight`'s exit status when preflight finds a problem
// that stops the program from starting.
constexpr int kExitPreflightFailed = 1;

// `path` made absolute against the sandbox directory `cwd`. The path walk
// resolves "." and "..", so a plain join is enough.
std::string absolute_in(const std::string& cwd, std::string_view path) {
  if (!path.empty() && path.front() == '/') {
    return std::string(path);
  }
  return (cwd == "/" ? std::string() : cwd) + "/" + std::string(path);
}

// Checks the program that execvp would run: a name with a slash is a path,
// and any other name is looked up in the guest's PATH, where the first
// regular file found is the one execvp tries first.
compat::PreflightReport preflight_program(const SandboxSetup& setup, const std::string& program) {
  compat::SandboxRootFiles root(setup.mounts);
  if (program.find('/') != std::string::npos) {
    return compat::run_preflight(root, absolute_in(setup.cwd, program));
  }

  std::string_view directories = setup.search_path;
  for (;;) {
    const size_t colon = directories.find(':');
    const std::string_view directory = directories.substr(0, colon);
    // An empty PATH entry is the working directory, as execvp(3) takes it.
    const std::string candidate =
        absolute_in(setup.cwd, directory.empty() ? "." : directory) + "/" + program;
    if (root.open(candidate).ok()) {
      return compat::run_preflight(root, candidate);
    }
    if (colon == std::string_view::npos) {
      break;
    }
    directories.remove_prefix(colon + 1);
  }

  compat::PreflightReport report;
  report.program = program;
  report.findings.push_back(compat::PreflightFinding{
      .severity = compat::Severity::kError,
      .subject = program,
      .message = "the program is not a regular file in any directory of the guest's PATH (" +
                 setup.search_path + ")",
      .action = "give the program's path, or set a PATH that contains it with --env PATH=...",
  });
  return report;
}

// The report's destination: standard error, or a file opened before the
// program runs so that a bad --output fails before any work.
struct ReportOutput {
  UniqueFd file;     // invalid for standard error
  std::string name;  // the --output value, empty for standard error
};

// Opens --output. On failure prints a "ward: " line and returns nullopt.
std::optional<ReportOutput> open_report_output(const std::string& path) {
  if (path.empty()) {
    return ReportOutput{};
  }
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (file.get() < 0) {
    std::fprintf(stderr, "ward: --output: cannot open '%s': %s\n", path.c_str(),
                 std::strerror(errno));
    return std::nullopt;
  }
  return ReportOutput{.file = std::move(file), .name = path};
}

// Writes the whole report. On failure prints a "ward: " line and returns false.
bool write_report(const ReportOutput& output, const std::string& text) {
  const int fd = output.name.empty() ? STDERR_FILENO : output.file.get();
  std::fflush(stderr);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t written = ::write(fd, text.data() + done, text.size() - done);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      const int error = written < 0 ? errno : EIO;
      std::fprintf(stderr, "ward: cannot write the report to %s: %s\n",
                   output.name.empty() ? "standard error" : ("'" + output.name + "'").c_str(),
                   std::strerror(error));
      return false;
    }
    done += static_cast<size_t>(written);
  }
  return true;
}

}  // namespace

int run_compat(const GlobalOptions& global, const CompatOptions& options) {
  // The parser has checked the format.
  const compat::ReportFormat format =
      compat::parse_report_format(options.format).value_or(compat::ReportFormat::kText);
  std::optional<ReportOutput> output = open_report_output(options.output);
  if (!output) {
    return kExitUsage;
  }

  compat::CompatReport report;
  report.run.command = options.run.command;
  const std::string& program = options.run.command.front();

  if (options.preflight_only) {
    configure_logging(global, options.run.strace);
    auto made = make_sandbox_setup(options.run);
    if (const int* failed = std::get_if<int>(&made)) {
      return *failed;
    }
    report.preflight = preflight_program(std::get<SandboxSetup>(made), program);
    if (!write_report(*output, compat::render_report(report, format))) {
      return kExitSandboxFailed;
    }
    return report.preflight->ok() ? 0 : kExitPreflightFailed;
  }

  bool ran = false;
  const SandboxHooks hooks{
      .before_start =
          [&report, &program](const SandboxSetup& setup) {
            report.preflight = preflight_program(setup, program);
          },
      .after_run =
          [&report, &ran](kernel::Kernel& kernel, const SandboxEnd& end) {
            report.run.wait_status = end.wait_status;
            if (end.start_error) {
              report.run.start_error = end.start_error->value;
            }
            report.gaps = compat::order_gaps(kernel.gaps().records());
            ran = true;
          },
  };
  const int status = run_sandbox(global, options.run, hooks);
  // NOTE: when ward fails before the program starts (status 125), the
  // reason is already on stderr and no report is written.
  if (!ran) {
    return status;
  }
  if (!write_report(*output, compat::render_report(report, format))) {
    return kExitSandboxFailed;
  }
  return status;
}

}  // namespace ward::cli
