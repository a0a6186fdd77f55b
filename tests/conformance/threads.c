// Threads: a pthread barrier that several threads pass round after round,
// joins with return values, and the ways a process ends when a thread that
// is not the main one calls exit, or when the main thread leaves first.
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define WORKER_COUNT 8
#define ROUND_COUNT 5

static pthread_barrier_t barrier;
static atomic_int arrivals;
static atomic_int wrong_counts;
static atomic_int serial_threads;
static pid_t worker_pids[WORKER_COUNT];
static pid_t worker_tids[WORKER_COUNT];

static void sleep_ms(long milliseconds) {
  struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  nanosleep(&delay, NULL);
}

// Each round every worker counts its arrival, passes the barrier, and
// checks that every worker of the round arrived before any left.
static void* run_worker(void* argument) {
  intptr_t index = (intptr_t)argument;
  worker_pids[index] = getpid();
  worker_tids[index] = gettid();
  for (int round = 1; round <= ROUND_COUNT; round++) {
    atomic_fetch_add(&arrivals, 1);
    int result = pthread_barrier_wait(&barrier);
    if (result == PTHREAD_BARRIER_SERIAL_THREAD) {
      atomic_fetch_add(&serial_threads, 1);
    }
    if (atomic_load(&arrivals) < round * WORKER_COUNT) {
      atomic_fetch_add(&wrong_counts, 1);
    }
    // The second barrier keeps the next round's arrivals out of this
    // round's check.
    pthread_barrier_wait(&barrier);
  }
  return (void*)(index * 2);
}

static void check_barrier_and_joins(void) {
  show_error_number("pthread_barrier_init", pthread_barrier_init(&barrier, NULL, WORKER_COUNT));
  pthread_t threads[WORKER_COUNT];
  for (intptr_t i = 0; i < WORKER_COUNT; i++) {
    pthread_create(&threads[i], NULL, run_worker, (void*)i);
  }
  bool results_match = true;
  for (intptr_t i = 0; i < WORKER_COUNT; i++) {
    void* result = NULL;
    int error = pthread_join(threads[i], &result);
    if (error != 0 || result != (void*)(i * 2)) {
      results_match = false;
    }
  }
  EXPECT("every join returned the thread's value", results_match);
  show_value("arrivals", atomic_load(&arrivals));
  show_value("checks that saw a missing arrival", atomic_load(&wrong_counts));
  show_value("serial threads", atomic_load(&serial_threads));
  show_error_number("pthread_barrier_destroy", pthread_barrier_destroy(&barrier));

  bool same_pid = true;
  bool distinct_tids = true;
  for (int i = 0; i < WORKER_COUNT; i++) {
    same_pid = same_pid && worker_pids[i] == getpid();
    distinct_tids = distinct_tids && worker_tids[i] != getpid();
    for (int j = 0; j < i; j++) {
      distinct_tids = distinct_tids && worker_tids[i] != worker_tids[j];
    }
  }
  EXPECT("every thread has the process's pid", same_pid);
  EXPECT("every thread has its own tid", distinct_tids);

  pthread_t self = pthread_self();
  show_error_number("pthread_join of itself", pthread_join(self, NULL));
}

static void* exit_process(void* argument) {
  sleep_ms(20);
  exit((int)(intptr_t)argument);
}

static void* park_forever(void* argument) {
  (void)argument;
  for (;;) {
    pause();
  }
  return NULL;
}

