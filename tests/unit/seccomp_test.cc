// The guest seccomp BPF checker and interpreter against Linux's rules:
// each invalid program with its errno, each instruction's semantics, and
// the precedence of actions across a chain of filters.
#include "sentry/kernel/seccomp.h"

#include <sys/syscall.h>

#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace ward::kernel {
namespace {

using Program = std::vector<sock_filter>;

constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
constexpr uint32_t kIpOffset = offsetof(seccomp_data, instruction_pointer);

sock_filter statement(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }

sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return sock_filter{code, jt, jf, k};
}

sock_filter ret(uint32_t value) { return statement(BPF_RET | BPF_K, value); }

seccomp_data data_for(int nr, std::initializer_list<uint64_t> args = {}) {
  seccomp_data data{};
  data.nr = nr;
  data.arch = kAuditArchX86_64;
  data.instruction_pointer = 0x401000;
  size_t index = 0;
  for (uint64_t arg : args) {
    data.args[index++] = arg;
  }
  return data;
}

int check_errno(const Program& program) {
  Result<void> checked = check_seccomp_program(program);
  return checked.ok() ? 0 : checked.error().value;
}

// Checks `program`, then runs it over `data`.
uint32_t run(const Program& program, const seccomp_data& data) {
  EXPECT_EQ(check_errno(program), 0);
  return run_seccomp_program(program, data);
}

TEST(SeccompCheckTest, AcceptsMinimalProgram) {
  EXPECT_EQ(check_errno({ret(SECCOMP_RET_ALLOW)}), 0);
}

TEST(SeccompCheckTest, LengthLimits) {
  EXPECT_EQ(check_errno({}), EINVAL);
  Program longest(kBpfMaxInstructions, statement(BPF_LD | BPF_IMM, 0));
  longest.back() = ret(SECCOMP_RET_ALLOW);
  EXPECT_EQ(check_errno(longest), 0);
  longest.insert(longest.begin(), statement(BPF_LD | BPF_IMM, 0));
  EXPECT_EQ(check_errno(longest), EINVAL);
}

TEST(SeccompCheckTest, LastInstructionMustReturn) {
  EXPECT_EQ(check_errno({statement(BPF_LD | BPF_IMM, 0)}), EINVAL);
  EXPECT_EQ(check_errno({statement(BPF_RET | BPF_A, 0)}), 0);
  EXPECT_EQ(check_errno({ret(SECCOMP_RET_ALLOW), statement(BPF_MISC | BPF_TAX, 0)}), EINVAL);
}

TEST(SeccompCheckTest, RejectsUnknownOpcodes) {
  for (uint16_t code : {uint16_t{0x21}, uint16_t{0xff}, uint16_t{0x1000}, uint16_t{BPF_JMP | 0x50},
                        uint16_t{BPF_ALU | 0xb0}}) {
    EXPECT_EQ(check_errno({statement(code, 0), ret(SECCOMP_RET_ALLOW)}), EINVAL) << code;
  }
}

TEST(SeccompCheckTest, RejectsClassicOnlyOpcodes) {
  // Packet loads, MOD and MSH are classic BPF but not seccomp BPF.
  for (uint16_t code : {uint16_t{BPF_LD | BPF_H | BPF_ABS}, uint16_t{BPF_LD | BPF_B | BPF_ABS},
                        uint16_t{BPF_LD | BPF_W | BPF_IND}, uint16_t{BPF_LD | BPF_H | BPF_IND},
                        uint16_t{BPF_LD | BPF_B | BPF_IND}, uint16_t{BPF_LDX | BPF_B | BPF_MSH},
                        uint16_t{BPF_ALU | BPF_MOD | BPF_K}, uint16_t{BPF_ALU | BPF_MOD | BPF_X}}) {
    EXPECT_EQ(check_errno({statement(code, 4), ret(SECCOMP_RET_ALLOW)}), EINVAL) << code;
  }
}

