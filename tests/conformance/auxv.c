// The auxiliary vector the kernel builds at execve: that the entries every
// x86_64 program gets exist once each, and what they contain, checked
// against the program's own ELF headers and symbols. Addresses are printed
// only as relations.
#include <elf.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "check.h"

extern char _start[];
extern const Elf64_Ehdr __ehdr_start;

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

static const Elf64_auxv_t* find_auxv(char** envp) {
  char** entry = envp;
  for (int i = 0; i < 100000 && *entry != NULL; i++) {
    entry++;
  }
  return (const Elf64_auxv_t*)(entry + 1);
}

// The entries that Linux 5.14 or later, with the vDSO enabled, puts in the
// vector of every x86_64 program, and that ward promises too. Linux adds
// AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN only when built with CONFIG_RSEQ.
// ward leaves them out because it does not implement rseq, so they are not
// listed here, and auxv_types.c compares the whole set of types.
static const struct {
  unsigned long type;
  const char* name;
} kPromisedEntries[] = {
    {AT_SYSINFO_EHDR, "AT_SYSINFO_EHDR"},
    {AT_MINSIGSTKSZ, "AT_MINSIGSTKSZ"},
    {AT_HWCAP, "AT_HWCAP"},
    {AT_PAGESZ, "AT_PAGESZ"},
    {AT_CLKTCK, "AT_CLKTCK"},
    {AT_PHDR, "AT_PHDR"},
    {AT_PHENT, "AT_PHENT"},
    {AT_PHNUM, "AT_PHNUM"},
    {AT_BASE, "AT_BASE"},
    {AT_FLAGS, "AT_FLAGS"},
    {AT_ENTRY, "AT_ENTRY"},
    {AT_UID, "AT_UID"},
    {AT_EUID, "AT_EUID"},
    {AT_GID, "AT_GID"},
    {AT_EGID, "AT_EGID"},
    {AT_SECURE, "AT_SECURE"},
    {AT_RANDOM, "AT_RANDOM"},
    {AT_HWCAP2, "AT_HWCAP2"},
    {AT_EXECFN, "AT_EXECFN"},
    {AT_PLATFORM, "AT_PLATFORM"},
};

// Returns how many times `type` occurs in the first `count` entries.
static int count_entries(const Elf64_auxv_t* auxv, int count, unsigned long type) {
  int found = 0;
  for (int i = 0; i < count; i++) {
    if (auxv[i].a_type == type) {
      found++;
    }
  }
  return found;
}

static void check_entry_set(const Elf64_auxv_t* auxv) {
  int count = 0;
  while (auxv[count].a_type != AT_NULL && count < 128) {
    count++;
  }
  EXPECT("the vector ends with AT_NULL", auxv[count].a_type == AT_NULL);
  for (size_t i = 0; i < sizeof(kPromisedEntries) / sizeof(kPromisedEntries[0]); i++) {
    int found = count_entries(auxv, count, kPromisedEntries[i].type);
    show_value(label_of("%s entries", kPromisedEntries[i].name), found);
  }
  bool unique = true;
  for (int i = 0; i < count; i++) {
    unique = unique && count_entries(auxv, count, auxv[i].a_type) == 1;
  }
  EXPECT("no type occurs twice", unique);

  // /proc/self/auxv contains the same vector as the stack.
  int fd = open("/proc/self/auxv", O_RDONLY);
  unsigned char from_proc[4096];
  long size = fd >= 0 ? read(fd, from_proc, sizeof(from_proc)) : -1;
  if (fd >= 0) {
    close(fd);
  }
  long expected_size = (long)((count + 1) * sizeof(Elf64_auxv_t));
  EXPECT("/proc/self/auxv has every entry and AT_NULL", size == expected_size);
  EXPECT("/proc/self/auxv equals the vector on the stack",
         size > 0 && memcmp(from_proc, auxv, (size_t)size) == 0);
}

