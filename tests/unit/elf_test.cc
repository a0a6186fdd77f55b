// Tests of the ELF and `#!` parser on crafted files and on host binaries. The
// expected errno values are what Linux 6.18 returned from execve for the same
// files, or ward's own choice where Linux accepts the file.
#include "sentry/loader/elf.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ward/errno_name.h"
#include "ward/guest_addr.h"

namespace ward::loader {
namespace {

using namespace std::literals;

constexpr uint64_t kStaticBase = 0x400000;
constexpr uint64_t kInterpreterOffset = 0x200;
constexpr std::string_view kLdSo = "/lib64/ld-linux-x86-64.so.2\0"sv;

// An ELF file under construction: the header, the program header table that
// bytes() writes at e_phoff, and byte strings placed at chosen file offsets.
// Whatever lies past size_bytes is cut off, so a test can truncate the file.
struct TestElf {
  Elf64_Ehdr header{};
  std::vector<Elf64_Phdr> phdrs;
  std::vector<std::pair<uint64_t, std::string>> blobs;
  uint64_t size_bytes = 0x3000;

  // Appends a program header and counts it in e_phnum.
  void add(const Elf64_Phdr& phdr) {
    phdrs.push_back(phdr);
    header.e_phnum = static_cast<uint16_t>(phdrs.size());
  }

  std::vector<std::byte> bytes() const {
    std::vector<std::byte> file(size_bytes);
    write(file, 0, &header, sizeof(header));
    write(file, header.e_phoff, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr));
    for (const auto& [offset, blob] : blobs) {
      write(file, offset, blob.data(), blob.size());
    }
    return file;
  }