TEST(SeccompCheckTest, AbsoluteLoadsAlignedInsideData) {
  for (uint32_t offset = 0; offset < sizeof(seccomp_data); offset += 4) {
    EXPECT_EQ(check_errno({statement(BPF_LD | BPF_W | BPF_ABS, offset), ret(SECCOMP_RET_ALLOW)}), 0)
        << offset;
  }
  for (uint32_t offset : {1U, 2U, 3U, 62U, 64U, 68U, 0x1000U, 0xfffff000U, 0xfffffffcU}) {
    EXPECT_EQ(check_errno({statement(BPF_LD | BPF_W | BPF_ABS, offset), ret(SECCOMP_RET_ALLOW)}),
              EINVAL)
        << offset;
  }
}

TEST(SeccompCheckTest, DivisionByZeroConstant) {
  EXPECT_EQ(check_errno({statement(BPF_ALU | BPF_DIV | BPF_K, 0), ret(SECCOMP_RET_ALLOW)}), EINVAL);
  EXPECT_EQ(check_errno({statement(BPF_ALU | BPF_DIV | BPF_K, 3), ret(SECCOMP_RET_ALLOW)}), 0);
  // Division by X is checked at run time.
  EXPECT_EQ(check_errno({statement(BPF_ALU | BPF_DIV | BPF_X, 0), ret(SECCOMP_RET_ALLOW)}), 0);
}

TEST(SeccompCheckTest, ShiftsBelowThirtyTwo) {
  for (uint16_t code : {uint16_t{BPF_ALU | BPF_LSH | BPF_K}, uint16_t{BPF_ALU | BPF_RSH | BPF_K}}) {
    EXPECT_EQ(check_errno({statement(code, 31), ret(SECCOMP_RET_ALLOW)}), 0);
    EXPECT_EQ(check_errno({statement(code, 32), ret(SECCOMP_RET_ALLOW)}), EINVAL);
  }
}

TEST(SeccompCheckTest, ScratchMemoryIndices) {
  EXPECT_EQ(check_errno({statement(BPF_ST, 15), ret(SECCOMP_RET_ALLOW)}), 0);
  EXPECT_EQ(check_errno({statement(BPF_ST, 16), ret(SECCOMP_RET_ALLOW)}), EINVAL);
  EXPECT_EQ(check_errno({statement(BPF_STX, 16), ret(SECCOMP_RET_ALLOW)}), EINVAL);
  EXPECT_EQ(
      check_errno({statement(BPF_ST, 0), statement(BPF_LD | BPF_MEM, 16), ret(SECCOMP_RET_ALLOW)}),
      EINVAL);
}

TEST(SeccompCheckTest, ScratchLoadBeforeStore) {
  EXPECT_EQ(check_errno({statement(BPF_LD | BPF_MEM, 0), ret(SECCOMP_RET_ALLOW)}), EINVAL);
  EXPECT_EQ(check_errno({statement(BPF_LDX | BPF_MEM, 3), ret(SECCOMP_RET_ALLOW)}), EINVAL);
  EXPECT_EQ(
      check_errno({statement(BPF_STX, 3), statement(BPF_LDX | BPF_MEM, 3), ret(SECCOMP_RET_ALLOW)}),
      0);
  // A store on one branch only does not make the word valid after the join.
  Program one_branch = {
      jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
      statement(BPF_ST, 2),
      statement(BPF_LD | BPF_MEM, 2),
      ret(SECCOMP_RET_ALLOW),
  };
  EXPECT_EQ(check_errno(one_branch), EINVAL);
  Program both_branches = {
      statement(BPF_ST, 2),   jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
      statement(BPF_ST, 2),   statement(BPF_LD | BPF_MEM, 2),
      ret(SECCOMP_RET_ALLOW),
  };
  EXPECT_EQ(check_errno(both_branches), 0);
}

