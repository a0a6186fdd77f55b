#include "platform/ptrace/ptrace_platform.h"

#include <elf.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <spdlog/spdlog.h>

namespace ward::platform {
namespace {

// x86_64 rflags for a new thread: interrupts enabled plus the reserved bit 1,
// as Linux's start_thread sets them.
constexpr uint64_t kInitialRflags = 0x202;

// Upper bound of an XSAVE area; the kernel reports the real size in iov_len.
constexpr size_t kMaxXsaveBytes = 16384;

// Offsets in the XSAVE area: the x87 control word, MXCSR and the XSAVE
// header's XSTATE_BV.
constexpr size_t kXsaveFcwOffset = 0;
constexpr size_t kXsaveMxcsrOffset = 24;
constexpr size_t kXsaveLegacyBytes = 512;
constexpr size_t kXsaveHeaderBytes = 64;

// Power-on values of the x87 control word and MXCSR, which execve gives a
// new program.
constexpr uint16_t kInitialFcw = 0x37f;
constexpr uint32_t kInitialMxcsr = 0x1f80;

// Layout of the stub's data page for the recvmsg that receives an fd.
constexpr uint64_t kMsghdrOffset = 0;
constexpr uint64_t kIovecOffset = 64;
constexpr uint64_t kPayloadOffset = 96;
constexpr uint64_t kControlOffset = 128;

struct MapsEntry {
  uint64_t start;
  uint64_t end;
  std::string name;
};

std::vector<MapsEntry> read_maps(pid_t pid) {
  std::vector<MapsEntry> entries;
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    MapsEntry entry{};
    std::istringstream fields(line);
    std::string range, perms, offset, device, inode;
    fields >> range >> perms >> offset >> device >> inode;
    std::getline(fields >> std::ws, entry.name);
    size_t dash = range.find('-');
    if (dash == std::string::npos) continue;
    entry.start = std::stoull(range.substr(0, dash), nullptr, 16);
    entry.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    entries.push_back(std::move(entry));
  }
  return entries;
}

bool is_kernel_provided(const std::string& name) {
  return name == "[vdso]" || name == "[vvar]" || name == "[vvar_vclock]" || name == "[vsyscall]";
}

}  // namespace

Result<size_t> read_stub_memory(pid_t pid, GuestAddr addr, std::span<std::byte> buffer) {
  if (buffer.empty()) {
    return size_t{0};
  }
  iovec local{.iov_base = buffer.data(), .iov_len = buffer.size()};
  iovec remote{.iov_base = reinterpret_cast<void*>(addr.value()), .iov_len = buffer.size()};
  ssize_t copied = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (copied <= 0) {
    return Errno{EFAULT};
  }
  return static_cast<size_t>(copied);
}

Result<size_t> write_stub_memory(pid_t pid, GuestAddr addr, std::span<const std::byte> buffer) {
  if (buffer.empty()) {
    return size_t{0};
  }
  iovec local{.iov_base = const_cast<std::byte*>(buffer.data()), .iov_len = buffer.size()};
  iovec remote{.iov_base = reinterpret_cast<void*>(addr.value()), .iov_len = buffer.size()};
  ssize_t copied = process_vm_writev(pid, &local, 1, &remote, 1, 0);
  if (copied <= 0) {
    return Errno{EFAULT};
  }
  return static_cast<size_t>(copied);
}

