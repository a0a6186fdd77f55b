// The x86_64 syscall table of Linux 6.18. Numbers and names follow the
// kernel's arch/x86/entry/syscalls/syscall_64.tbl. Argument formats follow
// the kernel's prototypes in include/linux/syscalls.h, so a row's argument
// count is what the kernel reads. That is sometimes more than the libc
// wrapper takes, as with the two offset halves of preadv.
//
// One row per line: implementing a syscall changes only its own row, from
//   row(0, "read", {kFd, kPtr, kUint}),
// to
//   row(0, "read", {kFd, kPtr, kUint}, Support::kFull, "", sys_read),
#include "syscalls/table.h"

#include "syscalls/handlers.h"

#include <algorithm>
#include <cstddef>
#include <initializer_list>

namespace ward::syscalls {
namespace {

using enum ArgFormat;

constexpr size_t kMaxArgs = 6;

constexpr std::string_view kNotImplemented = "not implemented";

// The note for numbers Linux reserves on x86_64 without an implementation:
// calls that were never ported, or that were removed (_sysctl, uselib,
// lookup_dcookie). The kernel has no prototype for them, so their rows take
// the argument counts strace prints.
constexpr std::string_view kNotInLinux =
    "not implemented, and Linux on x86_64 returns ENOSYS as well";

constexpr std::string_view kUprobeOnly =
    "not implemented (Linux accepts it only from its own uprobe trampolines)";

// A row with a handler. Constant evaluation fails on more than six formats,
// so a bad row does not compile.
constexpr SyscallEntry row(int number, std::string_view name, std::initializer_list<ArgFormat> args,
                           Support support, std::string_view note, Handler handler) {
  if (args.size() > kMaxArgs) {
    throw "a syscall takes at most six arguments";
  }

  SyscallEntry entry{
      .number = number,
      .name = name,
      .arg_count = static_cast<uint8_t>(args.size()),
      .args = {},
      .support = support,
      .note = note,
      .handler = handler,
  };
  entry.args.fill(kHex);
  std::copy(args.begin(), args.end(), entry.args.begin());
  return entry;
}

// A row ward does not implement yet: Support::kNone and no handler.
constexpr SyscallEntry row(int number, std::string_view name, std::initializer_list<ArgFormat> args,
                           std::string_view note = kNotImplemented) {
  return row(number, name, args, Support::kNone, note, nullptr);
}

// clang-format off
constexpr SyscallEntry kTable[] = {
    row(0, "read", {kFd, kReadBuffer, kUint}, Support::kFull, "", sys_read),
    row(1, "write", {kFd, kWriteBuffer, kUint}, Support::kFull, "", sys_write),
    row(2, "open", {kPath, kOpenFlags, kMode}, Support::kPartial, "Creating, O_TRUNC and O_TMPFILE work on the default memory overlay root and tmpfs, creating and O_TRUNC on read-write binds too (O_TMPFILE there is EOPNOTSUPP); EROFS for them and for write access on read-only binds and with --overlay none; a host FIFO opens for reading only (EACCES); a device node on tmpfs opens as ENXIO; O_DIRECT is accepted with buffered I/O", sys_open),
    row(3, "close", {kFd}, Support::kFull, "", sys_close),
    row(4, "stat", {kPath, kStatOut}, Support::kFull, "", sys_stat),
    row(5, "fstat", {kFd, kStatOut}, Support::kFull, "", sys_fstat),
    row(6, "lstat", {kPath, kStatOut}, Support::kFull, "", sys_lstat),
    row(7, "poll", {kPollFds, kUint, kInt}, Support::kFull, "", sys_poll),
    row(8, "lseek", {kFd, kLong, kWhence}, Support::kFull, "", sys_lseek),
    row(9, "mmap", {kPtr, kUint, kProt, kMmapFlags, kFd, kHex}, Support::kPartial, "MAP_HUGETLB fails with ENOMEM; MAP_GROWSDOWN mappings do not grow; MAP_SYNC is EOPNOTSUPP", sys_mmap),
    row(10, "mprotect", {kPtr, kUint, kProt}, Support::kPartial, "PROT_GROWSDOWN and PROT_GROWSUP do not extend to the rest of a stack mapping", sys_mprotect),
    row(11, "munmap", {kPtr, kUint}, Support::kFull, "", sys_munmap),
    row(12, "brk", {kPtr}, Support::kFull, "", sys_brk),
    row(13, "rt_sigaction", {kSignal, kSigaction, kSigactionOut, kUint}, Support::kFull, "", sys_rt_sigaction),
    row(14, "rt_sigprocmask", {kSigprocmaskHow, kSigset, kSigsetOut, kUint}, Support::kFull, "", sys_rt_sigprocmask),
    row(15, "rt_sigreturn", {}, Support::kPartial, "a frame that asks for another code segment (32-bit mode) keeps the 64-bit one", sys_rt_sigreturn),
    row(16, "ioctl", {kFd, kIoctlCmd, kHex}, Support::kPartial, "FIOCLEX, FIONCLEX, FIONBIO, FIONREAD and FIOQSIZE on every file; TCGETS and TIOCGWINSZ on ward's terminal stdio; other terminal requests (TCSETS*, TIOCGPGRP, TIOCSWINSZ...) and FIOASYNC are ENOTTY. On every socket SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFMTU, SIOCGIFMETRIC, SIOCGIFTXQLEN and SIOCGIFHWADDR (and SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR and SIOCGIFDSTADDR on AF_INET sockets) describe lo, the one interface; other names are ENODEV, and interface changes (SIOCSIFFLAGS, SIOCSIFMTU...) are EPERM without CAP_NET_ADMIN and EOPNOTSUPP with it", sys_ioctl),
    row(17, "pread64", {kFd, kReadBuffer, kUint, kLong}, Support::kFull, "", sys_pread64),
    row(18, "pwrite64", {kFd, kWriteBuffer, kUint, kLong}, Support::kFull, "", sys_pwrite64),
    row(19, "readv", {kFd, kIovecOut, kUint}, Support::kFull, "", sys_readv),
    row(20, "writev", {kFd, kIovec, kUint}, Support::kFull, "", sys_writev),
    row(21, "access", {kPath, kAccessMode}, Support::kFull, "", sys_access),
    row(22, "pipe", {kPtr}, Support::kFull, "", sys_pipe),
    row(23, "select", {kInt, kPtr, kPtr, kPtr, kTimeval}, Support::kPartial, "nfds is capped at an fd-table size computed from the fds open now; Linux's table never shrinks, so there a closed fd below an old, larger size is still EBADF", sys_select),
    row(24, "sched_yield", {}, Support::kFull, "", sys_sched_yield),
    row(25, "mremap", {kPtr, kUint, kUint, kHex, kPtr}, Support::kPartial, "MREMAP_DONTUNMAP and duplicating a shared mapping with old_size 0 fail with EINVAL", sys_mremap),
    row(26, "msync", {kPtr, kUint, kHex}, Support::kFull, "", sys_msync),
    row(27, "mincore", {kPtr, kUint, kPtr}, Support::kFull, "", sys_mincore),
    row(28, "madvise", {kPtr, kUint, kInt}, Support::kPartial, "MADV_HWPOISON and MADV_SOFT_OFFLINE fail with EPERM", sys_madvise),
    row(29, "shmget", {kInt, kUint, kHex}, Support::kPartial, "SHM_HUGETLB is ENOMEM, as on Linux without a huge page pool", sys_shmget),
    row(30, "shmat", {kInt, kPtr, kHex}, Support::kFull, "", sys_shmat),
    row(31, "shmctl", {kInt, kInt, kPtr}, Support::kPartial, "SHM_LOCK sets the SHM_LOCKED flag without pinning pages on the host", sys_shmctl),
    row(32, "dup", {kFd}, Support::kFull, "", sys_dup),
    row(33, "dup2", {kFd, kFd}, Support::kFull, "", sys_dup2),
    row(34, "pause", {}, Support::kFull, "", sys_pause),
    row(35, "nanosleep", {kTimespec, kPtr}, Support::kFull, "", sys_nanosleep),
    row(36, "getitimer", {kInt, kPtr}, Support::kFull, "", sys_getitimer),
    row(37, "alarm", {kUint}, Support::kFull, "", sys_alarm),
    row(38, "setitimer", {kInt, kPtr, kPtr}, Support::kFull, "", sys_setitimer),
    row(39, "getpid", {}, Support::kFull, "", sys_getpid),
    row(40, "sendfile", {kFd, kFd, kPtr, kUint}, Support::kPartial, "the sentry copies through a buffer; a socket may be the output, or the input when the output is a pipe, as in Linux", sys_sendfile),
    row(41, "socket", {kSocketFamily, kSocketType, kInt}, Support::kPartial, "AF_UNIX, AF_INET and AF_INET6 TCP and UDP on loopback, and AF_NETLINK, all kept in the sentry; SOCK_RAW is EPERM, ping sockets are EACCES, other families are EAFNOSUPPORT. AF_NETLINK serves NETLINK_ROUTE only (other protocols are EPROTONOSUPPORT): RTM_GETLINK dumps and queries and RTM_GETADDR dumps describe the loopback device alone (lo, 127.0.0.1/8, ::1/128), with zero traffic counters in IFLA_STATS and IFLA_STATS64; RTM_GETROUTE, other message types and changes get an NLMSG_ERROR of EOPNOTSUPP (EPERM without CAP_NET_ADMIN), and sends to a multicast group are EOPNOTSUPP", sys_socket),
    row(42, "connect", {kFd, kSockaddr, kInt}, Support::kPartial, "AF_INET and AF_INET6 reach loopback only (127.0.0.0/8 and ::1); other destinations are ENETUNREACH; a TCP connection completes at once", sys_connect),
    row(43, "accept", {kFd, kSockaddrOut, kSocklenInOut}, Support::kFull, "", sys_accept),
    row(44, "sendto", {kFd, kWriteBuffer, kUint, kMsgFlags, kSockaddr, kInt}, Support::kPartial, "MSG_OOB is EOPNOTSUPP; UDP reaches loopback only and other destinations are ENETUNREACH", sys_sendto),
    row(45, "recvfrom", {kFd, kReadBuffer, kUint, kMsgFlags, kSockaddrOut, kSocklenInOut}, Support::kPartial, "MSG_OOB is EOPNOTSUPP; MSG_ERRQUEUE on an inet socket is EAGAIN, its error queue being always empty", sys_recvfrom),
    row(46, "sendmsg", {kFd, kMsghdr, kMsgFlags}, Support::kPartial, "SCM_RIGHTS and SCM_CREDENTIALS only; MSG_OOB is EOPNOTSUPP; UDP reaches loopback only and other destinations are ENETUNREACH", sys_sendmsg),
    row(47, "recvmsg", {kFd, kMsghdrOut, kMsgFlags}, Support::kPartial, "SCM_RIGHTS and SCM_CREDENTIALS only; MSG_OOB and MSG_ERRQUEUE are not supported", sys_recvmsg),
    row(48, "shutdown", {kFd, kInt}, Support::kFull, "", sys_shutdown),
    row(49, "bind", {kFd, kSockaddr, kInt}, Support::kPartial, "AF_INET and AF_INET6 bind loopback or the wildcard; other addresses are EADDRNOTAVAIL, as in a network namespace with only lo; a closed TCP socket leaves no TIME_WAIT holding its port", sys_bind),
    row(50, "listen", {kFd, kInt}, Support::kFull, "", sys_listen),
    row(51, "getsockname", {kFd, kSockaddrOut, kSocklenInOut}, Support::kFull, "", sys_getsockname),
    row(52, "getpeername", {kFd, kSockaddrOut, kSocklenInOut}, Support::kFull, "", sys_getpeername),
    row(53, "socketpair", {kSocketFamily, kSocketType, kInt, kPtr}, Support::kPartial, "AF_UNIX only", sys_socketpair),
    row(54, "setsockopt", {kFd, kInt, kInt, kPtr, kInt}, Support::kPartial, "SOL_SOCKET options of AF_UNIX and inet sockets; for inet also TCP_NODELAY, TCP_CORK, TCP_QUICKACK (stored only), TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_SYNCNT, TCP_LINGER2, TCP_USER_TIMEOUT, IP_TOS, IP_TTL, IPV6_V6ONLY, IPV6_UNICAST_HOPS and IPV6_TCLASS; on AF_NETLINK SO_SNDBUF, SO_RCVBUF, SO_PASSCRED, SO_RCVTIMEO, SO_SNDTIMEO and the SOL_NETLINK options NETLINK_ADD_MEMBERSHIP, NETLINK_DROP_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_NO_ENOBUFS, NETLINK_BROADCAST_ERROR and NETLINK_LISTEN_ALL_NSID. Other IP, IPv6, TCP and UDP options, SO_PEEK_OFF, SO_PASSPIDFD, SO_TIMESTAMP and the *FORCE options, and on AF_NETLINK NETLINK_PKTINFO, NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK are ENOPROTOOPT", sys_setsockopt),
    row(55, "getsockopt", {kFd, kInt, kInt, kPtr, kPtr}, Support::kPartial, "SOL_SOCKET options of AF_UNIX and inet sockets; for inet also the TCP, IP and IPv6 options setsockopt takes and TCP_INFO (state, MSS, byte counts; timing fields zero); on AF_NETLINK SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_SNDBUF, SO_RCVBUF, SO_ACCEPTCONN, SO_PASSCRED, SO_RCVTIMEO, SO_SNDTIMEO, NETLINK_LIST_MEMBERSHIPS and the SOL_NETLINK flags setsockopt sets. SO_PEEK_OFF, SO_PEERPIDFD, SO_PEERSEC and SO_COOKIE, and on AF_NETLINK NETLINK_PKTINFO, NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK are ENOPROTOOPT", sys_getsockopt),
    row(56, "clone", {kCloneFlags, kPtr, kPtr, kPtr, kPtr}, Support::kPartial, "namespace flags other than CLONE_NEWNS (CLONE_NEW*), CLONE_INTO_CGROUP and CLONE_PIDFD with CLONE_THREAD fail with EINVAL and are recorded as gaps", sys_clone),
    row(57, "fork", {}, Support::kFull, "", sys_fork),
    row(58, "vfork", {}, Support::kFull, "", sys_vfork),
    row(59, "execve", {kPath, kStringArray, kEnvArray}, Support::kPartial, "set-user-ID and set-group-ID bits and file capabilities on the program are ignored", sys_execve),
    row(60, "exit", {kInt}, Support::kFull, "", sys_exit),
    row(61, "wait4", {kInt, kWaitStatusOut, kWaitOptions, kPtr}, Support::kPartial, "no core files are written, so the core bit (WCOREDUMP) is never set", sys_wait4),
    row(62, "kill", {kInt, kSignal}, Support::kFull, "", sys_kill),
    row(63, "uname", {kPtr}, Support::kFull, "", sys_uname),
    row(64, "semget", {kInt, kInt, kHex}, Support::kFull, "", sys_semget),
    row(65, "semop", {kInt, kPtr, kUint}, Support::kFull, "", sys_semop),
    row(66, "semctl", {kInt, kInt, kInt, kHex}, Support::kFull, "", sys_semctl),
    row(67, "shmdt", {kPtr}, Support::kFull, "", sys_shmdt),
    row(68, "msgget", {kInt, kHex}, Support::kFull, "", sys_msgget),
    row(69, "msgsnd", {kInt, kPtr, kUint, kHex}, Support::kFull, "a message for a waiting receiver is queued until that receiver runs, where Linux hands it over at once", sys_msgsnd),
    row(70, "msgrcv", {kInt, kPtr, kUint, kLong, kHex}, Support::kFull, "MSG_COPY included; a waiting receiver takes its message from the queue when it runs, so another receiver may take it first", sys_msgrcv),
    row(71, "msgctl", {kInt, kInt, kPtr}, Support::kFull, "", sys_msgctl),
    row(72, "fcntl", {kFd, kFcntlCmd, kHex}, Support::kPartial, "F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_GETPIPE_SZ, F_SETPIPE_SZ, F_DUPFD_QUERY, F_CREATED_QUERY, and F_ADD_SEALS and F_GET_SEALS on tmpfs files; F_CREATED_QUERY always reports 0; F_SETPIPE_SZ applies pipe-max-size but not the per-user pipe-user-pages-soft limit; owners, signals, leases, F_NOTIFY and the write hints are EINVAL; F_SETFL can turn on O_DIRECT only on pipes (packet mode), and cannot turn on O_ASYNC on pipes and host streams (EINVAL); locks are the sandbox's own, unseen by host processes, and two hard links of one host file hold separate locks", sys_fcntl),
    row(73, "flock", {kFd, kInt}, Support::kPartial, "LOCK_MAND is ignored, as Linux ignores it; locks are the sandbox's own, unseen by host processes, and two hard links of one host file hold separate locks", sys_flock),
    row(74, "fsync", {kFd}, Support::kPartial, "Memory filesystems (the overlay root, tmpfs) have nothing to flush and return 0, as Linux's tmpfs; a file of a read-write bind or ward's stdio is flushed on the host; EINVAL for pipes, sockets, devices and procfs as on Linux, and for sysfs files, where Linux returns 0", sys_fsync),
    row(75, "fdatasync", {kFd}, Support::kPartial, "As fsync: the host's fdatasync for files of read-write binds and ward's stdio; EINVAL for pipes, sockets, devices and procfs as on Linux, and for sysfs files, where Linux returns 0", sys_fdatasync),
    row(76, "truncate", {kPath, kLong}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; ETXTBSY for a running program is not reported", sys_truncate),
    row(77, "ftruncate", {kFd, kLong}, Support::kPartial, "Works on files of the default memory overlay root, tmpfs and read-write binds, and on ward's stdio when it is a host regular file open for writing; ETXTBSY for a running program is not reported", sys_ftruncate),
    row(78, "getdents", {kFd, kPtr, kUint}, Support::kFull, "", sys_getdents),
    row(79, "getcwd", {kPtr, kUint}, Support::kFull, "", sys_getcwd),
    row(80, "chdir", {kPath}, Support::kFull, "", sys_chdir),
    row(81, "fchdir", {kFd}, Support::kFull, "", sys_fchdir),
    row(82, "rename", {kPath, kPath}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; on the overlay root a directory that exists on the host cannot move (EXDEV, as Linux's overlayfs without redirect_dir; mv then copies it)", sys_rename),
    row(83, "mkdir", {kPath, kMode}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_mkdir),
    row(84, "rmdir", {kPath}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_rmdir),
    row(85, "creat", {kPath, kMode}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_creat),
    row(86, "link", {kPath, kPath}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_link),
    row(87, "unlink", {kPath}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_unlink),
    row(88, "symlink", {kPath, kPath}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_symlink),
    row(89, "readlink", {kPath, kPtr, kUint}, Support::kFull, "", sys_readlink),
    row(90, "chmod", {kPath, kMode}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; a read-write bind refuses the set-user-ID and set-group-ID bits on files (EPERM)", sys_chmod),
    row(91, "fchmod", {kFd, kMode}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; a read-write bind refuses the set-user-ID and set-group-ID bits on files (EPERM); EPERM on pipes and ward's stdio", sys_fchmod),
    row(92, "chown", {kPath, kInt, kInt}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_chown),
    row(93, "fchown", {kFd, kInt, kInt}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; EPERM on pipes and ward's stdio", sys_fchown),
    row(94, "lchown", {kPath, kInt, kInt}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_lchown),
    row(95, "umask", {kMode}, Support::kFull, "", sys_umask),
    row(96, "gettimeofday", {kTimevalOut, kPtr}, Support::kFull, "", sys_gettimeofday),
    row(97, "getrlimit", {kRlimitResource, kRlimitOut}, Support::kFull, "", sys_getrlimit),
    row(98, "getrusage", {kInt, kPtr}, Support::kPartial, "ru_inblock and ru_oublock are zero (the sentry does the guest's file I/O); CPU times, faults, context switches and max RSS come from the host's accounting of the stub", sys_getrusage),
    row(99, "sysinfo", {kPtr}, Support::kPartial, "load averages read 0", sys_sysinfo),
    row(100, "times", {kPtr}, Support::kFull, "", sys_times),
    row(101, "ptrace", {kLong, kLong, kPtr, kHex}),
    row(102, "getuid", {}, Support::kFull, "", sys_getuid),
    row(103, "syslog", {kInt, kPtr, kInt}),
    row(104, "getgid", {}, Support::kFull, "", sys_getgid),
    row(105, "setuid", {kInt}, Support::kFull, "", sys_setuid),
    row(106, "setgid", {kInt}, Support::kFull, "", sys_setgid),
    row(107, "geteuid", {}, Support::kFull, "", sys_geteuid),
    row(108, "getegid", {}, Support::kFull, "", sys_getegid),
    row(109, "setpgid", {kInt, kInt}, Support::kFull, "", sys_setpgid),
    row(110, "getppid", {}, Support::kFull, "", sys_getppid),
    row(111, "getpgrp", {}, Support::kFull, "", sys_getpgrp),
    row(112, "setsid", {}, Support::kFull, "", sys_setsid),
    row(113, "setreuid", {kInt, kInt}, Support::kFull, "", sys_setreuid),
    row(114, "setregid", {kInt, kInt}, Support::kFull, "", sys_setregid),
    row(115, "getgroups", {kInt, kPtr}, Support::kFull, "", sys_getgroups),
    row(116, "setgroups", {kInt, kPtr}, Support::kFull, "", sys_setgroups),
    row(117, "setresuid", {kInt, kInt, kInt}, Support::kFull, "", sys_setresuid),
    row(118, "getresuid", {kPtr, kPtr, kPtr}, Support::kFull, "", sys_getresuid),
    row(119, "setresgid", {kInt, kInt, kInt}, Support::kFull, "", sys_setresgid),
    row(120, "getresgid", {kPtr, kPtr, kPtr}, Support::kFull, "", sys_getresgid),
    row(121, "getpgid", {kInt}, Support::kFull, "", sys_getpgid),
    row(122, "setfsuid", {kInt}, Support::kFull, "", sys_setfsuid),
    row(123, "setfsgid", {kInt}, Support::kFull, "", sys_setfsgid),
    row(124, "getsid", {kInt}, Support::kFull, "", sys_getsid),
    row(125, "capget", {kPtr, kPtr}, Support::kFull, "", sys_capget),
    row(126, "capset", {kPtr, kPtr}, Support::kFull, "", sys_capset),
    row(127, "rt_sigpending", {kSigsetOut, kUint}, Support::kFull, "", sys_rt_sigpending),
    row(128, "rt_sigtimedwait", {kPtr, kPtr, kPtr, kUint}, Support::kFull, "", sys_rt_sigtimedwait),
    row(129, "rt_sigqueueinfo", {kInt, kSignal, kPtr}, Support::kPartial, "RLIMIT_SIGPENDING bounds the queued real-time signals of each process, not of each user", sys_rt_sigqueueinfo),
    row(130, "rt_sigsuspend", {kSigset, kUint}, Support::kFull, "", sys_rt_sigsuspend),
    row(131, "sigaltstack", {kPtr, kPtr}, Support::kFull, "", sys_sigaltstack),
    row(132, "utime", {kPath, kPtr}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_utime),
    row(133, "mknod", {kPath, kMode, kHex}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; device nodes can be made (with CAP_MKNOD) but open as ENXIO, and a read-write bind refuses them (EPERM)", sys_mknod),
    row(134, "uselib", {kPath}, kNotInLinux),
    row(135, "personality", {kHex}, Support::kPartial, "the persona is stored and reported, but execve ignores ADDR_NO_RANDOMIZE and the other flags", sys_personality),
    row(136, "ustat", {kHex, kPtr}),
    row(137, "statfs", {kPath, kPtr}, Support::kFull, "", sys_statfs),
    row(138, "fstatfs", {kFd, kPtr}, Support::kFull, "", sys_fstatfs),
    row(139, "sysfs", {kInt, kHex, kHex}),
    row(140, "getpriority", {kInt, kInt}, Support::kFull, "", sys_getpriority),
    row(141, "setpriority", {kInt, kInt, kInt}, Support::kPartial, "the nice value is recorded for the guest but does not change host scheduling", sys_setpriority),
    row(142, "sched_setparam", {kInt, kPtr}, Support::kPartial, "the priority is recorded for the guest but does not change host scheduling", sys_sched_setparam),
    row(143, "sched_getparam", {kInt, kPtr}, Support::kFull, "", sys_sched_getparam),
    row(144, "sched_setscheduler", {kInt, kInt, kPtr}, Support::kPartial, "the policy is recorded for the guest but does not change host scheduling; SCHED_DEADLINE is EINVAL", sys_sched_setscheduler),
    row(145, "sched_getscheduler", {kInt}, Support::kFull, "", sys_sched_getscheduler),
    row(146, "sched_get_priority_max", {kInt}, Support::kFull, "", sys_sched_get_priority_max),
    row(147, "sched_get_priority_min", {kInt}, Support::kFull, "", sys_sched_get_priority_min),
    row(148, "sched_rr_get_interval", {kInt, kPtr}, Support::kPartial, "a fair thread reports the host's slice, not one set with sched_setattr", sys_sched_rr_get_interval),
    row(149, "mlock", {kPtr, kUint}),
    row(150, "munlock", {kPtr, kUint}),
    row(151, "mlockall", {kHex}),
    row(152, "munlockall", {}),
    row(153, "vhangup", {}),
    row(154, "modify_ldt", {kInt, kPtr, kUint}),
    row(155, "pivot_root", {kPath, kPath}),
    row(156, "_sysctl", {kPtr}, kNotInLinux),
    row(157, "prctl", {kInt, kHex, kHex, kHex, kHex}, Support::kPartial, "options other than the name, seccomp, parent-death signal, dumpable, keepcaps, capability bounding and ambient sets, securebits, timer slack, THP, no_new_privs, child subreaper and tid address are EINVAL; timer slack and THP are recorded only", sys_prctl),
    row(158, "arch_prctl", {kHex, kHex}, Support::kPartial, "ARCH_SET_CPUID to make cpuid fault is ENODEV; AMX and shadow stack codes are EINVAL", sys_arch_prctl),
    row(159, "adjtimex", {kPtr}),
    row(160, "setrlimit", {kRlimitResource, kRlimit}, Support::kPartial, "limits are stored; RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_STACK, RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE and RLIMIT_SIGPENDING (counted per process) are enforced, the others are not", sys_setrlimit),
    row(161, "chroot", {kPath}, Support::kFull, "", sys_chroot),
    row(162, "sync", {}, Support::kFull, "Flushes the host filesystems of the read-write binds; the memory filesystems have nothing to flush", sys_sync),
    row(163, "acct", {kPath}),
    row(164, "settimeofday", {kTimeval, kPtr}),
    row(165, "mount", {kPath, kPath, kString, kHex, kPtr}, Support::kPartial, "tmpfs (size=, nr_blocks=, mode=, uid=, gid=), proc, sysfs, devtmpfs, bind (MS_BIND, MS_REC), remount, MS_MOVE and propagation flags on the sentry's mount tree; no block-device filesystems, no nr_inodes=, MS_SHARED sends no events between peers, MS_NOSYMFOLLOW missing", sys_mount),
    row(166, "umount2", {kPath, kHex}, Support::kPartial, "MNT_FORCE has no effect on ward's filesystems; unmounting the caller's root is EBUSY (Linux remounts it read-only)", sys_umount2),
    row(167, "swapon", {kPath, kHex}),
    row(168, "swapoff", {kPath}),
    row(169, "reboot", {kHex, kHex, kHex, kPtr}),
    row(170, "sethostname", {kPtr, kInt}),
    row(171, "setdomainname", {kPtr, kInt}),
    row(172, "iopl", {kInt}),
    row(173, "ioperm", {kHex, kUint, kInt}),
    row(174, "create_module", {kString, kUint}, kNotInLinux),
    row(175, "init_module", {kPtr, kUint, kString}),
    row(176, "delete_module", {kString, kHex}),
    row(177, "get_kernel_syms", {kPtr}, kNotInLinux),
    row(178, "query_module", {kString, kInt, kPtr, kUint, kPtr}, kNotInLinux),
    row(179, "quotactl", {kHex, kPath, kInt, kPtr}),
    row(180, "nfsservctl", {kInt, kPtr, kPtr}, kNotInLinux),
    row(181, "getpmsg", {kHex, kHex, kHex, kHex, kHex}, kNotInLinux),
    row(182, "putpmsg", {kHex, kHex, kHex, kHex, kHex}, kNotInLinux),
    row(183, "afs_syscall", {kHex, kHex, kHex, kHex, kHex}, kNotInLinux),
    row(184, "tuxcall", {kHex, kHex, kHex}, kNotInLinux),
    row(185, "security", {kHex, kHex, kHex}, kNotInLinux),
    row(186, "gettid", {}, Support::kFull, "", sys_gettid),
    row(187, "readahead", {kFd, kLong, kUint}, Support::kFull, "Checked as Linux; then 0, because the sentry's files have no page cache to fill", sys_readahead),
    row(188, "setxattr", {kPath, kString, kPtr, kUint, kHex}, Support::kPartial, "user.*, trusted.* and security.* attributes are stored on the default memory overlay root and tmpfs, user.* only on read-write binds (EPERM for others); EROFS on read-only binds and with --overlay none; EOPNOTSUPP on a pipe's and for system.* on tmpfs", sys_setxattr),
    row(189, "lsetxattr", {kPath, kString, kPtr, kUint, kHex}, Support::kPartial, "user.*, trusted.* and security.* attributes are stored on the default memory overlay root and tmpfs, user.* only on read-write binds (EPERM for others); EROFS on read-only binds and with --overlay none; EOPNOTSUPP on a pipe's and for system.* on tmpfs", sys_lsetxattr),
    row(190, "fsetxattr", {kFd, kString, kPtr, kUint, kHex}, Support::kPartial, "user.*, trusted.* and security.* attributes are stored on the default memory overlay root and tmpfs, user.* only on read-write binds (EPERM for others); EROFS on read-only binds and with --overlay none; EOPNOTSUPP on a pipe's and for system.* on tmpfs", sys_fsetxattr),
    row(191, "getxattr", {kPath, kString, kPtr, kUint}, Support::kPartial, "trusted.* attributes of host files read as absent (ENODATA); /proc, /sys, /dev, pipes and stdio have no attributes (EOPNOTSUPP)", sys_getxattr),
    row(192, "lgetxattr", {kPath, kString, kPtr, kUint}, Support::kPartial, "trusted.* attributes of host files read as absent (ENODATA); /proc, /sys, /dev, pipes and stdio have no attributes (EOPNOTSUPP)", sys_lgetxattr),
    row(193, "fgetxattr", {kFd, kString, kPtr, kUint}, Support::kPartial, "trusted.* attributes of host files read as absent (ENODATA); /proc, /sys, /dev, pipes and stdio have no attributes (EOPNOTSUPP)", sys_fgetxattr),
    row(194, "listxattr", {kPath, kPtr, kUint}, Support::kPartial, "host files are listed without their trusted.* names", sys_listxattr),
    row(195, "llistxattr", {kPath, kPtr, kUint}, Support::kPartial, "host files are listed without their trusted.* names", sys_llistxattr),
    row(196, "flistxattr", {kFd, kPtr, kUint}, Support::kPartial, "host files are listed without their trusted.* names", sys_flistxattr),
    row(197, "removexattr", {kPath, kString}, Support::kPartial, "Works on the default memory overlay root, tmpfs and the user.* attributes of read-write binds; EROFS on read-only binds and with --overlay none; EOPNOTSUPP on a pipe's", sys_removexattr),
    row(198, "lremovexattr", {kPath, kString}, Support::kPartial, "Works on the default memory overlay root, tmpfs and the user.* attributes of read-write binds; EROFS on read-only binds and with --overlay none; EOPNOTSUPP on a pipe's", sys_lremovexattr),
    row(199, "fremovexattr", {kFd, kString}, Support::kPartial, "Works on the default memory overlay root, tmpfs and the user.* attributes of read-write binds; EROFS on read-only binds and with --overlay none; EOPNOTSUPP on a pipe's", sys_fremovexattr),
    row(200, "tkill", {kInt, kSignal}, Support::kFull, "", sys_tkill),
    row(201, "time", {kPtr}, Support::kFull, "", sys_time),
    row(202, "futex", {kPtr, kFutexOp, kInt, kTimespec, kPtr, kHex}, Support::kPartial, "FUTEX_WAKE_OP's operation is not atomic against guest threads writing the word at the same time; priority inheritance changes no priority (the sandbox has no real-time priorities); a writable private file mapping's words are keyed by address even before they are written", sys_futex),
    row(203, "sched_setaffinity", {kInt, kUint, kPtr}, Support::kFull, "the mask is applied to the guest thread's host thread", sys_sched_setaffinity),
    row(204, "sched_getaffinity", {kInt, kUint, kPtr}, Support::kFull, "", sys_sched_getaffinity),
    row(205, "set_thread_area", {kPtr}, kNotInLinux),
    row(206, "io_setup", {kUint, kPtr}),
    row(207, "io_destroy", {kHex}),
    row(208, "io_getevents", {kHex, kLong, kLong, kPtr, kPtr}),
    row(209, "io_submit", {kHex, kLong, kPtr}),
    row(210, "io_cancel", {kHex, kPtr, kPtr}),
    row(211, "get_thread_area", {kPtr}, kNotInLinux),
    row(212, "lookup_dcookie", {kHex, kPtr, kUint}, kNotInLinux),
    row(213, "epoll_create", {kInt}, Support::kPartial, "lseek on the epoll fd fails with ESPIPE where Linux returns 0; no /proc/pid/fdinfo items", sys_epoll_create),
    row(214, "epoll_ctl_old", {kHex, kHex, kHex, kHex}, kNotInLinux),
    row(215, "epoll_wait_old", {kHex, kHex, kHex, kHex}, kNotInLinux),
    row(216, "remap_file_pages", {kPtr, kUint, kProt, kUint, kHex}),
    row(217, "getdents64", {kFd, kPtr, kUint}, Support::kFull, "", sys_getdents64),
    row(218, "set_tid_address", {kPtr}, Support::kFull, "", sys_set_tid_address),
    row(219, "restart_syscall", {}, Support::kFull, "", sys_restart_syscall),
    row(220, "semtimedop", {kInt, kPtr, kUint, kPtr}, Support::kFull, "", sys_semtimedop),
    row(221, "fadvise64", {kFd, kLong, kUint, kInt}, Support::kFull, "Checked as Linux; valid advice has no effect, because the sentry's files have no page cache to tune", sys_fadvise64),
    row(222, "timer_create", {kClockId, kPtr, kPtr}, Support::kPartial, "alarm clocks run as timers on their base clock and never wake a suspended host; an absolute CLOCK_REALTIME or CLOCK_TAI expiry does not follow host clock changes", sys_timer_create),
    row(223, "timer_settime", {kInt, kHex, kPtr, kPtr}, Support::kPartial, "an absolute CLOCK_REALTIME or CLOCK_TAI expiry does not follow host clock changes", sys_timer_settime),
    row(224, "timer_gettime", {kInt, kPtr}, Support::kFull, "", sys_timer_gettime),
    row(225, "timer_getoverrun", {kInt}, Support::kFull, "", sys_timer_getoverrun),
    row(226, "timer_delete", {kInt}, Support::kFull, "", sys_timer_delete),
    row(227, "clock_settime", {kClockId, kTimespec}, Support::kFull, "always EPERM: the sandbox cannot set the host's clock", sys_clock_settime),
    row(228, "clock_gettime", {kClockId, kTimespecOut}, Support::kFull, "", sys_clock_gettime),
    row(229, "clock_getres", {kClockId, kTimespecOut}, Support::kFull, "", sys_clock_getres),
    row(230, "clock_nanosleep", {kClockId, kHex, kTimespec, kPtr}, Support::kPartial, "an absolute sleep does not follow host clock changes; alarm clocks sleep on their base clock and never wake a suspended host", sys_clock_nanosleep),
    row(231, "exit_group", {kInt}, Support::kFull, "", sys_exit_group),
    row(232, "epoll_wait", {kFd, kEpollEventsOut, kInt, kInt}, Support::kFull, "", sys_epoll_wait),
    row(233, "epoll_ctl", {kFd, kEpollCtlOp, kFd, kEpollEvent}, Support::kPartial, "no max_user_watches limit (ENOSPC) and no reverse-path wake-up limit; EPOLLWAKEUP is accepted and has no effect", sys_epoll_ctl),
    row(234, "tgkill", {kInt, kInt, kSignal}, Support::kFull, "", sys_tgkill),
    row(235, "utimes", {kPath, kPtr}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_utimes),
    row(236, "vserver", {kHex, kHex, kHex, kHex, kHex}, kNotInLinux),
    row(237, "mbind", {kPtr, kUint, kInt, kPtr, kUint, kHex}),
    row(238, "set_mempolicy", {kInt, kPtr, kUint}),
    row(239, "get_mempolicy", {kPtr, kPtr, kUint, kPtr, kHex}),
    row(240, "mq_open", {kPath, kOpenFlags, kMode, kPtr}, Support::kPartial, "per-sandbox queues with the default /proc/sys/fs/mqueue limits, which cannot be changed; no /dev/mqueue mount", sys_mq_open),
    row(241, "mq_unlink", {kPath}, Support::kFull, "", sys_mq_unlink),
    row(242, "mq_timedsend", {kFd, kPtr, kUint, kUint, kPtr}, Support::kPartial, "an absolute timeout does not follow host clock changes", sys_mq_timedsend),
    row(243, "mq_timedreceive", {kFd, kPtr, kUint, kPtr, kPtr}, Support::kPartial, "an absolute timeout does not follow host clock changes", sys_mq_timedreceive),
    row(244, "mq_notify", {kFd, kPtr}, Support::kPartial, "SIGEV_THREAD needs an AF_NETLINK socket, which the sandbox lacks; an owner that ran execve still gets the signal", sys_mq_notify),
    row(245, "mq_getsetattr", {kFd, kPtr, kPtr}, Support::kFull, "", sys_mq_getsetattr),
    row(246, "kexec_load", {kHex, kUint, kPtr, kHex}),
    row(247, "waitid", {kInt, kInt, kPtr, kHex, kPtr}, Support::kPartial, "no core files are written, so a child killed by a core-dumping signal reports CLD_KILLED, never CLD_DUMPED", sys_waitid),
    row(248, "add_key", {kString, kString, kPtr, kUint, kInt}),
    row(249, "request_key", {kString, kString, kString, kInt}),
    row(250, "keyctl", {kInt, kHex, kHex, kHex, kHex}),
    row(251, "ioprio_set", {kInt, kInt, kInt}, Support::kPartial, "the priority is recorded for the guest but does not change host I/O scheduling", sys_ioprio_set),
    row(252, "ioprio_get", {kInt, kInt}, Support::kPartial, "a thread that has done no block I/O reports the priority derived from its nice value where Linux reports 0", sys_ioprio_get),
    row(253, "inotify_init", {}, Support::kPartial, "events come from the sandbox's own file operations only: changes made on the host outside the sandbox are not reported; IN_DELETE_SELF of an unlinked file comes at the unlink even while it is open, where Linux waits for its last close; no IN_UNMOUNT; getdents and execve report no IN_ACCESS or IN_OPEN; no max_user_instances or max_user_watches limits; lseek fails with ESPIPE where Linux returns 0", sys_inotify_init),
    row(254, "inotify_add_watch", {kFd, kPath, kHex}, Support::kPartial, "every event and IN_ONLYDIR, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_EXCL_UNLINK and IN_ONESHOT; changes made on the host outside the sandbox are not reported", sys_inotify_add_watch),
    row(255, "inotify_rm_watch", {kFd, kInt}, Support::kFull, "", sys_inotify_rm_watch),
    row(256, "migrate_pages", {kInt, kUint, kPtr, kPtr}),
    row(257, "openat", {kDirFd, kPath, kOpenFlags, kMode}, Support::kPartial, "Creating, O_TRUNC and O_TMPFILE work on the default memory overlay root and tmpfs, creating and O_TRUNC on read-write binds too (O_TMPFILE there is EOPNOTSUPP); EROFS for them and for write access on read-only binds and with --overlay none; a host FIFO opens for reading only (EACCES); a device node on tmpfs opens as ENXIO; O_DIRECT is accepted with buffered I/O", sys_openat),
    row(258, "mkdirat", {kDirFd, kPath, kMode}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_mkdirat),
    row(259, "mknodat", {kDirFd, kPath, kMode, kHex}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; device nodes can be made (with CAP_MKNOD) but open as ENXIO, and a read-write bind refuses them (EPERM)", sys_mknodat),
    row(260, "fchownat", {kDirFd, kPath, kInt, kInt, kAtFlags}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_fchownat),
    row(261, "futimesat", {kDirFd, kPath, kPtr}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_futimesat),
    row(262, "newfstatat", {kDirFd, kPath, kStatOut, kAtFlags}, Support::kFull, "", sys_newfstatat),
    row(263, "unlinkat", {kDirFd, kPath, kUnlinkatFlags}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_unlinkat),
    row(264, "renameat", {kDirFd, kPath, kDirFd, kPath}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; on the overlay root a directory that exists on the host cannot move (EXDEV, as Linux's overlayfs without redirect_dir; mv then copies it)", sys_renameat),
    row(265, "linkat", {kDirFd, kPath, kDirFd, kPath, kAtFlags}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_linkat),
    row(266, "symlinkat", {kPath, kDirFd, kPath}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_symlinkat),
    row(267, "readlinkat", {kDirFd, kPath, kPtr, kUint}, Support::kFull, "", sys_readlinkat),
    row(268, "fchmodat", {kDirFd, kPath, kMode}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; a read-write bind refuses the set-user-ID and set-group-ID bits on files (EPERM)", sys_fchmodat),
    row(269, "faccessat", {kDirFd, kPath, kAccessMode}, Support::kFull, "", sys_faccessat),
    row(270, "pselect6", {kInt, kPtr, kPtr, kPtr, kTimespec, kPtr}, Support::kPartial, "nfds is capped at an fd-table size computed from the fds open now; Linux's table never shrinks, so there a closed fd below an old, larger size is still EBADF", sys_pselect6),
    row(271, "ppoll", {kPollFds, kUint, kTimespec, kSigset, kUint}, Support::kFull, "", sys_ppoll),
    row(272, "unshare", {kNamespaceFlags}, Support::kPartial, "CLONE_NEWNS, CLONE_FS, CLONE_FILES, CLONE_SYSVSEM; the other namespaces are EINVAL", sys_unshare),
    row(273, "set_robust_list", {kPtr, kUint}, Support::kFull, "", sys_set_robust_list),
    row(274, "get_robust_list", {kInt, kPtr, kPtr}, Support::kFull, "", sys_get_robust_list),
    row(275, "splice", {kFd, kPtr, kFd, kPtr, kUint, kHex}, Support::kPartial, "the sentry copies through a buffer; the file end may be a regular file, a device or a socket", sys_splice),
    row(276, "tee", {kFd, kFd, kUint, kHex}, Support::kFull, "", sys_tee),
    row(277, "sync_file_range", {kFd, kLong, kLong, kHex}, Support::kFull, "Runs on the host for files of read-write binds; memory-backed files have no dirty pages to write back, so the checked call returns 0", sys_sync_file_range),
    row(278, "vmsplice", {kFd, kPtr, kUint, kHex}, Support::kFull, "copies the bytes, as Linux does without SPLICE_F_GIFT, and ignores SPLICE_F_GIFT", sys_vmsplice),
    row(279, "move_pages", {kInt, kUint, kPtr, kPtr, kPtr, kHex}),
    row(280, "utimensat", {kDirFd, kPath, kTimespecPair, kAtFlags}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none", sys_utimensat),
    row(281, "epoll_pwait", {kFd, kEpollEventsOut, kInt, kInt, kSigset, kUint}, Support::kFull, "", sys_epoll_pwait),
    row(282, "signalfd", {kFd, kPtr, kUint}, Support::kPartial, "readv into buffers shorter than one 128-byte record each fails with EINVAL where Linux fills records across them; lseek fails with ESPIPE where Linux returns 0; no /proc/pid/fdinfo sigmask", sys_signalfd),
    row(283, "timerfd_create", {kClockId, kNewFdFlags}, Support::kPartial, "alarm clocks run on their base clock and never wake a suspended host; lseek fails with ESPIPE where Linux returns 0; no /proc/pid/fdinfo timer fields", sys_timerfd_create),
    row(284, "eventfd", {kUint}, Support::kPartial, "lseek fails with ESPIPE where Linux returns 0; no /proc/pid/fdinfo counter", sys_eventfd),
    row(285, "fallocate", {kFd, kHex, kLong, kLong}, Support::kPartial, "tmpfs and the overlay root take mode 0, FALLOC_FL_KEEP_SIZE and FALLOC_FL_PUNCH_HOLE, and refuse the other modes with EOPNOTSUPP as Linux's tmpfs; read-write binds pass every mode to the host filesystem; EOPNOTSUPP on ward's stdio; a repeated allocation near a tmpfs size limit may fail with ENOSPC where Linux succeeds", sys_fallocate),
    row(286, "timerfd_settime", {kFd, kHex, kPtr, kPtr}, Support::kPartial, "an absolute CLOCK_REALTIME expiry does not follow host clock changes; TFD_TIMER_CANCEL_ON_SET is accepted but never cancels, since clock_settime fails with EPERM in the sandbox", sys_timerfd_settime),
    row(287, "timerfd_gettime", {kFd, kPtr}, Support::kFull, "", sys_timerfd_gettime),
    row(288, "accept4", {kFd, kSockaddrOut, kSocklenInOut, kNewFdFlags}, Support::kFull, "", sys_accept4),
    row(289, "signalfd4", {kFd, kPtr, kUint, kNewFdFlags}, Support::kPartial, "readv into buffers shorter than one 128-byte record each fails with EINVAL where Linux fills records across them; lseek fails with ESPIPE where Linux returns 0; no /proc/pid/fdinfo sigmask", sys_signalfd4),
    row(290, "eventfd2", {kUint, kNewFdFlags}, Support::kPartial, "lseek fails with ESPIPE where Linux returns 0; no /proc/pid/fdinfo counter", sys_eventfd2),
    row(291, "epoll_create1", {kNewFdFlags}, Support::kPartial, "lseek on the epoll fd fails with ESPIPE where Linux returns 0; no /proc/pid/fdinfo items", sys_epoll_create1),
    row(292, "dup3", {kFd, kFd, kNewFdFlags}, Support::kFull, "", sys_dup3),
    row(293, "pipe2", {kPtr, kNewFdFlags}, Support::kPartial, "O_CLOEXEC, O_NONBLOCK and O_DIRECT (packet mode); O_NOTIFICATION_PIPE is ENOPKG, as on a kernel without watch queues", sys_pipe2),
    row(294, "inotify_init1", {kNewFdFlags}, Support::kPartial, "IN_NONBLOCK and IN_CLOEXEC; events come from the sandbox's own file operations only: changes made on the host outside the sandbox are not reported; see inotify_init", sys_inotify_init1),
    row(295, "preadv", {kFd, kIovecOut, kUint, kLong, kLong}, Support::kFull, "", sys_preadv),
    row(296, "pwritev", {kFd, kIovec, kUint, kLong, kLong}, Support::kFull, "", sys_pwritev),
    row(297, "rt_tgsigqueueinfo", {kInt, kInt, kSignal, kPtr}, Support::kPartial, "RLIMIT_SIGPENDING bounds the queued real-time signals of each process, not of each user", sys_rt_tgsigqueueinfo),
    row(298, "perf_event_open", {kPtr, kInt, kInt, kFd, kHex}),
    row(299, "recvmmsg", {kFd, kPtr, kUint, kHex, kPtr}, Support::kPartial, "as recvmsg; the timeout is checked only after each message, as in Linux", sys_recvmmsg),
    row(300, "fanotify_init", {kHex, kOpenFlags}),
    row(301, "fanotify_mark", {kFd, kHex, kHex, kDirFd, kPath}),
    row(302, "prlimit64", {kInt, kRlimitResource, kRlimit, kRlimitOut}, Support::kPartial, "limits are stored; RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_STACK, RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE and RLIMIT_SIGPENDING (counted per process) are enforced, the others are not", sys_prlimit64),
    row(303, "name_to_handle_at", {kDirFd, kPath, kPtr, kPtr, kAtFlags}),
    row(304, "open_by_handle_at", {kFd, kPtr, kOpenFlags}),
    row(305, "clock_adjtime", {kClockId, kPtr}),
    row(306, "syncfs", {kFd}, Support::kFull, "Flushes the host filesystem of a read-write bind; 0 for every other open file, as Linux returns for a memory filesystem", sys_syncfs),
    row(307, "sendmmsg", {kFd, kPtr, kUint, kHex}, Support::kPartial, "as sendmsg", sys_sendmmsg),
    row(308, "setns", {kFd, kNamespaceFlags}),
    row(309, "getcpu", {kPtr, kPtr, kPtr}, Support::kPartial, "reports the sentry's CPU when the guest thread's mask allows it, else the mask's first CPU", sys_getcpu),
    row(310, "process_vm_readv", {kInt, kPtr, kUint, kPtr, kUint, kHex}),
    row(311, "process_vm_writev", {kInt, kPtr, kUint, kPtr, kUint, kHex}),
    row(312, "kcmp", {kInt, kInt, kInt, kHex, kHex}),
    row(313, "finit_module", {kFd, kString, kHex}),
    row(314, "sched_setattr", {kInt, kPtr, kHex}, Support::kPartial, "recorded for the guest only; SCHED_DEADLINE and SCHED_FLAG_UTIL_CLAMP are EINVAL", sys_sched_setattr),
    row(315, "sched_getattr", {kInt, kPtr, kUint, kHex}, Support::kFull, "", sys_sched_getattr),
    row(316, "renameat2", {kDirFd, kPath, kDirFd, kPath, kHex}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; on the overlay root a directory that exists on the host cannot move (EXDEV, as Linux's overlayfs without redirect_dir; mv then copies it)", sys_renameat2),
    row(317, "seccomp", {kUint, kHex, kPtr}, Support::kPartial, "no user notification: SECCOMP_FILTER_FLAG_NEW_LISTENER is EINVAL and SECCOMP_GET_ACTION_AVAIL reports SECCOMP_RET_USER_NOTIF as EOPNOTSUPP, as on Linux before 5.0; SECCOMP_RET_TRACE is always ENOSYS (no guest ptrace); strict mode leaves rdtsc working", sys_seccomp),
    row(318, "getrandom", {kPtr, kUint, kHex}, Support::kFull, "", sys_getrandom),
    row(319, "memfd_create", {kString, kHex}, Support::kPartial, "MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_NOEXEC_SEAL and MFD_EXEC; MFD_HUGETLB is EINVAL (no hugetlbfs)", sys_memfd_create),
    row(320, "kexec_file_load", {kFd, kFd, kUint, kString, kHex}),
    row(321, "bpf", {kInt, kPtr, kUint}),
    row(322, "execveat", {kDirFd, kPath, kStringArray, kEnvArray, kAtFlags}, Support::kPartial, "as execve; AT_EXECVE_CHECK checks only what execve's open checks", sys_execveat),
    row(323, "userfaultfd", {kNewFdFlags}),
    row(324, "membarrier", {kInt, kHex, kInt}),
    row(325, "mlock2", {kPtr, kUint, kHex}),
    row(326, "copy_file_range", {kFd, kPtr, kFd, kPtr, kUint, kHex}, Support::kPartial, "copies through a buffer between files of one filesystem (EXDEV otherwise, as Linux for filesystems without their own copy_file_range); RLIMIT_FSIZE is not applied", sys_copy_file_range),
    row(327, "preadv2", {kFd, kIovecOut, kUint, kLong, kLong, kHex}, Support::kPartial, "RWF_ATOMIC and RWF_DONTCACHE are EOPNOTSUPP, and so is RWF_NOAPPEND on an O_APPEND file", sys_preadv2),
    row(328, "pwritev2", {kFd, kIovec, kUint, kLong, kLong, kHex}, Support::kPartial, "RWF_ATOMIC and RWF_DONTCACHE are EOPNOTSUPP, and so is RWF_NOAPPEND on an O_APPEND file", sys_pwritev2),
    row(329, "pkey_mprotect", {kPtr, kUint, kProt, kInt}),
    row(330, "pkey_alloc", {kHex, kHex}),
    row(331, "pkey_free", {kInt}),
    row(332, "statx", {kDirFd, kPath, kStatxFlags, kStatxMask, kStatxOut}, Support::kPartial, "stx_mnt_id (STATX_MNT_ID) and STATX_ATTR_MOUNT_ROOT are not reported", sys_statx),
    row(333, "io_pgetevents", {kHex, kLong, kLong, kPtr, kPtr, kPtr}),
    row(334, "rseq", {kPtr, kUint, kHex, kHex}),
    row(335, "uretprobe", {}, kUprobeOnly),
    row(336, "uprobe", {}, kUprobeOnly),
    row(424, "pidfd_send_signal", {kFd, kSignal, kPtr, kHex}, Support::kPartial, "an open /proc/<pid> directory is not taken as a pidfd (EBADF)", sys_pidfd_send_signal),
    row(425, "io_uring_setup", {kUint, kPtr}),
    row(426, "io_uring_enter", {kFd, kUint, kUint, kHex, kPtr, kUint}),
    row(427, "io_uring_register", {kFd, kUint, kPtr, kUint}),
    row(428, "open_tree", {kDirFd, kPath, kAtFlags}),
    row(429, "move_mount", {kDirFd, kPath, kDirFd, kPath, kHex}),
    row(430, "fsopen", {kString, kHex}),
    row(431, "fsconfig", {kFd, kUint, kString, kPtr, kInt}),
    row(432, "fsmount", {kFd, kHex, kHex}),
    row(433, "fspick", {kDirFd, kPath, kHex}),
    row(434, "pidfd_open", {kInt, kHex}, Support::kPartial, "PIDFD_THREAD (a pidfd for one thread) is EINVAL", sys_pidfd_open),
    row(435, "clone3", {kPtr, kUint}, Support::kPartial, "namespace flags other than CLONE_NEWNS (CLONE_NEW*), CLONE_INTO_CGROUP and CLONE_PIDFD with CLONE_THREAD fail with EINVAL; set_tid fails with EPERM", sys_clone3),
    row(436, "close_range", {kFd, kUint, kHex}, Support::kPartial, "CLOSE_RANGE_UNSHARE of a table shared with other threads is EINVAL", sys_close_range),
    row(437, "openat2", {kDirFd, kPath, kPtr, kUint}, Support::kPartial, "As openat; RESOLVE_CACHED always fails with EAGAIN, which Linux allows for a lookup it cannot finish from its cache", sys_openat2),
    row(438, "pidfd_getfd", {kFd, kFd, kHex}, Support::kFull, "", sys_pidfd_getfd),
    row(439, "faccessat2", {kDirFd, kPath, kAccessMode, kFaccessatFlags}, Support::kFull, "", sys_faccessat2),
    row(440, "process_madvise", {kFd, kPtr, kUint, kInt, kHex}),
    row(441, "epoll_pwait2", {kFd, kEpollEventsOut, kInt, kTimespec, kSigset, kUint}, Support::kFull, "", sys_epoll_pwait2),
    row(442, "mount_setattr", {kDirFd, kPath, kAtFlags, kPtr, kUint}),
    row(443, "quotactl_fd", {kFd, kHex, kInt, kPtr}),
    row(444, "landlock_create_ruleset", {kPtr, kUint, kHex}),
    row(445, "landlock_add_rule", {kFd, kInt, kPtr, kHex}),
    row(446, "landlock_restrict_self", {kFd, kHex}),
    row(447, "memfd_secret", {kHex}),
    row(448, "process_mrelease", {kFd, kHex}),
    row(449, "futex_waitv", {kPtr, kUint, kHex, kPtr, kClockId}, Support::kFull, "", sys_futex_waitv),
    row(450, "set_mempolicy_home_node", {kPtr, kUint, kUint, kHex}),
    row(451, "cachestat", {kFd, kPtr, kPtr, kHex}),
    row(452, "fchmodat2", {kDirFd, kPath, kMode, kAtFlags}, Support::kPartial, "Works on the default memory overlay root, tmpfs and read-write binds; EROFS on read-only binds and with --overlay none; a read-write bind refuses the set-user-ID and set-group-ID bits on files (EPERM)", sys_fchmodat2),
    row(453, "map_shadow_stack", {kPtr, kUint, kHex}),
    row(454, "futex_wake", {kPtr, kHex, kInt, kHex}, Support::kPartial, "FUTEX2_NUMA and FUTEX2_MPOL are EINVAL", sys_futex_wake),
    row(455, "futex_wait", {kPtr, kUint, kHex, kHex, kPtr, kClockId}, Support::kPartial, "FUTEX2_NUMA and FUTEX2_MPOL are EINVAL", sys_futex_wait),
    row(456, "futex_requeue", {kPtr, kHex, kInt, kInt}, Support::kFull, "", sys_futex_requeue),
    row(457, "statmount", {kPtr, kPtr, kUint, kHex}),
    row(458, "listmount", {kPtr, kPtr, kUint, kHex}),
    row(459, "lsm_get_self_attr", {kUint, kPtr, kPtr, kHex}),
    row(460, "lsm_set_self_attr", {kUint, kPtr, kUint, kHex}),
    row(461, "lsm_list_modules", {kPtr, kPtr, kHex}),
    row(462, "mseal", {kPtr, kUint, kHex}),
    row(463, "setxattrat", {kDirFd, kPath, kAtFlags, kString, kPtr, kUint}),
    row(464, "getxattrat", {kDirFd, kPath, kAtFlags, kString, kPtr, kUint}),
    row(465, "listxattrat", {kDirFd, kPath, kAtFlags, kPtr, kUint}),
    row(466, "removexattrat", {kDirFd, kPath, kAtFlags, kString}),
    row(467, "open_tree_attr", {kDirFd, kPath, kAtFlags, kPtr, kUint}),
    row(468, "file_getattr", {kDirFd, kPath, kPtr, kUint, kAtFlags}),
    row(469, "file_setattr", {kDirFd, kPath, kPtr, kUint, kAtFlags}),
};
// clang-format on

constexpr bool numbers_strictly_ascending() {
  for (size_t i = 1; i < std::size(kTable); ++i) {
    if (kTable[i - 1].number >= kTable[i].number) {
      return false;
    }
  }
  return true;
}
static_assert(numbers_strictly_ascending(),
              "syscall rows must be sorted by number, without repeats");
static_assert(kTable[0].number == 0, "the table starts at read, number 0");

constexpr int kHighestNumber = kTable[std::size(kTable) - 1].number;

// Row index for each number from 0 to kHighestNumber, or -1 for an
// unassigned number.
constexpr auto kRowIndexByNumber = [] {
  std::array<int16_t, kHighestNumber + 1> index{};
  index.fill(-1);
  for (size_t i = 0; i < std::size(kTable); ++i) {
    index[kTable[i].number] = static_cast<int16_t>(i);
  }
  return index;
}();

}  // namespace

std::span<const SyscallEntry> syscall_table() { return kTable; }

const SyscallEntry* find_syscall(uint64_t number) {
  if (number > static_cast<uint64_t>(kHighestNumber)) {
    return nullptr;
  }

  const int16_t row_index = kRowIndexByNumber[number];
  if (row_index < 0) {
    return nullptr;
  }
  return &kTable[row_index];
}

const SyscallEntry* find_syscall(std::string_view name) {
  const auto* match =
      std::find_if(std::begin(kTable), std::end(kTable),
                   [name](const SyscallEntry& entry) { return entry.name == name; });
  return match == std::end(kTable) ? nullptr : match;
}

}  // namespace ward::syscalls
