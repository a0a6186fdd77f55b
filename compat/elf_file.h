// A reader of the parts of a 64-bit ELF file that the compatibility report
// needs: the header, program headers, PT_INTERP, the dynamic section
// (DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME, DT_VERNEED, DT_VERDEF) and
// the symbol tables. The file may be hostile: every offset and size is
// checked against the file's size, and tables larger than kMaxTableBytes
// are rejected rather than read, so a malformed file costs an ENOEXEC.
#pragma once

#include <elf.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ward/result.h"

namespace ward::compat {

// Reads up to buffer.size() bytes at `offset`; returns the count read,
// short only at the end of the file.
using ReadAt = std::function<Result<size_t>(uint64_t offset, std::span<std::byte> buffer)>;

// The largest table (program headers, sections, strings, symbols) read.
inline constexpr uint64_t kMaxTableBytes = 64 * 1024 * 1024;

// A version an object needs from one of its libraries (DT_VERNEED).
struct NeededVersion {
  std::string library = {};  // the vn_file name, as in DT_NEEDED: "libc.so.6"
  std::string version = {};  // "GLIBC_2.34"
  bool weak = false;    // VER_FLG_WEAK: the loader only warns without it
};

struct DynamicInfo {
  std::vector<std::string> needed = {};  // DT_NEEDED, in order
  std::string soname = {};               // DT_SONAME
  std::string rpath = {};                // DT_RPATH, colon-separated
  std::string runpath = {};              // DT_RUNPATH, colon-separated
  std::vector<NeededVersion> needed_versions = {};  // DT_VERNEED
  std::vector<std::string> defined_versions = {};   // DT_VERDEF, the base entry excluded
};

struct ElfSymbol {
  std::string name = {};
  uint64_t value = 0;  // virtual address in the object
  uint64_t size = 0;
  bool function = false;  // STT_FUNC or STT_GNU_IFUNC
};

class ElfFile {
 public:
  // Reads the header and program headers. ENOEXEC for a file that is not
  // ELF, is truncated or whose tables lie outside it; the reader's errno
  // when reading fails. A 32-bit or foreign-machine ELF parses: callers
  // check elf_class() and machine().
  static Result<ElfFile> parse(ReadAt read, uint64_t file_size);

  uint8_t elf_class() const { return elf_class_; }
  uint16_t type() const { return type_; }
  uint16_t machine() const { return machine_; }
  bool is_x86_64() const { return elf_class_ == ELFCLASS64 && machine_ == EM_X86_64; }
  const std::vector<Elf64_Phdr>& program_headers() const { return program_headers_; }

  // The PT_INTERP path, or nullopt for a static binary.
  Result<std::optional<std::string>> interpreter() const;

  // The dynamic section; empty for a file without PT_DYNAMIC.
  Result<DynamicInfo> dynamic() const;

  // The symbols of .symtab, or of .dynsym when the file has no .symtab,
  // undefined ones left out.
  Result<std::vector<ElfSymbol>> symbols() const;

  // The virtual address that file offset `offset` is loaded at, through the
  // PT_LOAD that contains it.
  std::optional<uint64_t> offset_to_address(uint64_t offset) const;

  // The file offset that contains virtual address `address`.
  std::optional<uint64_t> address_to_offset(uint64_t address) const;

 private:
  ElfFile(ReadAt read, uint64_t file_size) : read_(std::move(read)), file_size_(file_size) {}

  // Reads exactly `size` bytes at `offset`: ENOEXEC past the end of the
  // file or above kMaxTableBytes.
  Result<std::vector<std::byte>> read_exact(uint64_t offset, uint64_t size) const;
  Result<std::vector<Elf64_Shdr>> section_headers() const;
  Result<std::vector<ElfSymbol>> read_symbol_table(const Elf64_Shdr& table,
                                                   const Elf64_Shdr& strings) const;

  ReadAt read_;
  uint64_t file_size_;
  uint8_t elf_class_ = 0;
  uint16_t type_ = 0;
  uint16_t machine_ = 0;
  Elf64_Ehdr header_{};
  std::vector<Elf64_Phdr> program_headers_;
};

}  // namespace ward::compat