TEST(SeccompCheckTest, JumpsStayInside) {
  EXPECT_EQ(check_errno({statement(BPF_JMP | BPF_JA, 0), ret(SECCOMP_RET_ALLOW)}), 0);
  EXPECT_EQ(check_errno({statement(BPF_JMP | BPF_JA, 1), ret(SECCOMP_RET_ALLOW)}), EINVAL);
  EXPECT_EQ(check_errno({statement(BPF_JMP | BPF_JA, 0xffffffff), ret(SECCOMP_RET_ALLOW)}), EINVAL);
  EXPECT_EQ(check_errno({jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), ret(SECCOMP_RET_ALLOW)}),
            EINVAL);
  EXPECT_EQ(check_errno({jump(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 1), ret(SECCOMP_RET_ALLOW)}),
            EINVAL);
  EXPECT_EQ(check_errno({jump(BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0), ret(SECCOMP_RET_ALLOW),
                         ret(SECCOMP_RET_ALLOW)}),
            0);
  EXPECT_EQ(check_errno({jump(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 0), ret(SECCOMP_RET_ALLOW)}), 0);
}

TEST(SeccompRunTest, LoadsSeccompDataWords) {
  seccomp_data data = data_for(SYS_getpid, {0x1111222233334444, 5});
  EXPECT_EQ(
      run({statement(BPF_LD | BPF_W | BPF_ABS, kNrOffset), statement(BPF_RET | BPF_A, 0)}, data),
      static_cast<uint32_t>(SYS_getpid));
  EXPECT_EQ(
      run({statement(BPF_LD | BPF_W | BPF_ABS, kArchOffset), statement(BPF_RET | BPF_A, 0)}, data),
      kAuditArchX86_64);
  EXPECT_EQ(
      run({statement(BPF_LD | BPF_W | BPF_ABS, kIpOffset), statement(BPF_RET | BPF_A, 0)}, data),
      0x401000U);
  uint32_t arg0 = offsetof(seccomp_data, args[0]);
  EXPECT_EQ(run({statement(BPF_LD | BPF_W | BPF_ABS, arg0), statement(BPF_RET | BPF_A, 0)}, data),
            0x33334444U);
  EXPECT_EQ(
      run({statement(BPF_LD | BPF_W | BPF_ABS, arg0 + 4), statement(BPF_RET | BPF_A, 0)}, data),
      0x11112222U);
  EXPECT_EQ(run({statement(BPF_LD | BPF_W | BPF_LEN, 0), statement(BPF_RET | BPF_A, 0)}, data),
            sizeof(seccomp_data));
  EXPECT_EQ(run({statement(BPF_LDX | BPF_W | BPF_LEN, 0), statement(BPF_MISC | BPF_TXA, 0),
                 statement(BPF_RET | BPF_A, 0)},
                data),
            sizeof(seccomp_data));
}

TEST(SeccompRunTest, Arithmetic) {
  seccomp_data data = data_for(0);
  auto compute = [&](uint16_t op, uint32_t a, uint32_t k) {
    return run({statement(BPF_LD | BPF_IMM, a), statement(BPF_ALU | op | BPF_K, k),
                statement(BPF_RET | BPF_A, 0)},
               data);
  };
  EXPECT_EQ(compute(BPF_ADD, 0xffffffff, 2), 1U);
  EXPECT_EQ(compute(BPF_SUB, 1, 2), 0xffffffffU);
  EXPECT_EQ(compute(BPF_MUL, 0x10000, 0x10001), 0x10000U);
  EXPECT_EQ(compute(BPF_DIV, 100, 7), 14U);
  EXPECT_EQ(compute(BPF_AND, 0xf0f0, 0xff00), 0xf000U);
  EXPECT_EQ(compute(BPF_OR, 0xf0f0, 0x0f00), 0xfff0U);
  EXPECT_EQ(compute(BPF_XOR, 0xffff, 0x0f0f), 0xf0f0U);
  EXPECT_EQ(compute(BPF_LSH, 1, 31), 0x80000000U);
  EXPECT_EQ(compute(BPF_RSH, 0x80000000, 31), 1U);
  EXPECT_EQ(run({statement(BPF_LD | BPF_IMM, 5), statement(BPF_ALU | BPF_NEG, 0),
                 statement(BPF_RET | BPF_A, 0)},
                data),
            static_cast<uint32_t>(-5));
}

