#include "sentry/loader/loader.h"

#include <elf.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "sentry/kernel/cpu_usage.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/timers.h"
#include "sentry/loader/elf.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/exec_open.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"

namespace ward::loader {
namespace {

// Linux runs at most this many nested interpreters (`#!` chains) before
// execve fails with ELOOP.
constexpr int kMaxInterpreterDepth = 5;

// Address-space randomisation ranges, as Linux x86_64 uses them with
// randomize_va_space=2: 22 bits of pages for the stack top, 28 bits of pages
// (mmap_rnd_bits) for mmap_base and a PIE's load address, 32 MiB for brk.
constexpr uint64_t kStackRandomPages = uint64_t{1} << 22;
constexpr uint64_t kMmapRandomPages = uint64_t{1} << 28;
constexpr uint64_t kBrkRandomBytes = 0x02000000;

// ELF_ET_DYN_BASE: where a PIE goes before randomisation, 2/3 of TASK_SIZE.
constexpr uint64_t kPieBase = (kTaskSize / 3 * 2) & ~(kPageSize - 1);

// Bounds of the gap between the stack top and mmap_base (mmap_base() in
// arch/x86/mm/mmap.c): at least 128 MiB, at most 5/6 of the address space.
constexpr uint64_t kMinStackGap = 128ull << 20;
constexpr uint64_t kMaxStackGap = kTaskSize / 6 * 5;

// The stack mapping is made whole up front rather than grown on faults;
// an unlimited RLIMIT_STACK maps this much.
constexpr uint64_t kMaxStackMappingBytes = 64ull << 20;

// Linux's CLK_TCK for AT_CLKTCK.
constexpr uint64_t kClockTicksPerSecond = 100;

constexpr char kPlatformName[] = "x86_64";

uint64_t random_below(uint64_t bound) {
  uint64_t value = 0;
  // getrandom on the host never fails for 8 bytes once the pool is ready.
  (void)getrandom(&value, sizeof(value), 0);
  return bound == 0 ? 0 : value % bound;
}

FileReader reader_for(vfs::FileDescription& file) {
  return [&file](uint64_t offset, std::span<std::byte> buffer) -> Result<size_t> {
    return file.read(buffer, offset);
  };
}

// An opened executable with its parsed ELF header.
struct LoadedFile {
  vfs::FileRef file;
  ElfImage image;
  struct stat status;
};

Result<LoadedFile> parse_executable(vfs::FileRef file) {
  struct stat status = TRY(file->stat());
  ElfImage image = TRY(parse_elf(reader_for(*file), static_cast<uint64_t>(status.st_size)));
  return LoadedFile{std::move(file), std::move(image), status};
}

// Maps every PT_LOAD of `loaded` at `bias`, as binfmt_elf's elf_load does.
// Returns the end of the highest segment, for brk.
Result<GuestAddr> map_segments(mm::MemoryManager& mm, const LoadedFile& loaded, uint64_t bias) {
  std::optional<int> host_fd = loaded.file->host_fd_for_mapping();
  if (!host_fd) {
    return Errno{EACCES};
  }
  auto info = std::make_shared<mm::MappedFileInfo>(
      mm::MappedFileInfo{.path = loaded.file->display_path(),
                         .device = loaded.status.st_dev,
                         .inode = loaded.status.st_ino});

  GuestAddr image_end(0);
  for (const ElfSegment& segment : loaded.image.segments) {
    GuestAddr start(segment.vaddr + bias);
    GuestAddr map_start = start.page_down();
    GuestAddr file_end = (start + segment.filesz_bytes).page_up().value_or(start);
    GuestAddr memory_end = (start + segment.memsz_bytes).page_up().value_or(start);

    if (segment.filesz_bytes > 0) {
      TRY(mm.map(mm::MapRequest{
          .hint = map_start,
          .length = file_end - map_start,
          .prot = segment.prot,
          .flags = MAP_PRIVATE,
          .fixed = true,
          .host_fd = *host_fd,
          .file_offset = segment.offset & ~(kPageSize - 1),
          .file = info,
      }));
      // The rest of the last file page must read as zeros: part of it is
      // .bss, and ld.so's early allocator takes the rest of the page after
      // its own .bss as fresh zeroed memory. Linux's padzero clears to the
      // end of the page and ignores a failure when the segment is read-only.
      if (segment.memsz_bytes > segment.filesz_bytes) {
        GuestAddr zero_start = start + segment.filesz_bytes;
        std::vector<std::byte> zeros(file_end - zero_start);
        (void)mm.copy_out(zero_start, zeros);
      }
    } else {
      file_end = map_start;
    }

    if (memory_end > file_end) {
      TRY(mm.map(mm::MapRequest{
          .hint = file_end,
          .length = memory_end - file_end,
          .prot = segment.prot,
          .flags = MAP_PRIVATE | MAP_ANONYMOUS,
          .fixed = true,
      }));
    }
    image_end = std::max(image_end, start + segment.memsz_bytes);
  }
  return image_end;
}

// Chooses a PIE's load bias: ELF_ET_DYN_BASE plus a random offset, aligned
// to the image's largest segment alignment.
uint64_t choose_pie_bias(const ElfImage& image) {
  uint64_t base = kPieBase + random_below(kMmapRandomPages) * kPageSize / 4;
  base &= ~(image.max_align_bytes - 1);
  return (base - image.min_vaddr) & ~(kPageSize - 1);
}

// Chooses where the interpreter goes: below mmap_base, as any mmap would.
Result<uint64_t> choose_interpreter_bias(mm::MemoryManager& mm, const ElfImage& image) {
  if (!image.position_independent) {
    return uint64_t{0};
  }
  uint64_t span = image.max_vaddr - image.min_vaddr + image.max_align_bytes;
  auto range = mm.find_free_range(span, mm.mmap_base(), GuestAddr(mm::kMmapMinAddr));
  if (!range) {
    return Errno{ENOMEM};
  }
  uint64_t aligned = (range->value() + image.max_align_bytes - 1) & ~(image.max_align_bytes - 1);
  return aligned - image.min_vaddr;
}

// The initial stack, built bottom-up in a local buffer and copied out once.
class StackBuilder {
 public:
  explicit StackBuilder(GuestAddr top) : top_(top), cursor_(top) {}

