// Guest seccomp: the classic BPF checker and interpreter with Linux's
// seccomp rules, and the filter chain a task carries. The syscall layer
// (syscalls/sys_seccomp.cc) installs filters and acts on their verdicts.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ward/result.h"

namespace ward::kernel {

// Linux's BPF_MAXINSNS: the longest program one filter may have.
inline constexpr size_t kBpfMaxInstructions = 4096;

// Linux's MAX_INSNS_PER_PATH: a task's filters may hold at most 256 KiB of
// instructions, each filter but the newest counted with a penalty of 4.
// Linux counts the eBPF instructions each filter becomes, not the classic
// ones (see seccomp_ebpf_length). Installing past it fails with ENOMEM.
inline constexpr size_t kSeccompMaxPathInstructions = (1 << 18) / sizeof(sock_filter);
inline constexpr size_t kSeccompFilterPenaltyInstructions = 4;

// AUDIT_ARCH_X86_64, the only architecture a ward guest runs, as
// seccomp_data.arch reports it.
inline constexpr uint32_t kAuditArchX86_64 = 0xc000003e;

// Checks a classic BPF program as Linux's bpf_check_classic and then
// seccomp_check_filter do. The program may use only the seccomp opcodes,
// never divide by a zero constant or shift by 32 or more, and must end in a
// RET. Its jumps stay inside it, its scratch words (below 16) are written
// before they are read on every path, and its absolute loads read aligned
// 32-bit words of seccomp_data. EINVAL for any violation.
Result<void> check_seccomp_program(std::span<const sock_filter> program);

// Counts the eBPF instructions Linux's bpf_convert_filter turns a checked
// program into. Each instruction is one, after a prologue of 3. A RET K
// adds 1 and a division by X adds 4 (its zero check). A conditional jump
// adds 1 when neither target is the next instruction (2 jumps), and 1 when
// K is negative as a signed number. Checked on Linux 6.18 through the
// ENOMEM limit.
size_t seccomp_ebpf_length(std::span<const sock_filter> program);

// Runs a program that check_seccomp_program accepted over `data` and
// returns the filter's 32-bit return value (SECCOMP_RET_* | data).
uint32_t run_seccomp_program(std::span<const sock_filter> program, const seccomp_data& data);

// One installed filter. Filters are immutable once installed and form a
// tree through `prev`: fork and TSYNC share a chain, and each new filter
// points at the chain it was installed on top of.
struct SeccompFilter {
  std::vector<sock_filter> program;
  // seccomp_ebpf_length(program).
  size_t ebpf_length = 0;
  // SECCOMP_FILTER_FLAG_LOG: log every action of this filter but ALLOW.
  bool log = false;
  std::shared_ptr<const SeccompFilter> prev;
};

// The outcome of a task's filters for one syscall: the return value that
// wins and the filter that returned it (nullptr when every filter allowed).
struct SeccompVerdict {
  uint32_t value = SECCOMP_RET_ALLOW;
  const SeccompFilter* match = nullptr;
};

// Runs every filter from `newest` back to the first. The action with the
// highest precedence wins: Linux compares the action bits as a signed
// 32-bit number, lowest first, so KILL_PROCESS > KILL_THREAD > TRAP >
// ERRNO > USER_NOTIF > TRACE > LOG > ALLOW. Among equal actions the newest
// filter's value, with its data, wins.
SeccompVerdict run_seccomp_filters(const SeccompFilter& newest, const seccomp_data& data);

// Whether `ancestor` is `filter` or lies on its chain; a null ancestor is
// the root of every chain, as in Linux's is_ancestor.
bool is_seccomp_ancestor(const SeccompFilter* ancestor, const SeccompFilter* filter);

// The eBPF instructions a chain counts against
// kSeccompMaxPathInstructions, penalties included.
size_t seccomp_chain_instructions(const SeccompFilter* newest);

// prctl(PR_GET_SECCOMP)'s values.
enum class SeccompMode : int { kDisabled = 0, kStrict = 1, kFilter = 2 };

// A task's seccomp state. The dispatcher checks `mode` alone, so a task
// without seccomp pays one comparison per syscall.
struct SeccompState {
  SeccompMode mode = SeccompMode::kDisabled;
  std::shared_ptr<const SeccompFilter> filter;  // the newest filter in kFilter mode
};

}  // namespace ward::kernel