TEST(SeccompRunTest, ArithmeticWithX) {
  seccomp_data data = data_for(0);
  auto compute = [&](uint16_t op, uint32_t a, uint32_t x) {
    return run({statement(BPF_LDX | BPF_IMM, x), statement(BPF_LD | BPF_IMM, a),
                statement(BPF_ALU | op | BPF_X, 0), statement(BPF_RET | BPF_A, 0)},
               data);
  };
  EXPECT_EQ(compute(BPF_ADD, 40, 2), 42U);
  EXPECT_EQ(compute(BPF_DIV, 42, 5), 8U);
  // A shift by X uses its low five bits.
  EXPECT_EQ(compute(BPF_LSH, 1, 33), 2U);
  EXPECT_EQ(compute(BPF_RSH, 8, 35), 1U);
  // Division by a zero X ends the program with 0, SECCOMP_RET_KILL_THREAD.
  EXPECT_EQ(compute(BPF_DIV, 42, 0), 0U);
}

TEST(SeccompRunTest, RegistersAndScratchMemory) {
  seccomp_data data = data_for(0);
  Program program = {
      statement(BPF_LD | BPF_IMM, 7),  statement(BPF_ST, 4),
      statement(BPF_LD | BPF_IMM, 9),  statement(BPF_MISC | BPF_TAX, 0),
      statement(BPF_STX, 5),           statement(BPF_LD | BPF_MEM, 4),
      statement(BPF_LDX | BPF_MEM, 5), statement(BPF_ALU | BPF_MUL | BPF_X, 0),
      statement(BPF_RET | BPF_A, 0),
  };
  EXPECT_EQ(run(program, data), 63U);
}

TEST(SeccompRunTest, ConditionalJumps) {
  seccomp_data data = data_for(10);
  auto jump_taken = [&](uint16_t op, uint32_t k) {
    return run({statement(BPF_LD | BPF_W | BPF_ABS, kNrOffset), jump(BPF_JMP | op | BPF_K, k, 0, 1),
                ret(1), ret(0)},
               data) == 1;
  };
  EXPECT_TRUE(jump_taken(BPF_JEQ, 10));
  EXPECT_FALSE(jump_taken(BPF_JEQ, 11));
  EXPECT_TRUE(jump_taken(BPF_JGT, 9));
  EXPECT_FALSE(jump_taken(BPF_JGT, 10));
  EXPECT_TRUE(jump_taken(BPF_JGE, 10));
  EXPECT_FALSE(jump_taken(BPF_JGE, 11));
  EXPECT_TRUE(jump_taken(BPF_JSET, 2));
  EXPECT_FALSE(jump_taken(BPF_JSET, 5));
  // Comparisons are unsigned.
  EXPECT_FALSE(jump_taken(BPF_JGT, 0x80000000));
  Program with_x = {statement(BPF_LDX | BPF_IMM, 10),
                    statement(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
                    jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1), ret(1), ret(0)};
  EXPECT_EQ(run(with_x, data), 1U);
  Program always = {statement(BPF_JMP | BPF_JA, 1), ret(0), ret(2)};
  EXPECT_EQ(run(always, data), 2U);
}

