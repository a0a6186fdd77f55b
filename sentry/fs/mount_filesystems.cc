#include "sentry/fs/mount_filesystems.h"

#include <sys/sysinfo.h>

#include <array>
#include <cstdint>
#include <vector>

#include "sentry/fs/devfs.h"
#include "sentry/fs/procfs.h"
#include "sentry/fs/sysfs.h"
#include "sentry/fs/tmpfs.h"

namespace ward::vfs {
namespace {

constexpr uint64_t kPageBytes = 4096;

// One comma-separated option of the data string: "key=value" or "key".
struct DataOption {
  std::string_view key;
  std::optional<std::string_view> value;
};

// Splits `data` at commas and skips empty options, as Linux's
// generic_parse_monolithic does.
std::vector<DataOption> split_data(std::string_view data) {
  std::vector<DataOption> options;
  while (!data.empty()) {
    const size_t comma = data.find(',');
    const std::string_view option = data.substr(0, comma);
    data = comma == std::string_view::npos ? std::string_view() : data.substr(comma + 1);
    if (option.empty()) {
      continue;
    }
    const size_t equals = option.find('=');
    if (equals == std::string_view::npos) {
      options.push_back({option, std::nullopt});
    } else {
      options.push_back({option.substr(0, equals), option.substr(equals + 1)});
    }
  }
  return options;
}

// Parses the leading number of `text` as the kernel's simple_strtoull
// with base 0 (a 0x prefix for hex, a leading 0 for octal) and returns
// what is left after it.
uint64_t parse_leading_number(std::string_view& text) {
  unsigned base = 10;
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  } else if (!text.empty() && text[0] == '0') {
    base = 8;
  }
  uint64_t value = 0;
  while (!text.empty()) {
    const char c = text.front();
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      break;
    }
    if (digit >= base) {
      break;
    }
    value = value * base + digit;
    text.remove_prefix(1);
  }
  return value;
}

// The kernel's memparse: a number with an optional K, M, G, T, P or E
// suffix (powers of 1024).
uint64_t parse_memory_size(std::string_view& text) {
  uint64_t value = parse_leading_number(text);
  if (text.empty()) {
    return value;
  }
  static constexpr std::string_view kSuffixes = "KMGTPE";
  const size_t shift_index = kSuffixes.find(static_cast<char>(text.front() & ~0x20));
  if (shift_index != std::string_view::npos) {
    value <<= 10 * (shift_index + 1);
    text.remove_prefix(1);
  }
  return value;
}

// A whole unsigned number in base 0, as fs_param_is_u32 takes it.
std::optional<uint32_t> parse_u32(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  const uint64_t value = parse_leading_number(text);
  if (!text.empty() || value > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

// A whole octal number, as fs_param_is_u32_octal takes it.
std::optional<uint32_t> parse_octal(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '7') {
      return std::nullopt;
    }
    value = value * 8 + static_cast<uint64_t>(c - '0');
    if (value > UINT32_MAX) {
      return std::nullopt;
    }
  }
  return static_cast<uint32_t>(value);
}

FilesystemFailure invalid() { return FilesystemFailure{.error = EINVAL, .gap = {}}; }

FilesystemFailure missing(std::string_view type, std::string_view key) {
  return FilesystemFailure{.error = EINVAL,
                           .gap = std::string(type) + " option " + std::string(key)};
}

// The superblock flags Linux takes in the data string for every type
// (vfs_parse_sb_flag). Only ro and rw change what ward does.
bool apply_superblock_option(std::string_view key, bool& read_only) {
  static constexpr std::array<std::string_view, 7> kNoEffect = {
      "sync", "async", "dirsync", "lazytime", "nolazytime", "mand", "nomand"};
  if (key == "ro" || key == "rw") {
    read_only = key == "ro";
    return true;
  }
  for (const std::string_view name : kNoEffect) {
    if (key == name) {
      return true;
    }
  }
  return false;
}

