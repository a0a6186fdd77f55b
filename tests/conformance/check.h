// Output helpers shared by the conformance programs.
//
// Each program prints one line per observation. The runner compares a
// native run with a run under ward line by line, so a program prints only
// values that are the same in both: return values, errno names, flags and
// relations between values, never pids, addresses or times.
//
// Two kinds of check:
//   SHOW*   prints what a call returned. The native run is the oracle.
//   EXPECT  prints "yes" or "no" for a fact that Linux guarantees, and
//           counts a "no" as a failure, so that the program exits with 1 and
//           a broken test shows up in its native run already.
#pragma once

// The build defines _GNU_SOURCE on the command line, because the system
// headers each program includes before this one need it too.
#ifndef _GNU_SOURCE
#error "compile the conformance programs with -D_GNU_SOURCE"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

// Line-buffers stdout before main, so that a program killed by a signal
// has printed every line before the fatal call and the diff shows where
// it died.
__attribute__((constructor)) static void line_buffer_stdout(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
}

// Linux's name of an errno value, such as "ENOENT".
static inline const char* errno_name(int error) {
  const char* name = strerrorname_np(error);
  if (name != NULL) {
    return name;
  }
  static char unknown[32];
  snprintf(unknown, sizeof(unknown), "E%d", error);
  return unknown;
}

// Prints "label = value", or "label = -1 ENAME" when the call failed.
static inline void show_result(const char* label, long result, int error) {
  if (result == -1) {
    printf("%s = -1 %s\n", label, errno_name(error));
  } else {
    printf("%s = %ld\n", label, result);
  }
}

// Prints "label = ok", or "label = -1 ENAME" when the call failed. For calls
// whose successful result differs between runs (addresses, pids).
static inline void show_ok(const char* label, long result, int error) {
  if (result == -1) {
    printf("%s = -1 %s\n", label, errno_name(error));
  } else {
    printf("%s = ok\n", label);
  }
}

// Prints the result of a function that returns an error number instead of
// setting errno (clock_nanosleep, pthread_*): "label = 0" or "label = ENAME".
static inline void show_error_number(const char* label, int error) {
  if (error == 0) {
    printf("%s = 0\n", label);
  } else {
    printf("%s = %s\n", label, errno_name(error));
  }
}

// Evaluates CALL once, prints its result and errno, and yields the result.
#define SHOW(label, call)                            \
  ({                                                 \
    errno = 0;                                       \
    long show_result_ = (long)(call);                \
    int show_errno_ = errno;                         \
    show_result((label), show_result_, show_errno_); \
    show_result_;                                    \
  })

// Like SHOW, but prints "ok" in place of a successful result.
#define SHOW_OK(label, call)                     \
  ({                                             \
    errno = 0;                                   \
    long show_result_ = (long)(call);            \
    int show_errno_ = errno;                     \
    show_ok((label), show_result_, show_errno_); \
    show_result_;                                \
  })

// Like SHOW_OK for calls that return a pointer, MAP_FAILED or NULL on failure.
#define SHOW_PTR(label, call)                                                \
  ({                                                                         \
    errno = 0;                                                               \
    void* show_pointer_ = (void*)(call);                                     \
    int show_errno_ = errno;                                                 \
    bool show_failed_ = show_pointer_ == (void*)-1 || show_pointer_ == NULL; \
    show_ok((label), show_failed_ ? -1 : 0, show_errno_);                    \
    show_pointer_;                                                           \
  })

static inline void show_value(const char* label, long value) { printf("%s = %ld\n", label, value); }

static inline void show_octal(const char* label, unsigned long value) {
  printf("%s = %#lo\n", label, value);
}

static inline void show_hex(const char* label, unsigned long value) {
  printf("%s = %#lx\n", label, value);
}

static inline void show_string(const char* label, const char* value) {
  printf("%s = \"%s\"\n", label, value != NULL ? value : "(null)");
}

// Prints an observation that is not guaranteed by Linux, as "label: yes/no".
static inline void show_bool(const char* label, bool value) {
  printf("%s: %s\n", label, value ? "yes" : "no");
}

// Prints a fact that Linux guarantees, as "label: yes/no", and counts "no".
static inline void expect_true(const char* label, bool value) {
  show_bool(label, value);
  if (!value) {
    check_failures++;
  }
}

#define EXPECT(label, condition) expect_true((label), (condition))

// Formats a label with printf syntax into a static buffer, for checks made
// in loops. The result is valid until the next call.
static inline const char* label_of(const char* format, ...) {
  static char buffer[256];
  va_list arguments;
  va_start(arguments, format);
  vsnprintf(buffer, sizeof(buffer), format, arguments);
  va_end(arguments);
  return buffer;
}

// 64-bit FNV-1a hash, to print a digest of data in place of the data.
static inline uint64_t fnv1a(const void* data, size_t size_bytes) {
  const unsigned char* bytes = (const unsigned char*)data;
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size_bytes; i++) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The exit status of a program: 1 when an EXPECT failed, else 0.
static inline int finish_checks(void) {
  fflush(stdout);
  return check_failures == 0 ? 0 : 1;
}
