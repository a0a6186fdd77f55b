#include "sentry/vfs/path_walk.h"

#include <deque>
#include <optional>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/mount.h"
#include "sentry/vfs/permission.h"

namespace ward::vfs {
namespace {

// The last component of a text being walked.
struct Final {
  std::string_view name;
  LastComponent type;
  bool trailing_slash;
};

// How a component is stepped into, as Linux's WALK_* flags define it: a component
// with more after it always follows a symlink; the final one follows only
// when asked; the last component of a nested symlink body always follows.
enum class StepMode { kMore, kFinal, kNested };

std::string_view skip_slashes(std::string_view text) {
  const size_t first = text.find_first_not_of('/');
  return first == std::string_view::npos ? std::string_view{} : text.substr(first);
}

LastComponent component_type(std::string_view name) {
  if (name == ".") {
    return LastComponent::kDot;
  }
  if (name == "..") {
    return LastComponent::kDotDot;
  }
  return LastComponent::kNormal;
}

class Walker {
 public:
  Walker(const Caller& caller, const VirtualDentry& start, const WalkOptions& options)
      : caller_(caller), options_(options), start_(start) {}

  // Picks the starting point for `path` and returns the text to walk.
  Result<std::string_view> begin(std::string_view path) {
    if (path.empty()) {
      return Errno{ENOENT};
    }
    if (path.size() >= kernel::kPathMax) {
      return Errno{ENAMETOOLONG};
    }
    const bool scoped = options_.beneath || options_.in_root;
    root_ = scoped ? start_ : caller_.fs.root();
    follow_ = options_.follow_final;
    must_be_directory_ = options_.require_directory;

    if (path.front() == '/') {
      if (options_.beneath) {
        return Errno{EXDEV};
      }
      current_ = root_;
      return path;
    }
    if (!start_.dentry->inode().is_dir()) {
      return Errno{ENOTDIR};
    }
    current_ = start_;
    return path;
  }

  // Walks every component of `text` but the last, following symlinks on
  // the way, and returns the last one (Linux's link_path_walk).
  Result<Final> walk_components(std::string_view text) {
    std::vector<std::string_view> saved_remainders;
    std::string_view name = skip_slashes(text);
    if (name.empty()) {
      return Final{.name = {}, .type = LastComponent::kRoot, .trailing_slash = false};
    }

    for (;;) {
      TRY(check_permission(caller_.creds, current_, kMayExec));

      const std::string_view component = name.substr(0, name.find('/'));
      const LastComponent type = component_type(component);
      name.remove_prefix(component.size());
      const bool had_slash = !name.empty();
      name = skip_slashes(name);

      std::optional<std::string_view> link;
      if (name.empty()) {
        if (saved_remainders.empty()) {
          return Final{.name = component, .type = type, .trailing_slash = had_slash};
        }
        // The last component of a symlink body, with the rest of the path
        // that led to the symlink still to come.
        name = saved_remainders.back();
        saved_remainders.pop_back();
        link = TRY(step_component(component, type, StepMode::kNested));
      } else {
        link = TRY(step_component(component, type, StepMode::kMore));
      }

      if (link && !link->empty()) {
        saved_remainders.push_back(name);
        name = *link;
        continue;
      }
      if (!current_.dentry->inode().is_dir()) {
        return Errno{ENOTDIR};
      }
    }
  }

  // Resolves the final component (Linux's lookup_last). Returns the body of
  // a symlink the walk must continue with, or nullopt when it is done.
  Result<std::optional<std::string_view>> walk_final(const Final& last) {
    if (last.trailing_slash) {
      follow_ = true;
      must_be_directory_ = true;
    }
    auto link = TRY(step_component(last.name, last.type, StepMode::kFinal));
    if (link && !link->empty()) {
      return link;
    }
    return std::optional<std::string_view>{};
  }

  // The final step of an O_CREAT walk: like walk_final, but a missing
  // final name is a result rather than ENOENT.
  Result<std::optional<std::string_view>> walk_final_for_create(const Final& last,
                                                                CreateWalk& result) {
    if (last.type != LastComponent::kNormal) {
      TRY(step_component(last.name, last.type, StepMode::kFinal));
      result.existing = current_;
      return std::optional<std::string_view>{};
    }
    if (last.trailing_slash) {
      return Errno{EISDIR};
    }

    auto child = lookup_child(caller_, current_, last.name);
    if (!child.ok()) {
      if (child.error().value != ENOENT) {
        return child.error();
      }
      result.parent = current_;
      result.name = std::string(last.name);
      return std::optional<std::string_view>{};
    }
    if (options_.no_xdev && child->mount != current_.mount) {
      return Errno{EXDEV};
    }
    if (child->dentry->inode().is_symlink() && follow_) {
      auto link = TRY(pick_link(*child));
      if (link && !link->empty()) {
        return link;
      }
      result.existing = current_;
      return std::optional<std::string_view>{};
    }
    result.existing = std::move(*child);
    return std::optional<std::string_view>{};
  }

  Result<VirtualDentry> finish() {
    if (must_be_directory_ && !current_.dentry->inode().is_dir()) {
      return Errno{ENOTDIR};
    }
    return current_;
  }

  const VirtualDentry& current() const { return current_; }

