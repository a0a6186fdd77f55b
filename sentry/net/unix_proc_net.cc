// /proc/net/unix, after Linux's unix_seq_show.
#include <fmt/format.h>
#include <sys/un.h>

#include <string>

#include "sentry/kernel/kernel.h"
#include "sentry/net/unix.h"
#include "sentry/net/unix_endpoint.h"

namespace ward::net {
namespace {

// __SO_ACCEPTCON, the flag of a listening socket.
constexpr uint32_t kAcceptingConnections = 1u << 16;

// The socket states of <linux/net.h> that the St column shows.
constexpr int kStateUnconnected = 1;
constexpr int kStateConnecting = 2;
constexpr int kStateConnected = 3;
constexpr int kStateDisconnecting = 4;

constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);

// A bound name as Linux prints it: a path without its final NUL, or an
// abstract name as '@' and its bytes, with every NUL inside printed as '@'.
std::string printable_name(const SocketAddress& address) {
  std::string name = address.substr(std::min(address.size(), kPathOffset));
  if (!name.empty() && name[0] != '\0' && name.back() == '\0') {
    name.pop_back();
  }
  for (char& byte : name) {
    if (byte == '\0') {
      byte = '@';
    }
  }
  return name;
}

}  // namespace

std::string UnixEndpoint::proc_net_unix_line() const {
  const bool established = state_ == UnixState::kConnected;
  int state = 0;
  if (has_file_) {
    state = established ? kStateConnected : kStateUnconnected;
  } else {
    // A connection not yet accepted has no file.
    state = established ? kStateConnecting : kStateDisconnecting;
  }
  // The address column is a kernel pointer, which Linux shows as zeros to
  // readers without CAP_SYSLOG.
  // NOTE: ward keeps no socket reference counts. The RefCount column is
  // an estimate of Linux's: one for the file or the listener holding a
  // pending connection, one for the table, and one for a connected peer.
  const int references = 2 + (peer_ != nullptr ? 1 : 0);
  std::string line = fmt::format("{:016x}: {:08X} {:08X} {:08X} {:04X} {:02X} {:5}", 0, references,
                                 0, listening() ? kAcceptingConnections : 0, type_, state,
                                 file_ino_);
  if (address_) {
    line += ' ';
    line += printable_name(*address_);
  }
  line += '\n';
  return line;
}

std::string proc_net_unix_text(kernel::Kernel& kernel) {
  std::string text = "Num       RefCount Protocol Flags    Type St Inode Path\n";
  for (const UnixEndpoint* endpoint : UnixNamespace::of(kernel)->endpoints()) {
    text += endpoint->proc_net_unix_line();
  }
  return text;
}

}  // namespace ward::net
