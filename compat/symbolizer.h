// Symbolizer: names guest code addresses after the ELF symbols of the object
// mapped there, as "function+0xoff (object)", or "object+0xoff" when no
// symbol covers the address.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "compat/elf_file.h"
#include "ward/result.h"

namespace ward::compat {

// One frame of a guest call stack.
struct StackFrame {
  uint64_t pc = 0;
  // The sandbox path of the mapped file, a name such as "[vdso]", or empty
  // for anonymous memory.
  std::string object = {};
  // The address in the object's own ELF virtual addresses (its link-time
  // address), meaningful when `object` is set.
  uint64_t object_offset = 0;
  std::string function = {};  // empty when no symbol covers the address
  uint64_t function_offset = 0;

  // "function+0x1f (object)", "object+0x1234" or "0x7f0000001234".
  std::string text() const;
};

// The file an address lies in, as the sentry's VMA describes it.
struct MappedObject {
  std::string path = {};
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t file_offset = 0;  // the offset of the address in the file
};

// An opened object file: its reader and size.
struct ObjectFile {
  ReadAt read = {};
  uint64_t size_bytes = 0;
};

class Symbolizer {
 public:
  // Opens the object when its symbols are not cached yet.
  using Opener = std::function<Result<ObjectFile>()>;

  // Objects whose symbols stay cached. An object past this many is read
  // again on each lookup.
  static constexpr size_t kMaxCachedObjects = 256;

  // Describes `pc`, which lies in `object`. For a return address (every
  // frame but the innermost), the symbol is looked up at pc - 1, inside
  // the call instruction, because a call at a function's very end returns
  // past it.
  StackFrame describe(uint64_t pc, const MappedObject& object, bool return_address,
                      const Opener& open);

 private:
  struct ObjectSymbols {
    std::optional<ElfFile> elf;      // unset when the file is not a readable ELF
    std::vector<ElfSymbol> symbols;  // sorted by value
  };
  using Key = std::tuple<std::string, uint64_t, uint64_t>;  // path, device, inode

  std::shared_ptr<const ObjectSymbols> load(const MappedObject& object, const Opener& open);

  std::map<Key, std::shared_ptr<const ObjectSymbols>> cache_;
};

}  // namespace ward::compat