Result<int> pass_fd_to_stub(const PtracePlatform& platform, pid_t pid, int socket, int host_fd) {
  const GuestAddr data = platform.layout().data_page;
  auto inject = [&](long number, const std::array<uint64_t, 6>& args) -> Result<uint64_t> {
    InjectedResult result = TRY(platform.injector().run(pid, number, args));
    return result.value;
  };

  // The data page lies in guest memory, so the message header is written
  // afresh before each receive and the fd number is checked afterwards.
  msghdr header{};
  iovec payload_iov{.iov_base = reinterpret_cast<void*>((data + kPayloadOffset).value()),
                    .iov_len = 1};
  header.msg_iov = reinterpret_cast<iovec*>((data + kIovecOffset).value());
  header.msg_iovlen = 1;
  header.msg_control = reinterpret_cast<void*>((data + kControlOffset).value());
  header.msg_controllen = CMSG_SPACE(sizeof(int));
  TRY(write_stub_memory(pid, data + kMsghdrOffset, std::as_bytes(std::span(&header, 1))));
  TRY(write_stub_memory(pid, data + kIovecOffset, std::as_bytes(std::span(&payload_iov, 1))));

  // Send the fd from the sentry's end.
  char byte = 0;
  iovec send_iov{.iov_base = &byte, .iov_len = 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &send_iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &host_fd, sizeof(int));
  if (sendmsg(socket, &message, MSG_NOSIGNAL) != 1) {
    return Errno{errno};
  }

  // MSG_DONTWAIT: a receive that finds nothing must not hang the stub and,
  // with it, the sentry waiting for the stub.
  uint64_t received = TRY(inject(SYS_recvmsg, {kStubSocketFd, (data + kMsghdrOffset).value(),
                                               MSG_DONTWAIT, 0, 0, 0}));
  if (received != 1) {
    return Errno{EIO};
  }

  alignas(cmsghdr) char received_control[CMSG_SPACE(sizeof(int))] = {};
  TRY(read_stub_memory(pid, data + kControlOffset, std::as_writable_bytes(std::span(received_control))));
  const auto* received_cmsg = reinterpret_cast<const cmsghdr*>(received_control);
  if (received_cmsg->cmsg_level != SOL_SOCKET || received_cmsg->cmsg_type != SCM_RIGHTS) {
    return Errno{EIO};
  }
  int stub_fd = -1;
  std::memcpy(&stub_fd, CMSG_DATA(received_cmsg), sizeof(int));
  // Guest threads can write the data page, so a number other than the one
  // the stub's fd table must give is a guest's doing: fail rather than let
  // the guest choose which stub fd the sentry maps and closes.
  // NOTE: a guest thread can still corrupt the message header before the
  // stub's recvmsg runs; the page is writable because recvmsg writes to it.
  if (stub_fd != kReceivedFd) {
    spdlog::warn("ptrace: stub {} received an fd as {}, expected {}", pid, stub_fd, kReceivedFd);
    return Errno{EIO};
  }
  return stub_fd;
}

// ---------------------------------------------------------------------------
// PtraceContext

PtraceContext::PtraceContext(PtracePlatform& platform, pid_t tid) : platform_(platform), tid_(tid) {
  platform_.register_context(tid_, this);
}

PtraceContext::~PtraceContext() {
  platform_.unregister_context(tid_);
  if (state_ == State::kStopped) {
    (void)platform_.injector().start_thread_exit(tid_);
  } else if (state_ == State::kRunning) {
    // The thread cannot be ended alone while it runs; its address space's
    // destruction, which follows the last context, ends it.
    ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr);
  }
}

Result<std::vector<std::byte>> PtraceContext::read_fp_state() {
  std::vector<std::byte> xsave(kMaxXsaveBytes);
  iovec iov{.iov_base = xsave.data(), .iov_len = xsave.size()};
  if (ptrace(PTRACE_GETREGSET, tid_, NT_X86_XSTATE, &iov) != 0) {
    return Errno{errno};
  }
  xsave.resize(iov.iov_len);
  return xsave;
}

Result<void> PtraceContext::write_fp_state(std::span<const std::byte> xsave) {
  iovec iov{.iov_base = const_cast<std::byte*>(xsave.data()), .iov_len = xsave.size()};
  if (ptrace(PTRACE_SETREGSET, tid_, NT_X86_XSTATE, &iov) != 0) {
    return Errno{errno};
  }
  return ok();
}

Result<void> PtraceContext::resume() {
  if (state_ != State::kStopped) {
    return Errno{ESRCH};
  }
  if (ptrace(PTRACE_SETREGS, tid_, nullptr, &regs_) != 0 ||
      ptrace(PTRACE_SYSEMU, tid_, nullptr, nullptr) != 0) {
    return Errno{ESRCH};
  }
  state_ = State::kRunning;
  return ok();
}

std::optional<pid_t> PtraceContext::host_tid_for_unwinding() const {
  // Only a stopped thread can be read; its host registers are still those
  // of the stop, since changes to regs_ reach the host at resume().
  if (state_ != State::kStopped) {
    return std::nullopt;
  }
  return tid_;
}

