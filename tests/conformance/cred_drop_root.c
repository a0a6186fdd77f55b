// Capability transitions of a root process that changes its uids, as
// capabilities(7) describes them. Leaving uid 0 everywhere clears the
// permitted, effective and ambient sets unless PR_SET_KEEPCAPS. An euid
// change clears or restores the effective set, and an fsuid change moves
// only the filesystem capabilities. RLIMIT_NPROC stops a non-root uid's
// fork, and execve applies the capability rules for a file without file
// capabilities. Each case runs in its own child, so that each starts as
// root. The native run must be root.
#include <linux/capability.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

struct caps {
  uint64_t effective;
  uint64_t permitted;
  uint64_t inheritable;
};

static struct caps initial;

static struct caps read_caps(void) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {0};
  syscall(SYS_capget, &header, data);
  struct caps caps = {
      .effective = data[0].effective | ((uint64_t)data[1].effective << 32),
      .permitted = data[0].permitted | ((uint64_t)data[1].permitted << 32),
      .inheritable = data[0].inheritable | ((uint64_t)data[1].inheritable << 32),
  };
  return caps;
}

static long write_caps(struct caps caps) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {(uint32_t)caps.effective, (uint32_t)caps.permitted, (uint32_t)caps.inheritable},
      {(uint32_t)(caps.effective >> 32), (uint32_t)(caps.permitted >> 32),
       (uint32_t)(caps.inheritable >> 32)},
  };
  return syscall(SYS_capset, &header, data);
}

// "empty", "initial" (the root process's full permitted set) or "other".
static const char* describe(uint64_t set) {
  if (set == 0) {
    return "empty";
  }
  return set == initial.permitted ? "initial" : "other";
}

static void show_caps(const char* when) {
  struct caps caps = read_caps();
  printf("%s: effective %s, permitted %s, inheritable %s\n", when, describe(caps.effective),
         describe(caps.permitted), describe(caps.inheritable));
}

static bool has_effective(int cap) { return (read_caps().effective >> cap) & 1; }

static void show_ids(const char* when) {
  uid_t r = 0, e = 0, s = 0;
  getresuid(&r, &e, &s);
  printf("%s: uids %u %u %u, fsuid %d\n", when, r, e, s, setfsuid(-1));
}

static void drop_with_setuid(void) {
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  SHOW("setuid 1000", setuid(1000));
  show_ids("after setuid");
  show_caps("after setuid");
  SHOW("PR_GET_DUMPABLE after setuid", prctl(PR_GET_DUMPABLE));
  int signal = -1;
  prctl(PR_GET_PDEATHSIG, &signal);
  show_value("parent-death signal after setuid", signal);
  SHOW("setuid back to 0", setuid(0));
  SHOW("setgroups without CAP_SETGID", setgroups(0, NULL));
  struct caps raise = {.effective = 0, .permitted = 1u << CAP_KILL, .inheritable = 0};
  SHOW("capset raising the permitted set", write_caps(raise));
  SHOW("PR_CAPBSET_DROP without CAP_SETPCAP", prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0));
  SHOW("setpriority to -5 without CAP_SYS_NICE", setpriority(PRIO_PROCESS, 0, -5));
}

static void drop_with_keepcaps(void) {
  SHOW("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  SHOW("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
  SHOW("setresuid 1000 1000 1000", setresuid(1000, 1000, 1000));
  show_caps("after setresuid with keepcaps");
  struct caps caps = read_caps();
  caps.effective = caps.permitted;
  SHOW("capset raising the effective set", write_caps(caps));
  show_caps("after capset");
  SHOW("setuid 0 with CAP_SETUID", setuid(0));
  show_ids("after setuid 0");
  show_caps("after setuid 0");
}

static void change_euid_only(void) {
  SHOW("seteuid 1000", setresuid(-1, 1000, -1));
  show_ids("after seteuid");
  show_caps("after seteuid 1000");
  SHOW("seteuid 0", setresuid(-1, 0, -1));
  show_caps("after seteuid 0");
  SHOW("setreuid 2000 -1", setreuid(2000, -1));
  show_ids("after setreuid");
  show_caps("after setreuid");
}

static void change_fsuid(void) {
  SHOW("setfsuid 1000", setfsuid(1000));
  show_bool("CAP_CHOWN effective", has_effective(CAP_CHOWN));
  show_bool("CAP_DAC_OVERRIDE effective", has_effective(CAP_DAC_OVERRIDE));
  show_bool("CAP_KILL effective", has_effective(CAP_KILL));
  show_caps("after setfsuid 1000");
  SHOW("setfsuid 0", setfsuid(0));
  show_caps("after setfsuid 0");
}

static void lose_ambient(void) {
  struct caps caps = read_caps();
  caps.inheritable = 1u << CAP_NET_BIND_SERVICE;
  SHOW("capset inheritable CAP_NET_BIND_SERVICE", write_caps(caps));
  SHOW("PR_CAP_AMBIENT_RAISE", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
  SHOW("PR_CAP_AMBIENT_IS_SET", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0));
  SHOW("PR_CAP_AMBIENT_RAISE of a non-inheritable capability",
       prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0));
  prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  SHOW("setresuid 1000 1000 1000", setresuid(1000, 1000, 1000));
  SHOW("PR_CAP_AMBIENT_IS_SET after leaving root",
       prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0));
  show_caps("after leaving root with an ambient capability");
}