// Random short programs from seccomp's opcodes with small operands, so
// that many pass the checker: each accepted one must run to a RET without
// reading outside the program, scratch memory or seccomp_data (the
// sanitizer build checks that).
TEST(SeccompRunTest, RandomAcceptedProgramsTerminate) {
  const uint16_t codes[] = {
      BPF_LD | BPF_W | BPF_ABS,
      BPF_LD | BPF_W | BPF_LEN,
      BPF_LDX | BPF_W | BPF_LEN,
      BPF_LD | BPF_IMM,
      BPF_LDX | BPF_IMM,
      BPF_LD | BPF_MEM,
      BPF_LDX | BPF_MEM,
      BPF_ST,
      BPF_STX,
      BPF_MISC | BPF_TAX,
      BPF_MISC | BPF_TXA,
      BPF_ALU | BPF_ADD | BPF_X,
      BPF_ALU | BPF_DIV | BPF_X,
      BPF_ALU | BPF_DIV | BPF_K,
      BPF_ALU | BPF_LSH | BPF_X,
      BPF_ALU | BPF_RSH | BPF_K,
      BPF_ALU | BPF_NEG,
      BPF_JMP | BPF_JA,
      BPF_JMP | BPF_JEQ | BPF_K,
      BPF_JMP | BPF_JGT | BPF_X,
      BPF_JMP | BPF_JSET | BPF_K,
      BPF_RET | BPF_K,
      BPF_RET | BPF_A,
  };
  constexpr int kPrograms = 20000;
  constexpr size_t kMaxLength = 8;
  std::mt19937 random(12345);
  seccomp_data data = data_for(SYS_getpid, {1, 2, 3, 4, 5, 6});
  int accepted = 0;
  for (int i = 0; i < kPrograms; i++) {
    Program program(1 + random() % kMaxLength);
    for (sock_filter& insn : program) {
      insn.code = codes[random() % std::size(codes)];
      insn.jt = static_cast<uint8_t>(random() % 4);
      insn.jf = static_cast<uint8_t>(random() % 4);
      insn.k = random() % 2 == 0 ? static_cast<uint32_t>(random() % 68) : random();
    }
    if (!check_seccomp_program(program).ok()) {
      continue;
    }
    accepted++;
    (void)run_seccomp_program(program, data);
  }
  EXPECT_GT(accepted, 100);
}

std::shared_ptr<const SeccompFilter> filter_returning(
    uint32_t value, std::shared_ptr<const SeccompFilter> prev = nullptr) {
  return std::make_shared<SeccompFilter>(
      SeccompFilter{.program = {ret(value)},
                    .ebpf_length = seccomp_ebpf_length(Program{ret(value)}),
                    .log = false,
                    .prev = std::move(prev)});
}

TEST(SeccompFiltersTest, HighestPrecedenceWins) {
  seccomp_data data = data_for(SYS_getpid);
  // Each action, from lowest to highest precedence.
  const uint32_t actions[] = {SECCOMP_RET_ALLOW,       SECCOMP_RET_LOG,         SECCOMP_RET_TRACE,
                              SECCOMP_RET_USER_NOTIF,  SECCOMP_RET_ERRNO,       SECCOMP_RET_TRAP,
                              SECCOMP_RET_KILL_THREAD, SECCOMP_RET_KILL_PROCESS};
  for (size_t low = 0; low < std::size(actions); low++) {
    for (size_t high = low + 1; high < std::size(actions); high++) {
      auto older_high = filter_returning(actions[low], filter_returning(actions[high] | 1));
      EXPECT_EQ(run_seccomp_filters(*older_high, data).value, actions[high] | 1);
      auto newer_high = filter_returning(actions[high] | 1, filter_returning(actions[low]));
      EXPECT_EQ(run_seccomp_filters(*newer_high, data).value, actions[high] | 1);
    }
  }
}

TEST(SeccompFiltersTest, NewestWinsAmongEqualActions) {
  seccomp_data data = data_for(SYS_getpid);
  auto oldest = filter_returning(SECCOMP_RET_ERRNO | EPERM);
  auto newest = filter_returning(SECCOMP_RET_ERRNO | EACCES, oldest);
  SeccompVerdict verdict = run_seccomp_filters(*newest, data);
  EXPECT_EQ(verdict.value, SECCOMP_RET_ERRNO | EACCES);
  EXPECT_EQ(verdict.match, newest.get());
}

TEST(SeccompFiltersTest, AllowHasNoMatch) {
  auto filter = filter_returning(SECCOMP_RET_ALLOW);
  SeccompVerdict verdict = run_seccomp_filters(*filter, data_for(0));
  EXPECT_EQ(verdict.value, SECCOMP_RET_ALLOW);
  EXPECT_EQ(verdict.match, nullptr);
}

TEST(SeccompFiltersTest, UnknownActionRanksBySignedValue) {
  seccomp_data data = data_for(0);
  // 0x00010000 lies between KILL_THREAD and TRAP as a signed number.
  auto chain = filter_returning(0x00010000, filter_returning(SECCOMP_RET_TRAP));
  EXPECT_EQ(run_seccomp_filters(*chain, data).value, 0x00010000U);
  auto killed = filter_returning(0x00010000, filter_returning(SECCOMP_RET_KILL_THREAD));
  EXPECT_EQ(run_seccomp_filters(*killed, data).value, SECCOMP_RET_KILL_THREAD);
}