 private:
  static void write(std::vector<std::byte>& file, uint64_t offset, const void* data,
                    size_t size_bytes) {
    if (offset >= file.size()) {
      return;
    }
    const size_t fitting_bytes = std::min<uint64_t>(size_bytes, file.size() - offset);
    std::memcpy(file.data() + offset, data, fitting_bytes);
  }
};

Elf64_Phdr program_header(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr,
                          uint64_t filesz, uint64_t memsz, uint64_t align) {
  return Elf64_Phdr{
      .p_type = type,
      .p_flags = flags,
      .p_offset = offset,
      .p_vaddr = vaddr,
      .p_paddr = vaddr,
      .p_filesz = filesz,
      .p_memsz = memsz,
      .p_align = align,
  };
}

Elf64_Phdr load(uint64_t offset, uint64_t vaddr, uint64_t filesz, uint64_t memsz,
                uint32_t flags = PF_R) {
  return program_header(PT_LOAD, flags, offset, vaddr, filesz, memsz, kPageSize);
}

// A PT_INTERP header. A PIE maps its file offsets at the same vaddr.
Elf64_Phdr interp(uint64_t offset, uint64_t size_bytes) {
  return program_header(PT_INTERP, PF_R, offset, offset, size_bytes, size_bytes, 1);
}

Elf64_Phdr gnu_stack(uint32_t flags) {
  return program_header(PT_GNU_STACK, flags, 0, 0, 0, 0, 16);
}

Elf64_Ehdr elf_header(uint16_t type, uint64_t entry) {
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_type = type;
  header.e_machine = EM_X86_64;
  header.e_version = EV_CURRENT;
  header.e_entry = entry;
  header.e_phoff = sizeof(Elf64_Ehdr);
  header.e_ehsize = sizeof(Elf64_Ehdr);
  header.e_phentsize = sizeof(Elf64_Phdr);
  return header;
}

// A static ET_EXEC: text at 0x400000 and data whose first byte shares the
// text's last file page, followed by bss. No PT_PHDR.
TestElf static_exec() {
  TestElf elf;
  elf.header = elf_header(ET_EXEC, kStaticBase + 0x800);
  elf.add(load(0, kStaticBase, 0x1000, 0x1000, PF_R | PF_X));
  elf.add(load(0x1f00, kStaticBase + 0x2f00, 0x100, 0x2000, PF_R | PF_W));
  elf.add(gnu_stack(PF_R | PF_W));
  return elf;
}

// An ET_DYN program with PT_PHDR and PT_INTERP, linked at 0 like a PIE.
TestElf pie_with_interpreter() {
  TestElf elf;
  elf.header = elf_header(ET_DYN, 0x1040);
  const uint64_t table_bytes = 6 * sizeof(Elf64_Phdr);
  elf.add(program_header(PT_PHDR, PF_R, sizeof(Elf64_Ehdr), sizeof(Elf64_Ehdr), table_bytes,
                         table_bytes, 8));
  elf.add(interp(kInterpreterOffset, kLdSo.size()));
  elf.blobs.emplace_back(kInterpreterOffset, std::string(kLdSo));
  elf.add(load(0, 0, 0x1000, 0x1000, PF_R));
  elf.add(load(0x1000, 0x1000, 0x1000, 0x1000, PF_R | PF_X));
  elf.add(load(0x2e00, 0x3e00, 0x200, 0x400, PF_R | PF_W));
  elf.add(gnu_stack(PF_R | PF_W));
  return elf;
}

// A FileReader over bytes in memory, short only at their end.
FileReader reader_over(const std::vector<std::byte>& file) {
  return [&file](uint64_t offset, std::span<std::byte> buffer) -> Result<size_t> {
    if (offset >= file.size()) {
      return size_t{0};
    }
    const size_t count = std::min<uint64_t>(buffer.size(), file.size() - offset);
    std::memcpy(buffer.data(), file.data() + offset, count);
    return count;
  };
}

Result<ElfImage> parse(const TestElf& elf) {
  const std::vector<std::byte> file = elf.bytes();
  return parse_elf(reader_over(file), file.size());
}

// "ok" or the errno's name, so that a failed expectation reads as names.
template <typename T>
std::string_view outcome(const Result<T>& result) {
  return result.ok() ? "ok"sv : errno_name(result.error().value);
}

// ---- Valid files ----

TEST(ElfTest, StaticExecParses) {
  const Result<ElfImage> image = parse(static_exec());
  ASSERT_EQ(outcome(image), "ok");

  EXPECT_FALSE(image->position_independent);
  EXPECT_EQ(image->entry, kStaticBase + 0x800);
  EXPECT_EQ(image->phdr_vaddr, kStaticBase + sizeof(Elf64_Ehdr));
  EXPECT_EQ(image->phent_bytes, sizeof(Elf64_Phdr));
  EXPECT_EQ(image->phnum, 3);
  EXPECT_FALSE(image->interpreter.has_value());
  EXPECT_FALSE(image->executable_stack);
  EXPECT_EQ(image->min_vaddr, kStaticBase);
  EXPECT_EQ(image->max_vaddr, kStaticBase + 0x5000);
  EXPECT_EQ(image->max_align_bytes, kPageSize);

  ASSERT_EQ(image->segments.size(), 2u);
  const ElfSegment& text = image->segments[0];
  EXPECT_EQ(text.vaddr, kStaticBase);
  EXPECT_EQ(text.offset, 0u);
  EXPECT_EQ(text.filesz_bytes, 0x1000u);
  EXPECT_EQ(text.memsz_bytes, 0x1000u);
  EXPECT_EQ(text.prot, PROT_READ | PROT_EXEC);
  const ElfSegment& data = image->segments[1];
  EXPECT_EQ(data.vaddr, kStaticBase + 0x2f00);
  EXPECT_EQ(data.offset, 0x1f00u);
  EXPECT_EQ(data.filesz_bytes, 0x100u);
  EXPECT_EQ(data.memsz_bytes, 0x2000u);
  EXPECT_EQ(data.prot, PROT_READ | PROT_WRITE);
}

TEST(ElfTest, PieWithInterpreterParses) {
  const Result<ElfImage> image = parse(pie_with_interpreter());
  ASSERT_EQ(outcome(image), "ok");

  EXPECT_TRUE(image->position_independent);
  EXPECT_EQ(image->entry, 0x1040u);
  EXPECT_EQ(image->interpreter, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(image->phdr_vaddr, sizeof(Elf64_Ehdr));
  EXPECT_EQ(image->phnum, 6);
  EXPECT_EQ(image->segments.size(), 3u);
  EXPECT_EQ(image->min_vaddr, 0u);
  EXPECT_EQ(image->max_vaddr, 0x5000u);
}

TEST(ElfTest, StaticPieWithoutInterpreterParses) {
  TestElf elf = static_exec();
  elf.header.e_type = ET_DYN;
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_TRUE(image->position_independent);
  EXPECT_FALSE(image->interpreter.has_value());
}

TEST(ElfTest, PtPhdrTakesPrecedence) {
  TestElf elf = static_exec();
  elf.add(program_header(PT_PHDR, PF_R, 0x100, kStaticBase + 0x100, 0, 0, 8));
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_EQ(image->phdr_vaddr, kStaticBase + 0x100);
}

TEST(ElfTest, PhdrVaddrFromCoveringLoad) {
  TestElf elf = static_exec();
  elf.header.e_phoff = 0x1f20;  // inside the data segment's file bytes
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_EQ(image->phdr_vaddr, kStaticBase + 0x2f20);
}

// Linux keeps the last PT_LOAD whose file bytes contain e_phoff.
TEST(ElfTest, PhdrVaddrFromLastCoveringLoad) {
  TestElf elf = static_exec();
  elf.add(load(0, kStaticBase + 0x100000, 0x100, 0x100, PF_R));
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_EQ(image->phdr_vaddr, kStaticBase + 0x100000 + sizeof(Elf64_Ehdr));
}

TEST(ElfTest, PhdrsOutsideLoadsRejected) {
  TestElf elf = static_exec();
  elf.header.e_phoff = 0x2800;  // in the file, but in no PT_LOAD's file bytes
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, StackNotExecutableWithoutGnuStack) {
  TestElf elf = static_exec();
  elf.phdrs.pop_back();
  elf.header.e_phnum = 2;
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_FALSE(image->executable_stack);
}

TEST(ElfTest, LastGnuStackDecides) {
  TestElf elf = static_exec();
  elf.phdrs.back().p_flags = PF_R | PF_W | PF_X;
  const Result<ElfImage> executable = parse(elf);
  ASSERT_EQ(outcome(executable), "ok");
  EXPECT_TRUE(executable->executable_stack);

  elf.add(gnu_stack(PF_R | PF_W));
  const Result<ElfImage> not_executable = parse(elf);
  ASSERT_EQ(outcome(not_executable), "ok");
  EXPECT_FALSE(not_executable->executable_stack);
}

TEST(ElfTest, MaxAlignSkipsNonPowersOfTwo) {
  TestElf elf = pie_with_interpreter();
  elf.phdrs[2].p_align = 0x200000;
  elf.phdrs[3].p_align = 0x300000;
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_EQ(image->max_align_bytes, 0x200000u);
}

TEST(ElfTest, MaxAlignAtLeastOnePage) {
  TestElf elf = pie_with_interpreter();
  elf.phdrs[2].p_align = 16;
  elf.phdrs[3].p_align = 0;
  elf.phdrs[4].p_align = 1;
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_EQ(image->max_align_bytes, kPageSize);
}

TEST(ElfTest, BssOnlySegmentIgnoresOffset) {
  TestElf elf = static_exec();
  elf.add(load(0x123456, kStaticBase + 0x10000, 0, 0x1000, PF_R | PF_W));
  EXPECT_EQ(outcome(parse(elf)), "ok");
}

TEST(ElfTest, SegmentEndingAtTaskSizeAccepted) {
  TestElf elf = static_exec();
  elf.add(load(0, kTaskSize - kPageSize, 0, kPageSize, PF_R | PF_W));
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_EQ(image->max_vaddr, kTaskSize);
}

TEST(ElfTest, LargestProgramHeaderTableAccepted) {
  TestElf elf = static_exec();
  elf.size_bytes = 0x20000;
  while (elf.phdrs.size() < 65536 / sizeof(Elf64_Phdr)) {
    elf.add(program_header(PT_NULL, 0, 0, 0, 0, 0, 0));
  }
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_EQ(image->phnum, 1170);
}

TEST(ElfTest, InterpreterOfPathMaxAccepted) {
  TestElf elf = pie_with_interpreter();
  elf.size_bytes = 0x5000;
  elf.phdrs[1] = interp(0x3000, PATH_MAX);
  elf.blobs.emplace_back(0x3000, "/" + std::string(PATH_MAX - 2, 'a') + '\0');
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_EQ(image->interpreter->size(), size_t{PATH_MAX - 1});
}

TEST(ElfTest, InterpreterEndsAtFirstNul) {
  TestElf elf = pie_with_interpreter();
  elf.blobs[0].second = std::string("/lib/ld\0xy\0", 11);
  elf.phdrs[1].p_filesz = 11;
  const Result<ElfImage> image = parse(elf);
  ASSERT_EQ(outcome(image), "ok");
  EXPECT_EQ(image->interpreter, "/lib/ld");
}

// ---- The ELF header ----

TEST(ElfTest, TruncatedHeaderRejected) {
  std::vector<std::byte> file = static_exec().bytes();
  file.resize(sizeof(Elf64_Ehdr) - 1);
  EXPECT_EQ(outcome(parse_elf(reader_over(file), file.size())), "ENOEXEC");
}

TEST(ElfTest, WrongMagicRejected) {
  TestElf elf = static_exec();
  elf.header.e_ident[EI_MAG3] = 'G';
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, Class32Rejected) {
  TestElf elf = static_exec();
  elf.header.e_ident[EI_CLASS] = ELFCLASS32;
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, BigEndianRejected) {
  TestElf elf = static_exec();
  elf.header.e_ident[EI_DATA] = ELFDATA2MSB;
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, WrongMachineRejected) {
  TestElf elf = static_exec();
  elf.header.e_machine = EM_386;
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
  elf.header.e_machine = EM_AARCH64;
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, RelocatableAndCoreRejected) {
  for (const uint16_t type : {ET_NONE, ET_REL, ET_CORE}) {
    TestElf elf = static_exec();
    elf.header.e_type = type;
    EXPECT_EQ(outcome(parse(elf)), "ENOEXEC") << "e_type " << type;
  }
}

// ---- The program header table ----

TEST(ElfTest, BadPhentsizeRejected) {
  for (const uint16_t phentsize : {0, 32, 55, 57, 64}) {
    TestElf elf = static_exec();
    elf.header.e_phentsize = phentsize;
    EXPECT_EQ(outcome(parse(elf)), "ENOEXEC") << "e_phentsize " << phentsize;
  }
}

TEST(ElfTest, ZeroPhnumRejected) {
  TestElf elf = static_exec();
  elf.header.e_phnum = 0;
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, HugePhnumRejected) {
  for (const uint16_t phnum : {1171, 65535}) {
    TestElf elf = static_exec();
    elf.size_bytes = 0x400000;  // the table fits in the file
    elf.header.e_phnum = phnum;
    EXPECT_EQ(outcome(parse(elf)), "ENOEXEC") << "e_phnum " << phnum;
  }
}

TEST(ElfTest, ProgramHeadersPastEofRejected) {
  TestElf elf = static_exec();
  elf.header.e_phoff = elf.size_bytes - sizeof(Elf64_Phdr);
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");

  std::vector<std::byte> file = static_exec().bytes();
  file.resize(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr));
  EXPECT_EQ(outcome(parse_elf(reader_over(file), file.size())), "ENOEXEC");
}

TEST(ElfTest, ProgramHeaderOffsetOverflowRejected) {
  TestElf elf = static_exec();
  elf.header.e_phoff = UINT64_MAX - 8;
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

// ---- PT_LOAD ----

TEST(ElfTest, HugeFileszRejected) {
  TestElf elf = static_exec();
  elf.phdrs[1].p_filesz = uint64_t{1} << 62;
  elf.phdrs[1].p_memsz = uint64_t{1} << 62;
  EXPECT_EQ(outcome(parse(elf)), "EINVAL");
}

TEST(ElfTest, FileszAboveMemszRejected) {
  TestElf elf = static_exec();
  elf.phdrs[1].p_filesz = 0x100;
  elf.phdrs[1].p_memsz = 0xff;
  EXPECT_EQ(outcome(parse(elf)), "EINVAL");
}

TEST(ElfTest, SegmentPastEofRejected) {
  TestElf elf = static_exec();
  elf.phdrs[1].p_filesz = elf.size_bytes - elf.phdrs[1].p_offset + 1;
  elf.phdrs[1].p_memsz = 0x2000;
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");

  TestElf far_offset = static_exec();
  far_offset.phdrs[1].p_offset = 0x10f00;
  EXPECT_EQ(outcome(parse(far_offset)), "ENOEXEC");
}

TEST(ElfTest, SegmentOffsetWrapRejected) {
  TestElf elf = static_exec();
  elf.phdrs[1].p_offset = UINT64_MAX - 0xff;  // congruent to p_vaddr 0x402f00
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, VaddrWrapRejected) {
  TestElf elf = static_exec();
  elf.add(load(0, 0xfffffffffffff000, 0, 0x2000, PF_R));
  EXPECT_EQ(outcome(parse(elf)), "EINVAL");

  TestElf wrapping_memsz = static_exec();
  wrapping_memsz.phdrs[1].p_memsz = UINT64_MAX - 0x1000;
  EXPECT_EQ(outcome(parse(wrapping_memsz)), "EINVAL");
}

TEST(ElfTest, VaddrBeyondTaskSizeRejected) {
  TestElf elf = static_exec();
  elf.add(load(0, kTaskSize - kPageSize, 0, kPageSize + 1, PF_R));
  EXPECT_EQ(outcome(parse(elf)), "EINVAL");

  TestElf above = static_exec();
  above.add(load(0, uint64_t{1} << 47, 0, kPageSize, PF_R));
  EXPECT_EQ(outcome(parse(above)), "EINVAL");
}

TEST(ElfTest, MisalignedOffsetRejected) {
  TestElf elf = static_exec();
  elf.phdrs[1].p_offset = 0x1f10;
  EXPECT_EQ(outcome(parse(elf)), "EINVAL");

  TestElf misaligned_vaddr = static_exec();
  misaligned_vaddr.phdrs[0].p_vaddr = kStaticBase + 0x10;
  EXPECT_EQ(outcome(parse(misaligned_vaddr)), "EINVAL");
}

TEST(ElfTest, OutOfOrderSegmentsRejected) {
  TestElf elf = static_exec();
  std::swap(elf.phdrs[0], elf.phdrs[1]);
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, OverlappingSegmentsRejected) {
  TestElf elf = static_exec();
  elf.phdrs[1].p_vaddr = kStaticBase + 0xf00;  // one byte range inside the text
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");

  TestElf one_byte = static_exec();
  one_byte.add(load(0x2000, kStaticBase + 0x4eff, 0, 0x10, PF_R));
  EXPECT_EQ(outcome(parse(one_byte)), "ENOEXEC");
}

TEST(ElfTest, NoLoadSegmentRejected) {
  TestElf elf = static_exec();
  elf.phdrs[0].p_type = PT_NOTE;
  elf.phdrs[1].p_type = PT_NOTE;
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, PieWithEmptySpanRejected) {
  TestElf elf = pie_with_interpreter();
  elf.phdrs.resize(2);
  elf.add(load(0, 0, 0, 0));
  EXPECT_EQ(outcome(parse(elf)), "EINVAL");
}

TEST(ElfTest, StaticEntryBeyondTaskSizeRejected) {
  TestElf elf = static_exec();
  elf.header.e_entry = kTaskSize;
  EXPECT_EQ(outcome(parse(elf)), "EINVAL");
}

// ---- PT_INTERP ----

TEST(ElfTest, InterpreterTooLongRejected) {
  TestElf elf = pie_with_interpreter();
  elf.size_bytes = 0x5000;
  elf.phdrs[1] = interp(0x3000, PATH_MAX + 1);
  elf.blobs.emplace_back(0x3000, "/" + std::string(PATH_MAX - 1, 'a') + '\0');
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, InterpreterTooShortRejected) {
  for (const uint64_t size_bytes : {0, 1}) {
    TestElf elf = pie_with_interpreter();
    elf.phdrs[1].p_filesz = size_bytes;
    EXPECT_EQ(outcome(parse(elf)), "ENOEXEC") << "p_filesz " << size_bytes;
  }
}

TEST(ElfTest, InterpreterWithoutNulRejected) {
  TestElf elf = pie_with_interpreter();
  elf.phdrs[1].p_filesz = kLdSo.size() - 1;
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, InterpreterPastEofIsEio) {
  TestElf elf = pie_with_interpreter();
  elf.phdrs[1].p_offset = elf.size_bytes - 4;
  EXPECT_EQ(outcome(parse(elf)), "EIO");

  elf.phdrs[1].p_offset = uint64_t{1} << 62;
  EXPECT_EQ(outcome(parse(elf)), "EIO");
}

TEST(ElfTest, InterpreterAtInvalidFileOffsetIsEinval) {
  TestElf negative = pie_with_interpreter();
  negative.phdrs[1].p_offset = (uint64_t{1} << 63) + kInterpreterOffset;
  EXPECT_EQ(outcome(parse(negative)), "EINVAL");

  TestElf end_overflows = pie_with_interpreter();
  end_overflows.phdrs[1].p_offset = INT64_MAX - 2;
  end_overflows.phdrs[1].p_filesz = 4;
  EXPECT_EQ(outcome(parse(end_overflows)), "EINVAL");
}

TEST(ElfTest, TwoInterpretersRejected) {
  TestElf elf = pie_with_interpreter();
  elf.add(interp(kInterpreterOffset, kLdSo.size()));
  EXPECT_EQ(outcome(parse(elf)), "ENOEXEC");
}

TEST(ElfTest, FirstOfTwoInterpretersFailsFirst) {
  TestElf elf = pie_with_interpreter();
  elf.phdrs[1].p_offset = elf.size_bytes - 4;
  elf.add(interp(kInterpreterOffset, kLdSo.size()));
  EXPECT_EQ(outcome(parse(elf)), "EIO");
}

TEST(ElfTest, EmptyInterpreterIsEacces) {
  TestElf elf = pie_with_interpreter();
  elf.blobs[0].second = std::string(2, '\0');
  elf.phdrs[1].p_filesz = 2;
  EXPECT_EQ(outcome(parse(elf)), "EACCES");
}

TEST(ElfTest, InterpreterCheckedBeforeSegments) {
  TestElf elf = pie_with_interpreter();
  elf.phdrs[1].p_offset = elf.size_bytes - 4;  // PT_INTERP past the end: EIO
  elf.phdrs[2].p_filesz = 0x2000;              // PT_LOAD with p_filesz > p_memsz: EINVAL
  std::swap(elf.phdrs[1], elf.phdrs[2]);       // the bad PT_LOAD comes first in the table
  EXPECT_EQ(outcome(parse(elf)), "EIO");
}

// ---- The reader ----

// A reader over `file` that fails with `error` for any read reaching `fail_offset`.
FileReader failing_reader(const std::vector<std::byte>& file, uint64_t fail_offset, Errno error) {
  return [&file, fail_offset, error](uint64_t offset,
                                     std::span<std::byte> buffer) -> Result<size_t> {
    if (offset + buffer.size() > fail_offset) {
      return error;
    }
    return reader_over(file)(offset, buffer);
  };
}

TEST(ElfTest, ReaderErrorPropagated) {
  const std::vector<std::byte> file = pie_with_interpreter().bytes();
  // EBADF is an errno that no check of the parser returns.
  for (const uint64_t fail_offset : {uint64_t{0}, sizeof(Elf64_Ehdr) + 1, kInterpreterOffset + 1}) {
    const Result<ElfImage> image =
        parse_elf(failing_reader(file, fail_offset, Errno{EBADF}), file.size());
    EXPECT_EQ(outcome(image), "EBADF") << "failing from offset " << fail_offset;
  }
}

TEST(ElfTest, ShortReadsUseLinuxErrno) {
  std::vector<std::byte> file = pie_with_interpreter().bytes();
  const uint64_t claimed_size_bytes = file.size();

  // The file shrinks under the reader: the program headers read short.
  file.resize(sizeof(Elf64_Ehdr) + 10);
  EXPECT_EQ(outcome(parse_elf(reader_over(file), claimed_size_bytes)), "ENOEXEC");

  // Now only the interpreter's path reads short.
  file = pie_with_interpreter().bytes();
  file.resize(kInterpreterOffset + 4);
  EXPECT_EQ(outcome(parse_elf(reader_over(file), claimed_size_bytes)), "EIO");
}

TEST(ElfTest, OverlongReadIsEio) {
  const std::vector<std::byte> file = static_exec().bytes();
  const FileReader overlong = [&file](uint64_t offset,
                                      std::span<std::byte> buffer) -> Result<size_t> {
    const Result<size_t> count = reader_over(file)(offset, buffer);
    return count.value() + 1;
  };
  EXPECT_EQ(outcome(parse_elf(overlong, file.size())), "EIO");
}

// ---- Host binaries ----

// Closes a host file descriptor when the test leaves its scope.
struct HostFd {
  int fd;
  ~HostFd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

TEST(ElfTest, HostBinariesParse) {
  int parsed_count = 0;
  for (const char* path : {"/bin/true", "/bin/ls", "/usr/bin/python3", "/bin/busybox"}) {
    const HostFd file{::open(path, O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) {
      continue;
    }
    struct stat file_stat {};
    ASSERT_EQ(::fstat(file.fd, &file_stat), 0) << path;

    const FileReader read = [&file](uint64_t offset,
                                    std::span<std::byte> buffer) -> Result<size_t> {
      const ssize_t count = ::pread(file.fd, buffer.data(), buffer.size(), offset);
      if (count < 0) {
        return Errno{errno};
      }
      return static_cast<size_t>(count);
    };
    const Result<ElfImage> image = parse_elf(read, file_stat.st_size);
    ASSERT_EQ(outcome(image), "ok") << path;
    ++parsed_count;

    // The entry point lies in an executable segment.
    const bool entry_is_executable =
        std::ranges::any_of(image->segments, [&](const ElfSegment& segment) {
          return (segment.prot & PROT_EXEC) != 0 && segment.vaddr <= image->entry &&
                 image->entry < segment.vaddr + segment.memsz_bytes;
        });
    EXPECT_TRUE(entry_is_executable) << path;
    EXPECT_GE(image->phdr_vaddr, image->min_vaddr) << path;
    EXPECT_LT(image->phdr_vaddr, image->max_vaddr) << path;
    EXPECT_FALSE(image->executable_stack) << path;
    if (image->interpreter.has_value()) {
      EXPECT_TRUE(image->interpreter->starts_with("/")) << path;
    }
    if (std::string_view(path) == "/bin/busybox") {
      EXPECT_FALSE(image->interpreter.has_value()) << "busybox-static links statically";
    }
  }
  if (parsed_count == 0) {
    GTEST_SKIP() << "none of the host binaries exist";
  }
}

// ---- `#!` ----

Result<std::optional<Shebang>> shebang_of(std::string_view text) {
  return parse_shebang(std::as_bytes(std::span(text.data(), text.size())));
}

TEST(ShebangTest, NonScriptIsNullopt) {
  for (const std::string_view text : {"\x7f" "ELF\x02\x01"sv, ""sv, "#"sv, "!#/bin/sh\n"sv,
                                      " #!/bin/sh\n"sv}) {
    const Result<std::optional<Shebang>> shebang = shebang_of(text);
    ASSERT_EQ(outcome(shebang), "ok");
    EXPECT_FALSE(shebang->has_value()) << "head " << text;
  }
}

TEST(ShebangTest, PlainInterpreter) {
  const Result<std::optional<Shebang>> shebang = shebang_of("#!/bin/sh\necho hi\n");
  ASSERT_EQ(outcome(shebang), "ok");
  ASSERT_TRUE(shebang->has_value());
  EXPECT_EQ((*shebang)->interpreter, "/bin/sh");
  EXPECT_FALSE((*shebang)->argument.has_value());
}

TEST(ShebangTest, ArgumentIsRestOfLine) {
  const Result<std::optional<Shebang>> shebang = shebang_of("#!/bin/sh -x -e\n");
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->interpreter, "/bin/sh");
  EXPECT_EQ((*shebang)->argument, "-x -e");
}

TEST(ShebangTest, SpacesAndTabsSeparate) {
  const Result<std::optional<Shebang>> shebang = shebang_of("#! \t/usr/bin/env\t \tpython3\n");
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->interpreter, "/usr/bin/env");
  EXPECT_EQ((*shebang)->argument, "python3");
}

TEST(ShebangTest, TrailingBlanksStripped) {
  const Result<std::optional<Shebang>> shebang = shebang_of("#!/bin/sh  -x \t y \t \n");
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->argument, "-x \t y");

  const Result<std::optional<Shebang>> no_argument = shebang_of("#!/bin/sh \t \n");
  ASSERT_EQ(outcome(no_argument), "ok");
  EXPECT_EQ((*no_argument)->interpreter, "/bin/sh");
  EXPECT_FALSE((*no_argument)->argument.has_value());
}

TEST(ShebangTest, CarriageReturnKept) {
  const Result<std::optional<Shebang>> shebang = shebang_of("#!/bin/sh\r\n");
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->interpreter, "/bin/sh\r");

