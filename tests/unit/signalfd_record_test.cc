// The signalfd_siginfo record of each siginfo layout: only the fields the
// layout carries are copied, the rest stay zero, as Linux's
// signalfd_copyinfo fills them.
#include "sentry/fs/signalfd.h"

#include <signal.h>
#include <sys/signalfd.h>

#include <gtest/gtest.h>

namespace ward::vfs {
namespace {

siginfo_t info_of(int signal, int code) {
  siginfo_t info{};
  info.si_signo = signal;
  info.si_code = code;
  info.si_errno = 5;
  return info;
}

TEST(SignalfdRecord, KillCarriesPidAndUid) {
  siginfo_t info = info_of(SIGUSR1, SI_USER);
  info.si_pid = 42;
  info.si_uid = 1000;
  const signalfd_siginfo record = signalfd_record(info);
  EXPECT_EQ(record.ssi_signo, static_cast<uint32_t>(SIGUSR1));
  EXPECT_EQ(record.ssi_errno, 5);
  EXPECT_EQ(record.ssi_code, SI_USER);
  EXPECT_EQ(record.ssi_pid, 42U);
  EXPECT_EQ(record.ssi_uid, 1000U);
  EXPECT_EQ(record.ssi_int, 0);
}

TEST(SignalfdRecord, QueueCarriesValue) {
  siginfo_t info = info_of(SIGRTMIN, SI_QUEUE);
  info.si_pid = 7;
  info.si_value.sival_ptr = reinterpret_cast<void*>(0x1234);
  const signalfd_siginfo record = signalfd_record(info);
  EXPECT_EQ(record.ssi_pid, 7U);
  EXPECT_EQ(record.ssi_ptr, 0x1234U);
  EXPECT_EQ(record.ssi_int, 0x1234);
}

TEST(SignalfdRecord, TimerCarriesIdAndOverrun) {
  siginfo_t info = info_of(SIGALRM, SI_TIMER);
  info.si_timerid = 3;
  info.si_overrun = 9;
  info.si_value.sival_int = 11;
  const signalfd_siginfo record = signalfd_record(info);
  EXPECT_EQ(record.ssi_tid, 3U);
  EXPECT_EQ(record.ssi_overrun, 9U);
  EXPECT_EQ(record.ssi_int, 11);
  EXPECT_EQ(record.ssi_pid, 0U);
}

TEST(SignalfdRecord, ChildCarriesStatusAndTimes) {
  siginfo_t info = info_of(SIGCHLD, CLD_EXITED);
  info.si_pid = 8;
  info.si_status = 7;
  info.si_utime = 100;
  info.si_stime = 200;
  const signalfd_siginfo record = signalfd_record(info);
  EXPECT_EQ(record.ssi_pid, 8U);
  EXPECT_EQ(record.ssi_status, 7);
  EXPECT_EQ(record.ssi_utime, 100U);
  EXPECT_EQ(record.ssi_stime, 200U);
}

TEST(SignalfdRecord, FaultCarriesAddress) {
  siginfo_t info = info_of(SIGSEGV, SEGV_MAPERR);
  info.si_addr = reinterpret_cast<void*>(0xdead000);
  const signalfd_siginfo record = signalfd_record(info);
  EXPECT_EQ(record.ssi_addr, 0xdead000U);
  EXPECT_EQ(record.ssi_addr_lsb, 0U);
  EXPECT_EQ(record.ssi_pid, 0U);
}

TEST(SignalfdRecord, MachineCheckCarriesAddressLsb) {
  siginfo_t info = info_of(SIGBUS, BUS_MCEERR_AR);
  info.si_addr = reinterpret_cast<void*>(0x5000);
  info.si_addr_lsb = 12;
  const signalfd_siginfo record = signalfd_record(info);
  EXPECT_EQ(record.ssi_addr, 0x5000U);
  EXPECT_EQ(record.ssi_addr_lsb, 12U);
}

TEST(SignalfdRecord, PollCarriesBandAndFd) {
  siginfo_t info = info_of(SIGIO, SI_SIGIO);
  info.si_band = POLL_IN;
  info.si_fd = 4;
  const signalfd_siginfo record = signalfd_record(info);
  EXPECT_EQ(record.ssi_band, static_cast<uint32_t>(POLL_IN));
  EXPECT_EQ(record.ssi_fd, 4);
}

TEST(SignalfdRecord, SeccompCarriesSyscall) {
  constexpr int kSysSeccomp = 1;  // SYS_SECCOMP, which this <signal.h> does not declare
  siginfo_t info = info_of(SIGSYS, kSysSeccomp);
  info.si_call_addr = reinterpret_cast<void*>(0x401000);
  info.si_syscall = 39;
  info.si_arch = 0xc000003e;
  const signalfd_siginfo record = signalfd_record(info);
  EXPECT_EQ(record.ssi_call_addr, 0x401000U);
  EXPECT_EQ(record.ssi_syscall, 39);
  EXPECT_EQ(record.ssi_arch, 0xc000003eU);
}

// SI_KERNEL reads the kill layout even for a fault signal, so the union's
// first word is a pid, not an address.
TEST(SignalfdRecord, KernelCodeReadsKillLayout) {
  siginfo_t info = info_of(SIGSEGV, SI_KERNEL);
  info.si_pid = 9;
  const signalfd_siginfo record = signalfd_record(info);
  EXPECT_EQ(record.ssi_code, SI_KERNEL);
  EXPECT_EQ(record.ssi_pid, 9U);
  EXPECT_EQ(record.ssi_addr, 0U);
}

}  // namespace
}  // namespace ward::vfs