 private:
  // Steps into one component. Returns the symlink body to walk next, an
  // empty body for a symlink that only moved the walk (a magic link, or an
  // absolute target of nothing but slashes), or nullopt.
  Result<std::optional<std::string_view>> step_component(std::string_view name, LastComponent type,
                                                         StepMode mode) {
    switch (type) {
      case LastComponent::kRoot:
      case LastComponent::kDot:
        return std::optional<std::string_view>{};
      case LastComponent::kDotDot:
        TRY(step_dotdot());
        return std::optional<std::string_view>{};
      case LastComponent::kNormal:
        break;
    }

    VirtualDentry child = TRY(lookup_child(caller_, current_, name));
    if (options_.no_xdev && child.mount != current_.mount) {
      return Errno{EXDEV};
    }
    const bool follow = mode != StepMode::kFinal || follow_;
    if (!child.dentry->inode().is_symlink() || !follow) {
      current_ = std::move(child);
      return std::optional<std::string_view>{};
    }
    return pick_link(child);
  }

  Result<void> step_dotdot() {
    if (current_ == root_) {
      if (options_.beneath) {
        return Errno{EXDEV};
      }
      return ok();
    }
    VirtualDentry parent = parent_of(root_, current_);
    if (options_.no_xdev && parent.mount != current_.mount) {
      return Errno{EXDEV};
    }
    current_ = std::move(parent);
    return ok();
  }

  Result<std::optional<std::string_view>> pick_link(const VirtualDentry& link) {
    if (links_followed_ >= kMaxSymlinks) {
      return Errno{ELOOP};
    }
    ++links_followed_;
    if (options_.no_symlinks) {
      return Errno{ELOOP};
    }

    LinkTarget target = TRY(link.dentry->inode().follow_link(caller_));
    if (auto* location = std::get_if<VirtualDentry>(&target)) {
      if (options_.no_magic_links) {
        return Errno{ELOOP};
      }
      if (options_.beneath || options_.in_root) {
        return Errno{EXDEV};
      }
      if (options_.no_xdev && location->mount != current_.mount) {
        return Errno{EXDEV};
      }
      current_ = std::move(*location);
      return std::optional<std::string_view>{std::string_view{}};
    }

    // Symlink bodies live in a deque so that views into them stay valid
    // while later bodies are added.
    const std::string& body = link_bodies_.emplace_back(std::move(std::get<std::string>(target)));
    if (body.empty()) {
      // Linux cannot create an empty symlink; a filesystem that has one
      // names nothing.
      return Errno{ENOENT};
    }
    std::string_view text = body;
    if (text.front() == '/') {
      if (options_.beneath) {
        return Errno{EXDEV};
      }
      current_ = root_;
      text = skip_slashes(text);
    }
    return std::optional<std::string_view>{text};
  }

  const Caller& caller_;
  const WalkOptions& options_;
  VirtualDentry start_;
  VirtualDentry root_;
  VirtualDentry current_;
  bool follow_ = true;
  bool must_be_directory_ = false;
  int links_followed_ = 0;
  std::deque<std::string> link_bodies_;
};

}  // namespace

Result<VirtualDentry> lookup_child(const Caller& caller, const VirtualDentry& parent,
                                   std::string_view name) {
  if (name.size() > kNameMax) {
    return Errno{ENAMETOOLONG};
  }
  Dentry& directory = *parent.dentry;

  std::shared_ptr<Dentry> child = directory.cached_child(name);
  if (child && child->mount_count() == 0 &&
      !directory.inode().revalidate(caller, name, child->inode())) {
    directory.forget_child(name);
    child = nullptr;
  }
  if (!child) {
    std::shared_ptr<Inode> inode = TRY(directory.inode().lookup(caller, name));
    child = directory.add_child(name, std::move(inode));
  }
  return cross_mounts(VirtualDentry{.mount = parent.mount, .dentry = std::move(child)});
}

VirtualDentry parent_of(const VirtualDentry& root, const VirtualDentry& location) {
  if (location == root) {
    return location;
  }

  // Out of mounts whose root we are at. Like Linux's choose_mountpoint, a
  // climb that reaches the caller's root stays where it started.
  VirtualDentry current = location;
  while (current.dentry == current.mount->root()) {
    auto parent_mount = current.mount->parent();
    if (!parent_mount) {
      return location;
    }
    VirtualDentry mountpoint{.mount = parent_mount, .dentry = current.mount->mountpoint()};
    if (mountpoint == root) {
      return location;
    }
    current = std::move(mountpoint);
  }

  if (current.dentry->is_root()) {
    return location;
  }
  return cross_mounts(VirtualDentry{.mount = current.mount, .dentry = current.dentry->parent()});
}

Result<VirtualDentry> walk_path(const Caller& caller, const VirtualDentry& start,
                                std::string_view path, const WalkOptions& options) {
  Walker walker(caller, start, options);
  std::string_view text = TRY(walker.begin(path));
  for (;;) {
    const Final last = TRY(walker.walk_components(text));
    std::optional<std::string_view> link = TRY(walker.walk_final(last));
    if (!link) {
      break;
    }
    text = *link;
  }
  return walker.finish();
}

Result<CreateWalk> walk_for_create(const Caller& caller, const VirtualDentry& start,
                                   std::string_view path, const WalkOptions& options) {
  Walker walker(caller, start, options);
  std::string_view text = TRY(walker.begin(path));
  CreateWalk result;
  for (;;) {
    const Final last = TRY(walker.walk_components(text));
    std::optional<std::string_view> link = TRY(walker.walk_final_for_create(last, result));
    if (!link) {
      break;
    }
    text = *link;
  }
  return result;
}

Result<ParentWalk> walk_parent(const Caller& caller, const VirtualDentry& start,
                               std::string_view path, const WalkOptions& options) {
  Walker walker(caller, start, options);
  std::string_view text = TRY(walker.begin(path));
  const Final last = TRY(walker.walk_components(text));
  return ParentWalk{
      .parent = walker.current(),
      .last = std::string(last.name),
      .last_type = last.type,
      .trailing_slash = last.trailing_slash,
  };
}

}  // namespace ward::vfs