  const Result<std::optional<Shebang>> with_argument = shebang_of("#!/bin/sh -x\r\n");
  ASSERT_EQ(outcome(with_argument), "ok");
  EXPECT_EQ((*with_argument)->argument, "-x\r");
}

TEST(ShebangTest, NulEndsLine) {
  const Result<std::optional<Shebang>> shebang = shebang_of("#!/bin/sh -x\0 junk\n"sv);
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->interpreter, "/bin/sh");
  EXPECT_EQ((*shebang)->argument, "-x");

  const Result<std::optional<Shebang>> name_only = shebang_of("#!/bin/sh\0 -x\n"sv);
  ASSERT_EQ(outcome(name_only), "ok");
  EXPECT_EQ((*name_only)->interpreter, "/bin/sh");
  EXPECT_FALSE((*name_only)->argument.has_value());
}

TEST(ShebangTest, ScriptWithoutNewline) {
  const Result<std::optional<Shebang>> shebang = shebang_of("#!/bin/sh");
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->interpreter, "/bin/sh");
  EXPECT_FALSE((*shebang)->argument.has_value());
}

// Without a newline the line ends at a NUL, and Linux strips no blanks there.
TEST(ShebangTest, BlanksBeforeNulKept) {
  const Result<std::optional<Shebang>> shebang = shebang_of("#!/bin/sh -x  ");
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->argument, "-x  ");

  const Result<std::optional<Shebang>> empty_argument = shebang_of("#!/bin/sh ");
  ASSERT_EQ(outcome(empty_argument), "ok");
  EXPECT_EQ((*empty_argument)->argument, "");
}

