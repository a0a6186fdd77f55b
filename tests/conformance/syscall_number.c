// The syscall number on x86_64 is the low 32 bits of rax: Linux reads it
// as an int, so the upper half is ignored (0x100000027 is getpid). Numbers
// with the x32 bit, negative ones and numbers past the table get ENOSYS.
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static long raw_syscall(unsigned long number, long first, long second, long third) {
  long result;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "a"(number), "D"(first), "S"(second), "d"(third)
                   : "rcx", "r11", "memory");
  return result;
}

// Prints what a call with `number` returned: getpid's value shows as "pid",
// an error as its name.
static void show_number(unsigned long number, long first, long second, long third) {
  long result = raw_syscall(number, first, second, third);
  char label[64];
  snprintf(label, sizeof label, "syscall %#lx", number);
  if (result < 0 && result > -4096) {
    show_error_number(label, (int)-result);
  } else if (result == getpid()) {
    show_string(label, "pid");
  } else {
    show_value(label, result);
  }
}

int main(void) {
  static const char text[] = "written\n";
  show_number(SYS_getpid, 0, 0, 0);
  show_number(0x100000000UL | SYS_getpid, 0, 0, 0);
  show_number(0xffffffff00000000UL | SYS_getpid, 0, 0, 0);
  show_number(0x700000000UL | SYS_write, 1, (long)text, sizeof text - 1);
  show_number(0x40000000UL | SYS_getpid, 0, 0, 0);
  show_number(0x80000000UL | SYS_getpid, 0, 0, 0);
  show_number(0xffffffffUL, 0, 0, 0);
  show_number(~0UL, 0, 0, 0);
  show_number(100000, 0, 0, 0);
  return 0;
}
