#include "sentry/fs/procfs_host.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <sstream>

#include "sentry/fs/synthetic.h"

namespace ward::vfs {
namespace {

constexpr std::array<std::string_view, 4> kHostSpecialMappingNames = {
    "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]"};

std::string host_proc_path(pid_t host_pid, std::string_view file) {
  return "/proc/" + std::to_string(host_pid) + "/" + std::string(file);
}

template <typename Number>
bool parse_number(std::string_view text, Number& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<HostStat> parse_host_stat(std::string_view line) {
  const size_t name_end = line.rfind(')');
  if (name_end == std::string_view::npos) {
    return Errno{EINVAL};
  }

  // Field 3 (the state) is the first after the name.
  std::vector<std::string_view> fields;
  std::string_view rest = line.substr(name_end + 1);
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) {
      break;
    }
    rest = rest.substr(start);
    const size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest = rest.substr(end);
  }
  auto field = [&](size_t number) { return fields[number - 3]; };

  constexpr size_t kProcessorField = 39;
  if (fields.size() < kProcessorField - 2 || field(3).size() != 1) {
    return Errno{EINVAL};
  }
  HostStat stat;
  stat.state = field(3)[0];
  if (!parse_number(field(10), stat.minor_faults) || !parse_number(field(12), stat.major_faults) ||
      !parse_number(field(14), stat.utime_ticks) || !parse_number(field(15), stat.stime_ticks) ||
      !parse_number(field(kProcessorField), stat.processor)) {
    return Errno{EINVAL};
  }
  return stat;
}

Result<HostStat> read_host_process_stat(pid_t host_pid) {
  const std::string text = TRY(read_host_file(host_proc_path(host_pid, "stat").c_str()));
  return parse_host_stat(text);
}

Result<HostStat> read_host_thread_stat(pid_t host_pid, pid_t host_tid) {
  const std::string path = host_proc_path(host_pid, "task/" + std::to_string(host_tid) + "/stat");
  const std::string text = TRY(read_host_file(path.c_str()));
  return parse_host_stat(text);
}

Result<HostStatm> read_host_statm(pid_t host_pid) {
  const std::string text = TRY(read_host_file(host_proc_path(host_pid, "statm").c_str()));
  std::istringstream fields(text);
  uint64_t size_pages = 0;
  HostStatm statm;
  if (!(fields >> size_pages >> statm.resident_pages >> statm.shared_pages)) {
    return Errno{EINVAL};
  }
  return statm;
}

Result<std::vector<HostSpecialMapping>> read_host_special_mappings(pid_t host_pid) {
  const std::string text = TRY(read_host_file(host_proc_path(host_pid, "maps").c_str()));
  std::vector<HostSpecialMapping> mappings;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string range, permissions, offset, device, inode, name;
    fields >> range >> permissions >> offset >> device >> inode >> name;
    if (std::find(kHostSpecialMappingNames.begin(), kHostSpecialMappingNames.end(), name) ==
        kHostSpecialMappingNames.end()) {
      continue;
    }
    const size_t dash = range.find('-');
    HostSpecialMapping mapping{.permissions = permissions, .name = name};
    if (dash == std::string::npos) {
      return Errno{EINVAL};
    }
    const std::string_view start(range.data(), dash);
    const std::string_view end(range.data() + dash + 1, range.size() - dash - 1);
    if (std::from_chars(start.data(), start.data() + start.size(), mapping.start, 16).ec !=
            std::errc() ||
        std::from_chars(end.data(), end.data() + end.size(), mapping.end, 16).ec != std::errc()) {
      return Errno{EINVAL};
    }
    mappings.push_back(std::move(mapping));
  }
  return mappings;
}

}  // namespace ward::vfs
