// /proc/<pid>/smaps: each line of maps followed by the memory counters of
// that mapping, as Linux's show_smap prints them.
//
// The guest's VMA list gives the lines and sizes. The counters (Rss, Pss,
// Swap...) and VmFlags are the host kernel's, read from the smaps of the
// stub process, whose mappings realise the guest's at the same addresses.
// A host mapping that spans more than one guest VMA has its counters split
// among them in proportion to the overlap, which is an estimate. The host's
// keys and their order are kept, so the file matches the host kernel's
// version.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sentry/fs/procfs_memory.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {

// One counter or attribute line of a host smaps block.
struct SmapsEntry {
  std::string key;
  bool in_kilobytes = false;
  uint64_t kilobytes = 0;  // the value, for a line that ends in " kB"
  std::string line;        // the whole line otherwise (THPeligible, VmFlags)
};

// One mapping of a host smaps file.
struct HostSmapsBlock {
  uint64_t start = 0;
  uint64_t end = 0;
  std::vector<SmapsEntry> entries;
};

// Parses a host smaps text; EINVAL for a header without an address range.
Result<std::vector<HostSmapsBlock>> parse_host_smaps(std::string_view text);

// smaps for the given maps lines, with the counters of `host`.
std::string format_smaps(std::span<const MapsLine> lines, std::span<const HostSmapsBlock> host);

// The smaps text of `task`'s address space.
Result<std::string> smaps_text(kernel::Task& task);

}  // namespace ward::vfs
