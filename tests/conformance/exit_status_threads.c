// Starts a second thread, then ends the process in the way argv names. The
// runner compares the exit status natively and under ward. The modes:
//   exit_group_threads N      exit_group while another thread is blocked
//   thread_exit N             the main thread exits alone with SYS_exit, the
//                             last other thread then calls exit(N)
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static int exit_value;

static void say_goodbye(void) { printf("atexit handler ran\n"); }

static void* block_forever(void* unused) {
  (void)unused;
  for (int i = 0; i < 600; i++) {
    sleep(1);
  }
  return NULL;
}

static void* exit_later(void* unused) {
  (void)unused;
  usleep(50 * 1000);
  printf("second thread calls exit(%d)\n", exit_value);
  exit(exit_value);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: exit_status_threads MODE N\n");
    return 2;
  }
  const char* mode = argv[1];
  exit_value = atoi(argv[2]);
  atexit(say_goodbye);
  printf("mode %s value %d\n", mode, exit_value);
  fflush(stdout);

  if (strcmp(mode, "exit_group_threads") == 0) {
    pthread_t thread;
    show_error_number("pthread_create", pthread_create(&thread, NULL, block_forever, NULL));
    fflush(stdout);
    usleep(20 * 1000);
    syscall(SYS_exit_group, exit_value);
  }
  if (strcmp(mode, "thread_exit") == 0) {
    pthread_t thread;
    show_error_number("pthread_create", pthread_create(&thread, NULL, exit_later, NULL));
    fflush(stdout);
    // SYS_exit ends only the calling thread, and the process lives on.
    syscall(SYS_exit, 99);
  }
  fprintf(stderr, "exit_status_threads: unknown mode %s\n", mode);
  return 2;
}
