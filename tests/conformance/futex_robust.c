// Robust mutexes: the kernel walks a dying thread's robust list and marks
// each lock it held with FUTEX_OWNER_DIED, so the next locker gets
// EOWNERDEAD. The owners end by pthread_exit, by a SIGKILL of their process
// or by execve, with plain and PI robust mutexes. One case has a waiter
// blocked at the time of death, and one reads another process's list.
#include <limits.h>
#include <stddef.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void init_robust(pthread_mutex_t* mutex, bool pi, bool shared) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
  if (pi) {
    pthread_mutexattr_setprotocol(&attributes, PTHREAD_PRIO_INHERIT);
  }
  if (shared) {
    pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  }
  pthread_mutex_init(mutex, &attributes);
  pthread_mutexattr_destroy(&attributes);
}

static void* lock_and_exit(void* argument) {
  pthread_mutex_lock(argument);
  return NULL;
}

static void check_thread_exit(bool pi) {
  const char* kind = pi ? "PI robust" : "robust";
  pthread_mutex_t mutex;
  init_robust(&mutex, pi, false);
  pthread_t thread;
  pthread_create(&thread, NULL, lock_and_exit, &mutex);
  pthread_join(thread, NULL);

  show_error_number(label_of("%s: lock after the owner thread exited", kind),
                    pthread_mutex_lock(&mutex));
  show_error_number(label_of("%s: pthread_mutex_consistent", kind),
                    pthread_mutex_consistent(&mutex));
  show_error_number(label_of("%s: unlock", kind), pthread_mutex_unlock(&mutex));
  show_error_number(label_of("%s: lock again", kind), pthread_mutex_lock(&mutex));
  show_error_number(label_of("%s: unlock", kind), pthread_mutex_unlock(&mutex));

  // Left inconsistent, the mutex becomes unusable once unlocked.
  pthread_create(&thread, NULL, lock_and_exit, &mutex);
  pthread_join(thread, NULL);
  show_error_number(label_of("%s: trylock after the owner thread exited", kind),
                    pthread_mutex_trylock(&mutex));
  show_error_number(label_of("%s: unlock without making it consistent", kind),
                    pthread_mutex_unlock(&mutex));
  show_error_number(label_of("%s: lock after that", kind), pthread_mutex_lock(&mutex));
}

struct shared_state {
  pthread_mutex_t mutex;
  sem_t locked;
};

struct blocked_locker {
  pthread_t thread;
  pthread_mutex_t* mutex;
  int result;
  int consistent_result;
  int unlock_result;
};

static void* lock_blocking(void* argument) {
  struct blocked_locker* locker = argument;
  locker->result = pthread_mutex_lock(locker->mutex);
  locker->consistent_result = pthread_mutex_consistent(locker->mutex);
  locker->unlock_result = pthread_mutex_unlock(locker->mutex);
  return NULL;
}

// A child process takes the process-shared robust mutex and is killed while
// a thread of the parent waits for it.
static void check_process_killed(bool pi) {
  const char* kind = pi ? "PI robust" : "robust";
  struct shared_state* state = mmap(NULL, sizeof(*state), PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  init_robust(&state->mutex, pi, true);
  sem_init(&state->locked, 1, 0);

  pid_t child = fork();
  if (child == 0) {
    pthread_mutex_lock(&state->mutex);
    sem_post(&state->locked);
    for (;;) {
      pause();
    }
  }
  sem_wait(&state->locked);

  struct robust_list_head* head = NULL;
  size_t length = 0;
  SHOW(label_of("%s: get_robust_list of the child", kind),
       syscall(SYS_get_robust_list, child, &head, &length));
  show_value("  its length", (long)length);

  struct blocked_locker locker = {.mutex = &state->mutex, .result = -1};
  pthread_create(&locker.thread, NULL, lock_blocking, &locker);
  usleep(50000);  // most likely blocked by now; the outcome is the same if not
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  show_bool(label_of("%s: the child died of SIGKILL", kind),
            WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  pthread_join(locker.thread, NULL);
  show_error_number(label_of("%s: the waiting thread's lock", kind), locker.result);
  show_error_number(label_of("%s: its pthread_mutex_consistent", kind),
                    locker.consistent_result);
  show_error_number(label_of("%s: its unlock", kind), locker.unlock_result);
  show_error_number(label_of("%s: lock by the main thread", kind),
                    pthread_mutex_lock(&state->mutex));
  show_error_number(label_of("%s: unlock", kind), pthread_mutex_unlock(&state->mutex));
  munmap(state, sizeof(*state));
}

// The child takes the lock and execs itself; the new image has no robust
// list, so the old one was walked at execve.
static void check_exec(const char* self) {
  struct shared_state* state = mmap(NULL, sizeof(*state), PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  init_robust(&state->mutex, false, true);
  pid_t child = fork();
  if (child == 0) {
    pthread_mutex_lock(&state->mutex);
    execl(self, self, "exit", (char*)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show_bool("the child exec'd and exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  show_error_number("lock after the owner exec'd", pthread_mutex_lock(&state->mutex));
  pthread_mutex_consistent(&state->mutex);
  pthread_mutex_unlock(&state->mutex);
  munmap(state, sizeof(*state));
}

// A hand-made robust list whose lock words test the walk's rules: a word
// the thread holds with FUTEX_WAITERS, one held by another tid, and the
// pending lock (list_op_pending), which the thread also holds.
struct node {
  struct robust_list list;
  unsigned int word;
};
static struct node nodes[3];

static void* die_with_hand_made_list(void* unused) {
  (void)unused;
  static struct robust_list_head head;
  unsigned int tid = (unsigned)syscall(SYS_gettid);
  nodes[0].word = tid | FUTEX_WAITERS;
  nodes[1].word = 1;  // tid 1 is not this thread
  nodes[2].word = tid;
  head.list.next = &nodes[0].list;
  nodes[0].list.next = &nodes[1].list;
  nodes[1].list.next = &head.list;
  head.futex_offset = (long)offsetof(struct node, word);
  head.list_op_pending = &nodes[2].list;
  syscall(SYS_set_robust_list, &head, sizeof(head));
  return NULL;
}

static void check_hand_made_list(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, die_with_hand_made_list, NULL);
  pthread_join(thread, NULL);
  show_hex("a held word with FUTEX_WAITERS after its owner died", nodes[0].word);
  show_hex("a word held by another tid", nodes[1].word);
  show_hex("the pending word held by the dead thread", nodes[2].word);
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "exit") == 0) {
    return 0;
  }
  check_thread_exit(false);
  check_thread_exit(true);
  check_process_killed(false);
  check_process_killed(true);
  check_exec(argv[0]);
  check_hand_made_list();
  return finish_checks();
}
