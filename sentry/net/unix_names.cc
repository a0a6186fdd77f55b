// AF_UNIX names: bind to a path or an abstract name, autobind, and the
// lookup of the socket an address names.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/net/unix_endpoint.h"
#include "sentry/vfs/caller.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/mutate.h"
#include "sentry/vfs/path_walk.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/task_paths.h"

namespace ward::net {
namespace {

// offsetof(struct sockaddr_un, sun_path): the family takes two bytes.
constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);

// autobind's names are five hex digits, so 2^20 of them.
constexpr uint32_t kAutobindNames = 0x100000;

sa_family_t family_of(const SocketAddress& address) {
  sa_family_t family = 0;
  std::memcpy(&family, address.data(), std::min(address.size(), sizeof(family)));
  return family;
}

bool is_abstract(const SocketAddress& address) { return address[kPathOffset] == '\0'; }

// The path of a filesystem address: sun_path up to its first NUL.
std::string path_of(const SocketAddress& address) {
  const std::string_view path(address.data() + kPathOffset, address.size() - kPathOffset);
  return std::string(path.substr(0, path.find('\0')));
}

}  // namespace

Result<void> validate_unix_address(const SocketAddress& address) {
  if (address.size() <= kPathOffset || address.size() > sizeof(sockaddr_un)) {
    return Errno{EINVAL};
  }
  if (family_of(address) != AF_UNIX) {
    return Errno{EINVAL};
  }
  return ok();
}

// ---------------------------------------------------------------------------
// UnixNamespace

std::shared_ptr<UnixNamespace> UnixNamespace::of(kernel::Kernel& kernel) {
  auto& names = kernel.unix_namespace();
  if (!names) {
    names = std::make_shared<UnixNamespace>();
  }
  return names;
}

bool UnixNamespace::abstract_in_use(int type, const SocketAddress& address) const {
  return find_abstract(type, address) != nullptr;
}

void UnixNamespace::add_abstract(int type, const SocketAddress& address,
                                 const std::shared_ptr<UnixEndpoint>& endpoint) {
  abstract_[{type, address}] = endpoint;
}

std::shared_ptr<UnixEndpoint> UnixNamespace::find_abstract(int type,
                                                           const SocketAddress& address) const {
  auto found = abstract_.find({type, address});
  return found == abstract_.end() ? nullptr : found->second.lock();
}

void UnixNamespace::add_path(const std::shared_ptr<vfs::Inode>& inode,
                             const std::shared_ptr<UnixEndpoint>& endpoint) {
  paths_[inode.get()] = endpoint;
}

std::shared_ptr<UnixEndpoint> UnixNamespace::find_path(const vfs::Inode& inode) const {
  auto found = paths_.find(&inode);
  return found == paths_.end() ? nullptr : found->second.lock();
}

void UnixNamespace::remove(const UnixEndpoint& endpoint) {
  std::erase_if(abstract_, [&](const auto& entry) {
    auto bound = entry.second.lock();
    return bound == nullptr || bound.get() == &endpoint;
  });
  std::erase_if(paths_, [&](const auto& entry) {
    auto bound = entry.second.lock();
    return bound == nullptr || bound.get() == &endpoint;
  });
}

uint32_t UnixNamespace::next_autobind_number() {
  if (!autobind_number_) {
    autobind_number_ = std::random_device{}() % kAutobindNames;
  }
  *autobind_number_ = (*autobind_number_ + 1) % kAutobindNames;
  return *autobind_number_;
}

// ---------------------------------------------------------------------------
// UnixEndpoint naming

Result<void> UnixEndpoint::bind(kernel::Task& task, const SocketAddress& address) {
  if (address.size() == kPathOffset && family_of(address) == AF_UNIX) {
    return autobind();
  }
  TRY(validate_unix_address(address));
  if (is_abstract(address)) {
    return bind_abstract(address);
  }
  return bind_path(task, address);
}