TEST(SeccompFiltersTest, AncestorsAndChainLength) {
  auto root = filter_returning(SECCOMP_RET_ALLOW);
  auto child = filter_returning(SECCOMP_RET_ALLOW, root);
  auto sibling = filter_returning(SECCOMP_RET_ALLOW, root);
  EXPECT_TRUE(is_seccomp_ancestor(nullptr, child.get()));
  EXPECT_TRUE(is_seccomp_ancestor(root.get(), child.get()));
  EXPECT_TRUE(is_seccomp_ancestor(child.get(), child.get()));
  EXPECT_FALSE(is_seccomp_ancestor(sibling.get(), child.get()));
  EXPECT_FALSE(is_seccomp_ancestor(child.get(), root.get()));
  EXPECT_FALSE(is_seccomp_ancestor(root.get(), nullptr));
  EXPECT_EQ(seccomp_chain_instructions(nullptr), 0U);
  // Each RET K filter is 5 eBPF instructions: 3 of prologue and 2.
  EXPECT_EQ(seccomp_chain_instructions(child.get()), 2 * (5 + kSeccompFilterPenaltyInstructions));
}

// The lengths Linux 6.18 gives these programs, measured through the
// ENOMEM limit of MAX_INSNS_PER_PATH.
TEST(SeccompEbpfLengthTest, MatchesLinuxTranslation) {
  sock_filter allow = ret(SECCOMP_RET_ALLOW);
  struct Case {
    const char* name;
    Program program;
    size_t body_length;  // without the 3-instruction prologue
  } cases[] = {
      {"RET K", {allow}, 2},
      {"RET A", {statement(BPF_RET | BPF_A, 0)}, 1},
      {"LD ABS", {statement(BPF_LD | BPF_W | BPF_ABS, 0), allow}, 3},
      {"DIV X", {statement(BPF_ALU | BPF_DIV | BPF_X, 0), allow}, 7},
      {"DIV K", {statement(BPF_ALU | BPF_DIV | BPF_K, 3), allow}, 3},
      {"JEQ jf 0", {jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 1, 0), allow, allow}, 5},
      {"JEQ jt 0", {jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 1), allow, allow}, 5},
      {"JEQ both", {jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 1, 2), allow, allow, allow}, 8},
      {"JSET jt 0", {jump(BPF_JMP | BPF_JSET | BPF_K, 5, 0, 1), allow, allow}, 6},
      {"JEQ negative jf 0", {jump(BPF_JMP | BPF_JEQ | BPF_K, 0x80000000, 1, 0), allow, allow}, 6},
      {"JEQ negative both",
       {jump(BPF_JMP | BPF_JEQ | BPF_K, kAuditArchX86_64, 1, 2), allow, allow, allow},
       9},
      {"JEQ X jt 0", {jump(BPF_JMP | BPF_JEQ | BPF_X, 5, 0, 1), allow, allow}, 5},
      {"JA", {statement(BPF_JMP | BPF_JA, 1), allow, allow}, 5},
      {"LD LEN", {statement(BPF_LD | BPF_W | BPF_LEN, 0), allow}, 3},
      {"ST and LD MEM", {statement(BPF_ST, 0), statement(BPF_LD | BPF_MEM, 0), allow}, 4},
      {"NEG and TAX",
       {statement(BPF_ALU | BPF_NEG, 0), statement(BPF_MISC | BPF_TAX, 0), allow},
       4},
      {"JEQ to next", {jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 0), allow}, 3},
  };
  for (const Case& test : cases) {
    EXPECT_EQ(check_errno(test.program), 0) << test.name;
    EXPECT_EQ(seccomp_ebpf_length(test.program), 3 + test.body_length) << test.name;
  }
}

}  // namespace
}  // namespace ward::kernel