// The settings of a tmpfs data string. Unset fields keep their default.
struct TmpfsParameters {
  std::optional<uint64_t> size_bytes;
  std::optional<mode_t> mode;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// Parses one tmpfs option (Linux's shmem_parse_one).
std::optional<FilesystemFailure> parse_tmpfs_option(const DataOption& option,
                                                    TmpfsParameters& parameters) {
  static constexpr std::array<std::string_view, 4> kNeedsValue = {"size", "nr_blocks", "mode",
                                                                  "uid"};
  for (const std::string_view name : kNeedsValue) {
    // An empty value is refused too: these parameters are strings that
    // may not be empty (fs_param_is_string).
    if (option.key == name && (!option.value || option.value->empty())) {
      return invalid();
    }
  }

  if (option.key == "size") {
    std::string_view text = *option.value;
    uint64_t size_bytes = parse_memory_size(text);
    if (!text.empty() && text.front() == '%') {
      struct sysinfo info {};
      sysinfo(&info);
      const uint64_t ram_bytes = static_cast<uint64_t>(info.totalram) * info.mem_unit;
      size_bytes = ram_bytes / 100 * size_bytes;
      text.remove_prefix(1);
    }
    if (!text.empty()) {
      return invalid();
    }
    // Linux counts the limit in whole pages.
    // NOTE: size=0 means no limit on Linux; ward keeps its default limit,
    // half the host's RAM.
    parameters.size_bytes = (size_bytes + kPageBytes - 1) / kPageBytes * kPageBytes;
    return std::nullopt;
  }
  if (option.key == "nr_blocks") {
    std::string_view text = *option.value;
    const uint64_t blocks = parse_memory_size(text);
    if (!text.empty()) {
      return invalid();
    }
    parameters.size_bytes = blocks * kPageBytes;
    return std::nullopt;
  }
  if (option.key == "mode") {
    const auto mode = parse_octal(*option.value);
    if (!mode) {
      return invalid();
    }
    parameters.mode = *mode & 07777;
    return std::nullopt;
  }
  if (option.key == "uid" || option.key == "gid") {
    const auto id = option.value ? parse_u32(*option.value) : std::nullopt;
    // (uid_t)-1 is no valid id.
    if (!id || *id == UINT32_MAX) {
      return invalid();
    }
    if (option.key == "uid") {
      parameters.uid = *id;
    } else {
      parameters.gid = *id;
    }
    return std::nullopt;
  }
  // Hints about memory placement that change nothing a program can see.
  if (option.key == "inode32" || option.key == "inode64" ||
      (option.key == "huge" && option.value == "never")) {
    return std::nullopt;
  }

  static constexpr std::array<std::string_view, 10> kMissing = {"nr_inodes",
                                                                "huge",
                                                                "mpol",
                                                                "noswap",
                                                                "quota",
                                                                "usrquota",
                                                                "grpquota",
                                                                "usrquota_block_hardlimit",
                                                                "usrquota_inode_hardlimit",
                                                                "grpquota_block_hardlimit"};
  for (const std::string_view name : kMissing) {
    if (option.key == name) {
      return missing(kTmpfsType, option.key);
    }
  }
  return invalid();
}

// The root dentry of the filesystem `mount` shows, which may be a subtree.
std::shared_ptr<Dentry> filesystem_root(const Mount& mount) {
  std::shared_ptr<Dentry> dentry = mount.root();
  while (!dentry->is_root()) {
    dentry = dentry->parent();
  }
  return dentry;
}

// The root of a filesystem of `type` already mounted in `mounts`, or null.
std::shared_ptr<Dentry> find_filesystem(const MountNamespace& mounts, std::string_view type) {
  for (const auto& mount : mounts.mounts()) {
    if (mount->root()->inode().filesystem().type_name() == type) {
      return filesystem_root(*mount);
    }
  }
  return nullptr;
}

// The root of the one proc, sysfs or devtmpfs of `mounts`: the mounted one,
// or a new one when none is mounted.
std::shared_ptr<Dentry> single_instance_root(MountNamespace& mounts, std::string_view type) {
  if (auto found = find_filesystem(mounts, type)) {
    return found;
  }
  if (type == kProcfsType) {
    return make_procfs_root(mounts.weak_from_this());
  }
  if (type == kSysfsType) {
    return make_sysfs_root();
  }
  return make_devfs_root();
}

}  // namespace

