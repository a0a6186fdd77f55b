#include "compat/guest_unwind.h"

#include <libunwind-ptrace.h>

#include <memory>

namespace ward::compat {
namespace {

struct AddressSpaceDeleter {
  void operator()(unw_addr_space* space) const { unw_destroy_addr_space(space); }
};
struct PtraceInfoDeleter {
  void operator()(void* info) const { _UPT_destroy(info); }
};

}  // namespace

Result<std::vector<uint64_t>> unwind_with_libunwind(pid_t host_tid, size_t max_frames) {
  std::unique_ptr<unw_addr_space, AddressSpaceDeleter> space(
      unw_create_addr_space(&_UPT_accessors, 0));
  if (space == nullptr) {
    return Errno{ENOMEM};
  }
  // Each stack belongs to another stub, whose mappings may change between
  // calls, so nothing is cached across them.
  unw_set_caching_policy(space.get(), UNW_CACHE_NONE);
  std::unique_ptr<void, PtraceInfoDeleter> info(_UPT_create(host_tid));
  if (info == nullptr) {
    return Errno{ENOMEM};
  }

  unw_cursor_t cursor;
  if (unw_init_remote(&cursor, space.get(), info.get()) != 0) {
    return Errno{ESRCH};
  }
  std::vector<uint64_t> pcs;
  while (pcs.size() < max_frames) {
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) {
      break;
    }
    pcs.push_back(ip);
    if (unw_step(&cursor) <= 0) {
      break;
    }
  }
  return pcs;
}

std::vector<uint64_t> walk_frame_pointers(const FrameRegisters& regs, const ReadWord& read_word,
                                          const IsCode& is_code, size_t max_frames) {
  std::vector<uint64_t> pcs;
  if (max_frames == 0) {
    return pcs;
  }
  pcs.push_back(regs.rip);

  std::optional<uint64_t> first_return = std::nullopt;
  uint64_t frame = regs.rbp;
  if (frame != 0 && frame % 8 == 0) {
    first_return = read_word(frame + 8);
  }
  if (std::optional<uint64_t> top = read_word(regs.rsp);
      top.has_value() && is_code(*top) && top != first_return && pcs.size() < max_frames) {
    pcs.push_back(*top);
  }

  while (pcs.size() < max_frames && frame != 0 && frame % 8 == 0) {
    std::optional<uint64_t> return_address = read_word(frame + 8);
    std::optional<uint64_t> caller_frame = read_word(frame);
    if (!return_address.has_value() || *return_address == 0 || !is_code(*return_address)) {
      break;
    }
    pcs.push_back(*return_address);
    if (!caller_frame.has_value() || *caller_frame <= frame) {
      break;
    }
    frame = *caller_frame;
  }
  return pcs;
}

}  // namespace ward::compat