void PtraceContext::interrupt() {
  if (state_ == State::kRunning) {
    ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr);
  }
}

void PtraceContext::kill() {
  switch (state_) {
    case State::kStopped:
      if (platform_.injector().start_thread_exit(tid_).ok()) {
        state_ = State::kExiting;
      }
      return;
    case State::kRunning:
      kill_requested_ = true;
      ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr);
      return;
    case State::kExiting:
    case State::kGone:
      return;
  }
}

void PtraceContext::report(const StopInfo& stop) {
  if (listener_ != nullptr) {
    listener_->on_stop(stop);
  }
}

namespace {

// Tells whether a SIGSYS stop comes from the stub filter's trap of a
// vsyscall. Guests cannot send the stub host signals, so a SIGSYS with
// SYS_SECCOMP only comes from the host's seccomp.
bool is_vsyscall_trap(const siginfo_t& info) {
  constexpr int kSysSeccomp = 1;  // SYS_SECCOMP, the si_code of a seccomp SIGSYS
  uint64_t call_address = reinterpret_cast<uint64_t>(info.si_call_addr);
  return info.si_signo == SIGSYS && info.si_code == kSysSeccomp &&
         info.si_arch == AUDIT_ARCH_X86_64 && (call_address & ~(kPageSize - 1)) == kVsyscallPage;
}

}  // namespace

void PtraceContext::handle_status(int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    state_ = State::kGone;
    report(StopInfo{.kind = StopKind::kExited, .host_status = status});
    return;
  }
  if (!WIFSTOPPED(status)) {
    return;
  }

  state_ = State::kStopped;
  if (kill_requested_) {
    kill_requested_ = false;
    kill();
    return;
  }

  if (ptrace(PTRACE_GETREGS, tid_, nullptr, &regs_) != 0) {
    // Only a thread killed under us fails here; its exit status follows.
    state_ = State::kGone;
    return;
  }

  int signal_number = WSTOPSIG(status);
  int event = status >> 16;
  if (signal_number == (SIGTRAP | 0x80)) {
    report(StopInfo{.kind = StopKind::kSyscall});
    return;
  }
  if (event == PTRACE_EVENT_STOP) {
    report(StopInfo{.kind = StopKind::kInterrupted});
    return;
  }
  if (event != 0) {
    // Guest threads never run host syscalls, so fork, clone and exec events
    // cannot come from them.
    spdlog::error("ptrace: unexpected ptrace event {} from guest thread {}", event, tid_);
    report(StopInfo{.kind = StopKind::kInterrupted});
    return;
  }

  StopInfo stop{.kind = StopKind::kSignal};
  if (ptrace(PTRACE_GETSIGINFO, tid_, nullptr, &stop.siginfo) != 0) {
    stop.siginfo.si_signo = signal_number;
  }
  if (is_vsyscall_trap(stop.siginfo)) {
    // The stub filter trapped a vsyscall that the host emulated for guest
    // code. The host has already done the vsyscall's `ret`, so the
    // registers go back to their state at the call: rip in the vsyscall
    // page, the return address at [rsp].
    uint64_t call_address = reinterpret_cast<uint64_t>(stop.siginfo.si_call_addr);
    if (regs_.rip != call_address) {
      regs_.rip = call_address;
      regs_.rsp -= sizeof(uint64_t);
    }
    regs_.orig_rax = static_cast<uint64_t>(static_cast<uint32_t>(stop.siginfo.si_syscall));
    report(StopInfo{.kind = StopKind::kSyscall});
    return;
  }
  report(stop);
}

// ---------------------------------------------------------------------------
// PtraceAddressSpace

PtraceAddressSpace::PtraceAddressSpace(PtracePlatform& platform, pid_t pid, UniqueFd socket)
    : platform_(platform), pid_(pid), socket_(std::move(socket)) {}

PtraceAddressSpace::~PtraceAddressSpace() {
  // Every thread of the stub dies with it; their exits reach the event loop
  // and are reaped there.
  ::kill(pid_, SIGKILL);
}

