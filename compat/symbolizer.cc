#include "compat/symbolizer.h"

#include <algorithm>

#include <fmt/format.h>

namespace ward::compat {
namespace {

// The symbol that covers `address`: the last one at or below it whose size
// reaches it, or, for symbols without a size (hand-written assembly), the
// nearest function below it.
const ElfSymbol* find_symbol(const std::vector<ElfSymbol>& symbols, uint64_t address) {
  auto after = std::upper_bound(symbols.begin(), symbols.end(), address,
                                [](uint64_t value, const ElfSymbol& s) { return value < s.value; });
  for (auto it = after; it != symbols.begin();) {
    --it;
    if (it->size > 0 && address - it->value < it->size) {
      return &*it;
    }
    if (it->size == 0 && it->function) {
      return &*it;
    }
    // A sized symbol that ends below the address: an earlier, larger one
    // may still cover it only if it contains this one, which a sorted walk
    // cannot tell cheaply, so stop at the first function that does not.
    if (it->function) {
      return nullptr;
    }
  }
  return nullptr;
}

// The final component of a path, for compact frames.
std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string StackFrame::text() const {
  if (!function.empty()) {
    return fmt::format("{}+{:#x} ({})", function, function_offset, object);
  }
  if (!object.empty()) {
    return fmt::format("{}+{:#x}", base_name(object), object_offset);
  }
  return fmt::format("{:#x}", pc);
}

std::shared_ptr<const Symbolizer::ObjectSymbols> Symbolizer::load(const MappedObject& object,
                                                                  const Opener& open) {
  const Key key(object.path, object.device, object.inode);
  if (auto it = cache_.find(key); it != cache_.end()) {
    return it->second;
  }

  auto symbols = std::make_shared<ObjectSymbols>();
  if (Result<ObjectFile> file = open(); file.ok()) {
    if (Result<ElfFile> elf = ElfFile::parse(file->read, file->size_bytes); elf.ok()) {
      if (Result<std::vector<ElfSymbol>> list = elf->symbols(); list.ok()) {
        symbols->symbols = std::move(*list);
        std::stable_sort(symbols->symbols.begin(), symbols->symbols.end(),
                         [](const ElfSymbol& a, const ElfSymbol& b) { return a.value < b.value; });
      }
      symbols->elf = std::move(*elf);
    }
  }
  if (cache_.size() < kMaxCachedObjects) {
    cache_.emplace(key, symbols);
  }
  return symbols;
}

StackFrame Symbolizer::describe(uint64_t pc, const MappedObject& object, bool return_address,
                                const Opener& open) {
  StackFrame frame{.pc = pc, .object = object.path};
  if (object.path.empty()) {
    return frame;
  }
  frame.object_offset = object.file_offset;

  std::shared_ptr<const ObjectSymbols> symbols = load(object, open);
  if (!symbols->elf.has_value()) {
    return frame;
  }
  const std::optional<uint64_t> address = symbols->elf->offset_to_address(object.file_offset);
  if (!address.has_value()) {
    return frame;
  }
  frame.object_offset = *address;

  const uint64_t lookup = return_address && *address > 0 ? *address - 1 : *address;
  if (const ElfSymbol* symbol = find_symbol(symbols->symbols, lookup)) {
    frame.function = symbol->name;
    frame.function_offset = *address - symbol->value;
  }
  return frame;
}

}  // namespace ward::compat
