// Copy-up, after Linux's ovl_copy_up. A lower object is rebuilt in the work
// directory under a temporary name, with its data, user.* xattrs, origin
// and times. Only when complete is it renamed into its place in the upper,
// so a failure such as ENOSPC leaves no partial file behind.
#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "sentry/fs/overlay.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/mount.h"

namespace ward::vfs {
namespace {

// The data of a regular file is copied through a buffer of this size, so a
// copy-up of any file needs this much memory at most.
constexpr size_t kCopyChunkBytes = 128 * 1024;

constexpr std::string_view kUserXattrPrefix = "user.";

Result<void> write_all(FileDescription& out, std::span<const std::byte> data, int64_t position) {
  while (!data.empty()) {
    const size_t written = TRY(out.write(data, position));
    if (written == 0) {
      return Errno{EIO};
    }
    data = data.subspan(written);
    position += static_cast<int64_t>(written);
  }
  return ok();
}

// Copies the data of `lower` into `copy`, whose size is already `size`.
// Holes found with SEEK_DATA and SEEK_HOLE stay holes.
Result<void> copy_data(const Caller& internal, const std::shared_ptr<Inode>& lower,
                       const std::shared_ptr<Inode>& copy, int64_t size) {
  FileRef in = TRY(lower->open(internal, make_anonymous_location(lower), O_RDONLY));
  FileRef out = TRY(copy->open(internal, make_anonymous_location(copy), O_WRONLY));
  std::vector<std::byte> buffer(kCopyChunkBytes);

  int64_t position = 0;
  while (position < size) {
    int64_t data_start = position;
    int64_t data_end = size;
    auto data = in->seek(position, SEEK_DATA);
    if (data.ok()) {
      data_start = *data;
      auto hole = in->seek(data_start, SEEK_HOLE);
      data_end = hole.ok() ? std::min(*hole, size) : size;
    } else if (data.error().value == ENXIO) {
      return ok();  // only a hole is left
    }

    for (int64_t at = data_start; at < data_end;) {
      const auto count = static_cast<size_t>(std::min<int64_t>(data_end - at, kCopyChunkBytes));
      const size_t got = TRY(in->read(std::span(buffer.data(), count), at));
      if (got == 0) {
        return ok();  // the host file shrank meanwhile
      }
      TRY(write_all(*out, std::span(buffer.data(), got), at));
      at += static_cast<int64_t>(got);
    }
    position = data_end;
  }
  return ok();
}

// Copies the user.* xattrs of `lower` to `copy`. Other namespaces stay
// behind: hostfs shows no trusted.* ones, and security.* and system.* ones
// describe the host's policy, not the file.
Result<void> copy_user_xattrs(const Caller& internal, Inode& lower, Inode& copy) {
  auto length = lower.list_xattr(internal, {});
  if (!length.ok() || *length == 0) {
    return ok();
  }
  std::vector<char> names(*length);
  const size_t got = TRY(lower.list_xattr(internal, names));

  std::vector<std::byte> value;
  for (size_t position = 0; position < got;) {
    const char* start = names.data() + position;
    const std::string_view name(start, strnlen(start, got - position));
    position += name.size() + 1;
    if (!name.starts_with(kUserXattrPrefix)) {
      continue;
    }
    auto size = lower.get_xattr(internal, name, {});
    if (!size.ok()) {
      continue;  // removed on the host meanwhile
    }
    value.resize(*size);
    auto read = lower.get_xattr(internal, name, value);
    if (!read.ok()) {
      continue;
    }
    auto set = copy.set_xattr(internal, name, std::span(value.data(), *read), 0);
    if (!set.ok() && set.error().value != EOPNOTSUPP) {
      return set.error();
    }
  }
  return ok();
}

// Removes a half-built copy from the work directory.
void discard_work_entry(const Caller& internal, Inode& work, const std::string& name,
                        Inode& entry) {
  auto removed =
      entry.is_dir() ? work.rmdir(internal, name, entry) : work.unlink(internal, name, entry);
  (void)removed;  // nothing more can be done; the entry stays hidden in work
}

}  // namespace

Result<void> OverlayInode::copy_up(const Caller& caller, bool with_data) {
  if (upper_) {
    return ok();
  }
  if (alias_parent_) {
    TRY(alias_parent_->copy_up(caller, /*with_data=*/false));
  }
  return copy_up_object(caller, with_data);
}

Result<void> OverlayInode::copy_up_object(const Caller& caller, bool with_data) {
  OverlayFilesystem& overlay = this->overlay();
  const Caller& internal = overlay.internal_caller();
  const struct stat st = TRY(lower_->stat());

  NewNode node;
  node.mode = st.st_mode & (S_IFMT | 07777);
  node.uid = st.st_uid;
  node.gid = st.st_gid;
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    node.device = st.st_rdev;
  }
  std::string link_target;
  if (is_symlink()) {
    link_target = TRY(lower_->readlink(caller));
    node.link_target = link_target;
  }

  // The copy-up breaks the hard links of a lower file with several names,
  // so its copy reports the upper's st_ino rather than the lower's.
  const bool keeps_origin = is_dir() || st.st_nlink == 1;

  // An inode whose name was removed (unlinked while open) has no place in
  // the upper: it becomes an unnamed upper file.
  const bool named = !orphaned_ && alias_parent_ != nullptr;
  std::string temp_name;
  std::shared_ptr<Inode> copy;
  if (named) {
    temp_name = overlay.next_work_name();
    copy = TRY(overlay.work().create(internal, temp_name, node));
  } else {
    if (!is_regular()) {
      return Errno{ENOENT};
    }
    copy = TRY(overlay.work().create_unnamed(internal, node));
  }

  auto filled = [&]() -> Result<void> {
    if (is_regular() && st.st_size > 0) {
      AttributeChange size;
      size.size = with_data ? st.st_size : 0;
      TRY(copy->set_attributes(internal, size));
      if (with_data) {
        TRY(copy_data(internal, lower_, copy, st.st_size));
      }
    }
    TRY(copy_user_xattrs(internal, *lower_, *copy));
    if (!is_dir() && keeps_origin && origin_) {
      const LowerIdentity origin = *origin_;
      std::byte value[sizeof(origin)];
      std::memcpy(value, &origin, sizeof(origin));
      TRY(copy->set_xattr(internal, kOverlayOriginXattr, value, 0));
    }
    AttributeChange times;
    times.atime = st.st_atim;
    times.mtime = st.st_mtim;
    TRY(copy->set_attributes(internal, times));
    if (named) {
      TRY(overlay.work().rename(internal, temp_name, *alias_parent_->upper_, alias_name_, 0));
    }
    return ok();
  }();
  if (!filled.ok()) {
    if (named) {
      discard_work_entry(internal, overlay.work(), temp_name, *copy);
    }
    return filled.error();
  }

  // The same overlay inode now stands for the copy. Its lower identity no
  // longer finds it: another lower name of the file is another file now.
  overlay.forget_lower(*this);
  upper_ = std::move(copy);
  overlay.cache_upper(std::static_pointer_cast<OverlayInode>(shared_from_this()));
  if (!is_dir()) {
    lower_ = nullptr;
    if (!keeps_origin) {
      origin_ = std::nullopt;
    }
  }
  alias_parent_ = nullptr;
  alias_name_.clear();
  return ok();
}

}  // namespace ward::vfs
