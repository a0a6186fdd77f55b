#include "compat/preflight.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "compat/elf_file.h"
#include "compat/ld_cache.h"
#include "ward/errno_name.h"

namespace ward::compat {
namespace {

constexpr std::string_view kLdCachePath = "/etc/ld.so.cache";
// The largest /etc/ld.so.cache read; a full distribution's is under 1 MiB.
constexpr uint64_t kMaxLdCacheBytes = 16 * 1024 * 1024;
// Objects one preflight loads at most, a guard against a library cycle
// under many names.
constexpr size_t kMaxObjects = 1024;
// The longest #! line Linux reads (BINPRM_BUF_SIZE).
constexpr size_t kShebangBytes = 256;

// An object of the program's link map: the program or one of its libraries.
struct LoadedObject {
  std::string path;
  DynamicInfo dynamic;
};

Result<std::vector<std::byte>> read_whole(const ObjectFile& file, uint64_t max_bytes) {
  if (file.size_bytes > max_bytes) {
    return Errno{EFBIG};
  }
  std::vector<std::byte> bytes(file.size_bytes);
  size_t done = 0;
  while (done < bytes.size()) {
    const size_t got = TRY(file.read(done, std::span(bytes).subspan(done)));
    if (got == 0) {
      break;
    }
    done += got;
  }
  bytes.resize(done);
  return bytes;
}

std::string directory_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return ".";
  }
  return slash == 0 ? std::string("/") : std::string(path.substr(0, slash));
}

// Replaces every `token` and `{token}` after a '$' in `text` with `value`.
std::string replace_token(std::string text, std::string_view token, std::string_view value) {
  for (const std::string& form : {"$" + std::string(token), "${" + std::string(token) + "}"}) {
    for (size_t at = text.find(form); at != std::string::npos; at = text.find(form, at)) {
      text.replace(at, form.size(), value);
      at += value.size();
    }
  }
  return text;
}

// The directories of a DT_RPATH or DT_RUNPATH list, with the loader's
// dynamic string tokens expanded: $ORIGIN to the object's directory,
// $PLATFORM to x86_64, and $LIB to both names it has on x86_64 (lib64,
// and Debian's lib/x86_64-linux-gnu).
std::vector<std::string> search_dirs(std::string_view list, std::string_view object_path) {
  std::vector<std::string> dirs;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(':', start);
    if (end == std::string_view::npos) {
      end = list.size();
    }
    std::string dir(list.substr(start, end - start));
    start = end + 1;
    if (dir.empty()) {
      continue;
    }
    dir = replace_token(dir, "ORIGIN", directory_of(object_path));
    dir = replace_token(dir, "PLATFORM", "x86_64");
    if (dir.find("$LIB") != std::string::npos || dir.find("${LIB}") != std::string::npos) {
      dirs.push_back(replace_token(dir, "LIB", "lib/x86_64-linux-gnu"));
      dir = replace_token(dir, "LIB", "lib64");
    }
    dirs.push_back(dir);
  }
  return dirs;
}

// The numeric parts of a version name's tail: "GLIBC_2.34" gives prefix
// "GLIBC_" and {2, 34}.
std::pair<std::string, std::vector<long>> split_version(std::string_view name) {
  size_t digits = name.size();
  while (digits > 0 && (std::isdigit(static_cast<unsigned char>(name[digits - 1])) != 0 ||
                        name[digits - 1] == '.')) {
    --digits;
  }
  std::vector<long> numbers;
  std::string_view tail = name.substr(digits);
  size_t start = 0;
  while (start < tail.size()) {
    size_t dot = tail.find('.', start);
    if (dot == std::string_view::npos) {
      dot = tail.size();
    }
    long value = 0;
    for (char c : tail.substr(start, dot - start)) {
      value = value * 10 + (c - '0');
    }
    numbers.push_back(value);
    start = dot + 1;
  }
  return {std::string(name.substr(0, digits)), numbers};
}

// The newest version of `library` in the family of `wanted` ("GLIBC_"), or
// empty when it defines none.
std::string newest_in_family(const std::vector<std::string>& defined, std::string_view wanted) {
  const auto [prefix, ignored] = split_version(wanted);
  std::string newest;
  std::vector<long> newest_numbers;
  for (const std::string& version : defined) {
    auto [version_prefix, numbers] = split_version(version);
    if (version_prefix != prefix || numbers.empty()) {
      continue;
    }
    if (newest.empty() || numbers > newest_numbers) {
      newest = version;
      newest_numbers = numbers;
    }
  }
  return newest;
}

