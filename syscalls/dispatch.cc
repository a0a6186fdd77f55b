#include "syscalls/dispatch.h"

#include <array>
#include <optional>
#include <span>
#include <string>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signals.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/args.h"
#include "syscalls/gaps.h"
#include "syscalls/handlers_seccomp.h"
#include "syscalls/strace.h"
#include "syscalls/table.h"

namespace ward::syscalls {
namespace {

// Logs a signal the task takes, as strace's "--- SIG... ---" line.
void trace_signal(kernel::Task& task, int signal, const siginfo_t& info) {
  spdlog::info("[pid {}] {}", task.tid(), format_signal_delivery(signal, info));
}

// Reads guest memory for --strace; an unreadable address prints as a
// pointer.
GuestMemoryReader strace_reader(kernel::Task& task) {
  return GuestMemoryReader{
      .read_string = [&task](GuestAddr addr, size_t max_bytes) -> std::optional<std::string> {
        auto text = task.copy_in_string(addr, max_bytes + 1);
        if (text.ok()) {
          return std::move(*text);
        }
        if (text.error().value == ENAMETOOLONG) {
          std::string prefix(max_bytes, '\0');
          if (task.copy_in(addr, std::as_writable_bytes(std::span(prefix))).ok()) {
            return prefix;
          }
        }
        return std::nullopt;
      },
      .read_word = [&task](GuestAddr addr) -> std::optional<uint64_t> {
        auto word = task.copy_in<uint64_t>(addr);
        return word.ok() ? std::optional<uint64_t>(*word) : std::nullopt;
      },
      .read_bytes = [&task](GuestAddr addr, size_t size) -> std::optional<std::string> {
        std::string bytes(size, '\0');
        if (!task.copy_in(addr, std::as_writable_bytes(std::span(bytes))).ok()) {
          return std::nullopt;
        }
        return bytes;
      },
  };
}

// Syscalls ward leaves out on purpose, with what programs do without them.
struct ByDesignGap {
  std::string_view syscall;
  std::string_view fallback;
};
constexpr ByDesignGap kByDesignGaps[] = {
    {"rseq", "glibc 2.35 and later run without restartable sequences when rseq fails at thread "
             "start, and sched_getcpu then makes a getcpu call"},
    {"io_uring_setup", "programs that probe for io_uring (liburing users, libuv 1.45 and later) "
                       "fall back to epoll or a thread pool"},
};

// Returns ENOSYS for a syscall ward does not implement, recording the gap
// and logging it once per program.
Result<int64_t> missing_syscall(kernel::Task& task, const SyscallEntry* entry,
                                const SyscallArgs& args) {
  if (entry == nullptr) {
    const std::string number = "syscall " + std::to_string(args.number);
    record_gap(task, compat::GapKind::kSyscall, number, ENOSYS,
               "not a Linux x86_64 syscall number");
    return Errno{ENOSYS};
  }
  for (const ByDesignGap& gap : kByDesignGaps) {
    if (gap.syscall == entry->name) {
      record_gap(task, compat::GapKind::kByDesign, "", ENOSYS, gap.fallback);
      return Errno{ENOSYS};
    }
  }
  // The table's default note adds nothing to the gap's own hint.
  const std::string_view note = entry->note == "not implemented" ? "" : entry->note;
  record_gap(task, compat::GapKind::kSyscall, "", ENOSYS, note);
  return Errno{ENOSYS};
}

// The encoding of `int $0x80`, the i386 system call gate.
constexpr std::array<std::byte, 2> kInt80Bytes = {std::byte{0xcd}, std::byte{0x80}};

// Tells whether the stop came from `int $0x80` rather than `syscall`. The
// `syscall` instruction copies rip into rcx and rflags into r11, so a stop
// with both equal is a 64-bit call and costs no memory read. Otherwise the
// two bytes before rip decide.
bool entered_through_int80(kernel::Task& task, const platform::Registers& regs) {
  if (regs.rcx == regs.rip && regs.r11 == regs.eflags) {
    return false;
  }
  std::array<std::byte, 2> bytes{};
  if (!task.copy_in(GuestAddr(regs.rip - bytes.size()), std::span(bytes)).ok()) {
    return false;
  }
  return bytes == kInt80Bytes;
}

// Treats an `int $0x80` as Linux does without IA32 emulation. The gate is
// absent from the IDT, so the instruction raises a general protection
// fault. The task gets SIGSEGV (SI_KERNEL, si_addr 0), with rip and rax as
// they were before the instruction.
void fault_int80(kernel::Task& task, platform::Registers& regs) {
  regs.rip -= kInt80Bytes.size();
  regs.rax = regs.orig_rax;
  task.set_syscall_name("int 0x80");
  record_gap(task, compat::GapKind::kSyscall, "i386 system call", std::nullopt,
             "the process gets SIGSEGV, as on Linux without IA32 emulation");
  finish_gap_call(task, std::nullopt);
  task.set_syscall_name({});
  task.force_signal(kernel::kernel_siginfo(SIGSEGV));
}

// The legacy vsyscall page. The platform reports a call into it as a
// syscall stop with rip still in the page and the return address at [rsp].
constexpr uint64_t kVsyscallPage = 0xffffffffff600000;
constexpr uint64_t kVsyscallPageBytes = 4096;

bool in_vsyscall_page(uint64_t address) {
  return address - kVsyscallPage < kVsyscallPageBytes;
}

bool is_restart_code(int error) {
  return error == ERESTARTSYS || error == ERESTARTNOINTR || error == ERESTARTNOHAND ||
         error == ERESTART_RESTARTBLOCK;
}

// Runs the syscall the registers describe and puts its result in rax.
void run_syscall(kernel::Task& task) {
  platform::Registers& regs = task.regs();

  // Linux reads the syscall number from the low 32 bits of rax (it is an
  // int), so 0x100000027 is getpid.
  SyscallArgs args{.number = static_cast<uint32_t>(regs.orig_rax),
                   .raw = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9}};
  const SyscallEntry* entry = find_syscall(args.number);
  task.set_syscall_name(entry != nullptr ? entry->name : std::string_view("unknown"));

