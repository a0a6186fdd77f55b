// ELF and `#!` validation, following fs/binfmt_elf.c and fs/binfmt_script.c
// of Linux. Each errno that Linux's execve returns was confirmed by running
// crafted files on Linux 6.18. The EINVAL of the PT_LOAD checks comes from
// the source, because Linux reports those by killing the task. A check that
// Linux does not make is marked as ward's own.
#include "sentry/loader/elf.h"

#include <elf.h>
#include <linux/limits.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>

#include "ward/guest_addr.h"

namespace ward::loader {
namespace {

static_assert(std::endian::native == std::endian::little,
              "ELF headers are decoded by copying them into the <elf.h> structs");

// Linux rejects a program header table larger than 64 KiB (1170 headers).
// Older kernels also capped it at one page, which is 73 headers.
constexpr uint64_t kMaxProgramHeaderTableBytes = 65536;

// PT_INTERP contains at least one character and its NUL, and at most PATH_MAX bytes.
constexpr uint64_t kMinInterpreterBytes = 2;
constexpr uint64_t kMaxInterpreterBytes = PATH_MAX;

// A file read fails with EINVAL where its offset or its end does not fit in a
// non-negative loff_t.
constexpr uint64_t kMaxFileOffset = INT64_MAX;

// Fills `buffer` from `offset`, failing with `short_read_error` when the file
// ends first. Errors of `read` itself are propagated.
Result<void> read_exact(const FileReader& read, uint64_t offset, std::span<std::byte> buffer,
                        Errno short_read_error) {
  size_t filled_bytes = 0;
  while (filled_bytes < buffer.size()) {
    const std::span<std::byte> rest = buffer.subspan(filled_bytes);
    const size_t count = TRY(read(offset + filled_bytes, rest));
    if (count == 0) {
      return short_read_error;
    }
    // A reader that returns more than it was given room for is broken.
    if (count > rest.size()) {
      return Errno{EIO};
    }
    filled_bytes += count;
  }
  return ok();
}

// Whether [offset, offset + size_bytes) lies inside the file, without overflow.
bool range_within_file(uint64_t offset, uint64_t size_bytes, uint64_t file_size_bytes) {
  return offset <= file_size_bytes && size_bytes <= file_size_bytes - offset;
}

Result<Elf64_Ehdr> read_elf_header(const FileReader& read, uint64_t file_size_bytes) {
  // Linux reads a shorter file as if padded with NULs. Such a file has no room
  // for a program header table of its own, so ward rejects it outright.
  if (file_size_bytes < sizeof(Elf64_Ehdr)) {
    return Errno{ENOEXEC};
  }

  Elf64_Ehdr header;
  TRY(read_exact(read, 0, std::as_writable_bytes(std::span(&header, 1)), Errno{ENOEXEC}));
  return header;
}

bool has_elf_magic(const Elf64_Ehdr& header) {
  return std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0;
}

Result<void> check_elf_header(const Elf64_Ehdr& header) {
  if (!has_elf_magic(header)) {
    return Errno{ENOEXEC};
  }

  // ward's own checks: Linux reads every file as 64-bit little-endian and
  // runs a file with another class or byte order if its fields still fit.
  if (header.e_ident[EI_CLASS] != ELFCLASS64) {
    return Errno{ENOEXEC};
  }
  if (header.e_ident[EI_DATA] != ELFDATA2LSB) {
    return Errno{ENOEXEC};
  }

  if (header.e_type != ET_EXEC && header.e_type != ET_DYN) {
    return Errno{ENOEXEC};
  }
  if (header.e_machine != EM_X86_64) {
    return Errno{ENOEXEC};
  }
  return ok();
}

// Reads the program header table. Linux turns every failure here into ENOEXEC.
// NOTE: that includes a read error, which ward propagates instead, because a
// failing host read does not make the file malformed.
Result<std::vector<Elf64_Phdr>> read_program_headers(const FileReader& read,
                                                     uint64_t file_size_bytes,
                                                     const Elf64_Ehdr& header) {
  if (header.e_phentsize != sizeof(Elf64_Phdr)) {
    return Errno{ENOEXEC};
  }

  const uint64_t table_bytes = uint64_t{header.e_phnum} * sizeof(Elf64_Phdr);
  if (table_bytes == 0 || table_bytes > kMaxProgramHeaderTableBytes) {
    return Errno{ENOEXEC};
  }
  if (!range_within_file(header.e_phoff, table_bytes, file_size_bytes)) {
    return Errno{ENOEXEC};
  }

  std::vector<Elf64_Phdr> phdrs(header.e_phnum);
  TRY(read_exact(read, header.e_phoff, std::as_writable_bytes(std::span(phdrs)), Errno{ENOEXEC}));
  return phdrs;
}

Result<std::string> read_interpreter_path(const FileReader& read, uint64_t file_size_bytes,
                                          const Elf64_Phdr& interp) {
  const uint64_t size_bytes = interp.p_filesz;
  if (size_bytes < kMinInterpreterBytes || size_bytes > kMaxInterpreterBytes) {
    return Errno{ENOEXEC};
  }
  if (interp.p_offset > kMaxFileOffset || size_bytes > kMaxFileOffset - interp.p_offset) {
    return Errno{EINVAL};
  }
  // Linux's read of PT_INTERP fails with EIO when the file ends early.
  if (!range_within_file(interp.p_offset, size_bytes, file_size_bytes)) {
    return Errno{EIO};
  }

  std::string path(size_bytes, '\0');
  TRY(read_exact(read, interp.p_offset, std::as_writable_bytes(std::span(path)), Errno{EIO}));
  if (path.back() != '\0') {
    return Errno{ENOEXEC};
  }

  // Linux opens the path up to its first NUL. An empty path resolves to the
  // current directory, which open_exec rejects as not a regular file.
  path.resize(path.find('\0'));
  if (path.empty()) {
    return Errno{EACCES};
  }
  return path;
}

// Reads the PT_INTERP path, in the first pass Linux makes over the headers.
Result<std::optional<std::string>> find_interpreter(const FileReader& read,
                                                    uint64_t file_size_bytes,
                                                    std::span<const Elf64_Phdr> phdrs) {
  std::optional<std::string> interpreter;
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type != PT_INTERP) {
      continue;
    }
    // ward's own check: Linux uses the first PT_INTERP and ignores the rest.
    if (interpreter.has_value()) {
      return Errno{ENOEXEC};
    }
    interpreter = TRY(read_interpreter_path(read, file_size_bytes, phdr));
  }
  return interpreter;
}

