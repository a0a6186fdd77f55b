#include "syscalls/dispatch.h"

#include <string>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "syscalls/args.h"
#include "syscalls/handlers_seccomp.h"
#include "syscalls/strace.h"
#include "syscalls/table.h"

namespace ward::syscalls {
namespace {

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
  };
}

// Returns ENOSYS for a syscall ward does not implement, recording the gap
// and logging it once per program.
Result<int64_t> missing_syscall(kernel::Task& task, const SyscallEntry* entry,
                                const SyscallArgs& args) {
  std::string name = entry != nullptr ? std::string(entry->name)
                                      : "syscall_" + std::to_string(args.number);
  const std::string& program = task.thread_group().exe_path();
  if (task.kernel().gaps().record(name, "", program)) {
    task.log(spdlog::level::warn, "unsupported syscall {} ({}): returning ENOSYS", name,
             entry != nullptr ? entry->note : "not a Linux x86_64 syscall number");
  }
  return Errno{ENOSYS};
}

bool is_restart_code(int error) {
  return error == ERESTARTSYS || error == ERESTARTNOINTR || error == ERESTARTNOHAND ||
         error == ERESTART_RESTARTBLOCK;
}

}  // namespace

void dispatch_syscall(kernel::Task& task) {
  platform::Registers& regs = task.regs();
  SyscallArgs args{.number = regs.orig_rax,
                   .raw = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9}};
  const SyscallEntry* entry = find_syscall(args.number);
  task.set_syscall_name(entry != nullptr ? entry->name : std::string_view("unknown"));

  // The call is formatted before it runs: execve replaces the memory its
  // arguments point to.
  bool tracing = task.kernel().options().strace && entry != nullptr;
  std::string call;
  if (tracing) {
    call = format_syscall_entry(*entry, args.raw, strace_reader(task));
  }

  // Guest seccomp runs first, before the handler or the ENOSYS of a
  // missing syscall; a task without it pays this one comparison.
  if (task.seccomp().mode != kernel::SeccompMode::kDisabled) {
    if (std::optional<SeccompDenial> denial = check_seccomp(task, args)) {
      if (tracing) {
        std::string outcome = denial->result ? format_syscall_result(*entry, *denial->result)
                                             : std::string("= ?");
        spdlog::info("[pid {}] {} {} ({})", task.tid(), call, outcome, denial->reason);
      }
      task.set_syscall_name({});
      return;
    }
  }

  Result<int64_t> result = (entry != nullptr && entry->handler != nullptr)
                               ? entry->handler(task, args)
                               : missing_syscall(task, entry, args);

  if (tracing) {
    int64_t raw_result = result.ok() ? *result : -static_cast<int64_t>(result.error().value);
    spdlog::info("[pid {}] {} {}", task.tid(), call, format_syscall_result(*entry, raw_result));
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

void install_dispatcher(kernel::Kernel& kernel) { kernel.set_syscall_dispatcher(&dispatch_syscall); }

}  // namespace ward::syscalls