class Preflight {
 public:
  Preflight(RootFiles& root, PreflightReport& report) : root_(root), report_(report) {}

  void run(std::string_view program);

 private:
  void add(Severity severity, std::string subject, std::string message, std::string action = {}) {
    report_.findings.push_back(PreflightFinding{
        .severity = severity,
        .subject = std::move(subject),
        .message = std::move(message),
        .action = std::move(action),
    });
  }

  // Opens an ELF file of the root. Reports nothing.
  Result<std::pair<ObjectFile, ElfFile>> open_elf(std::string_view path);
  void check_architecture(const ElfFile& elf, std::string_view path, std::string_view role);
  void load_ld_cache();
  // Finds `name` for `requester` by the loader's rules; empty when absent.
  std::string find_library(std::string_view name, const LoadedObject& requester,
                           std::vector<std::string>& searched, std::string& wrong_class);
  void resolve_libraries(LoadedObject program);
  void check_versions();

  RootFiles& root_;
  PreflightReport& report_;
  std::optional<LdCache> ld_cache_;
  std::string program_rpath_;
  std::string program_path_;
  std::vector<LoadedObject> objects_;           // the program, then libraries in load order
  std::map<std::string, size_t> by_name_;       // DT_NEEDED name -> objects_ index
};

Result<std::pair<ObjectFile, ElfFile>> Preflight::open_elf(std::string_view path) {
  ObjectFile file = TRY(root_.open(path));
  ElfFile elf = TRY(ElfFile::parse(file.read, file.size_bytes));
  return std::pair<ObjectFile, ElfFile>(std::move(file), std::move(elf));
}

void Preflight::check_architecture(const ElfFile& elf, std::string_view path,
                                   std::string_view role) {
  if (elf.elf_class() != ELFCLASS64) {
    add(Severity::kError, std::string(path),
        fmt::format("the {} is a 32-bit ELF file; ward runs x86_64 (ELFCLASS64) programs only",
                    role),
        "build the program for x86_64, or run it outside ward");
  } else if (elf.machine() != EM_X86_64) {
    add(Severity::kError, std::string(path),
        fmt::format("the {} is built for ELF machine {}, not x86_64 (EM_X86_64 = {})", role,
                    elf.machine(), EM_X86_64),
        "build the program for x86_64, or run it outside ward");
  }
}

void Preflight::load_ld_cache() {
  Result<ObjectFile> file = root_.open(kLdCachePath);
  if (!file.ok()) {
    add(Severity::kInfo, std::string(kLdCachePath),
        "the root has no loader cache, so only DT_RPATH, DT_RUNPATH and the default "
        "directories are searched",
        "run ldconfig in the root if libraries live in other directories");
    return;
  }
  Result<std::vector<std::byte>> bytes = read_whole(*file, kMaxLdCacheBytes);
  Result<LdCache> cache = bytes.ok() ? LdCache::parse(*bytes) : Result<LdCache>(bytes.error());
  if (!cache.ok()) {
    add(Severity::kWarning, std::string(kLdCachePath),
        fmt::format("the loader cache cannot be read ({}), and the loader would ignore it",
                    errno_name(cache.error().value)),
        "run ldconfig in the root to rebuild it");
    return;
  }
  ld_cache_ = std::move(*cache);
}