// The last PT_GNU_STACK decides. Without one, a 64-bit x86_64 task gets a
// non-executable stack (checked on Linux 6.18).
bool has_executable_stack(std::span<const Elf64_Phdr> phdrs) {
  bool executable = false;
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type == PT_GNU_STACK) {
      executable = (phdr.p_flags & PF_X) != 0;
    }
  }
  return executable;
}

// Bytes from the page of the lowest PT_LOAD to the end of the highest, with
// Linux's unsigned wrap-around, or nullopt without any PT_LOAD.
std::optional<uint64_t> mapping_span_bytes(std::span<const Elf64_Phdr> phdrs) {
  std::optional<uint64_t> min_page;
  uint64_t max_end = 0;
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type != PT_LOAD) {
      continue;
    }
    const uint64_t page = GuestAddr(phdr.p_vaddr).page_down().value();
    min_page = std::min(min_page.value_or(page), page);
    max_end = std::max(max_end, phdr.p_vaddr + phdr.p_memsz);
  }
  if (!min_page.has_value()) {
    return std::nullopt;
  }
  return max_end - *min_page;
}

// mmap rejects a file offset that is not page aligned after both are rounded
// down to their page. A segment without file bytes maps no file pages.
bool has_mappable_offset(const Elf64_Phdr& phdr) {
  return phdr.p_filesz == 0 || (phdr.p_vaddr - phdr.p_offset) % kPageSize == 0;
}

// Linux's range check: the segment starts and ends inside the user address
// space and has no more file bytes than memory bytes.
bool fits_user_address_space(const Elf64_Phdr& phdr) {
  return phdr.p_vaddr < kTaskSize && phdr.p_filesz <= phdr.p_memsz &&
         phdr.p_memsz <= kTaskSize && kTaskSize - phdr.p_memsz >= phdr.p_vaddr;
}

int prot_from_flags(uint32_t p_flags) {
  int prot = PROT_NONE;
  if ((p_flags & PF_R) != 0) {
    prot |= PROT_READ;
  }
  if ((p_flags & PF_W) != 0) {
    prot |= PROT_WRITE;
  }
  if ((p_flags & PF_X) != 0) {
    prot |= PROT_EXEC;
  }
  return prot;
}

uint64_t segment_end(const ElfSegment& segment) { return segment.vaddr + segment.memsz_bytes; }

