#include "sentry/fs/procfs_mounts.h"

#include <fmt/format.h>
#include <sys/sysmacros.h>

#include <vector>

#include "sentry/vfs/dentry.h"

namespace ward::vfs {
namespace {

// Escapes a field the way Linux's mangle() does: space, tab, newline and
// backslash become octal escapes, so that fields stay separated.
std::string escape_mount_field(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      escaped += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// The path of a mount's root within its own filesystem: "/" unless the
// mount shows only a subtree.
std::string root_within_filesystem(const Dentry& root) {
  std::vector<const std::string*> components;
  for (const Dentry* dentry = &root; !dentry->is_root(); dentry = dentry->parent().get()) {
    components.push_back(&dentry->name());
  }
  if (components.empty()) {
    return "/";
  }
  std::string path;
  for (auto it = components.rbegin(); it != components.rend(); ++it) {
    path += '/';
    path += **it;
  }
  return path;
}

}  // namespace

std::string mounts_text(const VirtualDentry& root, const MountNamespace& mounts) {
  std::string text;
  for (const auto& mount : mounts.mounts()) {
    const PathName at = name_from_root(root, {mount, mount->root()});
    if (!at.reachable) {
      continue;
    }
    const std::string& type = mount->root()->inode().filesystem().type_name();
    text += fmt::format("{} {} {} {} 0 0\n", escape_mount_field(mount->source()),
                        escape_mount_field(at.path), type, mount->options_string());
  }
  return text;
}

Result<std::string> mountinfo_text(const VirtualDentry& root, const MountNamespace& mounts) {
  std::string text;
  for (const auto& mount : mounts.mounts()) {
    const PathName at = name_from_root(root, {mount, mount->root()});
    if (!at.reachable) {
      continue;
    }
    const std::shared_ptr<Mount> parent = mount->parent();
    const int parent_id = parent != nullptr ? parent->id() : mount->id();

    // The device that stat reports for the mount's files, which for hostfs
    // is the host's.
    const dev_t device = TRY(mount->root()->inode().stat()).st_dev;

    const std::string& type = mount->root()->inode().filesystem().type_name();
    // NOTE: ward's filesystems have no superblock options of their own, so
    // the super options repeat the mount's read-only flag.
    text +=
        fmt::format("{} {} {}:{} {} {} {} - {} {} {}\n", mount->id(), parent_id, major(device),
                    minor(device), escape_mount_field(root_within_filesystem(*mount->root())),
                    escape_mount_field(at.path), mount->options_string(), escape_mount_field(type),
                    escape_mount_field(mount->source()), mount->read_only() ? "ro" : "rw");
  }
  return text;
}

}  // namespace ward::vfs