Result<void> UnixEndpoint::autobind() {
  if (address_) {
    return ok();  // Linux's autobind keeps an existing name
  }
  auto names = names_.lock();
  if (!names) {
    return Errno{ENOMEM};
  }
  for (uint32_t attempt = 0; attempt < kAutobindNames; ++attempt) {
    char digits[8];
    std::snprintf(digits, sizeof(digits), "%05x", names->next_autobind_number());
    SocketAddress name(kPathOffset, '\0');
    const sa_family_t family = AF_UNIX;
    std::memcpy(name.data(), &family, sizeof(family));
    name.push_back('\0');
    name.append(digits, 5);
    if (!names->abstract_in_use(type_, name)) {
      names->add_abstract(type_, name, shared_from_this());
      address_ = std::move(name);
      return ok();
    }
  }
  return Errno{ENOSPC};
}

Result<void> UnixEndpoint::bind_abstract(const SocketAddress& address) {
  auto names = names_.lock();
  if (!names) {
    return Errno{ENOMEM};
  }
  if (address_) {
    return Errno{EINVAL};
  }
  if (names->abstract_in_use(type_, address)) {
    return Errno{EADDRINUSE};
  }
  names->add_abstract(type_, address, shared_from_this());
  address_ = address;
  return ok();
}

Result<void> UnixEndpoint::bind_path(kernel::Task& task, const SocketAddress& address) {
  auto names = names_.lock();
  if (!names) {
    return Errno{ENOMEM};
  }
  const std::string path = path_of(address);
  const vfs::Caller caller = vfs::caller_of(task);
  const vfs::VirtualDentry start = TRY(vfs::start_for(task, AT_FDCWD, path));

  // Linux makes the node first and only then looks at whether the socket
  // is bound already, undoing the node in that case.
  auto made = vfs::make_node(caller, start, path, S_IFSOCK | 0777, 0);
  if (!made.ok()) {
    return made.error().value == EEXIST ? Errno{EADDRINUSE} : made.error();
  }
  if (address_) {
    (void)vfs::unlink_file(caller, start, path);
    return Errno{EINVAL};
  }
  const vfs::VirtualDentry location =
      TRY(vfs::walk_path(caller, start, path, vfs::WalkOptions{.follow_final = false}));

  bound_inode_ = location.dentry->inode_ref();
  names->add_path(bound_inode_, shared_from_this());
  // The stored name is the path with its NUL, as unix_mkname_bsd makes it.
  address_ = address.substr(0, kPathOffset) + path + '\0';
  return ok();
}

SocketAddress UnixEndpoint::local_address() const {
  if (address_) {
    return *address_;
  }
  SocketAddress unnamed(kPathOffset, '\0');
  const sa_family_t family = AF_UNIX;
  std::memcpy(unnamed.data(), &family, sizeof(family));
  return unnamed;
}

Result<SocketAddress> UnixEndpoint::peer_address() const {
  if (!peer_) {
    return Errno{ENOTCONN};
  }
  return peer_->local_address();
}

Result<std::shared_ptr<UnixEndpoint>> UnixEndpoint::find_other(kernel::Task& task,
                                                               const SocketAddress& address) const {
  auto names = names_.lock();
  if (!names) {
    return Errno{ECONNREFUSED};
  }
  if (is_abstract(address)) {
    auto other = names->find_abstract(type_, address);
    if (!other) {
      return Errno{ECONNREFUSED};
    }
    return other;
  }

  const std::string path = path_of(address);
  const vfs::Caller caller = vfs::caller_of(task);
  const vfs::VirtualDentry start = TRY(vfs::start_for(task, AT_FDCWD, path));
  const vfs::VirtualDentry location = TRY(vfs::walk_path(caller, start, path));
  TRY(vfs::check_permission(task.creds(), location, vfs::kMayWrite));
  const vfs::Inode& inode = location.dentry->inode();
  if (!S_ISSOCK(inode.type())) {
    return Errno{ECONNREFUSED};
  }
  auto other = names->find_path(inode);
  if (!other) {
    return Errno{ECONNREFUSED};
  }
  if (other->type_ != type_) {
    return Errno{EPROTOTYPE};
  }
  return other;
}

MessageCredentials peer_credentials_of(const kernel::Task& task) {
  return MessageCredentials{.pid = task.thread_group().tgid(),
                            .uid = task.creds().effective_uid,
                            .gid = task.creds().effective_gid};
}

MessageCredentials message_credentials_of(const kernel::Task& task) {
  return MessageCredentials{.pid = task.thread_group().tgid(),
                            .uid = task.creds().real_uid,
                            .gid = task.creds().real_gid};
}

}  // namespace ward::net