std::string Preflight::find_library(std::string_view name, const LoadedObject& requester,
                                    std::vector<std::string>& searched, std::string& wrong_class) {
  std::vector<std::string> candidates;
  if (name.find('/') != std::string_view::npos) {
    candidates.emplace_back(name.front() == '/' ? std::string(name) : "/" + std::string(name));
  } else {
    // DT_RPATH counts only for an object without DT_RUNPATH; the
    // program's own DT_RPATH then applies to its libraries too.
    std::vector<std::string> dirs;
    if (requester.dynamic.runpath.empty()) {
      for (std::string& dir : search_dirs(requester.dynamic.rpath, requester.path)) {
        dirs.push_back(std::move(dir));
      }
      if (requester.path != program_path_) {
        for (std::string& dir : search_dirs(program_rpath_, program_path_)) {
          dirs.push_back(std::move(dir));
        }
      }
    }
    for (std::string& dir : search_dirs(requester.dynamic.runpath, requester.path)) {
      dirs.push_back(std::move(dir));
    }
    for (const std::string& dir : dirs) {
      candidates.push_back(dir + "/" + std::string(name));
    }
    if (ld_cache_.has_value()) {
      if (std::optional<std::string> cached = ld_cache_->find(name)) {
        candidates.push_back(*cached);
      }
    }
    for (std::string_view dir : kDefaultLibraryDirs) {
      candidates.push_back(std::string(dir) + "/" + std::string(name));
    }
  }

  for (const std::string& candidate : candidates) {
    if (std::find(searched.begin(), searched.end(), candidate) != searched.end()) {
      continue;
    }
    searched.push_back(candidate);
    Result<std::pair<ObjectFile, ElfFile>> opened = open_elf(candidate);
    if (!opened.ok()) {
      continue;
    }
    // The loader skips a file of the wrong class or machine and searches on.
    if (!opened->second.is_x86_64()) {
      wrong_class = candidate;
      continue;
    }
    return candidate;
  }
  return {};
}

void Preflight::resolve_libraries(LoadedObject program) {
  program_rpath_ = program.dynamic.rpath;
  objects_.push_back(std::move(program));

  for (size_t next = 0; next < objects_.size() && objects_.size() < kMaxObjects; ++next) {
    // Copied: objects_ grows below.
    const LoadedObject requester = objects_[next];
    for (const std::string& name : requester.dynamic.needed) {
      if (by_name_.contains(name)) {
        continue;
      }
      std::vector<std::string> searched;
      std::string wrong_class;
      const std::string path = find_library(name, requester, searched, wrong_class);
      if (path.empty()) {
        std::string message = fmt::format("{} needs {}, which the loader would not find in the "
                                          "root; searched {}",
                                          requester.path, name, fmt::join(searched, ", "));
        if (!wrong_class.empty()) {
          message += fmt::format(" ({} is not an x86_64 ELF file)", wrong_class);
        }
        add(Severity::kError, name, std::move(message),
            "install the library into the root (a directory the loader searches, then run "
            "ldconfig there), or link the program statically");
        by_name_.emplace(name, SIZE_MAX);
        continue;
      }

      Result<std::pair<ObjectFile, ElfFile>> opened = open_elf(path);
      Result<DynamicInfo> dynamic =
          opened.ok() ? opened->second.dynamic() : Result<DynamicInfo>(opened.error());
      if (!dynamic.ok()) {
        add(Severity::kError, name,
            fmt::format("{} has a malformed dynamic section ({})", path,
                        errno_name(dynamic.error().value)),
            "replace the file with an intact copy of the library");
        by_name_.emplace(name, SIZE_MAX);
        continue;
      }
      report_.libraries.push_back(
          ResolvedLibrary{.name = name, .path = path, .needed_by = requester.path});
      by_name_.emplace(name, objects_.size());
      objects_.push_back(LoadedObject{.path = path, .dynamic = std::move(*dynamic)});
    }
  }
}

void Preflight::check_versions() {
  std::set<std::pair<std::string, std::string>> reported;
  for (const LoadedObject& object : objects_) {
    for (const NeededVersion& need : object.dynamic.needed_versions) {
      auto it = by_name_.find(need.library);
      if (it == by_name_.end() || it->second == SIZE_MAX) {
        continue;  // the missing library is reported already
      }
      const LoadedObject& provider = objects_[it->second];
      const std::vector<std::string>& defined = provider.dynamic.defined_versions;
      if (std::find(defined.begin(), defined.end(), need.version) != defined.end()) {
        continue;
      }
      if (!reported.emplace(need.library, need.version).second) {
        continue;
      }
      const std::string newest = newest_in_family(defined, need.version);
      const std::string have =
          newest.empty() ? std::string("no version of that family")
                         : fmt::format("versions up to {}", newest);
      add(need.weak ? Severity::kWarning : Severity::kError, need.version,
          fmt::format("{} needs version {} of {}, but the root's {} defines {}", object.path,
                      need.version, need.library, provider.path, have),
          fmt::format("use a root with a newer {} (from the distribution the program was built "
                      "on, or later), or rebuild the program against the root's",
                      need.library));
    }
  }
}