Result<uint64_t> PtraceAddressSpace::inject(long number, const std::array<uint64_t, 6>& args) {
  InjectedResult result = TRY(platform_.injector().run(pid_, number, args));
  return result.value;
}

namespace {

// The caller's mmap flags the stub may see: sharing and the host-side hints.
// MAP_FIXED and MAP_ANONYMOUS are the platform's to add.
uint64_t host_map_flags(int flags) {
  constexpr int kPassed = MAP_SHARED | MAP_PRIVATE | MAP_NORESERVE | MAP_POPULATE | MAP_LOCKED;
  return static_cast<uint64_t>(flags & kPassed) | MAP_FIXED;
}

}  // namespace

Result<void> PtraceAddressSpace::map_anonymous(GuestAddr addr, uint64_t length, int prot,
                                               int flags) {
  uint64_t mapped = TRY(inject(SYS_mmap, {addr.value(), length, static_cast<uint64_t>(prot),
                                          host_map_flags(flags) | MAP_ANONYMOUS,
                                          static_cast<uint64_t>(-1), 0}));
  if (mapped != addr.value()) {
    return Errno{ENOMEM};
  }
  return ok();
}

Result<void> PtraceAddressSpace::map_file(GuestAddr addr, uint64_t length, int prot, int flags,
                                          int host_fd, uint64_t offset) {
  int stub_fd = TRY(pass_fd_to_stub(platform_, pid_, socket_.get(), host_fd));
  auto mapped = inject(SYS_mmap, {addr.value(), length, static_cast<uint64_t>(prot),
                                  host_map_flags(flags), static_cast<uint64_t>(stub_fd), offset});
  (void)inject(SYS_close, {static_cast<uint64_t>(stub_fd), 0, 0, 0, 0, 0});
  if (!mapped.ok()) {
    return mapped.error();
  }
  if (*mapped != addr.value()) {
    return Errno{ENOMEM};
  }
  return ok();
}

Result<void> PtraceAddressSpace::unmap(GuestAddr addr, uint64_t length) {
  TRY(inject(SYS_munmap, {addr.value(), length, 0, 0, 0, 0}));
  return ok();
}

Result<void> PtraceAddressSpace::protect(GuestAddr addr, uint64_t length, int prot) {
  TRY(inject(SYS_mprotect, {addr.value(), length, static_cast<uint64_t>(prot), 0, 0, 0}));
  return ok();
}

Result<void> PtraceAddressSpace::remap(GuestAddr old_addr, uint64_t old_length,
                                       GuestAddr new_addr, uint64_t new_length) {
  bool in_place = new_addr == old_addr;
  uint64_t flags = in_place ? 0 : MREMAP_MAYMOVE | MREMAP_FIXED;
  uint64_t moved = TRY(inject(SYS_mremap, {old_addr.value(), old_length, new_length, flags,
                                           in_place ? 0 : new_addr.value(), 0}));
  if (moved != new_addr.value()) {
    return Errno{ENOMEM};
  }
  return ok();
}

Result<void> PtraceAddressSpace::advise(GuestAddr addr, uint64_t length, int advice) {
  TRY(inject(SYS_madvise, {addr.value(), length, static_cast<uint64_t>(advice), 0, 0, 0}));
  return ok();
}

Result<void> PtraceAddressSpace::sync(GuestAddr addr, uint64_t length, int flags) {
  TRY(inject(SYS_msync, {addr.value(), length, static_cast<uint64_t>(flags), 0, 0, 0}));
  return ok();
}

Result<void> PtraceAddressSpace::residency(GuestAddr addr, uint64_t length, GuestAddr vec) {
  TRY(inject(SYS_mincore, {addr.value(), length, vec.value(), 0, 0, 0}));
  return ok();
}

Result<void> PtraceAddressSpace::atomic_or_u32(GuestAddr addr, uint32_t bits) {
  // The host's FUTEX_WAKE_OP applies its operation to the second word
  // atomically, and it wakes no task because none waits on guest words in
  // the host. Each set bit takes one call, since an operand has only 12
  // bits unless it is a shift.
  for (uint32_t bit = 0; bit < 32; ++bit) {
    if ((bits & (uint32_t{1} << bit)) == 0) {
      continue;
    }
    uint64_t op = FUTEX_OP(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, bit, FUTEX_OP_CMP_EQ, 0);
    TRY(inject(SYS_futex, {addr.value(), FUTEX_WAKE_OP_PRIVATE, 0, 0, addr.value(), op}));
  }
  return ok();
}

