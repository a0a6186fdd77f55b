#include "sentry/mm/memory_manager.h"

#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

namespace ward::mm {
namespace {

// Where MAP_32BIT mappings go, as on Linux x86_64: the second gigabyte.
constexpr GuestAddr kMap32BitLow(0x40000000);
constexpr GuestAddr kMap32BitHigh(0x80000000);

bool same_backing(const Vma& left, const Vma& right) {
  if (left.prot != right.prot || left.flags != right.flags || left.file != right.file ||
      left.name != right.name || left.dont_fork != right.dont_fork ||
      left.shared_anonymous != right.shared_anonymous) {
    return false;
  }
  return !left.has_offset() || left.file_offset + left.length() == right.file_offset;
}

bool is_known_advice(int advice) {
  switch (advice) {
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_WILLNEED:
    case MADV_DONTNEED:
    case MADV_FREE:
    case MADV_REMOVE:
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE:
    case MADV_HWPOISON:
    case kMadvSoftOffline:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::shared_ptr<MemoryManager>> MemoryManager::create(platform::Platform& platform) {
  auto space = TRY(platform.new_address_space());
  return std::shared_ptr<MemoryManager>(new MemoryManager(platform, std::move(space)));
}

MemoryManager::MemoryManager(platform::Platform& platform,
                             std::unique_ptr<platform::AddressSpace> space)
    : platform_(platform), space_(std::move(space)), max_address_(kTaskSize) {
  for (const platform::AddrRange& range : space_->reserved_ranges()) {
    max_address_ = std::min(max_address_, range.start.page_down());
  }
  mmap_base_ = max_address_;
}

MemoryManager::~MemoryManager() = default;

// ---------------------------------------------------------------------------
// Guest memory copies

Result<void> MemoryManager::copy_in(GuestAddr addr, std::span<std::byte> buffer) {
  if (buffer.empty()) {
    return ok();
  }
  size_t copied = TRY(space_->read(addr, buffer));
  if (copied != buffer.size()) {
    return Errno{EFAULT};
  }
  return ok();
}

Result<void> MemoryManager::copy_out(GuestAddr addr, std::span<const std::byte> buffer) {
  if (buffer.empty()) {
    return ok();
  }
  size_t copied = TRY(space_->write(addr, buffer));
  if (copied != buffer.size()) {
    return Errno{EFAULT};
  }
  return ok();
}

Result<std::string> MemoryManager::copy_in_string(GuestAddr addr, size_t max_bytes) {
  std::string text;
  GuestAddr cursor = addr;
  while (text.size() < max_bytes) {
    // Read at most to the end of the page, so that a string that ends just
    // before an unmapped page is still read whole.
    uint64_t to_page_end = kPageSize - (cursor.value() & (kPageSize - 1));
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(to_page_end, max_bytes - text.size()));
    char buffer[kPageSize];
    size_t copied = TRY(space_->read(cursor, std::as_writable_bytes(std::span(buffer, chunk))));
    const char* nul = static_cast<const char*>(std::memchr(buffer, '\0', copied));
    if (nul != nullptr) {
      text.append(buffer, static_cast<size_t>(nul - buffer));
      return text;
    }
    text.append(buffer, copied);
    if (copied < chunk) {
      return Errno{EFAULT};
    }
    cursor += chunk;
  }
  return Errno{ENAMETOOLONG};
}

// ---------------------------------------------------------------------------
// The VMA list

bool MemoryManager::in_user_range(GuestAddr start, uint64_t length) const {
  return start <= max_address_ && length <= max_address_ - start;
}

bool MemoryManager::range_is_free(GuestAddr start, uint64_t length) const {
  GuestAddr end = start + length;
  auto it = vmas_.upper_bound(start.value());
  if (it != vmas_.begin()) {
    auto previous = std::prev(it);
    if (previous->second.end > start) {
      return false;
    }
  }
  return it == vmas_.end() || it->second.start >= end;
}

bool MemoryManager::range_is_mapped(GuestAddr start, uint64_t length) const {
  GuestAddr cursor = start;
  GuestAddr end = start + length;
  while (cursor < end) {
    auto it = vmas_.upper_bound(cursor.value());
    if (it == vmas_.begin()) {
      return false;
    }
    const Vma& vma = std::prev(it)->second;
    if (vma.end <= cursor) {
      return false;
    }
    cursor = vma.end;
  }
  return true;
}

void MemoryManager::split_at(GuestAddr at) {
  auto it = vmas_.upper_bound(at.value());
  if (it == vmas_.begin()) {
    return;
  }
  Vma& vma = std::prev(it)->second;
  if (vma.start >= at || vma.end <= at) {
    return;
  }
  Vma upper = vma;
  upper.start = at;
  if (upper.has_offset()) {
    upper.file_offset += at - vma.start;
  }
  vma.end = at;
  vmas_.emplace(at.value(), std::move(upper));
}

void MemoryManager::forget_range(GuestAddr start, GuestAddr end) {
  split_at(start);
  split_at(end);
  auto first = vmas_.lower_bound(start.value());
  auto last = vmas_.lower_bound(end.value());
  vmas_.erase(first, last);
}

void MemoryManager::merge_around(GuestAddr start, GuestAddr end) {
  auto it = vmas_.upper_bound(start.value());
  if (it != vmas_.begin()) {
    --it;
  }
  while (it != vmas_.end() && it->second.start <= end) {
    auto next = std::next(it);
    if (next == vmas_.end()) {
      break;
    }
    if (it->second.end == next->second.start && same_backing(it->second, next->second)) {
      it->second.end = next->second.end;
      vmas_.erase(next);
      continue;
    }
    it = next;
  }
}

std::optional<GuestAddr> MemoryManager::find_free_range(uint64_t length, GuestAddr below,
                                                        GuestAddr lowest) const {
  if (length > below - GuestAddr(0)) {
    return std::nullopt;
  }
  GuestAddr candidate_end = below;
  // Walk the VMAs from the top down, trying the gap above each one.
  auto it = vmas_.lower_bound(below.value());
  while (true) {
    GuestAddr gap_start = lowest;
    if (it != vmas_.begin()) {
      gap_start = std::max(lowest, std::prev(it)->second.end);
    }
    if (candidate_end >= gap_start && candidate_end - gap_start >= length) {
      return candidate_end - length;
    }
    if (it == vmas_.begin()) {
      return std::nullopt;
    }
    --it;
    candidate_end = std::min(candidate_end, it->second.start);
    if (candidate_end < lowest) {
      return std::nullopt;
    }
  }
}

uint64_t MemoryManager::accessible_bytes(GuestAddr addr, uint64_t max_bytes, int prot) const {
  uint64_t found = 0;
  GuestAddr cursor = addr;
  while (found < max_bytes) {
    auto it = vmas_.upper_bound(cursor.value());
    if (it == vmas_.begin()) {
      break;
    }
    const Vma& vma = std::prev(it)->second;
    if (vma.end <= cursor || (vma.prot & prot) != prot) {
      break;
    }
    found += vma.end - cursor;
    cursor = vma.end;
  }
  return std::min(found, max_bytes);
}

std::vector<Vma> MemoryManager::vmas() const {
  std::vector<Vma> list;
  list.reserve(vmas_.size());
  for (const auto& [start, vma] : vmas_) {
    list.push_back(vma);
  }
  return list;
}

const Vma* MemoryManager::find_vma(GuestAddr addr) const {
  auto it = vmas_.upper_bound(addr.value());
  if (it == vmas_.begin()) {
    return nullptr;
  }
  const Vma& vma = std::prev(it)->second;
  return addr < vma.end ? &vma : nullptr;
}

uint64_t MemoryManager::mapped_bytes_in(GuestAddr start, GuestAddr end) const {
  uint64_t total = 0;
  auto it = vmas_.upper_bound(start.value());
  if (it != vmas_.begin()) {
    --it;
  }
  for (; it != vmas_.end() && it->second.start < end; ++it) {
    GuestAddr from = std::max(start, it->second.start);
    GuestAddr to = std::min(end, it->second.end);
    if (from < to) {
      total += to - from;
    }
  }
  return total;
}

bool MemoryManager::within_limit(uint64_t added, uint64_t replaced) const {
  uint64_t after = mapped_bytes() - replaced;
  return added <= address_space_limit_ && after <= address_space_limit_ - added;
}

uint64_t MemoryManager::mapped_bytes() const {
  uint64_t total = 0;
  for (const auto& [start, vma] : vmas_) {
    total += vma.length();
  }
  return total;
}

// ---------------------------------------------------------------------------
// mmap, munmap, mprotect

Result<GuestAddr> MemoryManager::map(const MapRequest& request) {
  uint64_t length = request.length;
  GuestAddr addr;

  if (request.fixed || request.fixed_noreplace) {
    addr = request.hint.value_or(GuestAddr(0));
    if (!addr.is_page_aligned()) {
      return Errno{EINVAL};
    }
    if (!in_user_range(addr, length)) {
      return Errno{ENOMEM};
    }
    if (addr.value() < kMmapMinAddr) {
      return Errno{EPERM};
    }
    if (!request.fixed && !range_is_free(addr, length)) {
      return Errno{EEXIST};
    }
  } else {
    std::optional<GuestAddr> chosen;
    if (request.hint && !request.hint->is_null()) {
      GuestAddr hint = request.hint->page_up().value_or(GuestAddr(0));
      hint = std::max(hint, GuestAddr(kMmapMinAddr));
      if (in_user_range(hint, length) && range_is_free(hint, length)) {
        chosen = hint;
      }
    }
    if (!chosen && (request.flags & MAP_32BIT) != 0) {
      chosen = find_free_range(length, kMap32BitHigh, kMap32BitLow);
    }
    if (!chosen) {
      chosen = find_free_range(length, mmap_base_, GuestAddr(kMmapMinAddr));
    }
    if (!chosen) {
      chosen = find_free_range(length, max_address_, GuestAddr(kMmapMinAddr));
    }
    if (!chosen) {
      return Errno{ENOMEM};
    }
    addr = *chosen;
  }

  if (!within_limit(length, mapped_bytes_in(addr, addr + length))) {
    return Errno{ENOMEM};
  }

  Result<void> mapped = request.host_fd
                            ? space_->map_file(addr, length, request.prot, request.flags,
                                               *request.host_fd, request.file_offset)
                            : space_->map_anonymous(addr, length, request.prot, request.flags);
  if (!mapped.ok()) {
    if (request.fixed) {
      // A failed MAP_FIXED may already have removed what was there; make
      // the host and the VMA list agree that the range is empty.
      (void)space_->unmap(addr, length);
      forget_range(addr, addr + length);
    }
    return mapped.error();
  }

  forget_range(addr, addr + length);
  Vma vma{
      .start = addr,
      .end = addr + length,
      .prot = request.prot,
      .flags = request.flags & ~(MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_POPULATE),
      .file = request.file,
      .file_offset = request.file_offset,
      .name = request.name,
  };
  if ((request.flags & MAP_SHARED) != 0 && !request.host_fd) {
    vma.shared_anonymous = std::make_shared<const SharedAnonymousMemory>();
  }
  vmas_.emplace(addr.value(), std::move(vma));
  merge_around(addr, addr + length);
  return addr;
}

Result<void> MemoryManager::unmap(GuestAddr addr, uint64_t length) {
  if (!addr.is_page_aligned() || !in_user_range(addr, length)) {
    return Errno{EINVAL};
  }
  auto rounded = page_round_up(length);
  if (!rounded || *rounded == 0) {
    return Errno{EINVAL};
  }
  length = std::min(*rounded, max_address_ - addr);
  TRY(space_->unmap(addr, length));
  forget_range(addr, addr + length);
  return ok();
}

Result<void> MemoryManager::protect(GuestAddr addr, uint64_t length, int prot) {
  constexpr int kKnownProt = PROT_READ | PROT_WRITE | PROT_EXEC | kProtSem | PROT_GROWSDOWN |
                             PROT_GROWSUP;
  if (!addr.is_page_aligned() || (prot & ~kKnownProt) != 0) {
    return Errno{EINVAL};
  }
  if ((prot & PROT_GROWSDOWN) && (prot & PROT_GROWSUP)) {
    return Errno{EINVAL};
  }
  auto rounded = page_round_up(length);
  if (!rounded) {
    return Errno{ENOMEM};
  }
  if (*rounded == 0) {
    return ok();
  }
  if (!in_user_range(addr, *rounded) || !range_is_mapped(addr, *rounded)) {
    return Errno{ENOMEM};
  }
  GuestAddr end = addr + *rounded;

  // PROT_GROWSDOWN extends the change down to the start of a MAP_GROWSDOWN
  // mapping and is EINVAL on any other. x86 has no upward-growing mappings,
  // so PROT_GROWSUP is always EINVAL.
  if ((prot & PROT_GROWSUP) != 0) {
    return Errno{EINVAL};
  }
  if ((prot & PROT_GROWSDOWN) != 0) {
    const Vma& first = std::prev(vmas_.upper_bound(addr.value()))->second;
    if ((first.flags & MAP_GROWSDOWN) == 0) {
      return Errno{EINVAL};
    }
    addr = first.start;
  }
  int new_prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);

  TRY(space_->protect(addr, end - addr, new_prot));
  split_at(addr);
  split_at(end);
  for (auto it = vmas_.lower_bound(addr.value()); it != vmas_.end() && it->second.start < end;
       ++it) {
    it->second.prot = new_prot;
  }
  merge_around(addr, end);
  return ok();
}

// ---------------------------------------------------------------------------
// mremap

Result<GuestAddr> MemoryManager::remap(GuestAddr old_addr, uint64_t old_length,
                                       uint64_t new_length, int flags, GuestAddr new_addr) {
  constexpr int kKnownFlags = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;
  bool may_move = (flags & MREMAP_MAYMOVE) != 0;
  bool fixed = (flags & MREMAP_FIXED) != 0;
  bool dont_unmap = (flags & MREMAP_DONTUNMAP) != 0;

  if ((flags & ~kKnownFlags) != 0 || (fixed && !may_move)) {
    return Errno{EINVAL};
  }
  if (dont_unmap && (!may_move || old_length != new_length)) {
    return Errno{EINVAL};
  }
  if (!old_addr.is_page_aligned()) {
    return Errno{EINVAL};
  }
  auto old_rounded = page_round_up(old_length);
  auto new_rounded = page_round_up(new_length);
  if (!old_rounded || !new_rounded || *new_rounded == 0) {
    return Errno{EINVAL};
  }
  old_length = *old_rounded;
  new_length = *new_rounded;

  if (fixed) {
    if (!new_addr.is_page_aligned() || !in_user_range(new_addr, new_length)) {
      return Errno{EINVAL};
    }
    bool overlaps = new_addr < old_addr + old_length && old_addr < new_addr + new_length;
    if (overlaps) {
      return Errno{EINVAL};
    }
  }

  // The old range must lie within one VMA.
  auto it = vmas_.upper_bound(old_addr.value());
  if (it == vmas_.begin()) {
    return Errno{EFAULT};
  }
  const Vma& source = std::prev(it)->second;
  if (source.end <= old_addr) {
    return Errno{EFAULT};
  }
  if (old_length == 0) {
    // NOTE: duplicating a shared mapping with old_size 0 is not supported.
    return Errno{EINVAL};
  }
  if (old_addr + old_length > source.end) {
    return Errno{EFAULT};
  }
  if (dont_unmap) {
    // NOTE: MREMAP_DONTUNMAP is not supported; its uses (userfaultfd-backed
    // garbage collectors) need userfaultfd, which ward lacks too.
    return Errno{EINVAL};
  }
  Vma moved = source;
  if (new_length > old_length && !within_limit(new_length - old_length)) {
    return Errno{ENOMEM};
  }

  if (fixed) {
    TRY(unmap(new_addr, new_length));
  } else if (new_length <= old_length) {
    if (new_length < old_length) {
      TRY(unmap(old_addr + new_length, old_length - new_length));
    }
    return old_addr;
  } else {
    GuestAddr old_end = old_addr + old_length;
    uint64_t growth = new_length - old_length;
    if (in_user_range(old_end, growth) && range_is_free(old_end, growth)) {
      TRY(space_->remap(old_addr, old_length, old_addr, new_length));
      Vma grown = moved;
      grown.start = old_end;
      grown.end = old_addr + new_length;
      if (grown.has_offset()) {
        grown.file_offset = moved.file_offset + (old_end - moved.start);
      }
      vmas_.emplace(old_end.value(), std::move(grown));
      merge_around(old_addr, old_addr + new_length);
      return old_addr;
    }
    if (!may_move) {
      return Errno{ENOMEM};
    }
    auto target = find_free_range(new_length, mmap_base_, GuestAddr(kMmapMinAddr));
    if (!target) {
      target = find_free_range(new_length, max_address_, GuestAddr(kMmapMinAddr));
    }
    if (!target) {
      return Errno{ENOMEM};
    }
    new_addr = *target;
  }

  TRY(space_->remap(old_addr, old_length, new_addr, new_length));
  uint64_t offset_in_source = old_addr - moved.start;
  forget_range(old_addr, old_addr + old_length);
  moved.start = new_addr;
  moved.end = new_addr + new_length;
  if (moved.has_offset()) {
    moved.file_offset += offset_in_source;
  }
  vmas_.emplace(new_addr.value(), std::move(moved));
  merge_around(new_addr, new_addr + new_length);
  return new_addr;
}

// ---------------------------------------------------------------------------
// madvise, msync, mincore

Result<void> MemoryManager::advise(GuestAddr addr, uint64_t length, int advice) {
  if (!addr.is_page_aligned() || !is_known_advice(advice)) {
    return Errno{EINVAL};
  }
  if (advice == MADV_HWPOISON || advice == kMadvSoftOffline) {
    return Errno{EPERM};  // CAP_SYS_ADMIN over the host, which no sandbox has
  }
  auto rounded = page_round_up(length);
  if (!rounded || !in_user_range(addr, *rounded)) {
    return Errno{EINVAL};
  }
  if (*rounded == 0) {
    return ok();
  }
  GuestAddr end = addr + *rounded;

  // Linux applies the advice to the mapped parts and then reports ENOMEM
  // if there was a hole.
  bool had_hole = !range_is_mapped(addr, *rounded);
  auto it = vmas_.upper_bound(addr.value());
  if (it != vmas_.begin() && std::prev(it)->second.end > addr) {
    --it;
  }
  for (; it != vmas_.end() && it->second.start < end; ++it) {
    GuestAddr from = std::max(addr, it->second.start);
    GuestAddr to = std::min(end, it->second.end);
    TRY(space_->advise(from, to - from, advice));
  }

  if (advice == MADV_DONTFORK || advice == MADV_DOFORK) {
    split_at(addr);
    split_at(end);
    for (auto it = vmas_.lower_bound(addr.value()); it != vmas_.end() && it->second.start < end;
         ++it) {
      it->second.dont_fork = advice == MADV_DONTFORK;
    }
    merge_around(addr, end);
  }
  return had_hole ? Result<void>(Errno{ENOMEM}) : ok();
}

Result<void> MemoryManager::sync(GuestAddr addr, uint64_t length, int flags) {
  if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) != 0 || !addr.is_page_aligned()) {
    return Errno{EINVAL};
  }
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) {
    return Errno{EINVAL};
  }
  auto rounded = page_round_up(length);
  if (!rounded || !in_user_range(addr, *rounded)) {
    return Errno{ENOMEM};
  }
  if (*rounded == 0) {
    return ok();
  }
  if (!range_is_mapped(addr, *rounded)) {
    return Errno{ENOMEM};
  }
  return space_->sync(addr, *rounded, flags);
}