TEST(ShebangTest, LongArgumentTruncated) {
  const std::string text = "#!/bin/sh " + std::string(300, 'a') + "\n";
  const Result<std::optional<Shebang>> shebang = shebang_of(text);
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->interpreter, "/bin/sh");
  // The argument starts at index 10 and the buffer's last byte is dropped.
  EXPECT_EQ((*shebang)->argument, std::string(kExecHeadBytes - 11, 'a'));
}

TEST(ShebangTest, LongInterpreterRejected) {
  EXPECT_EQ(outcome(shebang_of("#!/" + std::string(300, 'a'))), "ENOEXEC");
  EXPECT_EQ(outcome(shebang_of("#!/" + std::string(300, 'a') + " -x\n")), "ENOEXEC");
  // A name that fills the buffer through its last byte may continue past it.
  EXPECT_EQ(outcome(shebang_of("#!/" + std::string(kExecHeadBytes - 3, 'a') + " -x\n")),
            "ENOEXEC");
}

TEST(ShebangTest, InterpreterEndingAtLastByte) {
  // The blank after the name is the buffer's last byte.
  const std::string name = "/" + std::string(kExecHeadBytes - 4, 'a');
  const Result<std::optional<Shebang>> shebang = shebang_of("#!" + name + " -x\n");
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->interpreter, name);
  EXPECT_FALSE((*shebang)->argument.has_value());
}

TEST(ShebangTest, EmptyInterpreterRejected) {
  EXPECT_EQ(outcome(shebang_of("#!\n")), "ENOEXEC");
  EXPECT_EQ(outcome(shebang_of("#! \t \n")), "ENOEXEC");
  EXPECT_EQ(outcome(shebang_of("#!" + std::string(300, ' '))), "ENOEXEC");
}

TEST(ShebangTest, BareShebangIsEacces) {
  EXPECT_EQ(outcome(shebang_of("#!")), "EACCES");
  EXPECT_EQ(outcome(shebang_of("#!  ")), "EACCES");
  EXPECT_EQ(outcome(shebang_of("#!\0/bin/sh\n"sv)), "EACCES");
}

TEST(ShebangTest, OnlyBufferBytesRead) {
  const std::string text = "#!/bin/sh\n" + std::string(1000, 'x');
  const Result<std::optional<Shebang>> shebang = shebang_of(text);
  ASSERT_EQ(outcome(shebang), "ok");
  EXPECT_EQ((*shebang)->interpreter, "/bin/sh");
}

}  // namespace
}  // namespace ward::loader
