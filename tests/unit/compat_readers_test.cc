// The compatibility report's file readers: the ELF reader on built test
// binaries and malformed bytes, and the ld.so.cache parser on crafted
// caches in both layouts and on the host's own cache.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "compat/elf_file.h"
#include "compat/ld_cache.h"
#include "compat/symbolizer.h"

namespace ward::compat {
namespace {

std::vector<std::byte> read_host_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

ReadAt reader_of(std::shared_ptr<const std::vector<std::byte>> bytes) {
  return [bytes](uint64_t offset, std::span<std::byte> buffer) -> Result<size_t> {
    if (offset >= bytes->size()) {
      return size_t{0};
    }
    const size_t count = std::min<size_t>(buffer.size(), bytes->size() - offset);
    std::memcpy(buffer.data(), bytes->data() + offset, count);
    return count;
  };
}

Result<ElfFile> parse_bytes(std::vector<std::byte> bytes) {
  auto shared = std::make_shared<const std::vector<std::byte>>(std::move(bytes));
  return ElfFile::parse(reader_of(shared), shared->size());
}

Result<ElfFile> parse_host_file(const std::string& path) {
  return parse_bytes(read_host_file(path));
}

bool has_version(const DynamicInfo& info, std::string_view library, std::string_view version) {
  return std::any_of(info.needed_versions.begin(), info.needed_versions.end(),
                     [&](const NeededVersion& need) {
                       return need.library == library && need.version == version;
                     });
}

TEST(ElfFileTest, DynamicProgramInterpreterAndNeeds) {
  auto elf = parse_host_file(WARD_PREFLIGHT_NEEDS_EXTRA);
  ASSERT_TRUE(elf.ok());
  EXPECT_TRUE(elf->is_x86_64());
  auto interpreter = elf->interpreter();
  ASSERT_TRUE(interpreter.ok());
  ASSERT_TRUE(interpreter->has_value());
  EXPECT_EQ(**interpreter, "/lib64/ld-linux-x86-64.so.2");

  auto dynamic = elf->dynamic();
  ASSERT_TRUE(dynamic.ok());
  EXPECT_EQ(dynamic->needed,
            (std::vector<std::string>{"libward_preflight_extra.so", "libc.so.6"}));
  EXPECT_EQ(dynamic->runpath.rfind("$ORIGIN/../lib", 0), 0u) << dynamic->runpath;
  EXPECT_TRUE(dynamic->rpath.empty());
  EXPECT_TRUE(has_version(*dynamic, "libc.so.6", "GLIBC_2.34"));
}

TEST(ElfFileTest, FakeLibcDefinesOneVersion) {
  auto elf = parse_host_file(WARD_PREFLIGHT_FAKE_LIBC);
  ASSERT_TRUE(elf.ok());
  auto dynamic = elf->dynamic();
  ASSERT_TRUE(dynamic.ok());
  EXPECT_EQ(dynamic->soname, "libc.so.6");
  EXPECT_EQ(dynamic->defined_versions, std::vector<std::string>{"GLIBC_2.2.5"});
}

TEST(ElfFileTest, SymbolsNameTheProgramsFunctions) {
  auto elf = parse_host_file(WARD_COMPAT_GAPS_PROGRAM);
  ASSERT_TRUE(elf.ok());
  auto symbols = elf->symbols();
  ASSERT_TRUE(symbols.ok());
  for (const char* name : {"main", "hit_missing_syscall", "hit_hugetlb_flag"}) {
    EXPECT_TRUE(std::any_of(symbols->begin(), symbols->end(),
                            [name](const ElfSymbol& symbol) {
                              return symbol.name == name && symbol.function && symbol.size > 0;
                            }))
        << name;
  }
}

TEST(ElfFileTest, StaticBinaryHasNoInterpreter) {
  if (access("/bin/busybox", R_OK) != 0) {
    GTEST_SKIP() << "busybox-static is not installed";
  }
  auto elf = parse_host_file("/bin/busybox");
  ASSERT_TRUE(elf.ok());
  auto interpreter = elf->interpreter();
  ASSERT_TRUE(interpreter.ok());
  EXPECT_FALSE(interpreter->has_value());
}

TEST(ElfFileTest, MalformedFilesAreEnoexec) {
  auto not_elf = parse_bytes(std::vector<std::byte>(64, std::byte{'x'}));
  ASSERT_FALSE(not_elf.ok());
  EXPECT_EQ(not_elf.error().value, ENOEXEC);

  auto too_short = parse_bytes(std::vector<std::byte>(8, std::byte{0x7f}));
  ASSERT_FALSE(too_short.ok());
  EXPECT_EQ(too_short.error().value, ENOEXEC);

  // A real program cut after its header: the program headers lie past the
  // end of the file.
  std::vector<std::byte> truncated = read_host_file(WARD_COMPAT_GAPS_PROGRAM);
  truncated.resize(sizeof(Elf64_Ehdr) + 8);
  auto cut = parse_bytes(truncated);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().value, ENOEXEC);

