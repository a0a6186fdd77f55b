// The size and layout of a signal frame's XSAVE area. Linux puts only the
// components a process may use in the frame: AMX tile data (8 KiB) stays
// out until the process requests it with arch_prctl(ARCH_REQ_XCOMP_PERM),
// so a handler runs on an 8 KiB alternate stack and SA_NODEFER recursion
// goes deep. The frame describes its area in fx_sw_bytes, and
// rt_sigreturn restores the registers the frame holds.
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

#define ALTSTACK_BYTES 8192
#define RECURSION_LIMIT 1500

// Markers of an XSAVE area in a frame (asm/sigcontext.h).
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define SW_RESERVED_OFFSET 464
#define XMM0_OFFSET 160
#define XFEATURE_MASK_XTILE_DATA (1ULL << 18)

static char* altstack;
static volatile uintptr_t altstack_local;

static void on_altstack(int signal) {
  (void)signal;
  char local;
  altstack_local = (uintptr_t)&local;
}

static volatile int depth;
static volatile int max_depth;

static void recurse(int signal) {
  depth++;
  if (depth > max_depth) {
    max_depth = depth;
  }
  if (depth < RECURSION_LIMIT) {
    raise(signal);
  }
  depth--;
}

// fx_sw_bytes of the frame, as the handler saw it.
struct sw_bytes {
  uint32_t magic1;
  uint32_t extended_size;
  uint64_t xfeatures;
  uint32_t xstate_size;
};

static struct sw_bytes seen;
static uint32_t seen_magic2;
static bool fpstate_inside_frame;

static void inspect(int signal, siginfo_t* info, void* context) {
  (void)signal;
  (void)info;
  ucontext_t* uc = context;
  unsigned char* fpstate = (unsigned char*)uc->uc_mcontext.fpregs;
  memcpy(&seen, fpstate + SW_RESERVED_OFFSET, sizeof(seen));
  memcpy(&seen_magic2, fpstate + seen.xstate_size, sizeof(seen_magic2));
  fpstate_inside_frame = (uintptr_t)fpstate > (uintptr_t)uc;
  // rt_sigreturn loads xmm0 from the frame.
  uint64_t pattern[2] = {0x1122334455667788ULL, 0x99aabbccddeeff00ULL};
  memcpy(fpstate + XMM0_OFFSET, pattern, sizeof(pattern));
  // The handler's own use of xmm1 does not reach the interrupted code.
  __asm__ volatile("pcmpeqd %%xmm1, %%xmm1" ::: "xmm1");
}

int main(void) {
  unsigned long minsigstksz = getauxval(AT_MINSIGSTKSZ);
  show_value("AT_MINSIGSTKSZ", (long)minsigstksz);
  EXPECT("AT_MINSIGSTKSZ is at least 2048", minsigstksz >= 2048);

  altstack = malloc(ALTSTACK_BYTES);
  stack_t stack = {.ss_sp = altstack, .ss_size = ALTSTACK_BYTES, .ss_flags = 0};
  SHOW("sigaltstack(8 KiB)", sigaltstack(&stack, NULL));
  struct sigaction action = {.sa_handler = on_altstack, .sa_flags = SA_ONSTACK};
  SHOW("sigaction(SIGUSR1, SA_ONSTACK)", sigaction(SIGUSR1, &action, NULL));
  SHOW("raise(SIGUSR1) on the 8 KiB altstack", raise(SIGUSR1));
  EXPECT("the handler ran on the altstack",
         altstack_local >= (uintptr_t)altstack && altstack_local < (uintptr_t)altstack + ALTSTACK_BYTES);

  struct sigaction nodefer = {.sa_handler = recurse, .sa_flags = SA_NODEFER};
  SHOW("sigaction(SIGUSR2, SA_NODEFER)", sigaction(SIGUSR2, &nodefer, NULL));
  SHOW("raise(SIGUSR2) recursing", raise(SIGUSR2));
  show_value("recursion depth", max_depth);

  struct sigaction siginfo = {.sa_sigaction = inspect, .sa_flags = SA_SIGINFO};
  SHOW("sigaction(SIGURG, SA_SIGINFO)", sigaction(SIGURG, &siginfo, NULL));
  // The signal comes at the return of a raw tgkill, so that no library
  // code runs between setting xmm1 and reading both registers back.
  uint64_t xmm0[2] = {0, 0};
  uint64_t xmm1[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  uint64_t xmm1_after[2] = {0, 0};
  long result = SYS_tgkill;
  __asm__ volatile(
      "movdqu %[in], %%xmm1\n\t"
      "syscall\n\t"
      "movdqu %%xmm0, %[out0]\n\t"
      "movdqu %%xmm1, %[out1]"
      : "+a"(result), [out0] "=m"(xmm0), [out1] "=m"(xmm1_after)
      : "D"((long)getpid()), "S"((long)gettid()), "d"((long)SIGURG), [in] "m"(xmm1)
      : "rcx", "r11", "xmm0", "xmm1", "memory");
  show_value("tgkill(SIGURG)", result);
  show_hex("fx_sw_bytes.magic1", seen.magic1);
  EXPECT("magic1 is FP_XSTATE_MAGIC1", seen.magic1 == FP_XSTATE_MAGIC1);
  show_value("fx_sw_bytes.xstate_size", seen.xstate_size);
  show_hex("fx_sw_bytes.xfeatures", seen.xfeatures);
  EXPECT("extended_size is xstate_size + 4", seen.extended_size == seen.xstate_size + 4);
  EXPECT("magic2 follows xstate_size bytes", seen_magic2 == FP_XSTATE_MAGIC2);
  EXPECT("the frame leaves out AMX tile data", (seen.xfeatures & XFEATURE_MASK_XTILE_DATA) == 0);
  EXPECT("the XSAVE area lies above the ucontext", fpstate_inside_frame);
  EXPECT("rt_sigreturn loaded xmm0 from the frame",
         xmm0[0] == 0x1122334455667788ULL && xmm0[1] == 0x99aabbccddeeff00ULL);
  EXPECT("rt_sigreturn put back the interrupted xmm1",
         xmm1_after[0] == xmm1[0] && xmm1_after[1] == xmm1[1]);
  return check_failures == 0 ? 0 : 1;
}
