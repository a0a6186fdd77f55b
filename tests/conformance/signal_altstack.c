// Signal handlers on an alternate stack (sigaltstack and SA_ONSTACK): the
// handler's locals lie inside the stack, sigaltstack reports SS_ONSTACK
// while it runs there and refuses changes with EPERM, a nested handler
// stays on the stack below its caller, SS_AUTODISARM clears the stack for
// the handler's duration, and every bad input gets its errno.
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

// SS_AUTODISARM, which older headers lack.
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define ALTSTACK_BYTES (64 * 1024)

static char* altstack;

// What a handler saw, printed after it returns.
struct observation {
  uintptr_t local_address;
  int query_result;
  int query_errno;
  int query_flags;
  int change_result;
  int change_errno;
  int disable_result;
  int disable_errno;
  int frame_stack_flags;
  bool frame_stack_is_altstack;
  size_t frame_stack_size;
};

static struct observation outer;
static struct observation inner;

static bool on_altstack(uintptr_t address) {
  return address >= (uintptr_t)altstack && address < (uintptr_t)altstack + ALTSTACK_BYTES;
}

static void observe(struct observation* seen, void* context) {
  volatile char local = 0;
  seen->local_address = (uintptr_t)&local;

  stack_t current;
  errno = 0;
  seen->query_result = sigaltstack(NULL, &current);
  seen->query_errno = errno;
  seen->query_flags = current.ss_flags;

  stack_t other = {.ss_sp = altstack, .ss_size = ALTSTACK_BYTES, .ss_flags = 0};
  errno = 0;
  seen->change_result = sigaltstack(&other, NULL);
  seen->change_errno = errno;
  stack_t disable = {.ss_flags = SS_DISABLE};
  errno = 0;
  seen->disable_result = sigaltstack(&disable, NULL);
  seen->disable_errno = errno;

  ucontext_t* frame = context;
  seen->frame_stack_flags = frame->uc_stack.ss_flags;
  seen->frame_stack_size = frame->uc_stack.ss_size;
  seen->frame_stack_is_altstack =
      frame->uc_stack.ss_sp == altstack && frame->uc_stack.ss_size == ALTSTACK_BYTES;
}

static void on_inner(int signal_number, siginfo_t* info, void* context) {
  (void)signal_number;
  (void)info;
  observe(&inner, context);
}

static void on_outer(int signal_number, siginfo_t* info, void* context) {
  (void)signal_number;
  (void)info;
  observe(&outer, context);
  raise(SIGUSR2);
}

static void show_observation(const char* who, const struct observation* seen) {
  printf("%s: locals on the alternate stack: %s\n", who, on_altstack(seen->local_address) ? "yes" : "no");
  show_result(label_of("%s: sigaltstack query", who), seen->query_result, seen->query_errno);
  show_hex(label_of("%s: reported ss_flags", who), (unsigned)seen->query_flags);
  show_result(label_of("%s: changing the stack", who), seen->change_result, seen->change_errno);
  show_result(label_of("%s: disabling the stack", who), seen->disable_result, seen->disable_errno);
  show_hex(label_of("%s: uc_stack.ss_flags", who), (unsigned)seen->frame_stack_flags);
  show_bool(label_of("%s: uc_stack is the alternate stack", who), seen->frame_stack_is_altstack);
}

static void install(int signal_number, void (*handler)(int, siginfo_t*, void*), int flags) {
  struct sigaction action = {0};
  action.sa_sigaction = handler;
  action.sa_flags = SA_SIGINFO | flags;
  sigaction(signal_number, &action, NULL);
}

static void check_bad_inputs(void) {
  stack_t current;
  SHOW("query with nothing set", sigaltstack(NULL, &current));
  show_hex("ss_flags with nothing set", (unsigned)current.ss_flags);
  show_bool("ss_sp with nothing set is NULL", current.ss_sp == NULL);
  show_value("ss_size with nothing set", (long)current.ss_size);

  stack_t bad = {.ss_sp = altstack, .ss_size = ALTSTACK_BYTES, .ss_flags = 0x1234};
  SHOW("unknown ss_flags", sigaltstack(&bad, NULL));
  bad.ss_flags = SS_ONSTACK | SS_DISABLE;
  SHOW("SS_ONSTACK with SS_DISABLE", sigaltstack(&bad, NULL));
  // The kernel's MINSIGSTKSZ on x86_64 is 2048 bytes. glibc's macro of
  // that name may be larger, since it asks the kernel for the size of the
  // running CPU's signal frame.
  stack_t small = {.ss_sp = altstack, .ss_size = 2047, .ss_flags = 0};
  SHOW("a stack of 2047 bytes", sigaltstack(&small, NULL));
  small.ss_size = 0;
  SHOW("a stack of size 0", sigaltstack(&small, NULL));
  SHOW("a bad new-stack pointer", sigaltstack((stack_t*)1, NULL));
  SHOW("a bad old-stack pointer", sigaltstack(NULL, (stack_t*)1));

  // SS_DISABLE ignores the size, and a disabled stack reads back empty.
  stack_t disable = {.ss_sp = altstack, .ss_size = 1, .ss_flags = SS_DISABLE};
  SHOW("SS_DISABLE with a tiny size", sigaltstack(&disable, &current));
  SHOW("query after SS_DISABLE", sigaltstack(NULL, &current));
  show_hex("ss_flags after SS_DISABLE", (unsigned)current.ss_flags);
  show_value("ss_size after SS_DISABLE", (long)current.ss_size);

  // SS_ONSTACK as an input flag is accepted and means 0.
  stack_t onstack = {.ss_sp = altstack, .ss_size = ALTSTACK_BYTES, .ss_flags = SS_ONSTACK};
  SHOW("set with SS_ONSTACK", sigaltstack(&onstack, NULL));
  SHOW("query after SS_ONSTACK", sigaltstack(NULL, &current));
  show_hex("ss_flags after setting with SS_ONSTACK", (unsigned)current.ss_flags);
  show_bool("ss_sp is the stack", current.ss_sp == altstack);
  show_value("ss_size", (long)current.ss_size);
}