Result<size_t> PtraceAddressSpace::read(GuestAddr addr, std::span<std::byte> buffer) {
  return read_stub_memory(pid_, addr, buffer);
}

Result<size_t> PtraceAddressSpace::write(GuestAddr addr, std::span<const std::byte> buffer) {
  return write_stub_memory(pid_, addr, buffer);
}

Result<std::unique_ptr<Context>> PtraceAddressSpace::new_context(
    const Registers& regs, std::span<const std::byte> xsave) {
  constexpr uint64_t kThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                    CLONE_THREAD | CLONE_SYSVSEM;
  InjectedResult cloned =
      TRY(platform_.injector().run(pid_, SYS_clone, {kThreadFlags, 0, 0, 0, 0, 0}));
  if (!cloned.new_host_tid) {
    return Errno{EAGAIN};
  }
  pid_t tid = *cloned.new_host_tid;

  // A thread auto-attached through PTRACE_O_TRACECLONE starts in a
  // PTRACE_EVENT_STOP.
  int status = TRY(wait_for_thread(tid));
  if (!WIFSTOPPED(status)) {
    return Errno{ESRCH};
  }

  auto context = std::make_unique<PtraceContext>(platform_, tid);
  context->regs() = regs;

  if (!xsave.empty()) {
    TRY(context->write_fp_state(xsave));
  } else {
    // The new thread's FPU and vector registers are copies of the control
    // thread's, which came from the sentry. Reset them to the power-on state
    // so that no sentry data reaches the guest.
    std::vector<std::byte> state = TRY(context->read_fp_state());
    if (state.size() >= kXsaveLegacyBytes + kXsaveHeaderBytes) {
      uint32_t mxcsr_mask = 0;
      std::memcpy(&mxcsr_mask, state.data() + kXsaveMxcsrOffset + 4, sizeof(mxcsr_mask));
      std::fill(state.begin(), state.end(), std::byte{0});
      std::memcpy(state.data() + kXsaveFcwOffset, &kInitialFcw, sizeof(kInitialFcw));
      std::memcpy(state.data() + kXsaveMxcsrOffset, &kInitialMxcsr, sizeof(kInitialMxcsr));
      std::memcpy(state.data() + kXsaveMxcsrOffset + 4, &mxcsr_mask, sizeof(mxcsr_mask));
      TRY(context->write_fp_state(state));
    }
  }
  return std::unique_ptr<Context>(std::move(context));
}

Result<std::unique_ptr<AddressSpace>> PtraceAddressSpace::fork() {
  auto child = TRY(platform_.clone_stub(pid_, socket_.get()));
  return std::unique_ptr<AddressSpace>(std::move(child));
}

std::span<const AddrRange> PtraceAddressSpace::reserved_ranges() const {
  return platform_.reserved_ranges();
}

// ---------------------------------------------------------------------------
// PtracePlatform

void PtracePlatform::reap_stubs() {
  // Every stub is dead or dying by now. Collect their exits, so that none
  // stays a zombie; ward is their subreaper, so orphaned ones are its
  // children too. The wait is bounded, in case something else holds one.
  constexpr int kMaxAttempts = 200;
  constexpr useconds_t kPollIntervalUs = 10'000;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    int status = 0;
    pid_t reaped = waitpid(-1, &status, WNOHANG | __WALL);
    if (reaped > 0) {
      attempt = 0;
      continue;
    }
    if (reaped < 0) {
      return;  // ECHILD: nothing left
    }
    usleep(kPollIntervalUs);
  }
  spdlog::warn("ptrace: some stub processes were still not reaped at exit");
}