// A worker calls exit while the main thread and another worker are blocked.
static void check_exit_from_worker(void) {
  pid_t child = fork();
  if (child == 0) {
    pthread_t parked;
    pthread_t exiting;
    pthread_create(&parked, NULL, park_forever, NULL);
    pthread_create(&exiting, NULL, exit_process, (void*)(intptr_t)7);
    pthread_join(parked, NULL);
    _exit(1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_bool("exit(7) from a worker: exited", WIFEXITED(status));
  show_value("exit(7) from a worker: code", WEXITSTATUS(status));
}

static void* print_after_main_left(void* argument) {
  pid_t pid = (pid_t)(intptr_t)argument;
  sleep_ms(50);
  // The main thread is gone but the process lives: its pid still answers.
  printf("worker: the process still has its pid: %s\n", getpid() == pid ? "yes" : "no");
  printf("worker: kill signal 0 to the process = %d\n", kill(pid, 0));
  fflush(stdout);
  return (void*)(intptr_t)11;
}

// The main thread ends with pthread_exit; the process ends with status 0
// once the last worker returns.
static void check_main_thread_leaves_first(void) {
  pid_t child = fork();
  if (child == 0) {
    pthread_t worker;
    pthread_create(&worker, NULL, print_after_main_left, (void*)(intptr_t)getpid());
    pthread_exit(NULL);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_bool("main thread left first: exited", WIFEXITED(status));
  show_value("main thread left first: code", WEXITSTATUS(status));
}

static void* exit_group_later(void* argument) {
  sleep_ms(50);
  syscall(SYS_exit_group, (int)(intptr_t)argument);
  return NULL;
}

// The main thread ends with the raw exit syscall, which ends only the
// thread; the worker's exit_group then decides the process's status.
static void check_raw_thread_exit(void) {
  pid_t child = fork();
  if (child == 0) {
    pthread_t worker;
    pthread_create(&worker, NULL, exit_group_later, (void*)(intptr_t)12);
    syscall(SYS_exit, 99);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_bool("raw exit of the main thread: exited", WIFEXITED(status));
  show_value("raw exit of the main thread: code", WEXITSTATUS(status));
}

// A fatal signal sent to one thread kills the whole process.
static void check_fatal_signal_to_worker(void) {
  pid_t child = fork();
  if (child == 0) {
    pthread_t worker;
    pthread_create(&worker, NULL, park_forever, NULL);
    sleep_ms(20);
    pthread_kill(worker, SIGTERM);
    for (;;) {
      pause();
    }
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_bool("SIGTERM to a worker: killed", WIFSIGNALED(status));
  show_value("SIGTERM to a worker: signal", WTERMSIG(status));
}

// A counter in shared memory that the child's workers advance.
static atomic_long* progress;

static void* count_forever(void* argument) {
  (void)argument;
  for (;;) {
    atomic_fetch_add(progress, 1);
    sleep_ms(1);
  }
  return NULL;
}

// SIGSTOP stops every thread of a process and SIGCONT resumes them all:
// the parent sees the workers' counter stand still, then move again.
static void check_group_stop(void) {
  progress = mmap(NULL, sizeof(*progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pid_t child = fork();
  if (child == 0) {
    pthread_t workers[3];
    for (int i = 0; i < 3; i++) {
      pthread_create(&workers[i], NULL, count_forever, NULL);
    }
    for (;;) {
      pause();
    }
  }
  sleep_ms(50);
  kill(child, SIGSTOP);
  int status = 0;
  EXPECT("waitpid reports the stopped multi-threaded child",
         waitpid(child, &status, WUNTRACED) == child && WIFSTOPPED(status));
  long stopped_at = atomic_load(progress);
  sleep_ms(100);
  show_bool("the workers stood still while stopped", atomic_load(progress) == stopped_at);

  kill(child, SIGCONT);
  EXPECT("waitpid reports it continued",
         waitpid(child, &status, WCONTINUED) == child && WIFCONTINUED(status));
  sleep_ms(100);
  show_bool("the workers moved again after SIGCONT", atomic_load(progress) > stopped_at);

  kill(child, SIGTERM);
  waitpid(child, &status, 0);
  show_bool("multi-threaded child killed by SIGTERM after the stop",
            WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  munmap(progress, sizeof(*progress));
}

int main(void) {
  check_barrier_and_joins();
  check_exit_from_worker();
  check_main_thread_leaves_first();
  check_raw_thread_exit();
  check_fatal_signal_to_worker();
  check_group_stop();
  return finish_checks();
}
