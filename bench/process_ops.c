// Repeats one process operation and prints its mean cost in microseconds.
//
// Usage: process_ops OPERATION ITERATIONS
//   fork     fork, the child exits at once, the parent waits for it
//   spawn    fork, the child runs /bin/true, the parent waits for it
//   thread   pthread_create of a thread that returns at once, then join
//   signal   kill(getpid(), SIGUSR1) caught by a handler: delivery, the
//            handler's frame and rt_sigreturn
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void wait_for(pid_t child) {
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status)) {
    fprintf(stderr, "process_ops: child failed\n");
    exit(1);
  }
}

static void fork_once(void) {
  pid_t child = fork();
  if (child == 0) {
    _exit(0);
  }
  wait_for(child);
}

static void spawn_once(void) {
  pid_t child = fork();
  if (child == 0) {
    char* argv[] = {"true", NULL};
    execv("/bin/true", argv);
    _exit(127);
  }
  wait_for(child);
}

static void* return_at_once(void* argument) { return argument; }

static void thread_once(void) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, return_at_once, NULL) != 0 ||
      pthread_join(thread, NULL) != 0) {
    fprintf(stderr, "process_ops: thread failed\n");
    exit(1);
  }
}

static volatile sig_atomic_t signals_caught;

static void on_signal(int signal) {
  (void)signal;
  signals_caught++;
}

static void signal_once(void) { kill(getpid(), SIGUSR1); }

int main(int argc, char** argv) {
  long iterations = argc > 2 ? atol(argv[2]) : 0;
  if (argc != 3 || iterations <= 0) {
    fprintf(stderr, "usage: %s fork|spawn|thread|signal ITERATIONS\n", argv[0]);
    return 2;
  }
  void (*operation)(void) = NULL;
  if (strcmp(argv[1], "fork") == 0) {
    operation = fork_once;
  } else if (strcmp(argv[1], "spawn") == 0) {
    operation = spawn_once;
  } else if (strcmp(argv[1], "thread") == 0) {
    operation = thread_once;
  } else if (strcmp(argv[1], "signal") == 0) {
    signal(SIGUSR1, on_signal);
    operation = signal_once;
  } else {
    fprintf(stderr, "process_ops: unknown operation %s\n", argv[1]);
    return 2;
  }

  long long start = now_ns();
  for (long i = 0; i < iterations; ++i) {
    operation();
  }
  long long elapsed = now_ns() - start;
  if (operation == signal_once && signals_caught != iterations) {
    fprintf(stderr, "process_ops: caught %d of %ld signals\n", (int)signals_caught, iterations);
    return 1;
  }
  printf("%.1f\n", (double)elapsed / (double)iterations / 1000.0);
  return 0;
}
