// futex operations on two words, with no waiters: FUTEX_CMP_REQUEUE with a
// mismatched and a matching value, and FUTEX_WAKE_OP's store to the second
// word.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long futex(void* word, int operation, unsigned int value, const struct timespec* timeout,
                  void* other, unsigned int value3) {
  return syscall(SYS_futex, word, operation, value, timeout, other, value3);
}

int main(void) {
  int word = 1;
  int other = 0;
  SHOW("FUTEX_CMP_REQUEUE with a mismatched value",
       futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)1L, &other, 2));
  SHOW("FUTEX_CMP_REQUEUE with a matching value",
       futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)1L, &other, 1));
  SHOW("FUTEX_CMP_REQUEUE onto the same word",
       futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)1L, &word, 1));
  int wake_op_word = 0;
  SHOW("FUTEX_WAKE_OP", futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1L, &wake_op_word,
                              FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 0)));
  show_value("  the second word after FUTEX_WAKE_OP", wake_op_word);
  return finish_checks();
}
