// The ptrace platform. Guest threads are host threads of stub processes,
// traced with PTRACE_SEIZE and resumed with PTRACE_SYSEMU so that the host
// kernel skips every syscall they make and reports it to the sentry instead.
// Each stub's first thread never runs guest code: it is the control thread
// into which the sentry injects mmap, munmap, mprotect and clone.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "platform/ptrace/injector.h"
#include "platform/ptrace/stub.h"
#include "ward/platform.h"
#include "ward/unique_fd.h"

namespace ward::platform {

class PtracePlatform;

class PtraceContext final : public Context {
 public:
  PtraceContext(PtracePlatform& platform, pid_t tid);
  ~PtraceContext() override;

  Registers& regs() override { return regs_; }
  Result<std::vector<std::byte>> read_fp_state() override;
  Result<void> write_fp_state(std::span<const std::byte> xsave) override;
  Result<void> resume() override;
  void interrupt() override;
  void kill() override;
  void set_listener(StopListener* listener) override { listener_ = listener; }
  pid_t host_tid() const override { return tid_; }
  std::optional<pid_t> host_tid_for_unwinding() const override;

  // Takes one waitpid status of this thread and reports the stop it means.
  void handle_status(int status);

 private:
  enum class State { kStopped, kRunning, kExiting, kGone };

  void report(const StopInfo& stop);

  PtracePlatform& platform_;
  pid_t tid_;
  State state_ = State::kStopped;
  bool kill_requested_ = false;
  Registers regs_{};
  StopListener* listener_ = nullptr;
};

class PtraceAddressSpace final : public AddressSpace {
 public:
  PtraceAddressSpace(PtracePlatform& platform, pid_t pid, UniqueFd socket);
  ~PtraceAddressSpace() override;

  Result<void> map_anonymous(GuestAddr addr, uint64_t length, int prot, int flags) override;
  Result<void> map_file(GuestAddr addr, uint64_t length, int prot, int flags, int host_fd,
                        uint64_t offset) override;
  Result<void> unmap(GuestAddr addr, uint64_t length) override;
  Result<void> protect(GuestAddr addr, uint64_t length, int prot) override;
  Result<void> remap(GuestAddr old_addr, uint64_t old_length, GuestAddr new_addr,
                     uint64_t new_length) override;
  Result<void> advise(GuestAddr addr, uint64_t length, int advice) override;
  Result<void> sync(GuestAddr addr, uint64_t length, int flags) override;
  Result<void> residency(GuestAddr addr, uint64_t length, GuestAddr vec) override;
  Result<void> atomic_or_u32(GuestAddr addr, uint32_t bits) override;

  Result<size_t> read(GuestAddr addr, std::span<std::byte> buffer) override;
  Result<size_t> write(GuestAddr addr, std::span<const std::byte> buffer) override;

  Result<std::unique_ptr<Context>> new_context(const Registers& regs,
                                               std::span<const std::byte> xsave) override;
  Result<std::unique_ptr<AddressSpace>> fork() override;

  std::span<const AddrRange> reserved_ranges() const override;
  pid_t host_pid() const override { return pid_; }

  // Runs one host syscall in the control thread.
  Result<uint64_t> inject(long number, const std::array<uint64_t, 6>& args);

 private:
  PtracePlatform& platform_;
  pid_t pid_;
  UniqueFd socket_;  // the sentry's end of the stub's private socket
};

class PtracePlatform final : public Platform {
 public:
  static Result<std::unique_ptr<PtracePlatform>> create();
  ~PtracePlatform() override;

  Result<std::unique_ptr<AddressSpace>> new_address_space() override;
  GuestAddr vdso_base() const override { return vdso_base_; }
  Registers initial_registers() const override { return initial_regs_; }
  int event_fd() const override { return signal_fd_.get(); }
  void dispatch_events() override;

  // Forks the stub `parent_pid` (whose sentry-side socket is parent_socket)
  // into a new stub with a private socket of its own.
  Result<std::unique_ptr<PtraceAddressSpace>> clone_stub(pid_t parent_pid, int parent_socket);

  const Injector& injector() const { return *injector_; }
  const StubLayout& layout() const { return layout_; }
  std::span<const AddrRange> reserved_ranges() const { return reserved_; }

  void register_context(pid_t tid, PtraceContext* context) { contexts_[tid] = context; }
  void unregister_context(pid_t tid) { contexts_.erase(tid); }

 private:
  PtracePlatform() = default;

  Result<void> start_first_stub();
  void reap_stubs();
  Result<void> strip_first_stub();
  void move_vdso_below_stub();

  StubLayout layout_{};
  std::vector<sock_filter> filter_;
  pid_t first_stub_ = -1;
  UniqueFd first_stub_socket_;
  UniqueFd signal_fd_;
  std::optional<Injector> injector_;
  std::vector<AddrRange> reserved_;
  GuestAddr vdso_base_;
  Registers initial_regs_{};
  std::unordered_map<pid_t, PtraceContext*> contexts_;
};

// Copies memory of a stub with process_vm_readv / process_vm_writev.
Result<size_t> read_stub_memory(pid_t pid, GuestAddr addr, std::span<std::byte> buffer);
Result<size_t> write_stub_memory(pid_t pid, GuestAddr addr, std::span<const std::byte> buffer);

// Passes host_fd to stub `pid` through `socket`, the sentry's end of the
// socket the stub holds as kStubSocketFd. Returns the fd number in the stub.
Result<int> pass_fd_to_stub(const PtracePlatform& platform, pid_t pid, int socket, int host_fd);

}  // namespace ward::platform
