// Condition variables, which glibc builds on futexes: timed waits on both
// clocks, signal and broadcast between threads, and pthread_cancel of a
// thread blocked in pthread_cond_wait.
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static struct timespec in_ms(clockid_t clock, long ms) {
  struct timespec now;
  clock_gettime(clock, &now);
  now.tv_nsec += ms * 1000000L;
  now.tv_sec += now.tv_nsec / 1000000000L;
  now.tv_nsec %= 1000000000L;
  return now;
}

static long ms_since(clockid_t clock, struct timespec start) {
  struct timespec now;
  clock_gettime(clock, &now);
  return (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
}

static void check_timeouts(void) {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t realtime_cond = PTHREAD_COND_INITIALIZER;
  pthread_condattr_t attributes;
  pthread_condattr_init(&attributes);
  pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
  pthread_cond_t monotonic_cond;
  pthread_cond_init(&monotonic_cond, &attributes);

  pthread_mutex_lock(&mutex);
  struct timespec past = {1, 0};
  show_error_number("pthread_cond_timedwait until a past time",
                    pthread_cond_timedwait(&realtime_cond, &mutex, &past));
  struct timespec start = in_ms(CLOCK_MONOTONIC, 0);
  struct timespec deadline = in_ms(CLOCK_REALTIME, 30);
  show_error_number("pthread_cond_timedwait for 30 ms on CLOCK_REALTIME",
                    pthread_cond_timedwait(&realtime_cond, &mutex, &deadline));
  EXPECT("  it waited at least 30 ms", ms_since(CLOCK_MONOTONIC, start) >= 29);
  start = in_ms(CLOCK_MONOTONIC, 0);
  deadline = in_ms(CLOCK_MONOTONIC, 30);
  show_error_number("pthread_cond_timedwait for 30 ms on CLOCK_MONOTONIC",
                    pthread_cond_timedwait(&monotonic_cond, &mutex, &deadline));
  EXPECT("  it waited at least 30 ms", ms_since(CLOCK_MONOTONIC, start) >= 29);
  deadline = in_ms(CLOCK_MONOTONIC, 10);
  show_error_number("pthread_cond_clockwait for 10 ms on CLOCK_MONOTONIC",
                    pthread_cond_clockwait(&realtime_cond, &mutex, CLOCK_MONOTONIC, &deadline));
  struct timespec bad = {0, 2000000000L};
  show_error_number("pthread_cond_timedwait with tv_nsec 2e9",
                    pthread_cond_timedwait(&realtime_cond, &mutex, &bad));
  show_error_number("  the mutex is still held (trylock)", pthread_mutex_trylock(&mutex));
  pthread_mutex_unlock(&mutex);
  pthread_cond_destroy(&monotonic_cond);
}

enum { kConsumers = 4, kItems = 2000 };

static pthread_mutex_t queue_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_nonempty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t queue_nonfull = PTHREAD_COND_INITIALIZER;
static int queue_items[8];
static int queue_count;
static int queue_head;
static long consumed_sum;
static int consumed_count;

static void* consume(void* unused) {
  (void)unused;
  for (;;) {
    pthread_mutex_lock(&queue_mutex);
    while (queue_count == 0) {
      pthread_cond_wait(&queue_nonempty, &queue_mutex);
    }
    int item = queue_items[queue_head];
    queue_head = (queue_head + 1) % 8;
    queue_count--;
    if (item >= 0) {
      consumed_sum += item;
      consumed_count++;
    }
    pthread_cond_signal(&queue_nonfull);
    pthread_mutex_unlock(&queue_mutex);
    if (item < 0) {
      return NULL;
    }
  }
}

static void produce(int item) {
  pthread_mutex_lock(&queue_mutex);
  while (queue_count == 8) {
    pthread_cond_wait(&queue_nonfull, &queue_mutex);
  }
  queue_items[(queue_head + queue_count) % 8] = item;
  queue_count++;
  pthread_cond_signal(&queue_nonempty);
  pthread_mutex_unlock(&queue_mutex);
}

static void check_signal(void) {
  pthread_t consumers[kConsumers];
  for (int i = 0; i < kConsumers; i++) {
    pthread_create(&consumers[i], NULL, consume, NULL);
  }
  for (int i = 1; i <= kItems; i++) {
    produce(i);
  }
  for (int i = 0; i < kConsumers; i++) {
    produce(-1);
  }
  for (int i = 0; i < kConsumers; i++) {
    pthread_join(consumers[i], NULL);
  }
  show_value("items consumed through pthread_cond_signal", consumed_count);
  show_value("  their sum", consumed_sum);
}

static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_open = PTHREAD_COND_INITIALIZER;
static bool gate_is_open;
static int gate_waiting;
static int gate_passed;

static void* wait_at_gate(void* unused) {
  (void)unused;
  pthread_mutex_lock(&gate_mutex);
  gate_waiting++;
  while (!gate_is_open) {
    pthread_cond_wait(&gate_open, &gate_mutex);
  }
  gate_passed++;
  pthread_mutex_unlock(&gate_mutex);
  return NULL;
}

static void check_broadcast(void) {
  pthread_t threads[kConsumers];
  for (int i = 0; i < kConsumers; i++) {
    pthread_create(&threads[i], NULL, wait_at_gate, NULL);
  }
  for (int attempt = 0; attempt < 5000; attempt++) {
    pthread_mutex_lock(&gate_mutex);
    int waiting = gate_waiting;
    pthread_mutex_unlock(&gate_mutex);
    if (waiting == kConsumers) {
      break;
    }
    usleep(1000);
  }
  pthread_mutex_lock(&gate_mutex);
  gate_is_open = true;
  show_error_number("pthread_cond_broadcast", pthread_cond_broadcast(&gate_open));
  pthread_mutex_unlock(&gate_mutex);
  for (int i = 0; i < kConsumers; i++) {
    pthread_join(threads[i], NULL);
  }
  show_value("threads past the gate", gate_passed);
}

static pthread_mutex_t cancel_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never_signalled = PTHREAD_COND_INITIALIZER;
static atomic_int cancel_stage;  // 1: about to wait, 2: cleanup ran with the mutex held

static void unlock_in_cleanup(void* unused) {
  (void)unused;
  // The cancelled wait reacquires the mutex before the cleanup runs.
  if (pthread_mutex_trylock(&cancel_mutex) == EBUSY) {
    atomic_store(&cancel_stage, 2);
  }
  pthread_mutex_unlock(&cancel_mutex);
}

static void* wait_forever(void* unused) {
  (void)unused;
  pthread_mutex_lock(&cancel_mutex);
  pthread_cleanup_push(unlock_in_cleanup, NULL);
  atomic_store(&cancel_stage, 1);
  for (;;) {
    pthread_cond_wait(&never_signalled, &cancel_mutex);
  }
  pthread_cleanup_pop(1);
  return NULL;
}

static void check_cancel(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, wait_forever, NULL);
  while (atomic_load(&cancel_stage) != 1) {
    usleep(1000);
  }
  usleep(20000);  // into the futex wait, most likely; a cancel is the same either way
  show_error_number("pthread_cancel of a thread in pthread_cond_wait", pthread_cancel(thread));
  void* result = NULL;
  show_error_number("pthread_join", pthread_join(thread, &result));
  show_bool("  it ended cancelled", result == PTHREAD_CANCELED);
  show_bool("  its cleanup handler ran holding the mutex", atomic_load(&cancel_stage) == 2);
  show_error_number("the mutex is free again (trylock)", pthread_mutex_trylock(&cancel_mutex));
  pthread_mutex_unlock(&cancel_mutex);
}

int main(void) {
  check_timeouts();
  check_signal();
  check_broadcast();
  check_cancel();
  return finish_checks();
}