Result<std::unique_ptr<PtracePlatform>> PtracePlatform::create() {
  std::unique_ptr<PtracePlatform> platform(new PtracePlatform());

  // Stubs whose parent stub dies are reparented to ward rather than to the
  // host's init, which may never reap them, so that ward can.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return Errno{errno};
  }

  // Stops of traced threads arrive as SIGCHLD, read from a signalfd in the
  // sentry's event loop rather than by a handler.
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  if (pthread_sigmask(SIG_BLOCK, &child_signal, nullptr) != 0) {
    return Errno{errno};
  }
  platform->signal_fd_.reset(signalfd(-1, &child_signal, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!platform->signal_fd_.valid()) {
    return Errno{errno};
  }

  platform->layout_ = TRY(install_stub_pages());
  platform->filter_ = build_stub_filter(platform->layout_);
  TRY(platform->start_first_stub());
  TRY(platform->strip_first_stub());
  return platform;
}

PtracePlatform::~PtracePlatform() {
  if (first_stub_ > 0) {
    kill(first_stub_, SIGKILL);
  }
  reap_stubs();
  if (!layout_.code_page.is_null()) {
    munmap(reinterpret_cast<void*>(layout_.code_page.value()), layout_.end() - layout_.code_page);
  }
}

Result<void> PtracePlatform::start_first_stub() {
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0) {
    return Errno{errno};
  }
  first_stub_socket_.reset(sockets[0]);
  UniqueFd stub_end(sockets[1]);

  first_stub_ = TRY(spawn_first_stub(layout_, stub_end.get(), filter_));

  Registers regs{};
  if (ptrace(PTRACE_GETREGS, first_stub_, nullptr, &regs) != 0) {
    return Errno{errno};
  }
  injector_.emplace(layout_, regs);

  initial_regs_ = Registers{};
  initial_regs_.cs = regs.cs;
  initial_regs_.ss = regs.ss;
  initial_regs_.ds = regs.ds;
  initial_regs_.es = regs.es;
  initial_regs_.fs = regs.fs;
  initial_regs_.gs = regs.gs;
  initial_regs_.eflags = kInitialRflags;
  initial_regs_.orig_rax = static_cast<uint64_t>(-1);
  return ok();
}

Result<void> PtracePlatform::strip_first_stub() {
  // Unmap everything the fork copied from the sentry except the stub pages
  // and what the kernel provides (vDSO, vvar, vsyscall).
  for (const MapsEntry& entry : read_maps(first_stub_)) {
    bool is_stub = entry.start >= layout_.code_page.value() && entry.end <= layout_.end().value();
    if (is_stub || is_kernel_provided(entry.name)) {
      continue;
    }
    TRY(injector_->run(first_stub_, SYS_munmap,
                       {entry.start, entry.end - entry.start, 0, 0, 0, 0}));
  }

  move_vdso_below_stub();

  // Check the result rather than trust it: whatever is left is reserved.
  vdso_base_ = GuestAddr(0);
  for (const MapsEntry& entry : read_maps(first_stub_)) {
    bool is_stub = entry.start >= layout_.code_page.value() && entry.end <= layout_.end().value();
    if (!is_stub && !is_kernel_provided(entry.name)) {
      spdlog::error("ptrace: the first stub still maps {:#x}-{:#x} {}", entry.start, entry.end,
                    entry.name);
      return Errno{EFAULT};
    }
    if (entry.name == "[vdso]") {
      vdso_base_ = GuestAddr(entry.start);
    }
    if (entry.end <= kTaskSize) {
      reserved_.push_back(AddrRange{GuestAddr(entry.start), GuestAddr(entry.end)});
    }
  }
  return ok();
}