Result<void> MemoryManager::residency(GuestAddr addr, uint64_t length, GuestAddr vec) {
  if (!addr.is_page_aligned()) {
    return Errno{EINVAL};
  }
  auto rounded = page_round_up(length);
  if (!rounded || !in_user_range(addr, *rounded)) {
    return Errno{ENOMEM};
  }
  if (*rounded == 0) {
    return ok();
  }
  if (!range_is_mapped(addr, *rounded)) {
    return Errno{ENOMEM};
  }
  return space_->residency(addr, *rounded, vec);
}

// ---------------------------------------------------------------------------
// brk

void MemoryManager::init_brk(GuestAddr start) {
  brk_start_ = start;
  brk_ = start;
}

GuestAddr MemoryManager::set_brk(GuestAddr requested) {
  if (requested < brk_start_) {
    return brk_;
  }
  GuestAddr old_top = brk_.page_up().value_or(brk_);
  auto new_top_or = requested.page_up();
  if (!new_top_or) {
    return brk_;
  }
  GuestAddr new_top = *new_top_or;

  if (new_top == old_top) {
    brk_ = requested;
    return brk_;
  }
  if (new_top < old_top) {
    if (space_->unmap(new_top, old_top - new_top).ok()) {
      forget_range(new_top, old_top);
      brk_ = requested;
    }
    return brk_;
  }

  uint64_t growth = new_top - old_top;
  if (!in_user_range(old_top, growth) || !range_is_free(old_top, growth) ||
      !within_limit(growth)) {
    return brk_;
  }
  if (!space_->map_anonymous(old_top, growth, PROT_READ | PROT_WRITE, MAP_PRIVATE).ok()) {
    return brk_;
  }
  vmas_.emplace(old_top.value(), Vma{.start = old_top,
                                     .end = new_top,
                                     .prot = PROT_READ | PROT_WRITE,
                                     .flags = MAP_PRIVATE | MAP_ANONYMOUS,
                                     .name = "[heap]"});
  merge_around(old_top, new_top);
  brk_ = requested;
  return brk_;
}

// ---------------------------------------------------------------------------
// fork

Result<std::shared_ptr<MemoryManager>> MemoryManager::fork() {
  auto child_space = TRY(space_->fork());
  std::shared_ptr<MemoryManager> child(new MemoryManager(platform_, std::move(child_space)));
  for (const auto& [start, vma] : vmas_) {
    if (vma.dont_fork) {
      // The host kernel left these out of the child too.
      continue;
    }
    child->vmas_.emplace(start, vma);
  }
  child->mmap_base_ = mmap_base_;
  child->brk_start_ = brk_start_;
  child->brk_ = brk_;
  child->image_info_ = image_info_;
  child->address_space_limit_ = address_space_limit_;
  return child;
}

}  // namespace ward::mm