void Preflight::run(std::string_view program) {
  report_.program = std::string(program);
  program_path_ = std::string(program);

  Result<ObjectFile> file = root_.open(program);
  if (!file.ok()) {
    add(Severity::kError, std::string(program),
        fmt::format("the program cannot be opened in the root ({})",
                    errno_name(file.error().value)),
        "check the path: it is looked up inside the sandbox root, symlinks included");
    return;
  }

  // A #! script: check its interpreter instead, once.
  std::vector<std::byte> head(std::min<uint64_t>(file->size_bytes, kShebangBytes));
  Result<size_t> got = file->read(0, head);
  if (got.ok() && *got >= 2 && head[0] == std::byte{'#'} && head[1] == std::byte{'!'}) {
    std::string line(reinterpret_cast<const char*>(head.data()) + 2, *got - 2);
    line = line.substr(0, line.find('\n'));
    const size_t start = line.find_first_not_of(" \t");
    const std::string interpreter =
        start == std::string::npos ? "" : line.substr(start, line.find_first_of(" \t", start) - start);
    if (interpreter.empty()) {
      add(Severity::kError, std::string(program), "the #! line names no interpreter",
          "start the script with #!/path/to/interpreter");
      return;
    }
    if (!report_.script_interpreter.empty()) {
      add(Severity::kWarning, std::string(program),
          fmt::format("the interpreter is itself a script run by {}, which preflight does not "
                      "check further",
                      interpreter));
      return;
    }
    report_.script_interpreter = interpreter;
    add(Severity::kInfo, std::string(program),
        fmt::format("a script run by {}", interpreter));
    run(interpreter);
    report_.program = std::string(program);
    return;
  }

  Result<ElfFile> elf = ElfFile::parse(file->read, file->size_bytes);
  if (!elf.ok()) {
    add(Severity::kError, std::string(program),
        "the program is neither an ELF binary nor a #! script, so execve fails with ENOEXEC",
        "check that the file is a complete x86_64 Linux binary");
    return;
  }
  check_architecture(*elf, program, "program");
  if (!elf->is_x86_64()) {
    return;
  }

  Result<std::optional<std::string>> interpreter = elf->interpreter();
  if (!interpreter.ok()) {
    add(Severity::kError, std::string(program), "the program's PT_INTERP is malformed",
        "check that the file is a complete x86_64 Linux binary");
    return;
  }
  if (!interpreter->has_value()) {
    report_.kind = elf->type() == ET_DYN ? BinaryKind::kStaticPie : BinaryKind::kStatic;
    add(Severity::kInfo, std::string(program),
        "a static binary: it needs no loader or libraries from the root");
    return;
  }

  report_.kind = BinaryKind::kDynamic;
  report_.interpreter = **interpreter;
  Result<std::pair<ObjectFile, ElfFile>> loader = open_elf(report_.interpreter);
  if (!loader.ok()) {
    add(Severity::kError, report_.interpreter,
        fmt::format("the program's loader (PT_INTERP) is missing from the root ({}), so execve "
                    "fails with ENOENT",
                    errno_name(loader.error().value)),
        "use a root that has the loader and the program's libraries (a distribution's libc "
        "package), or link the program statically");
    return;
  }
  check_architecture(loader->second, report_.interpreter, "loader");

  Result<DynamicInfo> dynamic = elf->dynamic();
  if (!dynamic.ok()) {
    add(Severity::kError, std::string(program), "the program's dynamic section is malformed",
        "check that the file is a complete x86_64 Linux binary");
    return;
  }
  load_ld_cache();
  resolve_libraries(LoadedObject{.path = std::string(program), .dynamic = std::move(*dynamic)});
  check_versions();
}

}  // namespace

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "unknown";
}

std::string_view binary_kind_name(BinaryKind kind) {
  switch (kind) {
    case BinaryKind::kUnknown: return "unknown";
    case BinaryKind::kStatic: return "static";
    case BinaryKind::kStaticPie: return "static-pie";
    case BinaryKind::kDynamic: return "dynamic";
  }
  return "unknown";
}

bool PreflightReport::ok() const {
  return std::none_of(findings.begin(), findings.end(), [](const PreflightFinding& finding) {
    return finding.severity == Severity::kError;
  });
}

PreflightReport run_preflight(RootFiles& root, std::string_view program) {
  PreflightReport report;
  Preflight(root, report).run(program);
  return report;
}

}  // namespace ward::compat
