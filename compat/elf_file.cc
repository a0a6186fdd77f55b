#include "compat/elf_file.h"

#include <cstring>
#include <string_view>

namespace ward::compat {
namespace {

// Chains of DT_VERNEED and DT_VERDEF entries longer than this are treated
// as malformed; glibc's own libc defines about 50 versions.
constexpr uint32_t kMaxVersionEntries = 4096;

template <typename T>
T load(std::span<const std::byte> bytes, size_t offset = 0) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// The NUL-terminated string at `offset` of a string table, or nullopt when
// it runs past the table.
std::optional<std::string> table_string(std::span<const std::byte> table, uint64_t offset) {
  if (offset >= table.size()) {
    return std::nullopt;
  }
  const char* start = reinterpret_cast<const char*>(table.data()) + offset;
  const size_t max_length = table.size() - offset;
  const size_t length = strnlen(start, max_length);
  if (length == max_length) {
    return std::nullopt;
  }
  return std::string(start, length);
}

}  // namespace

Result<ElfFile> ElfFile::parse(ReadAt read, uint64_t file_size) {
  ElfFile file(std::move(read), file_size);
  if (file_size < EI_NIDENT + 4) {
    return Errno{ENOEXEC};
  }
  std::vector<std::byte> ident = TRY(file.read_exact(0, EI_NIDENT + 4));
  if (std::memcmp(ident.data(), ELFMAG, SELFMAG) != 0) {
    return Errno{ENOEXEC};
  }
  file.elf_class_ = static_cast<uint8_t>(ident[EI_CLASS]);
  if (static_cast<uint8_t>(ident[EI_DATA]) != ELFDATA2LSB) {
    return Errno{ENOEXEC};
  }
  // e_type and e_machine sit at the same offsets in 32- and 64-bit files.
  file.type_ = load<uint16_t>(ident, EI_NIDENT);
  file.machine_ = load<uint16_t>(ident, EI_NIDENT + 2);
  if (file.elf_class_ != ELFCLASS64) {
    return file;
  }

  std::vector<std::byte> header = TRY(file.read_exact(0, sizeof(Elf64_Ehdr)));
  file.header_ = load<Elf64_Ehdr>(header);
  if (file.header_.e_phnum > 0) {
    if (file.header_.e_phentsize != sizeof(Elf64_Phdr)) {
      return Errno{ENOEXEC};
    }
    std::vector<std::byte> table = TRY(
        file.read_exact(file.header_.e_phoff, uint64_t{file.header_.e_phnum} * sizeof(Elf64_Phdr)));
    for (size_t i = 0; i < file.header_.e_phnum; ++i) {
      file.program_headers_.push_back(load<Elf64_Phdr>(table, i * sizeof(Elf64_Phdr)));
    }
  }
  return file;
}

Result<std::vector<std::byte>> ElfFile::read_exact(uint64_t offset, uint64_t size) const {
  if (size > kMaxTableBytes || offset > file_size_ || size > file_size_ - offset) {
    return Errno{ENOEXEC};
  }
  std::vector<std::byte> buffer(size);
  size_t done = 0;
  while (done < size) {
    const size_t got = TRY(read_(offset + done, std::span(buffer).subspan(done)));
    if (got == 0) {
      return Errno{ENOEXEC};  // the file shrank under us
    }
    done += got;
  }
  return buffer;
}

Result<std::optional<std::string>> ElfFile::interpreter() const {
  for (const Elf64_Phdr& phdr : program_headers_) {
    if (phdr.p_type != PT_INTERP) {
      continue;
    }
    if (phdr.p_filesz < 2) {
      return Errno{ENOEXEC};
    }
    std::vector<std::byte> bytes = TRY(read_exact(phdr.p_offset, phdr.p_filesz));
    std::optional<std::string> path = table_string(bytes, 0);
    if (!path.has_value() || path->empty()) {
      return Errno{ENOEXEC};
    }
    return std::optional<std::string>(std::move(*path));
  }
  return std::optional<std::string>();
}

std::optional<uint64_t> ElfFile::address_to_offset(uint64_t address) const {
  for (const Elf64_Phdr& phdr : program_headers_) {
    if (phdr.p_type == PT_LOAD && address >= phdr.p_vaddr &&
        address - phdr.p_vaddr < phdr.p_filesz) {
      return phdr.p_offset + (address - phdr.p_vaddr);
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> ElfFile::offset_to_address(uint64_t offset) const {
  for (const Elf64_Phdr& phdr : program_headers_) {
    if (phdr.p_type == PT_LOAD && offset >= phdr.p_offset &&
        offset - phdr.p_offset < phdr.p_filesz) {
      return phdr.p_vaddr + (offset - phdr.p_offset);
    }
  }
  return std::nullopt;
}

Result<DynamicInfo> ElfFile::dynamic() const {
  DynamicInfo info;
  const Elf64_Phdr* segment = nullptr;
  for (const Elf64_Phdr& phdr : program_headers_) {
    if (phdr.p_type == PT_DYNAMIC) {
      segment = &phdr;
    }
  }
  if (segment == nullptr) {
    return info;
  }

  std::vector<std::byte> bytes = TRY(read_exact(segment->p_offset, segment->p_filesz));
  std::vector<Elf64_Dyn> entries;
  for (size_t at = 0; at + sizeof(Elf64_Dyn) <= bytes.size(); at += sizeof(Elf64_Dyn)) {
    const auto entry = load<Elf64_Dyn>(bytes, at);
    if (entry.d_tag == DT_NULL) {
      break;
    }
    entries.push_back(entry);
  }

  // The string table first: every other entry names strings in it.
  std::optional<uint64_t> strtab_address;
  uint64_t strtab_bytes = 0;
  std::optional<uint64_t> verneed_address, verdef_address;
  uint64_t verneed_count = 0, verdef_count = 0;
  for (const Elf64_Dyn& entry : entries) {
    switch (entry.d_tag) {
      case DT_STRTAB: strtab_address = entry.d_un.d_ptr; break;
      case DT_STRSZ: strtab_bytes = entry.d_un.d_val; break;
      case DT_VERNEED: verneed_address = entry.d_un.d_ptr; break;
      case DT_VERNEEDNUM: verneed_count = entry.d_un.d_val; break;
      case DT_VERDEF: verdef_address = entry.d_un.d_ptr; break;
      case DT_VERDEFNUM: verdef_count = entry.d_un.d_val; break;
      default: break;
    }
  }
  if (!strtab_address.has_value()) {
    return info;
  }
  const std::optional<uint64_t> strtab_offset = address_to_offset(*strtab_address);
  if (!strtab_offset.has_value()) {
    return Errno{ENOEXEC};
  }
  const std::vector<std::byte> strings = TRY(read_exact(*strtab_offset, strtab_bytes));
  auto string_at = [&strings](uint64_t offset) -> Result<std::string> {
    std::optional<std::string> text = table_string(strings, offset);
    if (!text.has_value()) {
      return Errno{ENOEXEC};
    }
    return std::move(*text);
  };

  for (const Elf64_Dyn& entry : entries) {
    switch (entry.d_tag) {
      case DT_NEEDED: info.needed.push_back(TRY(string_at(entry.d_un.d_val))); break;
      case DT_SONAME: info.soname = TRY(string_at(entry.d_un.d_val)); break;
      case DT_RPATH: info.rpath = TRY(string_at(entry.d_un.d_val)); break;
      case DT_RUNPATH: info.runpath = TRY(string_at(entry.d_un.d_val)); break;
      default: break;
    }
  }

  if (verneed_address.has_value()) {
    std::optional<uint64_t> offset = address_to_offset(*verneed_address);
    if (!offset.has_value() || verneed_count > kMaxVersionEntries) {
      return Errno{ENOEXEC};
    }
    for (uint64_t i = 0; i < verneed_count; ++i) {
      const auto need = load<Elf64_Verneed>(TRY(read_exact(*offset, sizeof(Elf64_Verneed))));
      const std::string library = TRY(string_at(need.vn_file));
      if (need.vn_cnt > kMaxVersionEntries) {
        return Errno{ENOEXEC};
      }
      uint64_t aux_offset = *offset + need.vn_aux;
      for (uint16_t j = 0; j < need.vn_cnt; ++j) {
        const auto aux = load<Elf64_Vernaux>(TRY(read_exact(aux_offset, sizeof(Elf64_Vernaux))));
        info.needed_versions.push_back(NeededVersion{
            .library = library,
            .version = TRY(string_at(aux.vna_name)),
            .weak = (aux.vna_flags & VER_FLG_WEAK) != 0,
        });
        if (aux.vna_next == 0) {
          break;
        }
        aux_offset += aux.vna_next;
      }
      if (need.vn_next == 0) {
        break;
      }
      *offset += need.vn_next;
    }
  }

  if (verdef_address.has_value()) {
    std::optional<uint64_t> offset = address_to_offset(*verdef_address);
    if (!offset.has_value() || verdef_count > kMaxVersionEntries) {
      return Errno{ENOEXEC};
    }
    for (uint64_t i = 0; i < verdef_count; ++i) {
      const auto definition = load<Elf64_Verdef>(TRY(read_exact(*offset, sizeof(Elf64_Verdef))));
      // The first auxiliary entry names the version; later ones name the
      // versions it inherits from. The base entry names the object itself.
      if ((definition.vd_flags & VER_FLG_BASE) == 0 && definition.vd_cnt > 0) {
        const auto aux = load<Elf64_Verdaux>(
            TRY(read_exact(*offset + definition.vd_aux, sizeof(Elf64_Verdaux))));
        info.defined_versions.push_back(TRY(string_at(aux.vda_name)));
      }
      if (definition.vd_next == 0) {
        break;
      }
      *offset += definition.vd_next;
    }
  }
  return info;
}

Result<std::vector<Elf64_Shdr>> ElfFile::section_headers() const {
  std::vector<Elf64_Shdr> sections;
  if (header_.e_shnum == 0 || header_.e_shoff == 0) {
    return sections;
  }
  if (header_.e_shentsize != sizeof(Elf64_Shdr)) {
    return Errno{ENOEXEC};
  }
  std::vector<std::byte> table =
      TRY(read_exact(header_.e_shoff, uint64_t{header_.e_shnum} * sizeof(Elf64_Shdr)));
  for (size_t i = 0; i < header_.e_shnum; ++i) {
    sections.push_back(load<Elf64_Shdr>(table, i * sizeof(Elf64_Shdr)));
  }
  return sections;
}

Result<std::vector<ElfSymbol>> ElfFile::read_symbol_table(const Elf64_Shdr& table,
                                                          const Elf64_Shdr& strings) const {
  const std::vector<std::byte> names = TRY(read_exact(strings.sh_offset, strings.sh_size));
  const std::vector<std::byte> entries = TRY(read_exact(table.sh_offset, table.sh_size));
  std::vector<ElfSymbol> symbols;
  for (size_t at = 0; at + sizeof(Elf64_Sym) <= entries.size(); at += sizeof(Elf64_Sym)) {
    const auto symbol = load<Elf64_Sym>(entries, at);
    const unsigned type = ELF64_ST_TYPE(symbol.st_info);
    if (symbol.st_shndx == SHN_UNDEF || symbol.st_value == 0 ||
        (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE && type != STT_OBJECT)) {
      continue;
    }
    std::optional<std::string> name = table_string(names, symbol.st_name);
    if (!name.has_value() || name->empty()) {
      continue;
    }
    symbols.push_back(ElfSymbol{
        .name = std::move(*name),
        .value = symbol.st_value,
        .size = symbol.st_size,
        .function = type == STT_FUNC || type == STT_GNU_IFUNC,
    });
  }
  return symbols;
}

Result<std::vector<ElfSymbol>> ElfFile::symbols() const {
  const std::vector<Elf64_Shdr> sections = TRY(section_headers());
  for (const uint32_t wanted : {SHT_SYMTAB, SHT_DYNSYM}) {
    for (const Elf64_Shdr& section : sections) {
      if (section.sh_type != wanted || section.sh_link >= sections.size()) {
        continue;
      }
      std::vector<ElfSymbol> symbols = TRY(read_symbol_table(section, sections[section.sh_link]));
      if (!symbols.empty()) {
        return symbols;
      }
    }
  }
  return std::vector<ElfSymbol>();
}

}  // namespace ward::compat
