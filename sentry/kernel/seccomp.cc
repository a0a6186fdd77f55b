#include "sentry/kernel/seccomp.h"

#include <array>
#include <cstring>

namespace ward::kernel {
namespace {

constexpr uint16_t kAluDivK = BPF_ALU | BPF_DIV | BPF_K;
constexpr uint16_t kAluModK = BPF_ALU | BPF_MOD | BPF_K;

// Whether `code` is a classic BPF opcode at all (Linux's chk_code_allowed).
// Some of these, such as packet loads and MOD, pass this check and are then
// rejected by the seccomp one.
bool is_classic_opcode(uint16_t code) {
  switch (code) {
    case BPF_ALU | BPF_ADD | BPF_K:
    case BPF_ALU | BPF_ADD | BPF_X:
    case BPF_ALU | BPF_SUB | BPF_K:
    case BPF_ALU | BPF_SUB | BPF_X:
    case BPF_ALU | BPF_MUL | BPF_K:
    case BPF_ALU | BPF_MUL | BPF_X:
    case BPF_ALU | BPF_DIV | BPF_K:
    case BPF_ALU | BPF_DIV | BPF_X:
    case BPF_ALU | BPF_MOD | BPF_K:
    case BPF_ALU | BPF_MOD | BPF_X:
    case BPF_ALU | BPF_AND | BPF_K:
    case BPF_ALU | BPF_AND | BPF_X:
    case BPF_ALU | BPF_OR | BPF_K:
    case BPF_ALU | BPF_OR | BPF_X:
    case BPF_ALU | BPF_XOR | BPF_K:
    case BPF_ALU | BPF_XOR | BPF_X:
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_LSH | BPF_X:
    case BPF_ALU | BPF_RSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_X:
    case BPF_ALU | BPF_NEG:
    case BPF_LD | BPF_W | BPF_ABS:
    case BPF_LD | BPF_H | BPF_ABS:
    case BPF_LD | BPF_B | BPF_ABS:
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LD | BPF_W | BPF_IND:
    case BPF_LD | BPF_H | BPF_IND:
    case BPF_LD | BPF_B | BPF_IND:
    case BPF_LD | BPF_IMM:
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_B | BPF_MSH:
    case BPF_LDX | BPF_IMM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
    case BPF_RET | BPF_K:
    case BPF_RET | BPF_A:
    case BPF_JMP | BPF_JA:
    case BPF_JMP | BPF_JEQ | BPF_K:
    case BPF_JMP | BPF_JEQ | BPF_X:
    case BPF_JMP | BPF_JGE | BPF_K:
    case BPF_JMP | BPF_JGE | BPF_X:
    case BPF_JMP | BPF_JGT | BPF_K:
    case BPF_JMP | BPF_JGT | BPF_X:
    case BPF_JMP | BPF_JSET | BPF_K:
    case BPF_JMP | BPF_JSET | BPF_X:
      return true;
    default:
      return false;
  }
}

bool is_conditional_jump(uint16_t code) {
  switch (code) {
    case BPF_JMP | BPF_JEQ | BPF_K:
    case BPF_JMP | BPF_JEQ | BPF_X:
    case BPF_JMP | BPF_JGE | BPF_K:
    case BPF_JMP | BPF_JGE | BPF_X:
    case BPF_JMP | BPF_JGT | BPF_K:
    case BPF_JMP | BPF_JGT | BPF_X:
    case BPF_JMP | BPF_JSET | BPF_K:
    case BPF_JMP | BPF_JSET | BPF_X:
      return true;
    default:
      return false;
  }
}

// The per-instruction rules of bpf_check_classic.
bool passes_classic_rules(const sock_filter& insn, size_t pc, size_t length) {
  uint16_t code = insn.code;
  if (!is_classic_opcode(code)) {
    return false;
  }
  if (code == kAluDivK || code == kAluModK) {
    return insn.k != 0;
  }
  switch (code) {
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_K:
      return insn.k < 32;
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
      return insn.k < BPF_MEMWORDS;
    case BPF_JMP | BPF_JA:
      // Jump offsets are unsigned, so jumps go forward. The target must be
      // inside the program.
      return insn.k < length - pc - 1;
    case BPF_LD | BPF_W | BPF_ABS:
    case BPF_LD | BPF_H | BPF_ABS:
    case BPF_LD | BPF_B | BPF_ABS:
      // Offsets from SKF_AD_OFF up name socket ancillary data. Linux lets
      // the known ones through here, but the seccomp check rejects every
      // one of them, with the same EINVAL.
      return insn.k < static_cast<uint32_t>(SKF_AD_OFF);
    default:
      break;
  }
  if (is_conditional_jump(code)) {
    return pc + insn.jt + 1 < length && pc + insn.jf + 1 < length;
  }
  return true;
}

// Linux's check_load_and_stores: a scratch memory word may be loaded only
// after a store to it on every path that reaches the load.
bool scratch_loads_follow_stores(std::span<const sock_filter> program) {
  constexpr uint16_t kAllValid = 0xffff;
  std::vector<uint16_t> valid_at(program.size(), kAllValid);
  uint16_t valid = 0;
  for (size_t pc = 0; pc < program.size(); pc++) {
    const sock_filter& insn = program[pc];
    valid &= valid_at[pc];
    switch (insn.code) {
      case BPF_ST:
      case BPF_STX:
        valid |= static_cast<uint16_t>(1U << insn.k);
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
        if ((valid & (1U << insn.k)) == 0) {
          return false;
        }
        break;
      case BPF_JMP | BPF_JA:
        valid_at[pc + 1 + insn.k] &= valid;
        valid = kAllValid;
        break;
      default:
        if (is_conditional_jump(insn.code)) {
          valid_at[pc + 1 + insn.jt] &= valid;
          valid_at[pc + 1 + insn.jf] &= valid;
          valid = kAllValid;
        }
        break;
    }
  }
  return true;
}

// seccomp_check_filter's rules: no packet data, MOD or MSH, and absolute
// loads only of aligned 32-bit words inside struct seccomp_data.
bool passes_seccomp_rules(const sock_filter& insn) {
  switch (insn.code) {
    case BPF_LD | BPF_W | BPF_ABS:
      return insn.k < sizeof(seccomp_data) && (insn.k & 3) == 0;
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_RET | BPF_K:
    case BPF_RET | BPF_A:
    case BPF_ALU | BPF_ADD | BPF_K:
    case BPF_ALU | BPF_ADD | BPF_X:
    case BPF_ALU | BPF_SUB | BPF_K:
    case BPF_ALU | BPF_SUB | BPF_X:
    case BPF_ALU | BPF_MUL | BPF_K:
    case BPF_ALU | BPF_MUL | BPF_X:
    case BPF_ALU | BPF_DIV | BPF_K:
    case BPF_ALU | BPF_DIV | BPF_X:
    case BPF_ALU | BPF_AND | BPF_K:
    case BPF_ALU | BPF_AND | BPF_X:
    case BPF_ALU | BPF_OR | BPF_K:
    case BPF_ALU | BPF_OR | BPF_X:
    case BPF_ALU | BPF_XOR | BPF_K:
    case BPF_ALU | BPF_XOR | BPF_X:
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_LSH | BPF_X:
    case BPF_ALU | BPF_RSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_X:
    case BPF_ALU | BPF_NEG:
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
    case BPF_JMP | BPF_JA:
      return true;
    default:
      return is_conditional_jump(insn.code);
  }
}

uint32_t load_seccomp_word(const seccomp_data& data, uint32_t offset) {
  uint32_t word;
  std::memcpy(&word, reinterpret_cast<const std::byte*>(&data) + offset, sizeof(word));
  return word;
}

// Classic BPF's 32-bit ALU. Shifts use the low five bits of the operand,
// as the eBPF interpreter and the x86 JIT do. The caller handles division
// by a zero X, which ends the program with 0 in Linux's translation.
uint32_t alu(uint16_t operation, uint32_t a, uint32_t operand) {
  switch (operation) {
    case BPF_ADD:
      return a + operand;
    case BPF_SUB:
      return a - operand;
    case BPF_MUL:
      return a * operand;
    case BPF_DIV:
      return a / operand;
    case BPF_AND:
      return a & operand;
    case BPF_OR:
      return a | operand;
    case BPF_XOR:
      return a ^ operand;
    case BPF_LSH:
      return a << (operand & 31);
    case BPF_RSH:
      return a >> (operand & 31);
    case BPF_NEG:
      return 0U - a;
    default:
      return a;
  }
}

bool jump_taken(uint16_t operation, uint32_t a, uint32_t operand) {
  switch (operation) {
    case BPF_JEQ:
      return a == operand;
    case BPF_JGT:
      return a > operand;
    case BPF_JGE:
      return a >= operand;
    case BPF_JSET:
      return (a & operand) != 0;
    default:
      return false;
  }
}

}  // namespace

Result<void> check_seccomp_program(std::span<const sock_filter> program) {
  if (program.empty() || program.size() > kBpfMaxInstructions) {
    return Errno{EINVAL};
  }
  for (size_t pc = 0; pc < program.size(); pc++) {
    if (!passes_classic_rules(program[pc], pc, program.size())) {
      return Errno{EINVAL};
    }
  }
  uint16_t last = program.back().code;
  if (last != (BPF_RET | BPF_K) && last != (BPF_RET | BPF_A)) {
    return Errno{EINVAL};
  }
  if (!scratch_loads_follow_stores(program)) {
    return Errno{EINVAL};
  }
  for (const sock_filter& insn : program) {
    if (!passes_seccomp_rules(insn)) {
      return Errno{EINVAL};
    }
  }
  return ok();
}

size_t seccomp_ebpf_length(std::span<const sock_filter> program) {
  constexpr size_t kPrologueInstructions = 3;
  size_t length = kPrologueInstructions;
  for (const sock_filter& insn : program) {
    uint16_t code = insn.code;
    length += 1;
    if (code == (BPF_RET | BPF_K)) {
      length += 1;  // the return value is moved into R0 first
    } else if (code == (BPF_ALU | BPF_DIV | BPF_X)) {
      length += 4;  // X is tested and the program exits with 0 if it is 0
    } else if (is_conditional_jump(code)) {
      bool negative_constant = BPF_SRC(code) == BPF_K && static_cast<int32_t>(insn.k) < 0;
      if (negative_constant) {
        length += 1;  // K is moved into a register to keep it unsigned
      }
      bool inverted_fits = insn.jt == 0 && BPF_OP(code) != BPF_JSET;
      if (insn.jf != 0 && !inverted_fits) {
        length += 1;  // a conditional jump and a JA
      }
    }
  }
  return length;
}

uint32_t run_seccomp_program(std::span<const sock_filter> program, const seccomp_data& data) {
  uint32_t a = 0;
  uint32_t x = 0;
  std::array<uint32_t, BPF_MEMWORDS> scratch{};

  // Every jump is forward and inside the program, so the loop ends.
  for (size_t pc = 0; pc < program.size(); pc++) {
    const sock_filter& insn = program[pc];
    uint16_t code = insn.code;
    switch (BPF_CLASS(code)) {
      case BPF_LD:
        if (code == (BPF_LD | BPF_W | BPF_ABS)) {
          a = load_seccomp_word(data, insn.k);
        } else if (code == (BPF_LD | BPF_W | BPF_LEN)) {
          a = sizeof(seccomp_data);
        } else if (code == (BPF_LD | BPF_MEM)) {
          a = scratch[insn.k];
        } else {
          a = insn.k;  // BPF_LD | BPF_IMM
        }
        break;
      case BPF_LDX:
        if (code == (BPF_LDX | BPF_W | BPF_LEN)) {
          x = sizeof(seccomp_data);
        } else if (code == (BPF_LDX | BPF_MEM)) {
          x = scratch[insn.k];
        } else {
          x = insn.k;  // BPF_LDX | BPF_IMM
        }
        break;
      case BPF_ST:
        scratch[insn.k] = a;
        break;
      case BPF_STX:
        scratch[insn.k] = x;
        break;
      case BPF_ALU: {
        uint32_t operand = BPF_SRC(code) == BPF_X ? x : insn.k;
        if (BPF_OP(code) == BPF_DIV && operand == 0) {
          return 0;
        }
        a = alu(BPF_OP(code), a, operand);
        break;
      }
      case BPF_JMP:
        if (BPF_OP(code) == BPF_JA) {
          pc += insn.k;
        } else {
          uint32_t operand = BPF_SRC(code) == BPF_X ? x : insn.k;
          pc += jump_taken(BPF_OP(code), a, operand) ? insn.jt : insn.jf;
        }
        break;
      case BPF_RET:
        return BPF_RVAL(code) == BPF_A ? a : insn.k;
      case BPF_MISC:
        if (BPF_MISCOP(code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
      default:
        break;
    }
  }
  // Unreachable for a checked program, whose last instruction is a RET.
  return SECCOMP_RET_KILL_PROCESS;
}

SeccompVerdict run_seccomp_filters(const SeccompFilter& newest, const seccomp_data& data) {
  auto action_rank = [](uint32_t value) {
    return static_cast<int32_t>(value & SECCOMP_RET_ACTION_FULL);
  };
  SeccompVerdict verdict;
  for (const SeccompFilter* filter = &newest; filter != nullptr; filter = filter->prev.get()) {
    uint32_t value = run_seccomp_program(filter->program, data);
    if (action_rank(value) < action_rank(verdict.value)) {
      verdict = SeccompVerdict{.value = value, .match = filter};
    }
  }
  return verdict;
}

bool is_seccomp_ancestor(const SeccompFilter* ancestor, const SeccompFilter* filter) {
  if (ancestor == nullptr) {
    return true;
  }
  for (; filter != nullptr; filter = filter->prev.get()) {
    if (filter == ancestor) {
      return true;
    }
  }
  return false;
}

size_t seccomp_chain_instructions(const SeccompFilter* newest) {
  size_t total = 0;
  for (; newest != nullptr; newest = newest->prev.get()) {
    total += newest->ebpf_length + kSeccompFilterPenaltyInstructions;
  }
  return total;
}

}  // namespace ward::kernel
