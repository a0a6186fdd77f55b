// MemoryManager: the sentry's view of one guest address space. It keeps the
// VMA list, which is the truth for /proc/pid/maps, mremap, brk and the
// checks of every memory syscall, and realises each change in the
// platform's AddressSpace, whose host mappings give copy-on-write across
// fork for free.
#pragma once

#include <sys/mman.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ward/guest_addr.h"
#include "ward/platform.h"
#include "ward/result.h"

namespace ward::mm {

// Linux's PROT_SEM and MADV_SOFT_OFFLINE, which glibc's headers lack.
inline constexpr int kProtSem = 0x8;
inline constexpr int kMadvSoftOffline = 101;

// Linux's vm.mmap_min_addr default: the lowest address a mapping may use.
inline constexpr uint64_t kMmapMinAddr = 65536;

// The source of a file mapping, for /proc/pid/maps.
struct MappedFileInfo {
  std::string path;
  uint64_t device = 0;
  uint64_t inode = 0;
};

// The memory behind one MAP_SHARED | MAP_ANONYMOUS mapping. Every VMA
// that maps it (after a split, an mremap or a fork) points to the same
// object, which futex keys use to find the same word in two processes.
struct SharedAnonymousMemory {};

struct Vma {
  GuestAddr start;
  GuestAddr end;
  int prot = 0;   // PROT_READ | PROT_WRITE | PROT_EXEC
  int flags = 0;  // MAP_SHARED or MAP_PRIVATE, plus MAP_ANONYMOUS, MAP_GROWSDOWN, ...
  std::shared_ptr<const MappedFileInfo> file = nullptr;  // null for anonymous memory
  uint64_t file_offset = 0;  // offset of `start` in the file or the shared anonymous memory
  std::shared_ptr<const SharedAnonymousMemory> shared_anonymous = nullptr;
  std::string name = {};                                 // [heap], [stack] or empty
  bool dont_fork = false;                      // MADV_DONTFORK: absent from a fork's copy

  uint64_t length() const { return end - start; }
  bool shared() const { return (flags & MAP_SHARED) != 0; }
  // Whether file_offset means something: a file or shared anonymous memory.
  bool has_offset() const { return file != nullptr || shared_anonymous != nullptr; }
};

// A validated mmap request, as the syscall decoded it.
struct MapRequest {
  std::optional<GuestAddr> hint = std::nullopt;  // the address wish, or the fixed address
  uint64_t length = 0;            // bytes, already page-rounded
  int prot = 0;
  int flags = 0;                  // Linux MAP_* flags
  bool fixed = false;             // MAP_FIXED
  bool fixed_noreplace = false;   // MAP_FIXED_NOREPLACE
  // For a file mapping: the host fd whose pages back it and where from.
  std::optional<int> host_fd = std::nullopt;
  uint64_t file_offset = 0;
  std::shared_ptr<const MappedFileInfo> file = nullptr;
  std::string name = {};
};

class MemoryManager {
 public:
  static Result<std::shared_ptr<MemoryManager>> create(platform::Platform& platform);
  ~MemoryManager();
  MemoryManager(const MemoryManager&) = delete;
  MemoryManager& operator=(const MemoryManager&) = delete;

  platform::AddressSpace& address_space() { return *space_; }

  // The end of the guest's usable address space: the lowest range the
  // platform reserves, or TASK_SIZE.
  GuestAddr max_address() const { return max_address_; }

  // Guest memory copies. Both fail with EFAULT unless every byte is copied.
  Result<void> copy_in(GuestAddr addr, std::span<std::byte> buffer);
  Result<void> copy_out(GuestAddr addr, std::span<const std::byte> buffer);

  // How many bytes from `addr`, up to max_bytes, lie in mappings that allow
  // every bit of `prot`: how far a copy can go before it faults. A read or
  // write syscall clamps its transfer to this, so that it moves exactly the
  // bytes the guest buffer can take, as Linux does up to the faulting byte.
  uint64_t accessible_bytes(GuestAddr addr, uint64_t max_bytes, int prot) const;

