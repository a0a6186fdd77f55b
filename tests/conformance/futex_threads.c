// futex between two threads: the main thread wakes a second thread that
// waits in FUTEX_WAIT.
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long futex(void* word, int operation, unsigned int value, const struct timespec* timeout,
                  void* other, unsigned int value3) {
  return syscall(SYS_futex, word, operation, value, timeout, other, value3);
}

static int shared_word;
static volatile int waiter_result = 1000;
static volatile int waiter_errno;

static void* wait_on_shared_word(void* unused) {
  (void)unused;
  struct timespec timeout = {5, 0};
  long result = futex(&shared_word, FUTEX_WAIT_PRIVATE, 0, &timeout, NULL, 0);
  waiter_errno = result == -1 ? errno : 0;
  waiter_result = (int)result;
  return NULL;
}

static void check_wake_between_threads(void) {
  pthread_t thread;
  int created = pthread_create(&thread, NULL, wait_on_shared_word, NULL);
  show_error_number("pthread_create", created);
  if (created != 0) {
    return;
  }
  // Wake until the waiter is really waiting: the first successful wake
  // returns 1. Bounded to about 2 s.
  long woken = 0;
  for (int attempt = 0; attempt < 2000 && woken == 0; attempt++) {
    woken = futex(&shared_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    if (woken == 0) {
      usleep(1000);
    }
  }
  show_value("FUTEX_WAKE woke", woken);
  pthread_join(thread, NULL);
  show_value("the waiter's FUTEX_WAIT returned", waiter_result);
  show_string("  with errno", waiter_result == 0 ? "none" : errno_name(waiter_errno));
}

int main(void) {
  check_wake_between_threads();
  return finish_checks();
}