// Checks each PT_LOAD in table order, as Linux maps them.
Result<std::vector<ElfSegment>> check_load_segments(std::span<const Elf64_Phdr> phdrs,
                                                    uint64_t file_size_bytes) {
  std::vector<ElfSegment> segments;
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type != PT_LOAD) {
      continue;
    }

    if (!has_mappable_offset(phdr)) {
      return Errno{EINVAL};
    }
    if (!fits_user_address_space(phdr)) {
      return Errno{EINVAL};
    }
    // ward's own check: Linux maps file bytes past the end, which then fault
    // with SIGBUS when touched.
    if (phdr.p_filesz != 0 && !range_within_file(phdr.p_offset, phdr.p_filesz, file_size_bytes)) {
      return Errno{ENOEXEC};
    }
    // ward's own check: the ELF spec requires ascending p_vaddr, and Linux
    // lets a later segment replace the pages of an overlapping earlier one.
    // Byte ranges are compared, so two segments may share a page.
    if (!segments.empty() && phdr.p_vaddr < segment_end(segments.back())) {
      return Errno{ENOEXEC};
    }

    segments.push_back(ElfSegment{
        .vaddr = phdr.p_vaddr,
        .memsz_bytes = phdr.p_memsz,
        .offset = phdr.p_offset,
        .filesz_bytes = phdr.p_filesz,
        .prot = prot_from_flags(phdr.p_flags),
    });
  }

  // ward's own check: Linux maps nothing and the task dies with SIGSEGV at its
  // entry point.
  if (segments.empty()) {
    return Errno{ENOEXEC};
  }
  return segments;
}

// Returns where the program headers are in memory: PT_PHDR's p_vaddr, else
// the place the last PT_LOAD whose file bytes contain e_phoff puts them.
// NOTE: Linux computes AT_PHDR from the PT_LOAD alone and ignores PT_PHDR.
// ward prefers PT_PHDR because glibc's ld.so derives the load bias from it.
// The two agree in linker output.
Result<uint64_t> find_phdr_vaddr(const Elf64_Ehdr& header, std::span<const Elf64_Phdr> phdrs) {
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type == PT_PHDR) {
      return phdr.p_vaddr;
    }
  }

  std::optional<uint64_t> phdr_vaddr;
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type == PT_LOAD && phdr.p_offset <= header.e_phoff &&
        header.e_phoff - phdr.p_offset < phdr.p_filesz) {
      phdr_vaddr = phdr.p_vaddr + (header.e_phoff - phdr.p_offset);
    }
  }
  // ward's own check: Linux passes the load bias alone as AT_PHDR.
  if (!phdr_vaddr.has_value()) {
    return Errno{ENOEXEC};
  }
  return *phdr_vaddr;
}

// Linux's maximum_alignment: alignments that are not a power of two are
// ignored, and the result is at least one page.
uint64_t max_load_alignment(std::span<const Elf64_Phdr> phdrs) {
  uint64_t alignment = kPageSize;
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type == PT_LOAD && std::has_single_bit(phdr.p_align)) {
      alignment = std::max(alignment, phdr.p_align);
    }
  }
  return alignment;
}

// The buffer that binfmt_script parses: the head of the file padded with NULs
// to kExecHeadBytes. Positions below are indexes into it.
using ExecHead = std::array<char, kExecHeadBytes>;

// Index of the byte that ends the script's buffer. Linux stores the line's
// terminating NUL there when no newline came first, so that byte is dropped.
constexpr size_t kLastHeadIndex = kExecHeadBytes - 1;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Index of the first byte in [first, last] that is not a space or tab.
std::optional<size_t> find_non_blank(const ExecHead& head, size_t first, size_t last) {
  for (size_t i = first; i <= last; ++i) {
    if (!is_blank(head[i])) {
      return i;
    }
  }
  return std::nullopt;
}

// Index of the first space, tab or NUL in [first, last]: where a word ends.
std::optional<size_t> find_word_end(const ExecHead& head, size_t first, size_t last) {
  for (size_t i = first; i <= last; ++i) {
    if (is_blank(head[i]) || head[i] == '\0') {
      return i;
    }
  }
  return std::nullopt;
}

// Index of the first newline, searching no further than the first NUL.
std::optional<size_t> find_newline(const ExecHead& head) {
  for (size_t i = 0; i < head.size() && head[i] != '\0'; ++i) {
    if (head[i] == '\n') {
      return i;
    }
  }
  return std::nullopt;
}

std::string string_at(const ExecHead& head, size_t first) {
  return std::string(&head[first], strnlen(&head[first], head.size() - first));
}

}  // namespace

