// clone with CLONE_SETTLS: a TLS base outside the user address space is
// EPERM, as arch_prctl(ARCH_SET_FS) gives, for a new process and for a new
// thread, and no child is made.
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static long clone_with_tls(unsigned long flags, uint64_t tls, void* stack) {
  return syscall(SYS_clone, flags, stack, NULL, NULL, tls);
}

static char thread_stack[64 * 1024] __attribute__((aligned(16)));

int main(void) {
  static const uint64_t kBadBases[] = {0xffff800000000000ULL, 0x8000000000000000ULL,
                                       0x00007ffffffff000ULL};
  for (size_t i = 0; i < sizeof(kBadBases) / sizeof(kBadBases[0]); i++) {
    long result = clone_with_tls(CLONE_SETTLS | SIGCHLD, kBadBases[i], NULL);
    if (result == 0) {
      _exit(0);
    }
    show_result(label_of("fork with TLS base %#llx", (unsigned long long)kBadBases[i]), result,
                errno);
  }
  const unsigned long kThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                     CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS;
  long result = clone_with_tls(kThreadFlags, kBadBases[0], thread_stack + sizeof(thread_stack));
  if (result == 0) {
    syscall(SYS_exit, 0);
  }
  show_result("thread with a kernel TLS base", result, errno);
  SHOW("no child was made", waitpid(-1, NULL, WNOHANG));
  return finish_checks();
}