  // Pushes bytes below everything pushed so far; returns their address.
  GuestAddr push_bytes(std::span<const std::byte> bytes) {
    cursor_ = cursor_ - bytes.size();
    data_.insert(data_.begin(), bytes.begin(), bytes.end());
    return cursor_;
  }

  GuestAddr push_string(std::string_view text) {
    std::vector<std::byte> bytes(text.size() + 1);
    std::memcpy(bytes.data(), text.data(), text.size());
    return push_bytes(bytes);
  }

  // Pads so that the cursor, after `extra_bytes` more are pushed, is a
  // multiple of `alignment`.
  void align_down(uint64_t alignment, uint64_t extra_bytes = 0) {
    uint64_t after_extra = cursor_.value() - extra_bytes;
    std::vector<std::byte> padding(after_extra & (alignment - 1));
    push_bytes(padding);
  }

  GuestAddr cursor() const { return cursor_; }

  Result<void> copy_out(mm::MemoryManager& mm) { return mm.copy_out(cursor_, data_); }

 private:
  GuestAddr top_;
  GuestAddr cursor_;
  std::vector<std::byte> data_;
};

struct ImageLayout {
  GuestAddr stack_top;
  uint64_t stack_bytes;
};

// Picks the stack top and mmap_base for a new image, as Linux's
// arch_pick_mmap_layout and randomize_stack_top do.
ImageLayout choose_layout(mm::MemoryManager& mm, const rlimit& stack_limit) {
  uint64_t stack_bytes = stack_limit.rlim_cur == RLIM_INFINITY
                             ? kMaxStackMappingBytes
                             : std::min<uint64_t>(stack_limit.rlim_cur, kMaxStackMappingBytes);
  stack_bytes = page_round_up(std::max<uint64_t>(stack_bytes, 128 * 1024)).value();

  GuestAddr top = mm.max_address() - random_below(kStackRandomPages) * kPageSize;
  uint64_t gap = std::clamp<uint64_t>(stack_bytes + (kStackRandomPages * kPageSize), kMinStackGap,
                                      kMaxStackGap);
  GuestAddr mmap_base = (top - gap - random_below(kMmapRandomPages) * kPageSize).page_down();
  mm.set_mmap_base(mmap_base);
  return ImageLayout{top, stack_bytes};
}

struct StackResult {
  GuestAddr stack_pointer;
};

// Builds argv, envp, auxv and the strings they point to at the top of the
// stack, in the order Linux's create_elf_tables uses.
Result<StackResult> build_stack(kernel::Task& task, mm::MemoryManager& mm,
                                const ImageLayout& layout, const ExecRequest& request,
                                const std::vector<std::string>& argv, const LoadedFile& program,
                                uint64_t program_bias, std::optional<uint64_t> interpreter_bias) {
  StackBuilder stack(layout.stack_top);
  // A NULL pointer's worth of space at the very top, then the file name
  // (AT_EXECFN), the environment strings and the argument strings.
  std::byte end_marker[8] = {};
  stack.push_bytes(end_marker);
  GuestAddr execfn = stack.push_string(request.path);

  std::vector<GuestAddr> env_addrs(request.envp.size());
  for (size_t i = request.envp.size(); i-- > 0;) {
    env_addrs[i] = stack.push_string(request.envp[i]);
  }
  GuestAddr env_end = env_addrs.empty() ? execfn : execfn;
  std::vector<GuestAddr> arg_addrs(argv.size());
  for (size_t i = argv.size(); i-- > 0;) {
    arg_addrs[i] = stack.push_string(argv[i]);
  }

  mm::MemoryManager::ImageInfo& info = mm.image_info();
  info.arg_start = arg_addrs.empty() ? stack.cursor() : arg_addrs.front();
  info.arg_end = env_addrs.empty() ? env_end : env_addrs.front();
  info.env_start = info.arg_end;
  info.env_end = env_end;
  info.stack_top = layout.stack_top;

  // arch_align_stack: a random offset below 8 KiB, then 16-byte alignment.
  std::vector<std::byte> random_gap(random_below(8192));
  stack.push_bytes(random_gap);
  stack.align_down(16);

  GuestAddr platform = stack.push_string(kPlatformName);
  std::byte random_bytes[16];
  if (getrandom(random_bytes, sizeof(random_bytes), 0) != sizeof(random_bytes)) {
    return Errno{EAGAIN};
  }
  GuestAddr at_random = stack.push_bytes(random_bytes);

  // The ids and AT_SECURE are those the exec will commit.
  const kernel::ExecCredentials exec = kernel::prepare_exec_credentials(task);
  const kernel::Credentials& creds = exec.creds;
  const ElfImage& image = program.image;
  std::vector<uint64_t> auxv = {
      AT_SYSINFO_EHDR, task.kernel().platform().vdso_base().value(),
      AT_MINSIGSTKSZ,  getauxval(AT_MINSIGSTKSZ),
      AT_HWCAP,        getauxval(AT_HWCAP),
      AT_PAGESZ,       kPageSize,
      AT_CLKTCK,       kClockTicksPerSecond,
      AT_PHDR,         image.phdr_vaddr + program_bias,
      AT_PHENT,        image.phent_bytes,
      AT_PHNUM,        image.phnum,
      AT_BASE,         interpreter_bias.value_or(0),
      AT_FLAGS,        0,
      AT_ENTRY,        image.entry + program_bias,
      AT_UID,          creds.real_uid,
      AT_EUID,         creds.effective_uid,
      AT_GID,          creds.real_gid,
      AT_EGID,         creds.effective_gid,
      AT_SECURE,       exec.secure ? 1u : 0u,
      AT_RANDOM,       at_random.value(),
      AT_HWCAP2,       getauxval(AT_HWCAP2),
      AT_EXECFN,       execfn.value(),
      AT_PLATFORM,     platform.value(),
      AT_NULL,         0,
  };
  if (auxv[1] == 0) {
    // No vDSO: drop the AT_SYSINFO_EHDR entry rather than pass a null one.
    auxv.erase(auxv.begin(), auxv.begin() + 2);
  }
  info.auxv = auxv;

  // argc, argv[], NULL, envp[], NULL, auxv[]: the stack pointer must end
  // 16-byte aligned.
  size_t words = 1 + arg_addrs.size() + 1 + env_addrs.size() + 1 + auxv.size();
  stack.align_down(16, words * sizeof(uint64_t));

  std::vector<uint64_t> table;
  table.reserve(words);
  table.push_back(arg_addrs.size());
  for (GuestAddr addr : arg_addrs) table.push_back(addr.value());
  table.push_back(0);
  for (GuestAddr addr : env_addrs) table.push_back(addr.value());
  table.push_back(0);
  table.insert(table.end(), auxv.begin(), auxv.end());
  GuestAddr stack_pointer = stack.push_bytes(std::as_bytes(std::span(table)));

  GuestAddr lowest = (layout.stack_top - layout.stack_bytes).page_down();
  if (stack_pointer < lowest + kPageSize) {
    return Errno{E2BIG};
  }
  TRY(stack.copy_out(mm));
  return StackResult{stack_pointer};
}

// Total size of the strings and pointers execve copies to the stack, which
// Linux caps at a quarter of RLIMIT_STACK.
Result<void> check_argument_size(const ExecRequest& request, const rlimit& stack_limit) {
  uint64_t total = 0;
  for (const auto* list : {&request.argv, &request.envp}) {
    for (const std::string& text : *list) {
      if (text.size() + 1 > kMaxArgStringBytes) {
        return Errno{E2BIG};
      }
      total += text.size() + 1 + sizeof(uint64_t);
    }
  }
  uint64_t limit = stack_limit.rlim_cur == RLIM_INFINITY ? kMaxStackMappingBytes / 4
                                                          : stack_limit.rlim_cur / 4;
  if (total > std::max<uint64_t>(limit, 32 * kPageSize)) {
    return Errno{E2BIG};
  }
  return ok();
}

// Follows `#!` lines from `file`, rewriting argv as binfmt_script does:
// [interpreter, optional argument, script path, original argv[1...]].
Result<vfs::FileRef> follow_interpreters(kernel::Task& task, vfs::FileRef file,
                                         const ExecRequest& request,
                                         std::vector<std::string>& argv) {
  std::string script_path = request.path;
  for (int depth = 0;; ++depth) {
    std::byte head[kExecHeadBytes] = {};
    size_t head_bytes = TRY(file->read(head, 0));
    if (request.path_inaccessible && head_bytes >= 2 && head[0] == std::byte{'#'} &&
        head[1] == std::byte{'!'}) {
      return Errno{ENOENT};
    }
    auto shebang = TRY(parse_shebang(std::span(head, head_bytes)));
    if (!shebang) {
      return file;
    }
    if (depth >= kMaxInterpreterDepth) {
      return Errno{ELOOP};
    }

    std::vector<std::string> rewritten;
    rewritten.push_back(shebang->interpreter);
    if (shebang->argument) {
      rewritten.push_back(*shebang->argument);
    }
    rewritten.push_back(script_path);
    if (!argv.empty()) {
      rewritten.insert(rewritten.end(), argv.begin() + 1, argv.end());
    }
    argv = std::move(rewritten);

    file = TRY(vfs::open_executable(task, shebang->interpreter));
    script_path = shebang->interpreter;
  }
}

std::string_view base_name(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<vfs::FileRef> open_program(kernel::Task& task, std::string_view path) {
  return vfs::open_executable(task, path);
}

Result<void> execve(kernel::Task& task, ExecRequest request) {
  vfs::FileRef program = TRY(open_program(task, request.path));
  return execve(task, std::move(program), std::move(request));
}

Result<void> execve(kernel::Task& task, vfs::FileRef file, ExecRequest request) {
  const rlimit& stack_limit = task.thread_group().limit(RLIMIT_STACK);
  TRY(check_argument_size(request, stack_limit));

  // Since Linux 5.18 an empty argv gets an empty argv[0].
  std::vector<std::string> argv = request.argv;
  if (argv.empty()) {
    argv.emplace_back();
  }

  file = TRY(follow_interpreters(task, std::move(file), request, argv));
  LoadedFile program = TRY(parse_executable(std::move(file)));

  std::optional<LoadedFile> interpreter;
  if (program.image.interpreter) {
    vfs::FileRef interpreter_file = TRY(vfs::open_executable(task, *program.image.interpreter));
    auto parsed = parse_executable(std::move(interpreter_file));
    if (!parsed.ok()) {
      // A PT_INTERP that is not a usable ELF file is "accessing a corrupted
      // shared library", as Linux reports it.
      return parsed.error().value == ENOEXEC ? Errno{ELIBBAD} : parsed.error();
    }
    interpreter = std::move(*parsed);
  }

  // Build the new image in a fresh address space. Until the swap at the
  // end, a failure leaves the task as it was.
  auto mm = TRY(mm::MemoryManager::create(task.kernel().platform()));
  mm->set_address_space_limit(task.thread_group().limit(RLIMIT_AS).rlim_cur);
  ImageLayout layout = choose_layout(*mm, stack_limit);

  uint64_t program_bias = program.image.position_independent ? choose_pie_bias(program.image) : 0;
  GuestAddr program_end = TRY(map_segments(*mm, program, program_bias));

  std::optional<uint64_t> interpreter_bias;
  if (interpreter) {
    interpreter_bias = TRY(choose_interpreter_bias(*mm, interpreter->image));
    TRY(map_segments(*mm, *interpreter, *interpreter_bias));
  }

  GuestAddr brk_start = program_end.page_up().value_or(program_end) +
                        (random_below(kBrkRandomBytes / kPageSize) * kPageSize);
  mm->init_brk(brk_start);

  int stack_prot = PROT_READ | PROT_WRITE | (program.image.executable_stack ? PROT_EXEC : 0);
  TRY(mm->map(mm::MapRequest{
      .hint = (layout.stack_top - layout.stack_bytes).page_down(),
      .length = layout.stack_bytes,
      .prot = stack_prot,
      .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_GROWSDOWN,
      .fixed = true,
      .name = "[stack]",
  }));
  StackResult stack = TRY(build_stack(task, *mm, layout, request, argv, program, program_bias,
                                      interpreter_bias));

  platform::Registers regs = task.kernel().platform().initial_registers();
  regs.rsp = stack.stack_pointer.value();
  regs.rip = interpreter ? interpreter->image.entry + *interpreter_bias
                         : program.image.entry + program_bias;
  auto context = TRY(mm->address_space().new_context(regs, {}));

  pid_t tid_before_exec = task.tid();
  TRY(task.prepare_for_exec());

  // The point of no return: the new image replaces the old one. The
  // thread's CPU time so far is carried over to its new host thread; the
  // POSIX timers end, the interval timers stay.
  kernel::account_exec(task, tid_before_exec);
  kernel::delete_timers_for_exec(task);
  task.fdtable().close_on_exec();
  task.replace_image(std::move(mm), std::move(context));
  task.release_vfork_parent();
  kernel::apply_exec_attributes(task, kernel::prepare_exec_credentials(task));
  task.thread_group().set_exe_path(program.file->display_path());
  task.set_comm(request.comm.empty() ? base_name(request.path) : request.comm);
  task.log(spdlog::level::debug, "exec {} entry {:#x} stack {:#x}", program.file->display_path(),
           regs.rip, regs.rsp);
  return ok();
}

Result<void> execvp(kernel::Task& task, ExecRequest request, std::string_view search_path) {
  if (request.path.find('/') != std::string::npos) {
    return execve(task, std::move(request));
  }
  if (request.path.empty()) {
    return Errno{ENOENT};
  }

  bool saw_eacces = false;
  size_t start = 0;
  while (start <= search_path.size()) {
    size_t colon = search_path.find(':', start);
    std::string_view directory = search_path.substr(
        start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    start = colon == std::string_view::npos ? search_path.size() + 1 : colon + 1;

    // An empty PATH entry means the current directory.
    std::string candidate = directory.empty() ? request.path
                                              : std::string(directory) + "/" + request.path;
    ExecRequest attempt{candidate, request.argv, request.envp};
    Result<void> result = execve(task, std::move(attempt));
    if (result.ok()) {
      return ok();
    }
    int error = result.error().value;
    if (error == EACCES) {
      saw_eacces = true;
    } else if (error != ENOENT && error != ENOTDIR) {
      return result.error();
    }
  }
  return Errno{saw_eacces ? EACCES : ENOENT};
}

}  // namespace ward::loader
