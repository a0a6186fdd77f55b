// timerfd_create, timerfd_settime and timerfd_gettime: bad clocks, flags
// and settings with their errnos, periodic expiration counts, absolute
// timers, disarming, non-blocking and interrupted reads, TFD_IOC_SET_TICKS,
// CAP_WAKE_ALARM, and readiness in poll and epoll.
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define MILLISECONDS(ms) ((long)(ms)*1000000L)

// TFD_IOC_SET_TICKS from <linux/timerfd.h>.
#define TIMERFD_SET_TICKS _IOW('T', 0, uint64_t)

static struct itimerspec setting_of(long value_ns, long interval_ns) {
  struct itimerspec setting = {
      .it_interval = {.tv_sec = interval_ns / 1000000000L, .tv_nsec = interval_ns % 1000000000L},
      .it_value = {.tv_sec = value_ns / 1000000000L, .tv_nsec = value_ns % 1000000000L},
  };
  return setting;
}

static long nanoseconds_of(struct timespec value) {
  return value.tv_sec * 1000000000L + value.tv_nsec;
}

static void sleep_ms(long ms) {
  struct timespec request = {.tv_sec = ms / 1000, .tv_nsec = MILLISECONDS(ms % 1000)};
  while (nanosleep(&request, &request) == -1 && errno == EINTR) {
  }
}

// Prints the result of a read and, when it returned a count, the count.
static uint64_t show_read(const char* label, int fd) {
  uint64_t count = 0;
  long result = SHOW(label, read(fd, &count, sizeof(count)));
  if (result == sizeof(count)) {
    printf("  expirations %llu\n", (unsigned long long)count);
  }
  return count;
}

static void show_readiness(const char* label, int fd) {
  struct pollfd entry = {.fd = fd, .events = POLLIN | POLLOUT | POLLPRI | POLLRDNORM};
  poll(&entry, 1, 0);
  printf("%s: revents %#x\n", label, entry.revents);
}

static void check_creation(void) {
  SHOW("timerfd_create with an unknown flag", timerfd_create(CLOCK_MONOTONIC, 1));
  SHOW("timerfd_create with O_RDWR", timerfd_create(CLOCK_MONOTONIC, O_RDWR));
  SHOW("timerfd_create on CLOCK_PROCESS_CPUTIME_ID", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
  SHOW("timerfd_create on CLOCK_THREAD_CPUTIME_ID", timerfd_create(CLOCK_THREAD_CPUTIME_ID, 0));
  SHOW("timerfd_create on CLOCK_MONOTONIC_RAW", timerfd_create(CLOCK_MONOTONIC_RAW, 0));
  SHOW("timerfd_create on CLOCK_REALTIME_COARSE", timerfd_create(CLOCK_REALTIME_COARSE, 0));
  SHOW("timerfd_create on CLOCK_TAI", timerfd_create(CLOCK_TAI, 0));
  SHOW("timerfd_create on clock -1", timerfd_create(-1, 0));
  SHOW("timerfd_create on clock 100", timerfd_create(100, 0));

  const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME};
  for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
    int fd = (int)SHOW_OK(label_of("timerfd_create on clock %d", clocks[i]),
                          timerfd_create(clocks[i], 0));
    close(fd);
  }

  int fd = (int)SHOW_OK("timerfd_create", timerfd_create(CLOCK_MONOTONIC, 0));
  SHOW("  FD_CLOEXEC", fcntl(fd, F_GETFD) & FD_CLOEXEC);
  show_hex("  F_GETFL", (unsigned long)fcntl(fd, F_GETFL));
  char link[64] = {0};
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  readlink(path, link, sizeof(link) - 1);
  show_string("  /proc/self/fd link", link);
  uint64_t value = 1;
  SHOW("  write", write(fd, &value, sizeof(value)));
  close(fd);

  fd = (int)SHOW_OK("timerfd_create TFD_CLOEXEC | TFD_NONBLOCK",
                    timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  SHOW("  FD_CLOEXEC", fcntl(fd, F_GETFD) & FD_CLOEXEC);
  show_hex("  F_GETFL", (unsigned long)fcntl(fd, F_GETFL));
  close(fd);
}

