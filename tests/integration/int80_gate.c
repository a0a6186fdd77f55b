// `int $0x80` from a 64-bit program. ward does not serve the i386 system
// call ABI, so it behaves as Linux without IA32 emulation. The gate raises
// a general protection fault. The program gets SIGSEGV with si_code
// SI_KERNEL, si_addr 0, rip at the instruction and rax unchanged. The
// host may have IA32 emulation, which is why this is no conformance test:
// natively eax=1 is the i386 exit.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static void on_segv(int signal, siginfo_t* info, void* context) {
  ucontext_t* uc = context;
  const unsigned char* rip = (const unsigned char*)uc->uc_mcontext.gregs[REG_RIP];
  printf("signal %d si_code %d si_addr %p\n", signal, info->si_code, info->si_addr);
  printf("rip at int 0x80: %s\n", rip[0] == 0xcd && rip[1] == 0x80 ? "yes" : "no");
  printf("rax = %lld rbx = %lld\n", (long long)uc->uc_mcontext.gregs[REG_RAX],
         (long long)uc->uc_mcontext.gregs[REG_RBX]);
  fflush(stdout);
  _exit(0);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2 || strcmp(argv[1], "unhandled") != 0) {
    struct sigaction action = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO};
    sigaction(SIGSEGV, &action, NULL);
  }
  printf("before int 0x80\n");
  // i386 exit(42); as an x86_64 call, number 1 would be write(1, text, 9).
  static const char text[] = "escaped\n";
  long result;
  __asm__ volatile("int $0x80"
                   : "=a"(result)
                   : "a"(1L), "b"(42L), "D"(1L), "S"(text), "d"(sizeof text - 1)
                   : "memory");
  printf("after int 0x80: %ld\n", result);
  return 0;
}