static void check_handlers_on_the_stack(void) {
  stack_t stack = {.ss_sp = altstack, .ss_size = ALTSTACK_BYTES, .ss_flags = 0};
  SHOW("sigaltstack set", sigaltstack(&stack, NULL));

  // SIGUSR1's handler runs on the alternate stack and raises SIGUSR2,
  // whose handler nests on the same stack.
  install(SIGUSR1, on_outer, SA_ONSTACK);
  install(SIGUSR2, on_inner, SA_ONSTACK);
  volatile char main_local = 0;
  SHOW("raise SIGUSR1", raise(SIGUSR1));
  show_bool("main's locals on the alternate stack", on_altstack((uintptr_t)&main_local));
  show_observation("outer", &outer);
  show_observation("inner", &inner);
  show_bool("inner frame lies below the outer one", inner.local_address < outer.local_address);

  stack_t after;
  sigaltstack(NULL, &after);
  show_hex("ss_flags after the handlers returned", (unsigned)after.ss_flags);

  // Without SA_ONSTACK the handler stays on the ordinary stack.
  install(SIGUSR2, on_inner, 0);
  SHOW("raise SIGUSR2 without SA_ONSTACK", raise(SIGUSR2));
  show_bool("no SA_ONSTACK: locals on the alternate stack", on_altstack(inner.local_address));
  show_hex("no SA_ONSTACK: reported ss_flags", (unsigned)inner.query_flags);
  show_hex("no SA_ONSTACK: uc_stack.ss_flags", (unsigned)inner.frame_stack_flags);
  show_result("no SA_ONSTACK: changing the stack", inner.change_result, inner.change_errno);
}

static void check_autodisarm(void) {
  stack_t stack = {.ss_sp = altstack, .ss_size = ALTSTACK_BYTES, .ss_flags = SS_AUTODISARM};
  SHOW("sigaltstack with SS_AUTODISARM", sigaltstack(&stack, NULL));
  stack_t current;
  sigaltstack(NULL, &current);
  show_hex("ss_flags with SS_AUTODISARM", (unsigned)current.ss_flags);

  install(SIGUSR2, on_inner, SA_ONSTACK);
  SHOW("raise SIGUSR2 with SS_AUTODISARM", raise(SIGUSR2));
  show_bool("autodisarm: locals on the alternate stack", on_altstack(inner.local_address));
  show_hex("autodisarm: reported ss_flags", (unsigned)inner.query_flags);
  show_hex("autodisarm: uc_stack.ss_flags", (unsigned)inner.frame_stack_flags);
  show_bool("autodisarm: uc_stack is the alternate stack", inner.frame_stack_is_altstack);

  // The handler's own sigaltstack calls changed the stack, and its return
  // restored the one saved in the frame.
  sigaltstack(NULL, &current);
  show_hex("ss_flags after the autodisarm handler", (unsigned)current.ss_flags);
  show_bool("the stack after the autodisarm handler is the alternate stack",
            current.ss_sp == altstack && current.ss_size == ALTSTACK_BYTES);
}

// Before any sigaltstack call, a handler's frame records a disabled stack.
static void check_frame_without_altstack(void) {
  install(SIGUSR2, on_inner, SA_ONSTACK);
  SHOW("raise SIGUSR2 with no alternate stack", raise(SIGUSR2));
  show_hex("no alternate stack: reported ss_flags", (unsigned)inner.query_flags);
  show_hex("no alternate stack: uc_stack.ss_flags", (unsigned)inner.frame_stack_flags);
  show_value("no alternate stack: uc_stack.ss_size", (long)inner.frame_stack_size);
}

static sigjmp_buf overflow_jump;
static volatile int overflow_code;

static void leave_overflow(int signal_number, siginfo_t* info, void* context) {
  (void)signal_number;
  (void)context;
  overflow_code = info->si_code;
  siglongjmp(overflow_jump, 1);
}

// A depth no stack reaches, which gives the recursion a base case.
static volatile int unreachable_depth = 1 << 30;

// Recurses until the stack runs out; the volatile buffer and the use of
// the result after the call keep the compiler from removing the frames.
__attribute__((noinline)) static int recurse_forever(int depth) {
  if (depth == unreachable_depth) {
    return 0;
  }
  volatile char frame[1024];
  frame[0] = (char)depth;
  return recurse_forever(depth + 1) + frame[0];
}

// The classic use of an alternate stack: a SIGSEGV from a stack overflow
// can only be handled on another stack.
static void check_stack_overflow(void) {
  stack_t stack = {.ss_sp = altstack, .ss_size = ALTSTACK_BYTES, .ss_flags = 0};
  sigaltstack(&stack, NULL);
  install(SIGSEGV, leave_overflow, SA_ONSTACK);
  for (int attempt = 1; attempt <= 2; attempt++) {
    overflow_code = 0;
    if (sigsetjmp(overflow_jump, 1) == 0) {
      recurse_forever(0);
    }
    printf("stack overflow %d: caught, si_code is SEGV_MAPERR: %s\n", attempt,
           overflow_code == SEGV_MAPERR ? "yes" : "no");
  }
  signal(SIGSEGV, SIG_DFL);
}

int main(void) {
  check_frame_without_altstack();
  altstack = mmap(NULL, ALTSTACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check_bad_inputs();
  check_handlers_on_the_stack();
  check_autodisarm();
  check_stack_overflow();
  return finish_checks();
}