static void check_bad_settings(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct itimerspec good = setting_of(MILLISECONDS(100), 0);
  struct itimerspec bad = good;
  SHOW("settime with flag 4", timerfd_settime(fd, 4, &good, NULL));
  bad.it_value.tv_nsec = 1000000000L;
  SHOW("settime with it_value.tv_nsec 1e9", timerfd_settime(fd, 0, &bad, NULL));
  bad = good;
  bad.it_value.tv_nsec = -1;
  SHOW("settime with it_value.tv_nsec -1", timerfd_settime(fd, 0, &bad, NULL));
  bad = good;
  bad.it_value.tv_sec = -1;
  SHOW("settime with it_value.tv_sec -1", timerfd_settime(fd, 0, &bad, NULL));
  bad = good;
  bad.it_interval.tv_nsec = 1000000000L;
  SHOW("settime with it_interval.tv_nsec 1e9", timerfd_settime(fd, 0, &bad, NULL));
  SHOW("settime with a NULL new_value", syscall(SYS_timerfd_settime, fd, 0, NULL, NULL));
  SHOW("settime with an unreadable new_value", syscall(SYS_timerfd_settime, fd, 0, (void*)1, NULL));
  SHOW("settime on a closed fd", timerfd_settime(999, 0, &good, NULL));
  SHOW("settime on fd -1", timerfd_settime(-1, 0, &good, NULL));
  bad.it_value.tv_nsec = -1;
  SHOW("settime on a closed fd with a bad value", timerfd_settime(999, 0, &bad, NULL));
  int pipe_fds[2];
  pipe(pipe_fds);
  SHOW("settime on a pipe", timerfd_settime(pipe_fds[0], 0, &good, NULL));
  struct itimerspec current;
  SHOW("gettime on a pipe", timerfd_gettime(pipe_fds[0], &current));
  SHOW("gettime on a closed fd", timerfd_gettime(999, &current));
  SHOW("gettime into NULL", syscall(SYS_timerfd_gettime, fd, NULL));
  close(pipe_fds[0]);
  close(pipe_fds[1]);

  // The timer is set even when old_value cannot be written.
  SHOW("settime with an unwritable old_value",
       syscall(SYS_timerfd_settime, fd, 0, &good, (void*)1));
  timerfd_gettime(fd, &current);
  EXPECT("  the timer is armed", nanoseconds_of(current.it_value) > 0);
  close(fd);
}

static void check_reads(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct itimerspec current;
  SHOW("gettime of a new timer", timerfd_gettime(fd, &current));
  printf("  it_value %ld it_interval %ld\n", nanoseconds_of(current.it_value),
         nanoseconds_of(current.it_interval));
  show_read("read of a new timer", fd);
  show_readiness("new timer", fd);

  struct itimerspec past = setting_of(1, 0);
  timerfd_settime(fd, TFD_TIMER_ABSTIME, &past, NULL);
  uint64_t count = 0;
  SHOW("read into 4 bytes", read(fd, &count, 4));
  uint64_t wide[2] = {0, 0};
  sleep_ms(5);
  SHOW("read into 16 bytes", read(fd, wide, sizeof(wide)));
  printf("  expirations %llu\n", (unsigned long long)wide[0]);
  SHOW("pread", pread(fd, &count, sizeof(count), 0));
  close(fd);
}

static void check_periodic(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, 0);
  struct itimerspec setting = setting_of(MILLISECONDS(10), MILLISECONDS(10));
  SHOW("settime every 10 ms", timerfd_settime(fd, 0, &setting, NULL));
  sleep_ms(55);
  show_readiness("after 55 ms", fd);
  uint64_t count = 0;
  SHOW("read", read(fd, &count, sizeof(count)));
  EXPECT("  expirations in 5..100", count >= 5 && count <= 100);

  struct itimerspec current;
  timerfd_gettime(fd, &current);
  EXPECT("  gettime it_interval is 10 ms", nanoseconds_of(current.it_interval) == MILLISECONDS(10));
  EXPECT("  gettime it_value in 0..10 ms",
         nanoseconds_of(current.it_value) >= 0 &&
             nanoseconds_of(current.it_value) <= MILLISECONDS(10));

  // A blocking read waits for the next expiration.
  SHOW("blocking read", read(fd, &count, sizeof(count)));
  EXPECT("  at least 1 expiration", count >= 1);

  // gettime of an expired periodic timer counts the expirations it missed.
  sleep_ms(35);
  timerfd_gettime(fd, &current);
  SHOW("read after gettime", read(fd, &count, sizeof(count)));
  EXPECT("  expirations in 3..100", count >= 3 && count <= 100);

  struct itimerspec disarm = setting_of(0, 0);
  struct itimerspec old;
  sleep_ms(25);
  SHOW("settime 0 (disarm)", timerfd_settime(fd, 0, &disarm, &old));
  EXPECT("  old it_interval is 10 ms", nanoseconds_of(old.it_interval) == MILLISECONDS(10));
  EXPECT("  old it_value in 0..10 ms",
         nanoseconds_of(old.it_value) >= 0 && nanoseconds_of(old.it_value) <= MILLISECONDS(10));
  SHOW("gettime after disarm", timerfd_gettime(fd, &current));
  printf("  it_value %ld it_interval %ld\n", nanoseconds_of(current.it_value),
         nanoseconds_of(current.it_interval));
  show_readiness("after disarm", fd);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  show_read("read after disarm", fd);

  // An interval without a value leaves the timer disarmed, but gettime
  // reports the interval.
  struct itimerspec interval_only = setting_of(0, MILLISECONDS(5));
  SHOW("settime with an interval only", timerfd_settime(fd, 0, &interval_only, NULL));
  timerfd_gettime(fd, &current);
  printf("  it_value %ld it_interval %ld\n", nanoseconds_of(current.it_value),
         nanoseconds_of(current.it_interval));
  sleep_ms(15);
  show_read("read", fd);
  close(fd);
}

