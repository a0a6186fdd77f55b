// Preflight: what a program needs from a sandbox root before it can start,
// checked without running it. A static binary needs nothing; a dynamic one
// needs its PT_INTERP loader, every DT_NEEDED library as the loader would
// find it, and every symbol version (DT_VERNEED) its libraries define.
// Each finding says what to do about it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compat/symbolizer.h"
#include "ward/result.h"

namespace ward::compat {

// The files of a sandbox root.
class RootFiles {
 public:
  virtual ~RootFiles() = default;

  // Opens the regular file at absolute `path`, with symlinks resolved
  // inside the root.
  virtual Result<ObjectFile> open(std::string_view path) = 0;
};

enum class Severity : uint8_t { kInfo, kWarning, kError };

std::string_view severity_name(Severity severity);

struct PreflightFinding {
  Severity severity = Severity::kInfo;
  std::string subject = {};  // the file, library or version concerned
  std::string message = {};  // what was found
  std::string action = {};   // what to do, empty for a plain fact
};

// A library as the loader would map it.
struct ResolvedLibrary {
  std::string name = {};       // the DT_NEEDED name
  std::string path = {};       // where it was found in the root
  std::string needed_by = {};  // the path of the first object that needs it
};

enum class BinaryKind : uint8_t { kUnknown, kStatic, kStaticPie, kDynamic };

std::string_view binary_kind_name(BinaryKind kind);

struct PreflightReport {
  std::string program = {};      // the path checked, inside the root
  std::string script_interpreter = {};  // the #! interpreter, when the program is a script
  BinaryKind kind = BinaryKind::kUnknown;
  std::string interpreter = {};  // PT_INTERP, for a dynamic binary
  std::vector<ResolvedLibrary> libraries = {};
  std::vector<PreflightFinding> findings = {};

  // Whether nothing stops the program from starting: no error finding.
  bool ok() const;
};

// The directories the x86_64 loader searches after DT_RUNPATH and
// /etc/ld.so.cache: glibc's built-in ones plus Debian's multiarch ones.
inline constexpr std::string_view kDefaultLibraryDirs[] = {
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib",
    "/usr/lib"};

// Checks `program`, an absolute path inside `root`.
PreflightReport run_preflight(RootFiles& root, std::string_view program);

}  // namespace ward::compat
