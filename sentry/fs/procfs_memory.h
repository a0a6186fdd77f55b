// The /proc/<pid> files that describe a guest address space: maps, the
// memory counts of stat and statm, and cmdline, environ and auxv, which
// read the argument and environment areas of the initial stack and the
// auxiliary vector the loader built. Each follows Linux's fs/proc/base.c
// and fs/proc/task_mmu.c byte for byte where ward keeps the same facts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "sentry/fs/procfs_host.h"
#include "sentry/mm/memory_manager.h"
#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {

// Copies guest memory at `addr` into `buffer` and returns the number of
// bytes copied, which is short (possibly 0) at the first unreadable page.
using GuestMemoryReader = std::function<size_t(GuestAddr addr, std::span<std::byte> buffer)>;

// A reader of the guest memory of `mm`, which must outlive it.
GuestMemoryReader guest_memory_reader(mm::MemoryManager& mm);

// One line of /proc/<pid>/maps.
struct MapsLine {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string permissions;  // "r-xp": read, write, execute, then shared or private
  uint64_t offset = 0;      // in the file, in bytes
  uint32_t device_major = 0;
  uint32_t device_minor = 0;
  uint64_t inode = 0;
  std::string name;  // the file's path, [heap], [stack], [vdso]..., or empty
};

// The line as Linux's show_map_vma prints it, newline included.
std::string format_maps_line(const MapsLine& line);

// The lines of maps: the guest's VMAs and the host kernel's mappings,
// merged in address order.
std::vector<MapsLine> maps_lines(std::span<const mm::Vma> vmas,
                                 std::span<const HostSpecialMapping> special);

// Page counts of an address space as Linux's mm_struct keeps them.
struct MemoryCounts {
  uint64_t total_pages = 0;  // total_vm: every VMA, the host kernel's included
  uint64_t data_pages = 0;   // data_vm + stack_vm: private writable memory and stacks
};
MemoryCounts count_memory(std::span<const mm::Vma> vmas,
                          std::span<const HostSpecialMapping> special);

// Linux's mm->start_brk: where the [heap] VMA begins, or the break itself
// while the heap is empty.
GuestAddr heap_start(std::span<const mm::Vma> vmas, GuestAddr brk);

// /proc/<pid>/cmdline as Linux's get_mm_cmdline reads it: the argv area,
// or, when the program overwrote the NUL that ends it (setproctitle), the
// first string from arg_start within one page, which may run on into the
// environment area.
std::string read_cmdline(const mm::MemoryManager::ImageInfo& image,
                         const GuestMemoryReader& read_memory);

// /proc/<pid>/environ: the environment area as it is now.
std::string read_environ(const mm::MemoryManager::ImageInfo& image,
                         const GuestMemoryReader& read_memory);

// /proc/<pid>/auxv: the auxiliary vector's 64-bit words, AT_NULL entry
// included.
std::string auxv_bytes(const mm::MemoryManager::ImageInfo& image);

// The text of /proc/<pid>/maps for `task`'s address space.
Result<std::string> maps_text(kernel::Task& task);

// The host kernel's mappings in `task`'s address space.
Result<std::vector<HostSpecialMapping>> host_special_mappings(kernel::Task& task);

}  // namespace ward::vfs
