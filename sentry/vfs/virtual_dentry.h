// VirtualDentry: a dentry together with the mount through which it is seen,
// what Linux calls a `struct path`. The same dentry reached through two
// mounts is two different places (their `..` differ).
#pragma once

#include <memory>

namespace ward::vfs {

class Dentry;
class Mount;

struct VirtualDentry {
  std::shared_ptr<Mount> mount;
  std::shared_ptr<Dentry> dentry;

  bool valid() const { return mount != nullptr && dentry != nullptr; }
  bool operator==(const VirtualDentry& other) const {
    return mount == other.mount && dentry == other.dentry;
  }
};

}  // namespace ward::vfs