static void check_absolute(void) {
  const clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
  for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
    printf("clock %d\n", clocks[i]);
    int fd = timerfd_create(clocks[i], 0);
    struct timespec now;
    clock_gettime(clocks[i], &now);
    struct itimerspec setting = setting_of(nanoseconds_of(now) + MILLISECONDS(20), 0);
    SHOW("  settime absolute in 20 ms", timerfd_settime(fd, TFD_TIMER_ABSTIME, &setting, NULL));
    struct itimerspec current;
    timerfd_gettime(fd, &current);
    EXPECT("  gettime it_value in 0..20 ms",
           nanoseconds_of(current.it_value) > 0 &&
               nanoseconds_of(current.it_value) <= MILLISECONDS(20));
    show_read("  blocking read", fd);
    SHOW("  gettime after the expiration", timerfd_gettime(fd, &current));
    printf("  it_value %ld it_interval %ld\n", nanoseconds_of(current.it_value),
           nanoseconds_of(current.it_interval));

    struct itimerspec past = setting_of(nanoseconds_of(now) - MILLISECONDS(1000), 0);
    SHOW("  settime absolute 1 s ago", timerfd_settime(fd, TFD_TIMER_ABSTIME, &past, NULL));
    show_read("  blocking read", fd);

    // A periodic absolute timer started in the past counts every interval
    // since its start.
    struct itimerspec periodic =
        setting_of(nanoseconds_of(now) - MILLISECONDS(1000), MILLISECONDS(100));
    timerfd_settime(fd, TFD_TIMER_ABSTIME, &periodic, NULL);
    uint64_t count = 0;
    SHOW("  read of a timer started 1 s ago every 100 ms", read(fd, &count, sizeof(count)));
    EXPECT("  expirations in 10..13", count >= 10 && count <= 13);

    struct itimerspec cancel = setting_of(nanoseconds_of(now) + MILLISECONDS(10), 0);
    SHOW("  settime TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET",
         timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &cancel, NULL));
    show_read("  blocking read", fd);
    close(fd);
  }
}

static void check_set_ticks(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  uint64_t ticks = 3;
  SHOW("TFD_IOC_SET_TICKS 3", ioctl(fd, TIMERFD_SET_TICKS, &ticks));
  show_readiness("after TFD_IOC_SET_TICKS", fd);
  show_read("read", fd);
  ticks = 0;
  SHOW("TFD_IOC_SET_TICKS 0", ioctl(fd, TIMERFD_SET_TICKS, &ticks));
  SHOW("TFD_IOC_SET_TICKS from NULL", ioctl(fd, TIMERFD_SET_TICKS, NULL));
  SHOW("ioctl FIONREAD", ioctl(fd, 0x541B, &ticks));
  close(fd);
}

