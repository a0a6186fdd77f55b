// Every syscall handler, for the table.
#pragma once

#include "syscalls/handlers_core.h"
#include "syscalls/handlers_cred.h"
#include "syscalls/handlers_epoll.h"
#include "syscalls/handlers_event_files.h"
#include "syscalls/handlers_file.h"
#include "syscalls/handlers_inotify.h"
#include "syscalls/handlers_ipc.h"
#include "syscalls/handlers_mount.h"
#include "syscalls/handlers_mm.h"
#include "syscalls/handlers_poll.h"
#include "syscalls/handlers_process.h"
#include "syscalls/handlers_seccomp.h"
#include "syscalls/handlers_socket.h"
#include "syscalls/handlers_splice.h"
#include "syscalls/handlers_sync.h"
#include "syscalls/handlers_timer.h"