static void change_gids(void) {
  SHOW("setgroups 2 groups", setgroups(2, (gid_t[]){300, 100}));
  gid_t groups[4] = {0};
  SHOW("getgroups", getgroups(4, groups));
  show_value("  group 0", groups[0]);
  show_value("  group 1", groups[1]);
  SHOW("setresgid 100 200 300", setresgid(100, 200, 300));
  gid_t r = 0, e = 0, s = 0;
  getresgid(&r, &e, &s);
  printf("gids %u %u %u, fsgid %d\n", r, e, s, setfsgid(-1));
  show_caps("after setresgid");
  SHOW("setuid 1000", setuid(1000));
  SHOW("setgid to the saved gid", setgid(300));
  SHOW("setgid to another gid", setgid(400));
  SHOW("setregid swapping", setregid(300, 300));
}

// RLIMIT_NPROC counts the tasks of the real uid; root is exempt.
static void limit_processes(void) {
  struct rlimit limit = {.rlim_cur = 2, .rlim_max = 2};
  SHOW("setrlimit RLIMIT_NPROC 2", setrlimit(RLIMIT_NPROC, &limit));
  pid_t first = fork();
  if (first == 0) {
    _exit(0);
  }
  SHOW_OK("fork as root under the limit", first);
  waitpid(first, NULL, 0);

  // A uid of this run alone: the native run that checks this one runs at
  // the same time as another native run, and their processes would count
  // against each other's limit under one fixed uid.
  uid_t user = 40000 + (uid_t)(getpid() % 20000);
  SHOW("setresuid to a uid of this run", setresuid(user, user, user));
  int release[2];
  if (pipe(release) != 0) {
    exit(1);
  }
  pid_t holder = fork();
  if (holder == 0) {
    char byte;
    close(release[1]);
    (void)!read(release[0], &byte, 1);
    _exit(0);
  }
  SHOW_OK("fork as that uid with one process", holder);
  SHOW("fork as that uid with two processes", fork());
  close(release[1]);
  waitpid(holder, NULL, 0);

  pid_t after = fork();
  if (after == 0) {
    _exit(0);
  }
  SHOW_OK("fork again once the second process is reaped", after);
  waitpid(after, NULL, 0);
}

// Re-executes this program, which then reports what the exec did to its
// credentials (report_after_exec).
static void exec_self(void) {
  char permitted[32];
  snprintf(permitted, sizeof(permitted), "%llx", (unsigned long long)initial.permitted);
  execl("/proc/self/exe", "cred_drop_root", "after-exec", permitted, (char*)NULL);
  printf("execl failed: %s\n", errno_name(errno));
  exit(1);
}

static int report_after_exec(void) {
  show_value("AT_SECURE", (long)getauxval(AT_SECURE));
  show_ids("after exec");
  show_caps("after exec");
  SHOW("PR_GET_DUMPABLE after exec", prctl(PR_GET_DUMPABLE));
  int signal = -1;
  prctl(PR_GET_PDEATHSIG, &signal);
  show_value("parent-death signal after exec", signal);
  SHOW("PR_GET_KEEPCAPS after exec", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
  return finish_checks();
}

// A non-root process loses the capabilities it kept through setuid.
static void exec_as_user(void) {
  prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  setresuid(1000, 1000, 1000);
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  show_caps("before exec");
  exec_self();
}

// An euid other than the real uid makes the exec secure, which also clears
// the parent-death signal.
static void exec_with_other_euid(void) {
  setresuid(1000, 2000, 2000);
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  exec_self();
}

// Root gets its full effective set back from the exec.
static void exec_as_root(void) {
  struct caps caps = read_caps();
  caps.effective = 0;
  write_caps(caps);
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  show_caps("before exec");
  exec_self();
}

static void run_case(const char* name, void (*body)(void)) {
  printf("-- %s\n", name);
  pid_t child = fork();
  if (child == 0) {
    body();
    exit(finish_checks());
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT("the case exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "after-exec") == 0) {
    initial.permitted = strtoull(argv[2], NULL, 16);
    return report_after_exec();
  }
  if (getuid() != 0) {
    printf("this test needs root\n");
    return 1;
  }
  initial = read_caps();
  show_caps("as root");
  run_case("setuid", drop_with_setuid);
  run_case("keepcaps", drop_with_keepcaps);
  run_case("euid", change_euid_only);
  run_case("fsuid", change_fsuid);
  run_case("ambient", lose_ambient);
  run_case("gids", change_gids);
  run_case("RLIMIT_NPROC", limit_processes);
  run_case("exec as a user", exec_as_user);
  run_case("exec with another euid", exec_with_other_euid);
  run_case("exec as root", exec_as_root);
  return finish_checks();
}
