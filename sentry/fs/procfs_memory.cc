#include "sentry/fs/procfs_memory.h"

#include <elf.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstring>

#include "sentry/kernel/task.h"

namespace ward::vfs {
namespace {

// Linux pads a maps line to 25 + 6 * sizeof(void*) - 1 characters before
// the name, which follows one more space.
constexpr size_t kMapsNameColumn = 25 + 6 * sizeof(void*) - 1;

std::string vma_permissions(const mm::Vma& vma) {
  std::string text;
  text += (vma.prot & PROT_READ) != 0 ? 'r' : '-';
  text += (vma.prot & PROT_WRITE) != 0 ? 'w' : '-';
  text += (vma.prot & PROT_EXEC) != 0 ? 'x' : '-';
  text += vma.shared() ? 's' : 'p';
  return text;
}

// A path in maps, with a newline escaped as octal the way Linux's
// seq_file_path does, so that each mapping stays on one line.
std::string escape_maps_path(std::string_view path) {
  std::string escaped;
  for (char c : path) {
    if (c == '\n') {
      escaped += "\\012";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// Reads [start, start + length) page by page up to the first unreadable
// byte, as Linux's access_remote_vm loops do.
std::string read_guest_range(const GuestMemoryReader& read_memory, GuestAddr start,
                             uint64_t length) {
  std::string text;
  while (text.size() < length) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(kPageSize, length - text.size()));
    const size_t old_size = text.size();
    text.resize(old_size + chunk);
    const size_t got = read_memory(
        start + old_size, std::as_writable_bytes(std::span(text.data() + old_size, chunk)));
    text.resize(old_size + got);
    if (got < chunk) {
      break;
    }
  }
  return text;
}

}  // namespace

GuestMemoryReader guest_memory_reader(mm::MemoryManager& mm) {
  return [&mm](GuestAddr addr, std::span<std::byte> buffer) -> size_t {
    auto got = mm.address_space().read(addr, buffer);
    return got.ok() ? *got : 0;
  };
}

std::string format_maps_line(const MapsLine& line) {
  std::string text =
      fmt::format("{:08x}-{:08x} {} {:08x} {:02x}:{:02x} {} ", line.start, line.end,
                  line.permissions, line.offset, line.device_major, line.device_minor, line.inode);
  if (!line.name.empty()) {
    if (text.size() < kMapsNameColumn) {
      text.append(kMapsNameColumn - text.size(), ' ');
    }
    text += ' ';
    text += line.name;
  }
  text += '\n';
  return text;
}

std::vector<MapsLine> maps_lines(std::span<const mm::Vma> vmas,
                                 std::span<const HostSpecialMapping> special) {
  std::vector<MapsLine> lines;
  for (const mm::Vma& vma : vmas) {
    MapsLine line{.start = vma.start.value(),
                  .end = vma.end.value(),
                  .permissions = vma_permissions(vma),
                  .name = vma.name};
    if (vma.file != nullptr) {
      line.offset = vma.file_offset;
      line.device_major = major(vma.file->device);
      line.device_minor = minor(vma.file->device);
      line.inode = vma.file->inode;
      line.name = escape_maps_path(vma.file->path);
    }
    lines.push_back(std::move(line));
  }
  for (const HostSpecialMapping& mapping : special) {
    lines.push_back(MapsLine{.start = mapping.start,
                             .end = mapping.end,
                             .permissions = mapping.permissions,
                             .name = mapping.name});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const MapsLine& a, const MapsLine& b) { return a.start < b.start; });
  return lines;
}

MemoryCounts count_memory(std::span<const mm::Vma> vmas,
                          std::span<const HostSpecialMapping> special) {
  MemoryCounts counts;
  for (const mm::Vma& vma : vmas) {
    const uint64_t pages = vma.length() / kPageSize;
    counts.total_pages += pages;

    // Linux's vm_stat_account: executable code first, then stacks, then
    // private writable data.
    const bool writable = (vma.prot & PROT_WRITE) != 0;
    const bool stack = (vma.flags & MAP_GROWSDOWN) != 0;
    if ((vma.prot & PROT_EXEC) != 0 && !writable && !stack) {
      continue;
    }
    if (stack || (writable && !vma.shared())) {
      counts.data_pages += pages;
    }
  }
  for (const HostSpecialMapping& mapping : special) {
    if (mapping.counts_as_mapped()) {
      counts.total_pages += (mapping.end - mapping.start) / kPageSize;
    }
  }
  return counts;
}

GuestAddr heap_start(std::span<const mm::Vma> vmas, GuestAddr brk) {
  // The heap VMA begins at the initial break, which the loader page-aligns.
  // NOTE: after the guest unmaps the first page of its heap, this is the
  // start of what is left.
  for (const mm::Vma& vma : vmas) {
    if (vma.name == "[heap]") {
      return vma.start;
    }
  }
  return brk;
}

std::string read_cmdline(const mm::MemoryManager::ImageInfo& image,
                         const GuestMemoryReader& read_memory) {
  // No argv area before the first exec has built one.
  if (image.env_end.is_null() || image.arg_start >= image.arg_end) {
    return {};
  }

  // A rewritten argv may run on into the environment area, if that
  // follows it directly.
  GuestAddr env_end = image.env_end;
  if (image.env_start != image.arg_end || image.env_end < image.env_start) {
    env_end = image.arg_end;
  }
  const uint64_t length_limit = env_end - image.arg_start;

  std::byte last{};
  const bool rewritten =
      read_memory(image.arg_end - 1, std::span(&last, 1)) == 1 && last != std::byte{0};
  if (!rewritten) {
    return read_guest_range(read_memory, image.arg_start, image.arg_end - image.arg_start);
  }

  // setproctitle: the first string of the page at arg_start, its NUL
  // included when the page has one.
  std::string page = read_guest_range(read_memory, image.arg_start, kPageSize);
  size_t length = strnlen(page.data(), page.size());
  if (length < page.size()) {
    ++length;
  }
  page.resize(static_cast<size_t>(std::min<uint64_t>(length, length_limit)));
  return page;
}

std::string read_environ(const mm::MemoryManager::ImageInfo& image,
                         const GuestMemoryReader& read_memory) {
  if (image.env_end.is_null() || image.env_start >= image.env_end) {
    return {};
  }
  return read_guest_range(read_memory, image.env_start, image.env_end - image.env_start);
}

std::string auxv_bytes(const mm::MemoryManager::ImageInfo& image) {
  // Linux keeps the vector up to and including its AT_NULL entry; an empty
  // one reads as that entry alone.
  std::vector<uint64_t> words;
  for (size_t i = 0; i + 1 < image.auxv.size(); i += 2) {
    words.push_back(image.auxv[i]);
    words.push_back(image.auxv[i + 1]);
    if (image.auxv[i] == AT_NULL) {
      break;
    }
  }
  if (words.empty() || words[words.size() - 2] != AT_NULL) {
    words.push_back(AT_NULL);
    words.push_back(0);
  }
  const auto bytes = std::as_bytes(std::span(words));
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Result<std::vector<HostSpecialMapping>> host_special_mappings(kernel::Task& task) {
  return read_host_special_mappings(task.mm().address_space().host_pid());
}

Result<std::string> maps_text(kernel::Task& task) {
  const std::vector<mm::Vma> vmas = task.mm().vmas();
  const std::vector<HostSpecialMapping> special = TRY(host_special_mappings(task));
  std::string text;
  for (const MapsLine& line : maps_lines(vmas, special)) {
    text += format_maps_line(line);
  }
  return text;
}

}  // namespace ward::vfs
