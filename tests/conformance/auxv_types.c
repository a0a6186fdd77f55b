// The full set of entry types in the auxiliary vector, which must equal the
// host kernel's. A kernel built with CONFIG_RSEQ adds AT_RSEQ_FEATURE_SIZE
// (27) and AT_RSEQ_ALIGN (28), which ward leaves out until it implements
// rseq. auxv.c checks the entries that every x86_64 program gets.
#include <elf.h>
#include <stdlib.h>

#include "check.h"

static const Elf64_auxv_t* find_auxv(char** envp) {
  char** entry = envp;
  for (int i = 0; i < 100000 && *entry != NULL; i++) {
    entry++;
  }
  return (const Elf64_auxv_t*)(entry + 1);
}

static int compare_longs(const void* left, const void* right) {
  long a = *(const long*)left;
  long b = *(const long*)right;
  return (a > b) - (a < b);
}

int main(int argc, char** argv, char** envp) {
  (void)argc;
  (void)argv;
  const Elf64_auxv_t* auxv = find_auxv(envp);
  long types[128];
  int count = 0;
  for (const Elf64_auxv_t* entry = auxv; entry->a_type != AT_NULL && count < 128; entry++) {
    types[count++] = (long)entry->a_type;
  }
  // Linux's order is an implementation detail, so compare the sorted set.
  qsort(types, (size_t)count, sizeof(types[0]), compare_longs);
  printf("auxv types:");
  for (int i = 0; i < count; i++) {
    printf(" %ld", types[i]);
  }
  printf("\n");
  return finish_checks();
}