static void check_program_headers(const char* path) {
  Elf64_Ehdr header;
  int fd = open(path, O_RDONLY);
  long got = fd >= 0 ? pread(fd, &header, sizeof(header), 0) : -1;
  if (fd >= 0) {
    close(fd);
  }
  EXPECT("the program's ELF header is readable", got == (long)sizeof(header));
  show_value("AT_PHENT", (long)getauxval(AT_PHENT));
  EXPECT("AT_PHENT equals e_phentsize", getauxval(AT_PHENT) == header.e_phentsize);
  EXPECT("AT_PHNUM equals e_phnum", getauxval(AT_PHNUM) == header.e_phnum);
  EXPECT("the loaded ELF header equals the file's",
         memcmp(&__ehdr_start, &header, sizeof(header)) == 0);
  EXPECT("AT_PHDR is the load address plus e_phoff",
         getauxval(AT_PHDR) == (unsigned long)&__ehdr_start + header.e_phoff);
  EXPECT("AT_ENTRY is the address of _start", getauxval(AT_ENTRY) == (unsigned long)_start);
  EXPECT("AT_ENTRY is the load address plus e_entry",
         getauxval(AT_ENTRY) == (unsigned long)&__ehdr_start + header.e_entry);
  unsigned long base = getauxval(AT_BASE);
  show_bool("AT_BASE is set (the program has an interpreter)", base != 0);
  EXPECT("AT_BASE is page aligned", (base & 4095) == 0);
  if (base != 0) {
    EXPECT("AT_BASE points at an ELF header", memcmp((const void*)base, ELFMAG, SELFMAG) == 0);
  }
  unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
  show_bool("AT_SYSINFO_EHDR is set", vdso != 0);
  if (vdso != 0) {
    EXPECT("AT_SYSINFO_EHDR points at an ELF header",
           memcmp((const void*)vdso, ELFMAG, SELFMAG) == 0);
  }
}

int main(int argc, char** argv, char** envp) {
  (void)argc;
  const Elf64_auxv_t* auxv = find_auxv(envp);
  check_entry_set(auxv);

  show_value("AT_PAGESZ", (long)getauxval(AT_PAGESZ));
  show_value("AT_CLKTCK", (long)getauxval(AT_CLKTCK));
  show_value("AT_FLAGS", (long)getauxval(AT_FLAGS));
  show_value("AT_SECURE", (long)getauxval(AT_SECURE));
  show_value("AT_UID", (long)getauxval(AT_UID));
  show_value("AT_EUID", (long)getauxval(AT_EUID));
  show_value("AT_GID", (long)getauxval(AT_GID));
  show_value("AT_EGID", (long)getauxval(AT_EGID));
  show_hex("AT_HWCAP", getauxval(AT_HWCAP));
  show_hex("AT_HWCAP2", getauxval(AT_HWCAP2));
  show_value("AT_MINSIGSTKSZ", (long)getauxval(AT_MINSIGSTKSZ));
  show_string("AT_PLATFORM", (const char*)getauxval(AT_PLATFORM));
  const char* execfn = (const char*)getauxval(AT_EXECFN);
  show_string("AT_EXECFN", execfn);
  EXPECT("AT_EXECFN equals argv[0]", execfn != NULL && strcmp(execfn, argv[0]) == 0);

  // AT_RANDOM points at 16 readable bytes that are not all zero.
  const unsigned char* random_bytes = (const unsigned char*)getauxval(AT_RANDOM);
  EXPECT("AT_RANDOM is set", random_bytes != NULL);
  unsigned char copy[16] = {0};
  if (random_bytes != NULL) {
    memcpy(copy, random_bytes, sizeof(copy));
  }
  bool nonzero = false;
  for (int i = 0; i < 16; i++) {
    nonzero = nonzero || copy[i] != 0;
  }
  EXPECT("AT_RANDOM bytes are not all zero", nonzero);

  check_program_headers(argv[0]);
  errno = 0;
  getauxval(12345);
  show_string("getauxval of a missing type sets errno", errno_name(errno));
  return finish_checks();
}
