#include "sentry/fs/procfs_net.h"

#include <fmt/format.h>

#include <map>
#include <string>

#include "sentry/fs/file_gaps.h"
#include "sentry/fs/synthetic.h"
#include "sentry/kernel/task.h"
#include "sentry/net/interfaces.h"
#include "sentry/net/unix.h"
#include "sentry/vfs/caller.h"

namespace ward::vfs {
namespace {

// IPv6 address flags and scope as /proc/net/if_inet6 prints them:
// IFA_F_PERMANENT, and IPV6_ADDR_LOOPBACK of Linux's address types.
constexpr int kPermanentAddressFlag = 0x80;
constexpr int kLoopbackAddressScope = 0x10;

// dev_seq_show's header and a line for lo.
// NOTE: the counters stay zero, because the sentry does not count
// loopback traffic.
std::string proc_net_dev_text() {
  std::string text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n";
  text += fmt::format("{:>6}: {:7} {:7} {:4} {:4} {:4} {:5} {:10} {:9} {:8} {:7} {:4} {:4} {:4} "
                      "{:5} {:7} {:10}\n",
                      net::kLoopbackName, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  return text;
}

// if6_seq_show: address, interface index, prefix length, scope, flags and
// name, for ::1.
std::string proc_net_if_inet6_text() {
  return fmt::format("{:032x} {:02x} {:02x} {:02x} {:02x} {:>8}\n", 1, net::kLoopbackIndex,
                     net::kLoopbackPrefix6, kLoopbackAddressScope, kPermanentAddressFlag,
                     net::kLoopbackName);
}

// fib_route_seq_show: the header, padded to 127 characters, then the
// routes of the main IPv4 table. lo's routes live in the local table, so
// the sandbox's main table has none.
std::string proc_net_route_text() {
  return fmt::format("{:<127}\n",
                     "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU"
                     "\tWindow\tIRTT");
}

std::shared_ptr<Inode> text_file(const std::shared_ptr<Filesystem>& filesystem,
                                 GeneratedFile::Generator generate) {
  return std::make_shared<GeneratedFile>(filesystem, std::move(generate), 0444);
}

std::shared_ptr<Inode> make_net_directory(const std::shared_ptr<Filesystem>& filesystem) {
  // NOTE: tcp, udp, tcp6, udp6 and the other files are missing; a lookup
  // of them records a missing file.
  auto net = std::make_shared<KernelFileDirectory>(filesystem, 0555, "/proc/net");
  net->add("dev", text_file(filesystem, [](const Caller&) -> Result<std::string> {
             return proc_net_dev_text();
           }));
  net->add("if_inet6", text_file(filesystem, [](const Caller&) -> Result<std::string> {
             return proc_net_if_inet6_text();
           }));
  net->add("route", text_file(filesystem, [](const Caller&) -> Result<std::string> {
             return proc_net_route_text();
           }));
  net->add("unix", text_file(filesystem, [](const Caller& caller) -> Result<std::string> {
             if (caller.task == nullptr) {
               return Errno{ENOENT};
             }
             return net::proc_net_unix_text(caller.task->kernel());
           }));
  return net;
}

}  // namespace

std::shared_ptr<Inode> proc_net_directory(const std::shared_ptr<Filesystem>& filesystem) {
  // The directory keeps its filesystem alive, so a live entry here can
  // only belong to the filesystem at that address.
  static std::map<const Filesystem*, std::weak_ptr<Inode>> directories;
  std::erase_if(directories, [](const auto& item) { return item.second.expired(); });
  std::weak_ptr<Inode>& entry = directories[filesystem.get()];
  std::shared_ptr<Inode> directory = entry.lock();
  if (!directory) {
    directory = make_net_directory(filesystem);
    entry = directory;
  }
  return directory;
}

}  // namespace ward::vfs
