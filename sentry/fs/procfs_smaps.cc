#include "sentry/fs/procfs_smaps.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "sentry/fs/synthetic.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/memory_manager.h"

namespace ward::vfs {
namespace {

constexpr std::string_view kKilobyteSuffix = " kB";

bool is_header(std::string_view line) {
  // A header starts with the address range; an entry starts with its key.
  const size_t dash = line.find('-');
  const size_t space = line.find(' ');
  return dash != std::string_view::npos && space != std::string_view::npos && dash < space &&
         line.substr(0, dash).find(':') == std::string_view::npos;
}

bool parse_hex(std::string_view text, uint64_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return error == std::errc() && end == text.data() + text.size();
}

uint64_t overlap(uint64_t start, uint64_t end, const HostSmapsBlock& block) {
  const uint64_t low = std::max(start, block.start);
  const uint64_t high = std::min(end, block.end);
  return high > low ? high - low : 0;
}

// The host block that contains `address`, or null.
const HostSmapsBlock* block_at(std::span<const HostSmapsBlock> host, uint64_t address) {
  for (const HostSmapsBlock& block : host) {
    if (block.start <= address && address < block.end) {
      return &block;
    }
  }
  return nullptr;
}

// The VmFlags of a mapping the host does not show: the access bits of its
// permissions and Linux's may-access bits.
std::string fallback_vm_flags(const MapsLine& line) {
  std::string flags = "VmFlags: ";
  if (line.permissions[0] == 'r') {
    flags += "rd ";
  }
  if (line.permissions[1] == 'w') {
    flags += "wr ";
  }
  if (line.permissions[2] == 'x') {
    flags += "ex ";
  }
  if (line.permissions[3] == 's') {
    flags += "sh ";
  }
  flags += "mr mw me ";
  return flags;
}

std::string kilobyte_line(std::string_view key, uint64_t kilobytes) {
  return fmt::format("{:<16}{:>8} kB\n", std::string(key) + ":", kilobytes);
}

void append_block(std::string& text, const MapsLine& line, std::span<const HostSmapsBlock> host) {
  text += format_maps_line(line);
  const HostSmapsBlock* own = block_at(host, line.start);
  const HostSmapsBlock& layout = own != nullptr ? *own : host.front();
  bool has_vm_flags = false;

  for (const SmapsEntry& entry : layout.entries) {
    if (!entry.in_kilobytes) {
      if (entry.key == "VmFlags") {
        has_vm_flags = true;
        text += own != nullptr ? entry.line : fallback_vm_flags(line);
      } else if (own != nullptr) {
        text += entry.line;
      } else {
        text += entry.key + ":" +
                std::string(16 - std::min<size_t>(entry.key.size() + 1, 16), ' ') +
                fmt::format("{:>8}", 0);
      }
      text += '\n';
      continue;
    }
    if (entry.key == "Size") {
      text += kilobyte_line(entry.key, (line.end - line.start) / 1024);
      continue;
    }
    if (entry.key == "KernelPageSize" || entry.key == "MMUPageSize") {
      text += kilobyte_line(entry.key, entry.kilobytes);
      continue;
    }
    // The counter summed over the host mappings this one overlaps, each in
    // proportion to the part it shares.
    uint64_t total = 0;
    for (const HostSmapsBlock& block : host) {
      const uint64_t shared = overlap(line.start, line.end, block);
      if (shared == 0) {
        continue;
      }
      for (const SmapsEntry& counter : block.entries) {
        if (counter.key == entry.key && counter.in_kilobytes) {
          total += shared == block.end - block.start
                       ? counter.kilobytes
                       : counter.kilobytes * shared / (block.end - block.start);
        }
      }
    }
    text += kilobyte_line(entry.key, total);
  }
  if (!has_vm_flags) {
    text += fallback_vm_flags(line) + "\n";
  }
}

}  // namespace

Result<std::vector<HostSmapsBlock>> parse_host_smaps(std::string_view text) {
  std::vector<HostSmapsBlock> blocks;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) {
      continue;
    }

    if (is_header(line)) {
      const std::string_view range = line.substr(0, line.find(' '));
      const size_t dash = range.find('-');
      HostSmapsBlock block;
      if (!parse_hex(range.substr(0, dash), block.start) ||
          !parse_hex(range.substr(dash + 1), block.end) || block.end <= block.start) {
        return Errno{EINVAL};
      }
      blocks.push_back(std::move(block));
      continue;
    }
    if (blocks.empty()) {
      return Errno{EINVAL};
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    SmapsEntry entry;
    entry.key = std::string(line.substr(0, colon));
    if (line.size() > kKilobyteSuffix.size() &&
        line.substr(line.size() - kKilobyteSuffix.size()) == kKilobyteSuffix) {
      entry.in_kilobytes = true;
      entry.kilobytes = std::strtoull(std::string(line.substr(colon + 1)).c_str(), nullptr, 10);
    } else {
      entry.line = std::string(line);
    }
    blocks.back().entries.push_back(std::move(entry));
  }
  return blocks;
}

std::string format_smaps(std::span<const MapsLine> lines, std::span<const HostSmapsBlock> host) {
  std::string text;
  if (host.empty()) {
    return text;
  }
  for (const MapsLine& line : lines) {
    append_block(text, line, host);
  }
  return text;
}

Result<std::string> smaps_text(kernel::Task& task) {
  const std::vector<mm::Vma> vmas = task.mm().vmas();
  const std::vector<HostSpecialMapping> special = TRY(host_special_mappings(task));
  const pid_t host_pid = task.mm().address_space().host_pid();
  const std::string path = "/proc/" + std::to_string(host_pid) + "/smaps";
  const std::vector<HostSmapsBlock> host = TRY(parse_host_smaps(TRY(read_host_file(path.c_str()))));
  return format_smaps(maps_lines(vmas, special), host);
}

}  // namespace ward::vfs
