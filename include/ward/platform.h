// The platform interface: how the sentry captures guest syscalls and drives
// guest address spaces and threads. The sentry sees only these classes and
// never knows whether ptrace or seccomp-trap runs underneath.
//
// The interface is event driven because one sentry thread serves every guest
// thread: Context::resume() starts guest code and returns at once; the stop
// that follows is delivered later to the context's StopListener from
// Platform::dispatch_events(). Operations on an AddressSpace (mapping,
// memory copies, creating threads) complete before they return.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ward/guest_addr.h"
#include "ward/result.h"

namespace ward::platform {

// The general-purpose register file of one x86_64 guest thread, as ptrace
// exposes it; fs_base holds the thread pointer.
using Registers = ::user_regs_struct;

// Why a guest thread stopped running guest code.
enum class StopKind {
  kSyscall,      // it executed a syscall instruction; orig_rax and the argument registers hold the call
  kSignal,       // a synchronous fault or trap (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP); siginfo says which
  kInterrupted,  // Context::interrupt() stopped it between instructions
  kExited,       // the host thread is gone; the sentry killed it or its stub died
};

struct StopInfo {
  StopKind kind;
  siginfo_t siginfo{};  // for kSignal
  int host_status = 0;  // for kExited: the waitpid status of the host thread
};

// Receives the stops of one Context. The sentry's task implements it.
class StopListener {
 public:
  virtual ~StopListener() = default;
  virtual void on_stop(const StopInfo& stop) = 0;
};

// A half-open guest address range [start, end).
struct AddrRange {
  GuestAddr start;
  GuestAddr end;
};

// One guest thread. Its registers may be read and changed only while it is
// stopped, that is, between a stop and the next resume().
class Context {
 public:
  virtual ~Context() = default;

  virtual Registers& regs() = 0;

  // The full XSAVE area (x87, SSE, AVX state) of the stopped thread, as
  // PTRACE_GETREGSET NT_X86_XSTATE returns it.
  virtual Result<std::vector<std::byte>> read_fp_state() = 0;
  virtual Result<void> write_fp_state(std::span<const std::byte> xsave) = 0;

  // Runs guest code from the current registers until the next stop, which
  // arrives through the listener. Fails with ESRCH if the thread is gone.
  virtual Result<void> resume() = 0;

  // Asks a running thread to stop; a kInterrupted stop follows unless some
  // other stop comes first. Has no effect on a stopped thread.
  virtual void interrupt() = 0;

  // Ends the host thread without ending its address space. A kExited stop
  // follows.
  virtual void kill() = 0;

  virtual void set_listener(StopListener* listener) = 0;

  // The host thread id, for logs and for reading the thread's CPU times
  // and state from the host's /proc. Never a guest-visible id.
  virtual pid_t host_tid() const = 0;

  // The host thread id for an unwinder that reads the stopped thread
  // through ptrace (libunwind-ptrace), when this platform traces its
  // threads with ptrace and the thread is stopped; nullopt otherwise.
  virtual std::optional<pid_t> host_tid_for_unwinding() const { return std::nullopt; }
};

// One guest address space, realised as one stub host process.
class AddressSpace {
 public:
  // Ends the stub and every thread in it.
  virtual ~AddressSpace() = default;

  // Maps [addr, addr + length), replacing whatever was there (MAP_FIXED).
  // prot is PROT_* and flags is MAP_SHARED or MAP_PRIVATE plus any of
  // MAP_NORESERVE, MAP_POPULATE, MAP_LOCKED, in Linux's values.
  virtual Result<void> map_anonymous(GuestAddr addr, uint64_t length, int prot, int flags) = 0;

  // Maps a sentry-owned host file into the guest, with prot and flags as in
  // map_anonymous. The stub receives its own copy of host_fd for the
  // duration of the call and closes it afterwards.
  virtual Result<void> map_file(GuestAddr addr, uint64_t length, int prot, int flags, int host_fd,
                                uint64_t offset) = 0;

  virtual Result<void> unmap(GuestAddr addr, uint64_t length) = 0;
  virtual Result<void> protect(GuestAddr addr, uint64_t length, int prot) = 0;

  // Resizes [old_addr, old_addr + old_length) to new_length, in place when
  // new_addr equals old_addr and otherwise moved to new_addr, as mremap with
  // MREMAP_MAYMOVE | MREMAP_FIXED does. The caller has checked that the
  // target range is free.
  virtual Result<void> remap(GuestAddr old_addr, uint64_t old_length, GuestAddr new_addr,
                             uint64_t new_length) = 0;

  virtual Result<void> advise(GuestAddr addr, uint64_t length, int advice) = 0;
  virtual Result<void> sync(GuestAddr addr, uint64_t length, int flags) = 0;

  // Runs mincore in the stub, writing the residency vector into guest memory
  // at vec.
  virtual Result<void> residency(GuestAddr addr, uint64_t length, GuestAddr vec) = 0;

  // Copies guest memory. They return the number of bytes copied, which is
  // short when the range runs into an unmapped or inaccessible page, and
  // EFAULT when not even the first byte could be copied.
  virtual Result<size_t> read(GuestAddr addr, std::span<std::byte> buffer) = 0;
  virtual Result<size_t> write(GuestAddr addr, std::span<const std::byte> buffer) = 0;
  // Sets `bits` in the aligned 32-bit word at addr atomically with respect
  // to guest threads running at the same time, which the futex code needs
  // for FUTEX_WAITERS. EFAULT when the word is not mapped writable.
  virtual Result<void> atomic_or_u32(GuestAddr addr, uint32_t bits) = 0;

  // Starts a new guest thread in this address space with the given
  // registers and XSAVE state (empty: the host's initial state). It is
  // stopped until its first resume().
  virtual Result<std::unique_ptr<Context>> new_context(const Registers& regs,
                                                       std::span<const std::byte> xsave) = 0;

  // A copy-on-write copy of this address space, as fork makes; it has no
  // threads yet.
  virtual Result<std::unique_ptr<AddressSpace>> fork() = 0;

  // Ranges the platform itself occupies (stub code, vDSO, vvar); the guest
  // may not map, unmap or protect anything there.
  virtual std::span<const AddrRange> reserved_ranges() const = 0;

  // The host pid of the stub, for logs and for reading its CPU times and
  // memory use from the host's /proc. Never a guest-visible id.
  virtual pid_t host_pid() const = 0;
};

class Platform {
 public:
  virtual ~Platform() = default;

  // A new, empty address space: nothing mapped but the reserved ranges.
  virtual Result<std::unique_ptr<AddressSpace>> new_address_space() = 0;

  // Where the guest finds the vDSO (AT_SYSINFO_EHDR), or null if none.
  virtual GuestAddr vdso_base() const = 0;

  // Registers for a new guest thread: valid segment selectors and flags,
  // every general-purpose register zero. The sentry sets rip, rsp and the
  // rest from there.
  virtual Registers initial_registers() const = 0;

  // A host fd that becomes readable when dispatch_events() has stops to
  // deliver; the sentry adds it to its epoll set.
  virtual int event_fd() const = 0;

  // Delivers every pending stop to its context's listener. Never blocks.
  virtual void dispatch_events() = 0;
};

}  // namespace ward::platform
