// Queue names for the message queue programs. Each name embeds the pid, so
// that runs in parallel never share a queue, and is never printed. Every
// name made here is removed at exit, also when a check failed.
#pragma once

#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MQUEUE_NAMES_MAX 32

static char mqueue_names[MQUEUE_NAMES_MAX][64];
static int mqueue_name_count;
static pid_t mqueue_names_owner;

static void unlink_mqueue_names(void) {
  // A forked child that returns from main must not remove its parent's
  // queues.
  if (getpid() != mqueue_names_owner) {
    return;
  }
  for (int i = 0; i < mqueue_name_count; i++) {
    mq_unlink(mqueue_names[i]);
  }
}

// A fresh name "/ward-mq-PID-TAG" for this process, removed at exit.
static const char* mqueue_name(const char* tag) {
  if (mqueue_name_count == 0) {
    mqueue_names_owner = getpid();
    atexit(unlink_mqueue_names);
  }
  if (mqueue_name_count == MQUEUE_NAMES_MAX) {
    fprintf(stderr, "too many queue names\n");
    exit(2);
  }
  char* name = mqueue_names[mqueue_name_count++];
  snprintf(name, sizeof(mqueue_names[0]), "/ward-mq-%d-%s", (int)getpid(), tag);
  return name;
}
