// The errors of seccomp(SECCOMP_SET_MODE_FILTER): bad pointers, lengths,
// flags and programs, each with its exact errno, EACCES without
// no_new_privs for a caller without CAP_SYS_ADMIN, and the limit on the
// instructions of all filters together (ENOMEM).
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "check.h"
#include "seccomp_filters.h"

#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static long install_fprog(unsigned short length, struct sock_filter* program) {
  return install_program(0, program, length);
}

static void check_pointers_and_lengths(void) {
  struct sock_filter allow[] = {ALLOW};
  SHOW("NULL sock_fprog", seccomp_call(SECCOMP_SET_MODE_FILTER, 0, NULL));
  SHOW("sock_fprog at 1", seccomp_call(SECCOMP_SET_MODE_FILTER, 0, (void*)1));
  SHOW("length 0", install_fprog(0, allow));
  SHOW("length 4097", install_fprog(4097, allow));
  SHOW("NULL program", install_fprog(1, NULL));
  SHOW("program at 1", install_fprog(1, (struct sock_filter*)1));
  SHOW("length 0 and NULL program", install_fprog(0, NULL));
}

static void check_flags(void) {
  struct sock_filter allow[] = {ALLOW};
  struct sock_fprog fprog = {.len = 1, .filter = allow};
  SHOW("flag 1 << 6", seccomp_call(SECCOMP_SET_MODE_FILTER, 1U << 6, &fprog));
  SHOW("flag 1 << 31", seccomp_call(SECCOMP_SET_MODE_FILTER, 1U << 31, &fprog));
  SHOW("WAIT_KILLABLE_RECV alone",
       seccomp_call(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &fprog));
  SHOW("TSYNC with NEW_LISTENER",
       seccomp_call(SECCOMP_SET_MODE_FILTER,
                    SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog));
  SHOW("strict mode with flags", seccomp_call(SECCOMP_SET_MODE_STRICT, 1, NULL));
  SHOW("strict mode with args", seccomp_call(SECCOMP_SET_MODE_STRICT, 0, &fprog));
}

struct bad_program {
  const char* name;
  unsigned short length;
  struct sock_filter program[4];
};

static const struct bad_program kBadPrograms[] = {
    {"no RET at the end", 1, {BPF_STMT(BPF_LD | BPF_IMM, 0)}},
    {"unknown opcode 0xff", 2, {BPF_STMT(0xff, 0), ALLOW}},
    {"opcode 0x21 (rewritten LD ABS)", 2, {BPF_STMT(0x21, 0), ALLOW}},
    {"LD H ABS", 2, {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0), ALLOW}},
    {"LD B ABS", 2, {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), ALLOW}},
    {"LD W IND", 2, {BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0), ALLOW}},
    {"LDX B MSH", 2, {BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), ALLOW}},
    {"ALU MOD K", 2, {BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), ALLOW}},
    {"ALU MOD X", 2, {BPF_STMT(BPF_ALU | BPF_MOD | BPF_X, 0), ALLOW}},
    {"LD W ABS unaligned", 2, {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), ALLOW}},
    {"LD W ABS at 64", 2, {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), ALLOW}},
    {"LD W ABS ancillary", 2, {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL), ALLOW}},
    {"DIV by constant 0", 2, {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), ALLOW}},
    {"LSH by 32", 2, {BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), ALLOW}},
    {"RSH by 40", 2, {BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 40), ALLOW}},
    {"ST to word 16", 2, {BPF_STMT(BPF_ST, 16), ALLOW}},
    {"LD MEM before ST", 2, {BPF_STMT(BPF_LD | BPF_MEM, 0), ALLOW}},
    {"LDX MEM of word 16", 3, {BPF_STMT(BPF_ST, 0), BPF_STMT(BPF_LDX | BPF_MEM, 16), ALLOW}},
    {"JA past the end", 2, {BPF_STMT(BPF_JMP | BPF_JA, 1), ALLOW}},
    {"JEQ true past the end", 2, {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), ALLOW}},
    {"JSET false past the end", 2, {BPF_JUMP(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1), ALLOW}},
    {"store on one branch only",
     4,
     {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), BPF_STMT(BPF_ST, 1),
      BPF_STMT(BPF_LD | BPF_MEM, 1), ALLOW}},
};

static void check_bad_programs(void) {
  for (size_t i = 0; i < sizeof(kBadPrograms) / sizeof(kBadPrograms[0]); i++) {
    const struct bad_program* bad = &kBadPrograms[i];
    struct sock_filter copy[4];
    memcpy(copy, bad->program, sizeof(copy));
    SHOW(bad->name, install_fprog(bad->length, copy));
  }
  SHOW("PR_GET_SECCOMP after bad programs", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
}

// Without CAP_SYS_ADMIN, a filter needs no_new_privs first. The check
// comes after the length check and before the program is read.
static void check_no_new_privs_required(void) {
  if (geteuid() == 0) {
    printf("caller has CAP_SYS_ADMIN: EACCES not expected\n");
    struct sock_filter allow[] = {ALLOW};
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
      SHOW("root without no_new_privs", install_fprog(1, allow));
      exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return;
  }
  struct sock_filter allow[] = {ALLOW};
  SHOW("without no_new_privs", install_fprog(1, allow));
  SHOW("without no_new_privs, length 0", install_fprog(0, allow));
  SHOW("without no_new_privs, program at 1", install_fprog(1, (struct sock_filter*)1));
  SHOW("without no_new_privs, bad program", install_fprog(1, (struct sock_filter[]){BPF_STMT(0xff, 0)}));
}

// Linux counts the eBPF instructions a filter becomes against the limit
// of 32768: a 4096-instruction filter of loads and a RET K is 4100 of
// them, and every filter already installed counts 4 more. Seven fit, the
// eighth fails with ENOMEM, and 32768 - 7 * 4104 = 4040 remain, which is
// a filter of 4036 classic instructions.
static void check_instruction_limit(void) {
  static struct sock_filter longest[4096];
  for (int i = 0; i < 4095; i++) {
    longest[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, 0);
  }
  longest[4095] = (struct sock_filter)ALLOW;
  for (int i = 1; i <= 8; i++) {
    SHOW(label_of("filter %d of 4096 instructions", i), install_fprog(4096, longest));
  }
  SHOW("filter of 4037 instructions", install_fprog(4037, longest + 4096 - 4037));
  SHOW("filter of 4036 instructions", install_fprog(4036, longest + 4096 - 4036));
  SHOW("filter of 1 instruction", install_fprog(1, longest + 4095));
}

int main(void) {
  check_no_new_privs_required();
  SHOW("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  check_pointers_and_lengths();
  check_flags();
  check_bad_programs();
  check_instruction_limit();
  return finish_checks();
}
