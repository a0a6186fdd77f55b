// Parsing and validation of ELF executables and `#!` scripts, before any
// guest memory is touched. The loader maps what these functions describe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ward/result.h"

namespace ward::loader {

// One PT_LOAD program header, validated.
struct ElfSegment {
  uint64_t vaddr;        // p_vaddr, before the load bias of a PIE
  uint64_t memsz_bytes;  // p_memsz
  uint64_t offset;       // p_offset in the file
  uint64_t filesz_bytes; // p_filesz, never more than memsz_bytes
  int prot;              // PROT_READ | PROT_WRITE | PROT_EXEC from p_flags
};

// What the loader needs from an ELF file.
struct ElfImage {
  bool position_independent;        // ET_DYN: mapped at a chosen bias
  uint64_t entry;                   // e_entry, before the bias
  uint64_t phdr_vaddr;              // where the program headers are in memory, before the bias
  uint16_t phent_bytes;             // e_phentsize
  uint16_t phnum;                   // e_phnum
  std::vector<ElfSegment> segments; // PT_LOAD headers in ascending vaddr order
  std::optional<std::string> interpreter;  // PT_INTERP path, up to its first NUL, never empty
  bool executable_stack;            // whether the last PT_GNU_STACK has PF_X (false without one)
  uint64_t min_vaddr;               // first segment's vaddr, rounded down to a page
  uint64_t max_vaddr;               // last segment's vaddr + memsz, rounded up to a page
  // Largest power-of-two p_align of the PT_LOAD headers, at least one page.
  // Linux aligns a PIE's load bias to it (maximum_alignment in binfmt_elf.c).
  uint64_t max_align_bytes;
};

// Reads up to buffer.size() bytes at a file offset, like pread; returns the
// count read, which is short only at end of file.
using FileReader = std::function<Result<size_t>(uint64_t offset, std::span<std::byte> buffer)>;

// Parses and validates an x86_64 ELF executable. The checks run in the order
// of Linux's load_elf_binary, so that a bad file gets the errno Linux gives:
//   ENOEXEC  not an x86_64 ELF executable, a bad program header table, a
//            PT_INTERP of the wrong size or without its NUL, or a check that
//            ward adds
//   EIO      PT_INTERP extends past the end of the file
//   EINVAL   PT_INTERP at an offset that a file read rejects, a PT_LOAD that
//            cannot be mapped, or a static ET_EXEC's entry outside user space
//   EACCES   PT_INTERP is the empty path, which Linux opens as the current
//            directory
// Errors of `read` are propagated.
// NOTE: Linux finds the EINVAL PT_LOAD errors only after the point of no
// return and kills the task with SIGSEGV, while ward fails the execve. It
// also opens the interpreter before checking PT_LOAD, so a file with both a
// missing interpreter and a bad PT_LOAD gets ENOENT from Linux and EINVAL
// from ward.
Result<ElfImage> parse_elf(const FileReader& read, uint64_t file_size_bytes);

// The first line of a `#!` script.
struct Shebang {
  std::string interpreter;          // first word after `#!` and any spaces or tabs, never empty
  std::optional<std::string> argument;  // the rest of the line, one argument, as Linux passes it
};

// Parses the start of a file as a `#!` line, as binfmt_script does with the
// first kExecHeadBytes bytes. A shorter head reads as if padded with NULs.
// Returns nullopt when the file does not start with `#!`. Fails with ENOEXEC
// when the line has no interpreter or the end of the buffer may cut the
// interpreter off. Fails with EACCES when a NUL ends the name before it
// starts, because Linux then opens the current directory. A `\r` before the
// newline stays in the line.
Result<std::optional<Shebang>> parse_shebang(std::span<const std::byte> head);

// Bytes of a file's start that execve inspects (BINPRM_BUF_SIZE).
inline constexpr size_t kExecHeadBytes = 256;

}  // namespace ward::loader