  // Reads a NUL-terminated string of at most max_bytes bytes including the
  // NUL: EFAULT for a bad address, ENAMETOOLONG when no NUL comes in time.
  Result<std::string> copy_in_string(GuestAddr addr, size_t max_bytes);

  // The mapping syscalls, with Linux's checks and errnos.
  Result<GuestAddr> map(const MapRequest& request);
  Result<void> unmap(GuestAddr addr, uint64_t length);
  Result<void> protect(GuestAddr addr, uint64_t length, int prot);
  Result<GuestAddr> remap(GuestAddr old_addr, uint64_t old_length, uint64_t new_length, int flags,
                          GuestAddr new_addr);
  Result<void> advise(GuestAddr addr, uint64_t length, int advice);
  Result<void> sync(GuestAddr addr, uint64_t length, int flags);
  Result<void> residency(GuestAddr addr, uint64_t length, GuestAddr vec);

  // brk: moves the program break and returns the new break, or the old one
  // when the move is impossible, as Linux's brk does.
  GuestAddr set_brk(GuestAddr requested);
  void init_brk(GuestAddr start);
  GuestAddr brk() const { return brk_; }

  // Address-space layout of the current image, chosen by the loader.
  GuestAddr mmap_base() const { return mmap_base_; }
  void set_mmap_base(GuestAddr base) { mmap_base_ = base; }

  // Ranges of the initial stack that /proc/pid/cmdline, environ and auxv
  // read, set by the loader.
  struct ImageInfo {
    GuestAddr arg_start, arg_end, env_start, env_end;
    GuestAddr stack_top;
    std::vector<uint64_t> auxv;  // key, value pairs ending with AT_NULL
  };
  ImageInfo& image_info() { return image_info_; }
  const ImageInfo& image_info() const { return image_info_; }

  // A copy-on-write copy, as fork makes.
  Result<std::shared_ptr<MemoryManager>> fork();

  // The VMAs in address order, for /proc/pid/maps.
  std::vector<Vma> vmas() const;

  // The VMA that contains `addr`, or null. Valid until the next change to
  // the mappings.
  const Vma* find_vma(GuestAddr addr) const;

  // Bytes of guest virtual memory mapped, for /proc/pid/status and statm.
  uint64_t mapped_bytes() const;

  // RLIMIT_AS: mmap, mremap and brk fail with ENOMEM rather than take the
  // mapped total past it.
  void set_address_space_limit(uint64_t limit_bytes) { address_space_limit_ = limit_bytes; }

  // Finds a free range of `length` bytes at or below `below`, searching
  // down; nullopt when none fits.
  std::optional<GuestAddr> find_free_range(uint64_t length, GuestAddr below,
                                           GuestAddr lowest) const;

 private:
  MemoryManager(platform::Platform& platform, std::unique_ptr<platform::AddressSpace> space);

  bool range_is_free(GuestAddr start, uint64_t length) const;
  uint64_t mapped_bytes_in(GuestAddr start, GuestAddr end) const;
  // Whether mapping `added` more bytes, after `replaced` of them stop being
  // mapped, stays within RLIMIT_AS.
  bool within_limit(uint64_t added, uint64_t replaced = 0) const;
  bool range_is_mapped(GuestAddr start, uint64_t length) const;
  bool in_user_range(GuestAddr start, uint64_t length) const;

  // Splits VMAs so that `at` is a VMA boundary.
  void split_at(GuestAddr at);
  // Removes [start, end) from the VMA list (not from the host).
  void forget_range(GuestAddr start, GuestAddr end);
  // Joins neighbours that differ in nothing but their address.
  void merge_around(GuestAddr start, GuestAddr end);

  platform::Platform& platform_;
  std::unique_ptr<platform::AddressSpace> space_;
  GuestAddr max_address_;
  std::map<uint64_t, Vma> vmas_;  // keyed by start
  GuestAddr mmap_base_;
  GuestAddr brk_start_;
  GuestAddr brk_;
  ImageInfo image_info_;
  uint64_t address_space_limit_ = UINT64_MAX;
};

}  // namespace ward::mm