  // A program whose dynamic section points its string table outside any
  // PT_LOAD.
  std::vector<std::byte> bytes = read_host_file(WARD_PREFLIGHT_NEEDS_EXTRA);
  auto elf = parse_bytes(bytes);
  ASSERT_TRUE(elf.ok());
  for (const Elf64_Phdr& phdr : elf->program_headers()) {
    if (phdr.p_type != PT_DYNAMIC) {
      continue;
    }
    for (uint64_t at = phdr.p_offset; at + sizeof(Elf64_Dyn) <= phdr.p_offset + phdr.p_filesz;
         at += sizeof(Elf64_Dyn)) {
      Elf64_Dyn entry{};
      std::memcpy(&entry, bytes.data() + at, sizeof(entry));
      if (entry.d_tag == DT_STRTAB) {
        entry.d_un.d_ptr = 0x7fff00000000;
        std::memcpy(bytes.data() + at, &entry, sizeof(entry));
      }
    }
  }
  auto broken = parse_bytes(bytes);
  ASSERT_TRUE(broken.ok());
  auto dynamic = broken->dynamic();
  ASSERT_FALSE(dynamic.ok());
  EXPECT_EQ(dynamic.error().value, ENOEXEC);
}

TEST(ElfFileTest, ThirtyTwoBitFileReportsItsClass) {
  std::vector<std::byte> bytes(64);
  const unsigned char ident[] = {0x7f, 'E', 'L', 'F', ELFCLASS32, ELFDATA2LSB, EV_CURRENT};
  std::memcpy(bytes.data(), ident, sizeof(ident));
  const uint16_t type_and_machine[] = {ET_EXEC, EM_386};
  std::memcpy(bytes.data() + EI_NIDENT, type_and_machine, sizeof(type_and_machine));
  auto elf = parse_bytes(bytes);
  ASSERT_TRUE(elf.ok());
  EXPECT_EQ(elf->elf_class(), ELFCLASS32);
  EXPECT_EQ(elf->machine(), EM_386);
  EXPECT_FALSE(elf->is_x86_64());
}

TEST(SymbolizerTest, NamesFunctionAndOffset) {
  auto bytes = std::make_shared<const std::vector<std::byte>>(read_host_file(WARD_COMPAT_GAPS_PROGRAM));
  auto elf = ElfFile::parse(reader_of(bytes), bytes->size());
  ASSERT_TRUE(elf.ok());
  auto symbols = elf->symbols();
  ASSERT_TRUE(symbols.ok());
  auto main_symbol = std::find_if(symbols->begin(), symbols->end(),
                                  [](const ElfSymbol& symbol) { return symbol.name == "main"; });
  ASSERT_NE(main_symbol, symbols->end());
  auto offset = elf->address_to_offset(main_symbol->value + 4);
  ASSERT_TRUE(offset.has_value());

  Symbolizer symbolizer;
  int opens = 0;
  auto open = [&]() -> Result<ObjectFile> {
    ++opens;
    return ObjectFile{.read = reader_of(bytes), .size_bytes = bytes->size()};
  };
  MappedObject object{.path = "/prog", .device = 1, .inode = 2, .file_offset = *offset};
  StackFrame frame = symbolizer.describe(0x5555000 + 4, object, false, open);
  EXPECT_EQ(frame.function, "main");
  EXPECT_EQ(frame.function_offset, 4u);
  EXPECT_EQ(frame.text(), "main+0x4 (/prog)");
  // The object's symbols are read once.
  symbolizer.describe(0x5555000 + 4, object, true, open);
  EXPECT_EQ(opens, 1);

  StackFrame anonymous = symbolizer.describe(0x1234, MappedObject{}, false, open);
  EXPECT_EQ(anonymous.text(), "0x1234");
}

// A cache in the new format, optionally preceded by an old table of
// `old_entries` entries.
std::vector<std::byte> make_cache(const std::vector<std::pair<std::string, std::string>>& libs,
                                  int32_t flags, uint32_t old_entries = 0) {
  std::vector<std::byte> bytes;
  auto append = [&bytes](const void* data, size_t size) {
    const auto* start = static_cast<const std::byte*>(data);
    bytes.insert(bytes.end(), start, start + size);
  };
  auto append_u32 = [&append](uint32_t value) { append(&value, sizeof(value)); };

  if (old_entries > 0) {
    append("ld.so-1.7.0", 11);
    bytes.push_back(std::byte{0});
    append_u32(old_entries);
    bytes.resize(bytes.size() + old_entries * 12);
    bytes.resize((bytes.size() + 7) / 8 * 8);
  }
  const size_t base = bytes.size();
  append("glibc-ld.so.cache", 17);
  append("1.1", 3);
  append_u32(static_cast<uint32_t>(libs.size()));
  append_u32(0);  // len_strings, filled below
  bytes.resize(base + 48);

  const size_t strings_start = 48 + libs.size() * 24;
  std::string strings;
  for (const auto& [name, path] : libs) {
    const uint32_t key = static_cast<uint32_t>(strings_start + strings.size());
    strings += name + '\0';
    const uint32_t value = static_cast<uint32_t>(strings_start + strings.size());
    strings += path + '\0';
    append_u32(static_cast<uint32_t>(flags));
    append_u32(key);
    append_u32(value);
    append_u32(0);
    const uint64_t hwcap = 0;
    append(&hwcap, sizeof(hwcap));
  }
  append(strings.data(), strings.size());
  return bytes;
}

TEST(LdCacheTest, NewFormatFindsLibraries) {
  const auto bytes = make_cache({{"libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1"},
                                 {"libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"}},
                                kLdCacheElfLibc6 | kLdCacheX8664Lib64);
  auto cache = LdCache::parse(bytes);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(cache->entries().size(), 2u);
  EXPECT_EQ(cache->find("libc.so.6"), "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(cache->find("libz.so.1"), "/usr/lib/x86_64-linux-gnu/libz.so.1");
  EXPECT_EQ(cache->find("libm.so.6"), std::nullopt);
}

TEST(LdCacheTest, OldTableBeforeNewFormat) {
  const auto bytes = make_cache({{"libc.so.6", "/lib/libc.so.6"}},
                                kLdCacheElfLibc6 | kLdCacheX8664Lib64, 3);
  auto cache = LdCache::parse(bytes);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(cache->find("libc.so.6"), "/lib/libc.so.6");
}

TEST(LdCacheTest, OtherArchitecturesAreSkipped) {
  // FLAG_ELF_LIBC6 without FLAG_X8664_LIB64: a 32-bit library.
  const auto bytes = make_cache({{"libc.so.6", "/lib32/libc.so.6"}}, kLdCacheElfLibc6);
  auto cache = LdCache::parse(bytes);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(cache->find("libc.so.6"), std::nullopt);
}

TEST(LdCacheTest, MalformedCachesAreEnoexec) {
  auto garbage = LdCache::parse(std::vector<std::byte>(100, std::byte{'z'}));
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().value, ENOEXEC);

  auto bytes = make_cache({{"libc.so.6", "/lib/libc.so.6"}}, 0x0303);
  // More entries than the file holds.
  std::vector<std::byte> too_many = bytes;
  const uint32_t count = 1000;
  std::memcpy(too_many.data() + 20, &count, sizeof(count));
  auto counted = LdCache::parse(too_many);
  ASSERT_FALSE(counted.ok());
  EXPECT_EQ(counted.error().value, ENOEXEC);

  // A string offset past the end of the file.
  std::vector<std::byte> far_string = bytes;
  const uint32_t offset = 1 << 20;
  std::memcpy(far_string.data() + 48 + 4, &offset, sizeof(offset));
  auto far = LdCache::parse(far_string);
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().value, ENOEXEC);

  // A string without its NUL at the very end of the file.
  std::vector<std::byte> unterminated = bytes;
  unterminated.pop_back();
  auto cut = LdCache::parse(unterminated);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().value, ENOEXEC);
}

TEST(LdCacheTest, HostCacheNamesAnExistingLibc) {
  if (access("/etc/ld.so.cache", R_OK) != 0) {
    GTEST_SKIP() << "the host has no /etc/ld.so.cache";
  }
  auto cache = LdCache::parse(read_host_file("/etc/ld.so.cache"));
  ASSERT_TRUE(cache.ok());
  std::optional<std::string> libc = cache->find("libc.so.6");
  ASSERT_TRUE(libc.has_value());
  EXPECT_EQ(access(libc->c_str(), R_OK), 0) << *libc;
}

}  // namespace
}  // namespace ward::compat
