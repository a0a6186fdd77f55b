#include "syscalls/gaps.h"

#include <sys/mman.h>

#include "compat/guest_unwind.h"
#include "compat/ioctl_names.h"
#include "compat/sandbox_files.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"

namespace ward::syscalls {
namespace {

// Describes one code address of `task` through the object mapped there.
compat::StackFrame describe_pc(kernel::Task& task, uint64_t pc, bool return_address) {
  const mm::Vma* vma = task.mm().find_vma(GuestAddr(pc));
  compat::MappedObject object;
  if (vma != nullptr && vma->file != nullptr) {
    object = compat::MappedObject{
        .path = vma->file->path,
        .device = vma->file->device,
        .inode = vma->file->inode,
        .file_offset = vma->file_offset + (pc - vma->start.value()),
    };
  } else if (vma != nullptr && !vma->name.empty()) {
    object.path = vma->name;  // [vdso], [stack]: no file to read symbols from
    object.file_offset = pc - vma->start.value();
  }
  std::shared_ptr<vfs::MountNamespace> mounts = task.kernel().mounts_ref();
  const bool readable = vma != nullptr && vma->file != nullptr && mounts != nullptr;
  return task.kernel().gaps().symbolizer().describe(
      pc, object, return_address, [&]() -> Result<compat::ObjectFile> {
        if (!readable) {
          return Errno{ENOENT};
        }
        return compat::open_sandbox_file(mounts, object.path);
      });
}

// The guest call stack of `task`, stopped in a syscall: libunwind first,
// the frame-pointer chain when libunwind cannot get past the first frame.
std::optional<compat::GuestStack> capture_stack(kernel::Task& task) {
  if (!task.has_context()) {
    return std::nullopt;
  }
  compat::GuestStack stack{.pid = task.pid(), .tid = task.tid()};

  std::vector<uint64_t> pcs;
  if (std::optional<pid_t> host_tid = task.context().host_tid_for_unwinding()) {
    Result<std::vector<uint64_t>> unwound =
        compat::unwind_with_libunwind(*host_tid, compat::kMaxStackFrames);
    if (unwound.ok() && unwound->size() > 1) {
      pcs = std::move(*unwound);
      stack.method = "libunwind";
    }
  }
  if (pcs.empty()) {
    const platform::Registers& regs = task.regs();
    pcs = compat::walk_frame_pointers(
        compat::FrameRegisters{.rip = regs.rip, .rsp = regs.rsp, .rbp = regs.rbp},
        [&task](uint64_t address) -> std::optional<uint64_t> {
          auto word = task.copy_in<uint64_t>(GuestAddr(address));
          return word.ok() ? std::optional<uint64_t>(*word) : std::nullopt;
        },
        [&task](uint64_t address) {
          const mm::Vma* vma = task.mm().find_vma(GuestAddr(address));
          return vma != nullptr && (vma->prot & PROT_EXEC) != 0;
        },
        compat::kMaxStackFrames);
    stack.method = "frame pointers";
  }

  for (size_t i = 0; i < pcs.size(); ++i) {
    stack.frames.push_back(describe_pc(task, pcs[i], i > 0));
  }
  return stack;
}

}  // namespace

void record_gap(kernel::Task& task, std::string_view detail) {
  record_gap(task, compat::GapKind::kArgument, detail);
}

void record_gap(kernel::Task& task, compat::GapKind kind, std::string_view detail,
                std::optional<int> error, std::string_view note) {
  const bool first = task.kernel().gaps().record(compat::GapHit{
      .kind = kind,
      .syscall = task.syscall_name(),
      .detail = detail,
      .program = task.thread_group().exe_path(),
      .pid = task.pid(),
      .tid = task.tid(),
      .error = error,
      .note = note,
  });
  if (!first) {
    return;
  }
  if (detail.empty()) {
    task.log(spdlog::level::warn, "unsupported syscall {}: returning {}{}{}", task.syscall_name(),
             error.has_value() ? errno_name(*error) : "an error", note.empty() ? "" : "; ", note);
  } else {
    task.log(spdlog::level::warn, "unsupported: {}", detail);
  }
}

void record_ioctl_gap(kernel::Task& task, uint32_t request, std::optional<int> error) {
  record_gap(task, compat::GapKind::kIoctl, compat::describe_ioctl_request(request), error);
}

void finish_gap_call(kernel::Task& task, std::optional<int> error, bool stack_valid) {
  compat::GapRecorder& gaps = task.kernel().gaps();
  if (!gaps.has_unfinished_calls()) {
    return;
  }
  std::optional<compat::GuestStack> stack;
  if (stack_valid && gaps.wants_stack(task.tid())) {
    stack = capture_stack(task);
  }
  gaps.finish_call(task.tid(), error, stack);
}

}  // namespace ward::syscalls
