// Shared futexes: a futex word in MAP_SHARED memory (anonymous, memfd, a
// file) is the same word wherever and in whichever process it is mapped,
// unless FUTEX_PRIVATE_FLAG keys it by its address instead. A word in
// private anonymous memory is private, while an unwritten private file
// mapping shows the file's word. Also a process-shared mutex and semaphore
// across fork. With the argument `memfd`, only the memfd views.
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long futex(void* word, int operation, unsigned int value, const void* timeout,
                  void* other, unsigned int value3) {
  return syscall(SYS_futex, word, operation, value, timeout, other, value3);
}

// How many tasks wait on `word` under `operation`'s keying, without waking
// them: a requeue of waiters onto the word itself.
static long count_waiters(unsigned int* word, int private_flag) {
  return futex(word, FUTEX_CMP_REQUEUE | private_flag, 0, (void*)64L, word, *word);
}

static void wait_for_waiter(unsigned int* word, int private_flag) {
  for (int attempt = 0; attempt < 5000 && count_waiters(word, private_flag) < 1; attempt++) {
    usleep(1000);
  }
}

struct waiter {
  pthread_t thread;
  unsigned int* word;
  int operation;
  long result;
  int error;
};

static void* wait_on_word(void* argument) {
  struct waiter* waiter = argument;
  struct timespec timeout = {0, 300000000};
  waiter->result = futex(waiter->word, waiter->operation, *waiter->word, &timeout, NULL, 0);
  waiter->error = errno;
  return NULL;
}

// A thread waits at `wait_address`; the caller wakes at `wake_address`.
static void check_pair(const char* what, unsigned int* wait_address, int wait_flag,
                       unsigned int* wake_address, int wake_flag) {
  struct waiter waiter = {.word = wait_address, .operation = FUTEX_WAIT | wait_flag};
  pthread_create(&waiter.thread, NULL, wait_on_word, &waiter);
  wait_for_waiter(wait_address, wait_flag);
  long woken = futex(wake_address, FUTEX_WAKE | wake_flag, 1, NULL, NULL, 0);
  pthread_join(waiter.thread, NULL);
  printf("%s: the wake woke %ld, the wait returned %s\n", what, woken,
         waiter.result == 0 ? "0" : errno_name(waiter.error));
}

// Maps the first 8 KiB of `fd` twice, shared, and once privately, all
// read-only: waiting and waking only read the word.
static void check_two_views(const char* what, int fd) {
  unsigned int* first = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
  unsigned int* second = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
  // A view that starts one page in: the same word at another offset into
  // the mapping.
  unsigned int* shifted = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
  unsigned int* copy = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
  bool mapped = first != MAP_FAILED && second != MAP_FAILED && shifted != MAP_FAILED &&
                copy != MAP_FAILED;
  EXPECT(label_of("%s: four mappings", what), mapped);
  if (!mapped) {
    return;
  }

  check_pair(label_of("%s, two shared views", what), first + 1024 + 3, 0, second + 1024 + 3, 0);
  check_pair(label_of("%s, a view at offset 4096", what), first + 1024 + 5, 0, shifted + 5, 0);
  check_pair(label_of("%s, two shared views with FUTEX_PRIVATE_FLAG", what), first + 7,
             FUTEX_PRIVATE_FLAG, second + 7, FUTEX_PRIVATE_FLAG);
  check_pair(label_of("%s, an unwritten private view and a shared one", what), copy + 9, 0,
             first + 9, 0);
  check_pair(label_of("%s, the same shared address", what), first + 11, 0, first + 11, 0);
  munmap(first, 8192);
  munmap(second, 8192);
  munmap(shifted, 4096);
  munmap(copy, 8192);
}

static void check_anonymous_across_fork_and_mremap(void) {
  unsigned int* words = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  words[0] = 0;
  pid_t child = fork();
  if (child == 0) {
    struct timespec timeout = {5, 0};
    long result = futex(&words[0], FUTEX_WAIT, 0, &timeout, NULL, 0);
    _exit(result == 0 ? 0 : 1);
  }
  wait_for_waiter(&words[0], 0);
  // Moved elsewhere, the memory keeps its futex identity.
  unsigned int* moved = mremap(words, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED,
                               (char*)words + 1024 * 1024 * 64);
  SHOW_PTR("mremap of the shared memory", moved);
  long woken = futex(&moved[0], FUTEX_WAKE, 1, NULL, NULL, 0);
  int status = 0;
  waitpid(child, &status, 0);
  show_value("a wake in the parent of the child's shared anonymous word", woken);
  show_bool("  the child's FUTEX_WAIT returned 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);

  // A private-flag wait and a shared wake in two processes do not meet.
  moved[1] = 0;
  child = fork();
  if (child == 0) {
    struct timespec timeout = {0, 200000000};
    long result = futex(&moved[1], FUTEX_WAIT_PRIVATE, 0, &timeout, NULL, 0);
    _exit(result == -1 && errno == ETIMEDOUT ? 0 : 1);
  }
  usleep(50000);
  woken = futex(&moved[1], FUTEX_WAKE, 1, NULL, NULL, 0);
  waitpid(child, &status, 0);
  show_value("a shared wake of a private waiter in another process", woken);
  show_bool("  its FUTEX_WAIT timed out", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  munmap(moved, 4096);
}

struct shared_state {
  pthread_mutex_t mutex;
  sem_t done;
  long counter;
};

enum { kRounds = 20000 };

static void check_pshared_mutex_and_semaphore(void) {
  struct shared_state* state = mmap(NULL, sizeof(*state), PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&state->mutex, &attributes);
  show_error_number("sem_init shared", sem_init(&state->done, 1, 0) == 0 ? 0 : errno);

  pid_t child = fork();
  if (child == 0) {
    for (int i = 0; i < kRounds; i++) {
      pthread_mutex_lock(&state->mutex);
      state->counter++;
      pthread_mutex_unlock(&state->mutex);
    }
    sem_post(&state->done);
    _exit(0);
  }
  for (int i = 0; i < kRounds; i++) {
    pthread_mutex_lock(&state->mutex);
    state->counter++;
    pthread_mutex_unlock(&state->mutex);
  }
  show_error_number("sem_wait for the child", sem_wait(&state->done) == 0 ? 0 : errno);
  waitpid(child, NULL, 0);
  show_value("the counter both processes incremented", state->counter);
  show_error_number("sem_trywait of the used semaphore",
                    sem_trywait(&state->done) == 0 ? 0 : errno);
  munmap(state, sizeof(*state));
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "memfd") == 0) {
    int memfd = memfd_create("futex_shared", 0);
    ftruncate(memfd, 8192);
    pwrite(memfd, "words", 5, 4096 + 20);
    check_two_views("memfd", memfd);
    close(memfd);
    return finish_checks();
  }

  // The program's own file, which is longer than 8 KiB.
  int fd = open(argv[0], O_RDONLY);
  check_two_views("file", fd);
  close(fd);

  // In private memory, a word waited on without FUTEX_PRIVATE_FLAG and
  // woken with it (or the other way round) is two words to Linux.
  static unsigned int private_word;
  check_pair("private memory, a shared wait and a private wake", &private_word, 0, &private_word,
             FUTEX_PRIVATE_FLAG);
  check_pair("private memory, a private wait and a shared wake", &private_word,
             FUTEX_PRIVATE_FLAG, &private_word, 0);
  check_pair("private memory, shared wait and wake", &private_word, 0, &private_word, 0);

  check_anonymous_across_fork_and_mremap();
  check_pshared_mutex_and_semaphore();
  return finish_checks();
}