static void check_epoll(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  int epoll_fd = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.u64 = 7};
  SHOW("epoll_ctl ADD", epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event));
  struct epoll_event ready[2];
  SHOW("epoll_wait before arming", epoll_wait(epoll_fd, ready, 2, 0));

  struct itimerspec setting = setting_of(MILLISECONDS(10), 0);
  timerfd_settime(fd, 0, &setting, NULL);
  long count = SHOW("epoll_wait for 10 ms timer", epoll_wait(epoll_fd, ready, 2, 5000));
  if (count == 1) {
    printf("  events %#x data %llu\n", ready[0].events, (unsigned long long)ready[0].data.u64);
  }
  show_read("read", fd);
  SHOW("epoll_wait after the read", epoll_wait(epoll_fd, ready, 2, 0));

  struct pollfd entry = {.fd = fd, .events = POLLIN};
  timerfd_settime(fd, 0, &setting, NULL);
  SHOW("poll for 10 ms timer", poll(&entry, 1, 5000));
  printf("  revents %#x\n", entry.revents);
  close(epoll_fd);
  close(fd);
}

static volatile sig_atomic_t alarms;

static void count_alarm(int signal) {
  (void)signal;
  alarms++;
}

static void check_interrupted_read(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, 0);
  struct itimerspec setting = setting_of(MILLISECONDS(10000), 0);
  timerfd_settime(fd, 0, &setting, NULL);

  struct sigaction action = {.sa_handler = count_alarm};
  sigaction(SIGALRM, &action, NULL);
  struct itimerval alarm_in = {.it_value = {.tv_usec = 20000}};
  setitimer(ITIMER_REAL, &alarm_in, NULL);
  uint64_t count = 0;
  SHOW("read interrupted by a handler without SA_RESTART", read(fd, &count, sizeof(count)));
  SHOW("  handler runs", alarms);

  action.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &action, NULL);
  setting = setting_of(MILLISECONDS(60), 0);
  timerfd_settime(fd, 0, &setting, NULL);
  setitimer(ITIMER_REAL, &alarm_in, NULL);
  show_read("read restarted by SA_RESTART", fd);
  SHOW("  handler runs", alarms);
  signal(SIGALRM, SIG_DFL);
  close(fd);
}

// Drops CAP_WAKE_ALARM from the effective set of the calling process.
static void drop_wake_alarm(void) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct data[2];
  syscall(SYS_capget, &header, data);
  data[CAP_WAKE_ALARM / 32].effective &= ~(1U << (CAP_WAKE_ALARM % 32));
  syscall(SYS_capset, &header, data);
}

static void check_alarm_clocks(void) {
  // A root caller has CAP_WAKE_ALARM. The checks without it run in a child.
  int alarm_fd = -1;
  if (geteuid() == 0) {
    alarm_fd = (int)SHOW_OK("timerfd_create on CLOCK_REALTIME_ALARM as root",
                            timerfd_create(CLOCK_REALTIME_ALARM, 0));
    int boottime_fd = (int)SHOW_OK("timerfd_create on CLOCK_BOOTTIME_ALARM as root",
                                   timerfd_create(CLOCK_BOOTTIME_ALARM, TFD_NONBLOCK));
    struct itimerspec setting = setting_of(MILLISECONDS(10), 0);
    SHOW("  settime", timerfd_settime(boottime_fd, 0, &setting, NULL));
    sleep_ms(20);
    show_read("  read", boottime_fd);
    close(boottime_fd);
  }
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    drop_wake_alarm();
    SHOW("timerfd_create on CLOCK_REALTIME_ALARM without CAP_WAKE_ALARM",
         timerfd_create(CLOCK_REALTIME_ALARM, 0));
    SHOW("timerfd_create on CLOCK_BOOTTIME_ALARM without CAP_WAKE_ALARM",
         timerfd_create(CLOCK_BOOTTIME_ALARM, 0));
    SHOW("timerfd_create with a bad flag on CLOCK_BOOTTIME_ALARM without CAP_WAKE_ALARM",
         timerfd_create(CLOCK_BOOTTIME_ALARM, 1));
    if (alarm_fd >= 0) {
      struct itimerspec setting = setting_of(MILLISECONDS(10), 0);
      SHOW("settime of an alarm timer without CAP_WAKE_ALARM",
           timerfd_settime(alarm_fd, 0, &setting, NULL));
    }
    fflush(stdout);
    _exit(0);
  }
  waitpid(child, NULL, 0);
  if (alarm_fd >= 0) {
    close(alarm_fd);
  }
}

int main(void) {
  check_creation();
  check_bad_settings();
  check_reads();
  check_periodic();
  check_absolute();
  check_set_ticks();
  check_epoll();
  check_interrupted_read();
  check_alarm_clocks();
  return finish_checks();
}