Result<ElfImage> parse_elf(const FileReader& read, uint64_t file_size_bytes) {
  const Elf64_Ehdr header = TRY(read_elf_header(read, file_size_bytes));
  TRY(check_elf_header(header));

  const std::vector<Elf64_Phdr> phdrs = TRY(read_program_headers(read, file_size_bytes, header));
  std::optional<std::string> interpreter = TRY(find_interpreter(read, file_size_bytes, phdrs));

  // Linux sizes the first mapping of a PIE from the span of its PT_LOADs and
  // fails when the span is empty.
  const bool position_independent = header.e_type == ET_DYN;
  if (position_independent && mapping_span_bytes(phdrs) == uint64_t{0}) {
    return Errno{EINVAL};
  }

  std::vector<ElfSegment> segments = TRY(check_load_segments(phdrs, file_size_bytes));

  // The entry of a static ET_EXEC is final, and Linux checks it like a
  // segment address. A PIE's entry moves with the load bias, and with an
  // interpreter the interpreter's entry runs first.
  if (!position_independent && !interpreter.has_value() && header.e_entry >= kTaskSize) {
    return Errno{EINVAL};
  }

  const uint64_t phdr_vaddr = TRY(find_phdr_vaddr(header, phdrs));

  // Segments are in ascending order and end at most at kTaskSize, which is
  // page aligned, so rounding the last end up cannot overflow.
  const uint64_t min_vaddr = GuestAddr(segments.front().vaddr).page_down().value();
  const uint64_t max_vaddr = GuestAddr(segment_end(segments.back())).page_up()->value();

  return ElfImage{
      .position_independent = position_independent,
      .entry = header.e_entry,
      .phdr_vaddr = phdr_vaddr,
      .phent_bytes = header.e_phentsize,
      .phnum = header.e_phnum,
      .segments = std::move(segments),
      .interpreter = std::move(interpreter),
      .executable_stack = has_executable_stack(phdrs),
      .min_vaddr = min_vaddr,
      .max_vaddr = max_vaddr,
      .max_align_bytes = max_load_alignment(phdrs),
  };
}

Result<std::optional<Shebang>> parse_shebang(std::span<const std::byte> head_bytes) {
  ExecHead head{};
  const size_t head_size_bytes = std::min(head_bytes.size(), head.size());
  std::transform(head_bytes.begin(), head_bytes.begin() + head_size_bytes, head.begin(),
                 [](std::byte b) { return static_cast<char>(b); });
  if (head[0] != '#' || head[1] != '!') {
    return std::optional<Shebang>{};
  }

  // Find the end of the line. Without a newline in the buffer, the line may
  // be cut off: that is fine for the argument, which the interpreter can read
  // again from the script, but not for the interpreter's path.
  size_t line_end = 0;
  if (const std::optional<size_t> newline = find_newline(head)) {
    line_end = *newline;
  } else {
    const std::optional<size_t> name_start = find_non_blank(head, 2, kLastHeadIndex);
    if (!name_start.has_value()) {
      return Errno{ENOEXEC};
    }
    if (!find_word_end(head, *name_start, kLastHeadIndex).has_value()) {
      return Errno{ENOEXEC};
    }
    line_end = kLastHeadIndex;
  }

  // Strip spaces and tabs before the line's end. The `!` at index 1 stops the
  // loop. A `\r` is not stripped, so a CRLF line names an interpreter ending
  // in `\r`. Spaces before a NUL that ends the line are kept as well.
  while (is_blank(head[line_end - 1])) {
    --line_end;
  }

  const std::optional<size_t> name_start = find_non_blank(head, 2, line_end);
  if (!name_start.has_value() || *name_start == line_end) {
    return Errno{ENOEXEC};
  }

  // Everything after the blanks that end the name is one argument. When the
  // name ends in a blank followed by NUL, the argument is the empty string.
  std::optional<size_t> argument_start;
  const std::optional<size_t> name_end = find_word_end(head, *name_start, line_end);
  if (name_end.has_value() && head[*name_end] != '\0') {
    argument_start = find_non_blank(head, *name_end, line_end);
  }

  head[line_end] = '\0';
  if (argument_start.has_value()) {
    head[*name_end] = '\0';
  }

  Shebang shebang{.interpreter = string_at(head, *name_start), .argument = std::nullopt};
  // A NUL right after the blanks gives an empty name, which Linux resolves to
  // the current directory and then rejects as not a regular file.
  if (shebang.interpreter.empty()) {
    return Errno{EACCES};
  }
  if (argument_start.has_value()) {
    shebang.argument = string_at(head, *argument_start);
  }
  return std::optional<Shebang>(std::move(shebang));
}

}  // namespace ward::loader
