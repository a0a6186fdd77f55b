// Helpers shared by the seccomp conformance programs: installing a classic
// BPF program and the one-syscall filters most checks use.
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SECCOMP_NR_OFFSET ((unsigned int)offsetof(struct seccomp_data, nr))
#define SECCOMP_ARCH_OFFSET ((unsigned int)offsetof(struct seccomp_data, arch))
#define SECCOMP_ARG_LOW_OFFSET(index) ((unsigned int)offsetof(struct seccomp_data, args[index]))

// seccomp(2) through syscall(2): glibc 2.36 has no wrapper.
static inline long seccomp_call(unsigned int operation, unsigned int flags, void* args) {
  return syscall(SYS_seccomp, operation, flags, args);
}

// Installs `length` instructions with seccomp(SECCOMP_SET_MODE_FILTER).
static inline long install_program(unsigned int flags, struct sock_filter* program,
                                   unsigned short length) {
  struct sock_fprog fprog = {.len = length, .filter = program};
  return seccomp_call(SECCOMP_SET_MODE_FILTER, flags, &fprog);
}

// Installs a filter that returns `value` for syscall `number` on x86_64,
// kills the process for any other architecture, and allows the rest.
static inline long install_syscall_filter(unsigned int flags, int number, unsigned int value) {
  struct sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_ARCH_OFFSET),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_NR_OFFSET),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)number, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, value),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  return install_program(flags, program, sizeof(program) / sizeof(program[0]));
}

// Like install_syscall_filter, but only when the low 32 bits of argument
// `index` equal `argument`.
static inline long install_argument_filter(int number, int index, unsigned int argument,
                                           unsigned int value) {
  struct sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_NR_OFFSET),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)number, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_ARG_LOW_OFFSET(index)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, argument, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, value),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  return install_program(0, program, sizeof(program) / sizeof(program[0]));
}