  // The input arguments are decoded before the call runs, because execve
  // replaces the memory they point to. Output arguments wait for the result.
  const kernel::KernelOptions& options = task.kernel().options();
  const bool tracing =
      options.strace && entry != nullptr &&
      (options.strace_filter.empty() || options.strace_filter.contains(args.number));
  std::optional<SyscallTrace> trace;
  if (tracing) {
    trace.emplace(*entry, args.raw, strace_reader(task));
  }

  // Guest seccomp runs first, before the handler or the ENOSYS of a
  // missing syscall; a task without it pays this one comparison.
  if (task.seccomp().mode != kernel::SeccompMode::kDisabled) {
    if (std::optional<SeccompDenial> denial = check_seccomp(task, args)) {
      if (trace) {
        std::string outcome = denial->result ? format_syscall_result(*entry, *denial->result)
                                             : std::string("= ?");
        spdlog::info("[pid {}] {} {} ({})", task.tid(), trace->call_at_entry(), outcome,
                     denial->reason);
      }
      task.set_syscall_name({});
      return;
    }
  }

  const mm::MemoryManager* image_before = task.mm_ref().get();
  Result<int64_t> result = (entry != nullptr && entry->handler != nullptr)
                               ? entry->handler(task, args)
                               : missing_syscall(task, entry, args);
  finish_gap_call(task, result.ok() ? 0 : result.error().value,
                  task.has_context() && task.mm_ref().get() == image_before);

  if (trace) {
    int64_t raw_result = result.ok() ? *result : -static_cast<int64_t>(result.error().value);
    // A call that ends the task (exit, exit_group, or any call a fatal
    // signal cuts short) returns nothing, which strace prints as "?".
    std::string line;
    if (!task.has_context() || task.exit_requested()) {
      line = trace->call_at_entry() + " = ?";
    } else if (task.mm_ref().get() != image_before) {
      // execve replaced the memory, so output arguments cannot be read back.
      line = trace->call_at_entry() + " " + format_syscall_result(*entry, raw_result);
    } else {
      line = trace->line_at_exit(raw_result, strace_reader(task));
    }
    spdlog::info("[pid {}] {}", task.tid(), line);
  }
  if (task.has_context()) {
    int64_t value = result.ok() ? *result : -static_cast<int64_t>(result.error().value);
    task.regs().rax = static_cast<uint64_t>(value);
    // Signal delivery, on the way back to the guest, turns a restart code
    // into EINTR or a restart of the call.
    if (!result.ok() && is_restart_code(result.error().value)) {
      task.set_interrupted_syscall(result.error().value);
    }
  }
  task.set_syscall_name({});
}

// Serves a call into the vsyscall page as Linux's emulate_vsyscall does
// (arch/x86/entry/vsyscall/vsyscall_64.c). The syscall runs, including the
// guest's seccomp filter, and then the `ret` the page would have done pops
// the return address. A call that fails with EFAULT gets SIGSEGV and no
// `ret`, so the handler's frame has rip in the vsyscall page.
void run_vsyscall(kernel::Task& task) {
  run_syscall(task);
  if (!task.has_context()) {
    return;
  }
  platform::Registers& regs = task.regs();
  if (!in_vsyscall_page(regs.rip)) {
    return;  // the call replaced the registers, so there is no `ret` to do
  }
  if (static_cast<int64_t>(regs.rax) == -EFAULT) {
    task.force_signal(kernel::kernel_siginfo(SIGSEGV));
    return;
  }
  auto return_address = task.copy_in<uint64_t>(GuestAddr(regs.rsp));
  if (!return_address.ok()) {
    task.force_signal(kernel::kernel_siginfo(SIGSEGV));
    return;
  }
  regs.rip = *return_address;
  regs.rsp += sizeof(uint64_t);
}

}  // namespace

void dispatch_syscall(kernel::Task& task) {
  platform::Registers& regs = task.regs();
  if (in_vsyscall_page(regs.rip)) {
    run_vsyscall(task);
    return;
  }
  if (entered_through_int80(task, regs)) {
    fault_int80(task, regs);
    return;
  }
  run_syscall(task);
}

void install_dispatcher(kernel::Kernel& kernel) {
  kernel.set_syscall_dispatcher(&dispatch_syscall);
  if (kernel.options().strace) {
    kernel.set_signal_tracer(&trace_signal);
  }
}

}  // namespace ward::syscalls