void PtracePlatform::move_vdso_below_stub() {
  // The host puts the vDSO and its data pages wherever ward's own mmap
  // region had room, possibly far below the top of the address space, and
  // the guest may not use any address above them. Moving them together,
  // with their distances kept (the vDSO code finds its data pages
  // rip-relative), right below the stub pages leaves the guest nearly all
  // of the 47-bit space.
  std::vector<MapsEntry> moving;
  for (const MapsEntry& entry : read_maps(first_stub_)) {
    if (entry.name == "[vdso]" || entry.name == "[vvar]" || entry.name == "[vvar_vclock]") {
      moving.push_back(entry);
    }
  }
  if (moving.empty()) {
    return;
  }
  uint64_t lowest = moving.front().start;
  uint64_t highest = moving.back().end;
  uint64_t target = layout_.code_page.value() - (highest - lowest);
  int64_t delta = static_cast<int64_t>(target) - static_cast<int64_t>(lowest);
  if (delta == 0) {
    return;
  }

  auto move = [&](const MapsEntry& entry, int64_t by) {
    uint64_t length = entry.end - entry.start;
    return injector_->run(first_stub_, SYS_mremap,
                          {entry.start, length, length, MREMAP_MAYMOVE | MREMAP_FIXED,
                           static_cast<uint64_t>(static_cast<int64_t>(entry.start) + by), 0});
  };
  // Moving up, the highest piece goes first, so that no piece lands on one
  // that has not moved yet; moving down, the lowest.
  if (delta > 0) {
    std::reverse(moving.begin(), moving.end());
  }
  for (size_t moved = 0; moved < moving.size(); ++moved) {
    if (move(moving[moved], delta).ok()) {
      continue;
    }
    // A kernel that refuses to move one of them: put back what moved, so
    // that the vDSO keeps finding its data, and keep the host's placement.
    spdlog::debug("ptrace: cannot move {}; the vDSO stays where the host put it",
                  moving[moved].name);
    for (size_t undo = 0; undo < moved; ++undo) {
      MapsEntry at_target = moving[undo];
      at_target.start += static_cast<uint64_t>(delta);
      at_target.end += static_cast<uint64_t>(delta);
      (void)move(at_target, -delta);
    }
    return;
  }
}

Result<std::unique_ptr<PtraceAddressSpace>> PtracePlatform::clone_stub(pid_t parent_pid,
                                                                       int parent_socket) {
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0) {
    return Errno{errno};
  }
  UniqueFd sentry_end(sockets[0]);
  UniqueFd stub_end(sockets[1]);

  // SIGCHLD as the exit signal: the parent stub ignores it, so the kernel
  // reaps the child once the sentry has collected its exit status.
  InjectedResult cloned = TRY(injector_->run(parent_pid, SYS_clone, {SIGCHLD, 0, 0, 0, 0, 0}));
  if (!cloned.new_host_tid) {
    return Errno{EAGAIN};
  }
  pid_t child_pid = *cloned.new_host_tid;
  int status = TRY(wait_for_thread(child_pid));
  if (!WIFSTOPPED(status)) {
    return Errno{ESRCH};
  }

  // The child shares its parent's socket until it has one of its own. It
  // has no guest threads yet, so nothing can interfere with the handover.
  auto child = std::make_unique<PtraceAddressSpace>(*this, child_pid, std::move(sentry_end));
  int received = TRY(pass_fd_to_stub(*this, child_pid, parent_socket, stub_end.get()));
  TRY(child->inject(SYS_dup3, {static_cast<uint64_t>(received), kStubSocketFd, 0, 0, 0, 0}));
  TRY(child->inject(SYS_close, {static_cast<uint64_t>(received), 0, 0, 0, 0, 0}));
  return child;
}

Result<std::unique_ptr<AddressSpace>> PtracePlatform::new_address_space() {
  auto space = TRY(clone_stub(first_stub_, first_stub_socket_.get()));
  return std::unique_ptr<AddressSpace>(std::move(space));
}

void PtracePlatform::dispatch_events() {
  // Clear the signalfd first: a SIGCHLD arriving after this point leaves it
  // readable, so no stop is missed between here and the next epoll_wait.
  // SIGCHLD is a standard signal, so at most one is pending and one read
  // takes it.
  signalfd_siginfo pending;
  (void)::read(signal_fd_.get(), &pending, sizeof(pending));

  for (;;) {
    int status = 0;
    pid_t tid = waitpid(-1, &status, WNOHANG | __WALL);
    if (tid <= 0) {
      return;
    }
    auto it = contexts_.find(tid);
    if (it != contexts_.end()) {
      it->second->handle_status(status);
      continue;
    }
    if (WIFSTOPPED(status)) {
      // A control thread stopped by something outside the sentry: leave it
      // stopped, it only ever runs injected syscalls.
      spdlog::debug("ptrace: stop {:#x} of host thread {} that runs no guest code", status, tid);
    }
  }
}

}  // namespace ward::platform