bool is_block_device_filesystem(std::string_view type) {
  static constexpr std::array<std::string_view, 20> kBlockTypes = {
      "ext2", "ext3", "ext4",  "xfs", "btrfs", "vfat", "msdos",   "fat",   "exfat",    "iso9660",
      "f2fs", "ntfs", "ntfs3", "jfs", "udf",   "hfs",  "hfsplus", "minix", "squashfs", "erofs"};
  for (const std::string_view name : kBlockTypes) {
    if (type == name) {
      return true;
    }
  }
  return false;
}

std::optional<FilesystemFailure> make_filesystem(MountNamespace& mounts,
                                                 const FilesystemRequest& request,
                                                 NewFilesystem& filesystem) {
  const bool tmpfs = request.type == kTmpfsType;
  const bool single_instance =
      request.type == kProcfsType || request.type == kSysfsType || request.type == kDevfsType;
  if (!tmpfs && !single_instance) {
    return FilesystemFailure{.error = ENODEV,
                             .gap = "filesystem type " + std::string(request.type)};
  }

  TmpfsParameters tmpfs_parameters;
  for (const DataOption& option : split_data(request.data)) {
    if (apply_superblock_option(option.key, filesystem.read_only)) {
      continue;
    }
    // No type takes "source" itself, so it names the source, once
    // (vfs_parse_fs_param_source).
    if (option.key == "source") {
      if (!option.value || filesystem.source) {
        return invalid();
      }
      filesystem.source = std::string(*option.value);
      continue;
    }
    if (tmpfs) {
      if (auto failure = parse_tmpfs_option(option, tmpfs_parameters)) {
        return failure;
      }
      continue;
    }
    const bool proc_option =
        request.type == kProcfsType &&
        (option.key == "hidepid" || option.key == "gid" || option.key == "subset");
    // Linux's devtmpfs takes tmpfs's options; sysfs takes none.
    if (proc_option || request.type == kDevfsType) {
      return missing(request.type, option.key);
    }
    return invalid();
  }

  if (tmpfs) {
    filesystem.root = Dentry::make_root(make_tmpfs_root_inode(
        tmpfs_parameters.size_bytes.value_or(0), tmpfs_parameters.mode.value_or(01777),
        tmpfs_parameters.uid.value_or(request.fs_uid),
        tmpfs_parameters.gid.value_or(request.fs_gid)));
    return std::nullopt;
  }
  filesystem.root = single_instance_root(mounts, request.type);
  return std::nullopt;
}

std::optional<FilesystemFailure> reconfigure_filesystem(const Mount& mount, std::string_view data,
                                                        bool& read_only) {
  const std::string& type = mount.root()->inode().filesystem().type_name();
  auto* tmpfs = dynamic_cast<TmpfsFilesystem*>(&mount.root()->inode().filesystem());

  TmpfsParameters tmpfs_parameters;
  for (const DataOption& option : split_data(data)) {
    if (apply_superblock_option(option.key, read_only)) {
      continue;
    }
    if (tmpfs != nullptr) {
      if (auto failure = parse_tmpfs_option(option, tmpfs_parameters)) {
        return failure;
      }
      continue;
    }
    return missing(type, option.key);
  }

  // mode=, uid= and gid= set up a new tmpfs only; a remount ignores them
  // as Linux's shmem_reconfigure does.
  if (tmpfs != nullptr && tmpfs_parameters.size_bytes) {
    const uint64_t size_bytes = *tmpfs_parameters.size_bytes != 0 ? *tmpfs_parameters.size_bytes
                                                                  : default_tmpfs_size_bytes();
    if (size_bytes < tmpfs->used_bytes()) {
      return invalid();
    }
    tmpfs->set_size_limit_bytes(size_bytes);
  }
  return std::nullopt;
}

}  // namespace ward::vfs
