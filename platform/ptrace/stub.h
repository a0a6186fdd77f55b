// The stub: the host process that realises one guest address space under the
// ptrace platform. A stub holds two pages of its own and nothing of the
// sentry's memory: a code page with the one syscall instruction from which
// the sentry injects host syscalls, and a data page for the buffers of those
// syscalls. Its seccomp filter kills it on any syscall that does not come
// from that instruction or is not one the sentry injects, except the
// vsyscalls the host emulates for guest code, which trap to the sentry.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <vector>

#include "ward/guest_addr.h"
#include "ward/platform.h"
#include "ward/result.h"

namespace ward::platform {

// The legacy vsyscall page: gettimeofday at +0x0, time at +0x400 and
// getcpu at +0x800. The host emulates a call there as a syscall whose
// instruction pointer lies in the page, and runs seccomp on it.
inline constexpr uint64_t kVsyscallPage = 0xffffffffff600000;

// Where the stub pages are. They sit at the same address in the sentry and
// in every stub, because every stub descends from a fork of the sentry.
struct StubLayout {
  GuestAddr code_page;
  GuestAddr syscall_insn;  // `syscall`
  GuestAddr trap_insn;     // `int3`, right after it: the stop that ends an injected syscall
  GuestAddr data_page;

  GuestAddr end() const { return data_page + kPageSize; }
};

// The stub's end of its private socket, over which it receives the host fds
// it maps. Stubs hold no other fd, so an fd received is always number 0.
inline constexpr int kStubSocketFd = 3;
inline constexpr int kReceivedFd = 0;

// Maps the stub pages into the sentry's own address space, as high as they
// fit below the top of the user address space.
Result<StubLayout> install_stub_pages();

// The seccomp filter of every stub: allow the injected syscalls from the
// stub's syscall instruction, kill the process on anything else.
std::vector<sock_filter> build_stub_filter(const StubLayout& layout);

// Forks the first stub, seizes it and leaves it stopped at the stub's trap
// instruction with only its stub pages, the vDSO and vvar mapped. Returns
// its pid; it is a child and a tracee of the calling thread.
Result<pid_t> spawn_first_stub(const StubLayout& layout, int stub_socket,
                               const std::vector<sock_filter>& filter);

// The ptrace options every stub thread carries. Children and threads created
// by injected clones inherit them.
long stub_ptrace_options();

}  // namespace ward::platform
