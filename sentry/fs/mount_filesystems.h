// The filesystems mount(2) creates inside the sandbox (tmpfs, proc, sysfs,
// devtmpfs), made from the type and data arguments, and the data a remount
// may change.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sentry/vfs/mount.h"
#include "ward/result.h"

namespace ward::vfs {

// A filesystem that mount(2) requests.
struct FilesystemRequest {
  std::string_view type;
  std::string_view data;  // mount(2)'s data string, empty when none was given
  // The caller's filesystem ids, which own a new tmpfs root unless the
  // data sets uid= and gid=.
  uid_t fs_uid = 0;
  gid_t fs_gid = 0;
};

// A filesystem made for mount(2), with what its data asked of the mount.
struct NewFilesystem {
  std::shared_ptr<Dentry> root;
  std::optional<std::string> source;  // a "source=" option
  bool read_only = false;             // the "ro" option: a read-only superblock
};

// The outcome of a failed request: the errno, and a gap detail when the
// failure is something Linux has and ward lacks (empty otherwise).
struct FilesystemFailure {
  int error = 0;
  std::string gap;
};

// True for the filesystem types that Linux reads from a block device
// (ext4, xfs, vfat...); ward has no block devices to give them.
bool is_block_device_filesystem(std::string_view type);

// Makes the filesystem `request` describes. A proc, sysfs or devtmpfs of
// `mounts` is reused, as Linux keeps one superblock of each per namespace.
// Fails with ENODEV for a type ward lacks, EINVAL for an option the type
// rejects, and EINVAL with a gap for an option ward lacks.
std::optional<FilesystemFailure> make_filesystem(MountNamespace& mounts,
                                                 const FilesystemRequest& request,
                                                 NewFilesystem& filesystem);

// Applies the data of a remount (MS_REMOUNT without MS_BIND) to the
// filesystem of `mount`: a tmpfs takes a new size= limit (EINVAL below the
// data it holds). `read_only` is set by the "ro" option and cleared by
// "rw".
std::optional<FilesystemFailure> reconfigure_filesystem(const Mount& mount, std::string_view data,
                                                        bool& read_only);

}  // namespace ward::vfs
